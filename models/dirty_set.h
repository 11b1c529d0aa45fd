// DirtySet: the row indices changed since the last Take, each once. Models mark the rows an
// update writes; the daemon takes them at each checkpoint and persists only those rows.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace streamrec {

class DirtySet {
 public:
  void Mark(uint32_t index) {
    if (index >= bits_.size()) bits_.resize(std::max<size_t>(index + 1, bits_.size() * 2), 0);
    if (!bits_[index]) {
      bits_[index] = 1;
      list_.push_back(index);
    }
  }
  // Marks [begin, end): rows a table grew by. Their initial values are state too, so they are
  // stored at the next checkpoint whatever else happens to them (otherwise whether a row that
  // was created but never updated reaches the store would depend on checkpoint timing).
  void MarkRange(uint32_t begin, uint32_t end) {
    for (uint32_t i = begin; i < end; ++i) Mark(i);
  }
  // Appends the marked indices to *out in ascending order and clears the set.
  void Take(std::vector<uint32_t>* out) {
    std::sort(list_.begin(), list_.end());
    for (uint32_t i : list_) bits_[i] = 0;
    out->insert(out->end(), list_.begin(), list_.end());
    list_.clear();
  }
  size_t size() const { return list_.size(); }

 private:
  std::vector<uint8_t> bits_;
  std::vector<uint32_t> list_;
};

}  // namespace streamrec
