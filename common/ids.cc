#include "common/ids.h"

#include <algorithm>
#include <cstdint>
#include <functional>

#include "common/coding.h"
#include "common/rng.h"

namespace streamrec {
namespace {
constexpr uint32_t kMagic = Magic("SRID");
constexpr uint32_t kVersion = 1;

uint32_t HashId(std::string_view id) {
  return static_cast<uint32_t>(Mix64(std::hash<std::string_view>{}(id)));
}
}  // namespace

size_t IdMap::Probe(std::string_view id, uint32_t hash, bool* found) const {
  const size_t mask = slots_.size() - 1;
  size_t insert_at = SIZE_MAX;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (s.index == kEmptySlot) {
      *found = false;
      return insert_at != SIZE_MAX ? insert_at : i;
    }
    if (s.index == kErasedSlot) {
      if (insert_at == SIZE_MAX) insert_at = i;
    } else if (s.hash == hash && names_[s.index] == id) {
      *found = true;
      return i;
    }
  }
}

uint32_t IdMap::Find(std::string_view id) const {
  if (slots_.empty()) return kNoIndex;
  bool found;
  const size_t i = Probe(id, HashId(id), &found);
  return found ? slots_[i].index : kNoIndex;
}

void IdMap::Insert(uint32_t idx, uint32_t hash) {
  if ((used_ + 1) * 2 > slots_.size()) Rehash(std::max<size_t>(16, (live_ + 1) * 4));
  bool found;
  const size_t i = Probe(names_[idx], hash, &found);
  if (slots_[i].index == kEmptySlot) ++used_;
  slots_[i] = {hash, idx};
  ++live_;
}

void IdMap::Rehash(size_t capacity) {
  size_t cap = 16;
  while (cap < capacity) cap *= 2;
  std::vector<Slot, HugeAllocator<Slot>> old = std::move(slots_);
  slots_.assign(cap, Slot{0, kEmptySlot});
  used_ = 0;
  const size_t mask = cap - 1;
  for (const Slot& s : old) {
    if (s.index >= kErasedSlot) continue;
    size_t i = s.hash & mask;
    while (slots_[i].index != kEmptySlot) i = (i + 1) & mask;
    slots_[i] = s;
    ++used_;
  }
}

uint32_t IdMap::Intern(std::string_view id) {
  const uint32_t hash = HashId(id);
  if (!slots_.empty()) {
    bool found;
    const size_t i = Probe(id, hash, &found);
    if (found) return slots_[i].index;
  }
  const auto idx = static_cast<uint32_t>(names_.size());
  names_.emplace_back(id);
  Insert(idx, hash);
  return idx;
}

bool IdMap::Erase(std::string_view id) {
  if (slots_.empty()) return false;
  bool found;
  const size_t i = Probe(id, HashId(id), &found);
  if (!found) return false;
  names_[slots_[i].index].clear();
  slots_[i].index = kErasedSlot;
  --live_;
  return true;
}

Status IdMap::PushRestored(std::string_view name) {
  const auto idx = static_cast<uint32_t>(names_.size());
  if (!name.empty() && Find(name) != kNoIndex) {
    return Status::Corruption("id map: duplicate id '" + std::string(name) + "'");
  }
  names_.emplace_back(name);
  if (!name.empty()) Insert(idx, HashId(name));
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
