// FlatCounter: a map ItemIndex -> float in one flat absl::flat_hash_map (keys and values inline
// in its slot array), so iterating all entries is a linear scan. Item-kNN keeps one per item for
// its co-occurrence counts; scoring walks them on every request.
#pragma once

#include <cstdint>

#include <absl/container/flat_hash_map.h>

#include "common/types.h"

namespace streamrec::models {

class FlatCounter {
 public:
  // Adds `delta` to the value of `key` (inserting it at 0 first).
  void Add(ItemIndex key, float delta) { counts_[key] += delta; }
  // Value of `key`, 0 when absent.
  float Get(ItemIndex key) const {
    const auto it = counts_.find(key);
    return it == counts_.end() ? 0.0f : it->second;
  }
  // Calls fn(key, value) for every entry, in an unspecified order.
  template <typename Fn>
  void ForEach(Fn fn) const {
    for (const auto& [key, value] : counts_) fn(key, value);
  }
  size_t size() const { return counts_.size(); }

 private:
  absl::flat_hash_map<ItemIndex, float> counts_;
};

}  // namespace streamrec::models
