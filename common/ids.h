// IdMap: external string ids <-> dense indices (0, 1, 2, ...), in order of first sight.
//
// Thread safety: not thread-safe. Const methods may run concurrently with each other; any
// mutating call needs exclusive access (the daemon guards the map with its model lock).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <absl/container/flat_hash_set.h>

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
  size_t live() const { return index_.size(); }

  void Save(std::string* out) const;
  Status Load(std::string_view in);

 private:
  // The index is an absl::flat_hash_set of (hash, index) entries of the live ids; the id itself
  // is names_[index], so each id's string is stored once. A hit reads the set's control bytes,
  // one slot and the name (short ids live inside the std::string); a miss usually reads only
  // control bytes. The entry keeps a 32-bit hash of its id: growing the set rehashes from it
  // without reading names_, and a candidate is compared by hash before its name is read. The
  // set's hash and equality get the names through the lookup key, not as state, so IdMap copies
  // and moves as a plain value. Erased ids leave tombstones that the set clears as it grows.
  struct Entry {
    uint32_t hash;
    uint32_t index;  // into names_
  };
  // A lookup by id: the id, its hash and the names its candidates are compared with.
  struct Key {
    std::string_view id;
    uint32_t hash;
    const std::vector<std::string, HugeAllocator<std::string>>* names;
  };
  struct EntryHash {
    using is_transparent = void;
    size_t operator()(const Entry& e) const { return Spread(e.hash); }
    size_t operator()(const Key& k) const { return Spread(k.hash); }
    // The stored 32 bits spread over the 64 the set splits into probe start and tag.
    static size_t Spread(uint32_t hash);
  };
  struct EntryEq {
    using is_transparent = void;
    // Entries are distinct by index.
    bool operator()(const Entry& a, const Entry& b) const { return a.index == b.index; }
    bool operator()(const Entry& e, const Key& k) const {
      return e.hash == k.hash && (*k.names)[e.index] == k.id;
    }
    bool operator()(const Key& k, const Entry& e) const { return (*this)(e, k); }
  };

  Key KeyOf(std::string_view id) const;

  // Both on huge pages when large, so that the random accesses of a lookup do not also miss
  // the TLB.
  absl::flat_hash_set<Entry, EntryHash, EntryEq, HugeAllocator<Entry>> index_;
  std::vector<std::string, HugeAllocator<std::string>> names_;
};

}  // namespace streamrec
