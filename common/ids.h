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
#include "common/index_set.h"
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
  using Names = std::vector<std::string, HugeAllocator<std::string>>;
  static std::string_view NameAt(const Names& names, uint32_t index) { return names[index]; }

  // The live ids by name (common/index_set.h): 8 bytes an id, each id's string stored once, in
  // names_. Erased ids leave tombstones that the set clears as it grows.
  IndexSet<Names, std::string_view, &IdMap::NameAt> index_;
  Names names_;
};

}  // namespace streamrec
