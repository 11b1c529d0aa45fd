// IndexSet: a hash index of dense indices into a table its owner keeps, found by the key stored
// at each index: IdMap's names, SessionState's explicit session ids, SessionTracker's slots. The
// key is stored once, in the owner's table; an entry of the index is 8 bytes, the key's 32-bit
// hash and the index, in an absl::flat_hash_set (on huge pages when large). A hit reads the
// set's control bytes, one entry and the key at its index; a candidate is compared by hash
// before its key is read; growing rehashes from the stored hashes without reading the table.
// The table reaches the set through each lookup, not as state, so an owner copies and moves as
// a plain value.
//
// Table: what holds the keys; kKeyAt(table, index): the key at an index (a view or a value).
// Thread safety: as a standard container.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include <absl/container/flat_hash_set.h>

#include "common/huge_alloc.h"
#include "common/rng.h"

namespace streamrec {

// The 32-bit hash IndexSet stores for a string key.
inline uint32_t HashKey32(std::string_view key) {
  return static_cast<uint32_t>(Mix64(std::hash<std::string_view>{}(key)));
}
inline uint32_t HashKey32(uint64_t key) { return static_cast<uint32_t>(Mix64(key)); }

template <typename Table, typename Key, Key (*kKeyAt)(const Table&, uint32_t)>
class IndexSet {
 public:
  static constexpr uint32_t kAbsent = ~uint32_t{0};

  // The index stored under `key` (whose HashKey32 is `hash`), or kAbsent.
  uint32_t Find(const Table& table, Key key, uint32_t hash) const {
    const auto it = set_.find(Probe{key, hash, &table});
    return it == set_.end() ? kAbsent : it->index;
  }
  // The index stored under `key`; when there is none, stores `index` under it (the caller puts
  // the key at `index` in its table) and sets *inserted.
  uint32_t FindOrInsert(const Table& table, Key key, uint32_t hash, uint32_t index,
                        bool* inserted) {
    *inserted = false;
    const auto it = set_.lazy_emplace(Probe{key, hash, &table}, [&](const auto& construct) {
      construct(Entry{hash, index});
      *inserted = true;
    });
    return it->index;
  }
  // Stores `index`, whose key is not in the set.
  void InsertNew(uint32_t hash, uint32_t index) { set_.insert(Entry{hash, index}); }
  // Removes `index`, whose key hashed to `hash` (its key need not be in the table any more).
  void Erase(uint32_t hash, uint32_t index) { set_.erase(Entry{hash, index}); }
  void Reserve(size_t n) { set_.reserve(n); }
  void Clear() { set_.clear(); }
  size_t size() const { return set_.size(); }

 private:
  struct Entry {
    uint32_t hash;
    uint32_t index;
  };
  struct Probe {
    Key key;
    uint32_t hash;
    const Table* table;
  };
  struct Hash {
    using is_transparent = void;
    // The stored 32 bits spread over the 64 the set splits into probe start and tag.
    size_t operator()(const Entry& e) const { return Mix64(e.hash); }
    size_t operator()(const Probe& p) const { return Mix64(p.hash); }
  };
  struct Eq {
    using is_transparent = void;
    // Entries are distinct by index.
    bool operator()(const Entry& a, const Entry& b) const { return a.index == b.index; }
    bool operator()(const Entry& e, const Probe& p) const {
      return e.hash == p.hash && kKeyAt(*p.table, e.index) == p.key;
    }
    bool operator()(const Probe& p, const Entry& e) const { return (*this)(e, p); }
  };
  absl::flat_hash_set<Entry, Hash, Eq, HugeAllocator<Entry>> set_;
};

}  // namespace streamrec
