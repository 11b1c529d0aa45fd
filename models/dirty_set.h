// DirtySet: the row indices changed since the last Take, each once. Models mark the rows an
// update writes; the daemon takes them at each checkpoint and persists only those rows.
//
// A set may have a second, independent reader (the daemon's scoring snapshot takes the item
// rows whose scores changed): each reader takes every marked index once, whenever the other
// takes its own.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace streamrec::models {

class DirtySet {
 public:
  // Reader 0 (the checkpoint's) always; reader 1 with kTwoReaders.
  enum Readers : uint8_t { kOneReader = 1, kTwoReaders = 2 };
  explicit DirtySet(Readers readers = kOneReader) : all_(readers == kTwoReaders ? 3 : 1) {}

  void Mark(uint32_t index) {
    if (index >= bits_.size()) bits_.resize(std::max<size_t>(index + 1, bits_.size() * 2), 0);
    const uint8_t had = bits_[index];
    if (had == all_) return;
    for (int r = 0; r < 2; ++r) {
      if ((all_ & ~had) & (1u << r)) lists_[r].push_back(index);
    }
    bits_[index] = all_;
  }
  // Marks [begin, end): rows a table grew by. Their initial values are state too, so they are
  // stored at the next checkpoint whatever else happens to them (otherwise whether a row that
  // was created but never updated reaches the store would depend on checkpoint timing).
  void MarkRange(uint32_t begin, uint32_t end) {
    for (uint32_t i = begin; i < end; ++i) Mark(i);
  }
  // Appends reader 0's marked indices to *out in ascending order and clears them for it.
  void Take(std::vector<uint32_t>* out) { Take(0, out); }
  // The same for `reader` (0 or 1; 1 only with kTwoReaders).
  void Take(int reader, std::vector<uint32_t>* out) {
    std::vector<uint32_t>& list = lists_[reader];
    const auto bit = static_cast<uint8_t>(1u << reader);
    if (list.size() * 32 > bits_.size()) {
      // Dense: one pass over the marks costs less than sorting the list.
      for (uint32_t i = 0; i < bits_.size(); ++i) {
        if (bits_[i] & bit) {
          out->push_back(i);
          bits_[i] = static_cast<uint8_t>(bits_[i] & ~bit);
        }
      }
    } else {
      std::sort(list.begin(), list.end());
      for (uint32_t i : list) bits_[i] = static_cast<uint8_t>(bits_[i] & ~bit);
      out->insert(out->end(), list.begin(), list.end());
    }
    list.clear();
  }
  // Indices reader 0 has not taken yet.
  size_t size() const { return lists_[0].size(); }

 private:
  uint8_t all_;                // the bits of the readers: 1 or 3
  std::vector<uint8_t> bits_;  // per index: bit r = in lists_[r]
  std::vector<uint32_t> lists_[2];
};

}  // namespace streamrec::models
