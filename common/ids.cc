#include "common/ids.h"

#include "common/coding.h"

namespace streamrec {
namespace {
constexpr uint32_t kMagic = Magic("SRID");
constexpr uint32_t kVersion = 1;
}  // namespace

uint32_t IdMap::Intern(std::string_view id) {
  auto it = index_.find(id);
  if (it != index_.end()) return it->second;
  const auto idx = static_cast<uint32_t>(names_.size());
  names_.emplace_back(id);
  index_.emplace(names_.back(), idx);
  return idx;
}

bool IdMap::Erase(std::string_view id) {
  auto it = index_.find(id);
  if (it == index_.end()) return false;
  names_[it->second].clear();
  index_.erase(it);
  return true;
}

Status IdMap::PushRestored(std::string_view name) {
  const auto idx = static_cast<uint32_t>(names_.size());
  if (!name.empty() && !index_.emplace(std::string(name), idx).second) {
    return Status::Corruption("id map: duplicate id '" + std::string(name) + "'");
  }
  names_.emplace_back(name);
  return Status::Ok();
}

void IdMap::Save(std::string* out) const {
  ByteWriter w(out);
  w.PutHeader(kMagic, kVersion);
  w.PutVarint(names_.size());
  for (const auto& n : names_) w.PutString(n);
}

Status IdMap::Load(std::string_view in) {
  ByteReader r(in);
  uint32_t version;
  STREAMREC_RETURN_IF_ERROR(r.ExpectHeader(kMagic, kVersion, "id map", &version));
  uint64_t n;
  if (!r.GetVarint(&n) || n > r.remaining()) return Status::Corruption("id map: bad count");
  IdMap loaded;
  loaded.names_.resize(n);
  for (uint64_t i = 0; i < n; ++i) {
    if (!r.GetString(&loaded.names_[i])) return Status::Corruption("id map: truncated");
    if (loaded.names_[i].empty()) continue;  // an erased id
    if (!loaded.index_.emplace(loaded.names_[i], static_cast<uint32_t>(i)).second) {
      return Status::Corruption("id map: duplicate id '" + loaded.names_[i] + "'");
    }
  }
  if (!r.done()) return Status::Corruption("id map: trailing bytes");
  *this = std::move(loaded);
  return Status::Ok();
}

}  // namespace streamrec
