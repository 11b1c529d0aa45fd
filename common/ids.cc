#include "common/ids.h"

#include <cstdint>
#include <functional>

#include "common/coding.h"
#include "common/rng.h"

namespace streamrec {
namespace {
constexpr uint32_t kMagic = Magic("SRID");
constexpr uint32_t kVersion = 1;
}  // namespace

uint32_t IdMap::Find(std::string_view id) const {
  static_assert(decltype(index_)::kAbsent == kNoIndex);
  return index_.Find(names_, id, HashKey32(id));
}

uint32_t IdMap::Intern(std::string_view id) {
  const uint32_t hash = HashKey32(id);
  const auto idx = static_cast<uint32_t>(names_.size());
  bool inserted = false;
  const uint32_t found = index_.FindOrInsert(names_, id, hash, idx, &inserted);
  if (!inserted) return found;
  try {
    names_.emplace_back(id);
  } catch (...) {
    index_.Erase(hash, idx);
    throw;
  }
  return idx;
}

bool IdMap::Erase(std::string_view id) {
  const uint32_t hash = HashKey32(id);
  const uint32_t idx = index_.Find(names_, id, hash);
  if (idx == kNoIndex) return false;
  index_.Erase(hash, idx);
  names_[idx].clear();
  return true;
}

Status IdMap::PushRestored(std::string_view name) {
  if (name.empty()) {
    names_.emplace_back();
  } else if (const uint32_t idx = size(); Intern(name) != idx) {
    return Status::Corruption("id map: duplicate id '" + std::string(name) + "'");
  }
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
  loaded.names_.reserve(n);
  loaded.index_.Reserve(n);
  std::string name;
  for (uint64_t i = 0; i < n; ++i) {
    if (!r.GetString(&name)) return Status::Corruption("id map: truncated");
    STREAMREC_RETURN_IF_ERROR(loaded.PushRestored(name));  // empty: an erased id
  }
  if (!r.done()) return Status::Corruption("id map: trailing bytes");
  *this = std::move(loaded);
  return Status::Ok();
}

}  // namespace streamrec
