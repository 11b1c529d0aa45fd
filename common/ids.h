// IdMap: external string ids <-> dense indices (0, 1, 2, ...), in order of first sight.
//
// Thread safety: not thread-safe. Const methods may run concurrently with each other; any
// mutating call needs exclusive access (the daemon guards the map with its model lock).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/huge_alloc.h"
#include "common/status.h"
#include "common/types.h"

namespace streamrec {

class IdMap {
 public:
  // Index of `id`, assigning the next free index on first sight.
  uint32_t Intern(std::string_view id);
  // Index of `id`, or kNoIndex when unknown. Allocation-free.
  uint32_t Find(std::string_view id) const;
  // External id of `index`; empty for an erased index. REQUIRES: index < size().
  const std::string& Name(uint32_t index) const { return names_[index]; }
  // Forgets the external id (its index is retired, never reused); false when unknown.
  bool Erase(std::string_view id);
  // Restores index size() with `name` (empty for an erased index), for loading ids saved one
  // by one in index order. Corruption if `name` is already mapped.
  Status PushRestored(std::string_view name);

  // Number of indices ever assigned (erased ones included).
  uint32_t size() const { return static_cast<uint32_t>(names_.size()); }
  // Number of live ids.
  size_t live() const { return live_; }

  void Save(std::string* out) const;
  Status Load(std::string_view in);

 private:
  // The index is an open-addressing table (linear probing, at most half full) of slots that
  // hold an id's hash and index; the id itself is names_[index]. One probe is usually one
  // cache miss into slots_ and one into names_ (short ids live inside the std::string),
  // against three or more for a node-based map. Erased ids leave tombstones until a rehash.
  struct Slot {
    uint32_t hash;
    uint32_t index;  // kEmptySlot, kErasedSlot or an index into names_
  };
  static constexpr uint32_t kEmptySlot = ~0u;
  static constexpr uint32_t kErasedSlot = ~0u - 1;

  // Position of `id`'s slot, or of the slot where it would be inserted (the first tombstone
  // on its probe path, else the empty slot ending it). REQUIRES: !slots_.empty().
  size_t Probe(std::string_view id, uint32_t hash, bool* found) const;
  // Inserts index `idx` (names_[idx] is the id) whose id is known to be absent.
  void Insert(uint32_t idx, uint32_t hash);
  void Rehash(size_t capacity);

  // Both on huge pages when large (100k ids: 2 MB of slots, 3.2 MB of names), so that the two
  // random accesses of a lookup do not also miss the TLB.
  std::vector<Slot, HugeAllocator<Slot>> slots_;  // capacity a power of two, or empty
  size_t used_ = 0;                               // slots not empty (live ids and tombstones)
  size_t live_ = 0;
  std::vector<std::string, HugeAllocator<std::string>> names_;
};

}  // namespace streamrec
