// FlatCounter: a map ItemIndex -> float with open addressing (linear probing) in two flat
// arrays, so iterating all entries is a linear scan. Item-kNN keeps one per item for its
// co-occurrence counts; scoring walks them on every request.
#pragma once

#include <cstdint>
#include <vector>

#include "common/types.h"

namespace streamrec {

class FlatCounter {
 public:
  // Adds `delta` to the value of `key` (inserting it at 0 first). REQUIRES: key != kNoIndex.
  void Add(ItemIndex key, float delta) {
    if ((size_ + 1) * 4 > keys_.size() * 3) Grow();
    const uint32_t mask = static_cast<uint32_t>(keys_.size()) - 1;
    for (uint32_t slot = Hash(key) & mask;; slot = (slot + 1) & mask) {
      if (keys_[slot] == key) {
        values_[slot] += delta;
        return;
      }
      if (keys_[slot] == kNoIndex) {
        keys_[slot] = key;
        values_[slot] = delta;
        ++size_;
        return;
      }
    }
  }
  // Value of `key`, 0 when absent.
  float Get(ItemIndex key) const {
    if (keys_.empty()) return 0.0f;
    const uint32_t mask = static_cast<uint32_t>(keys_.size()) - 1;
    for (uint32_t slot = Hash(key) & mask;; slot = (slot + 1) & mask) {
      if (keys_[slot] == key) return values_[slot];
      if (keys_[slot] == kNoIndex) return 0.0f;
    }
  }
  // Calls fn(key, value) for every entry, in slot order.
  template <typename Fn>
  void ForEach(Fn fn) const {
    for (size_t s = 0; s < keys_.size(); ++s) {
      if (keys_[s] != kNoIndex) fn(keys_[s], values_[s]);
    }
  }
  size_t size() const { return size_; }

 private:
  static uint32_t Hash(ItemIndex k) { return k * 0x9E3779B1u; }
  void Grow() {
    std::vector<ItemIndex> keys;
    std::vector<float> values;
    keys.swap(keys_);
    values.swap(values_);
    keys_.assign(keys.empty() ? 8 : keys.size() * 2, kNoIndex);
    values_.assign(keys_.size(), 0.0f);
    size_ = 0;
    for (size_t s = 0; s < keys.size(); ++s) {
      if (keys[s] != kNoIndex) Add(keys[s], values[s]);
    }
  }

  std::vector<ItemIndex> keys_;  // kNoIndex marks an empty slot
  std::vector<float> values_;
  size_t size_ = 0;
};

}  // namespace streamrec
