// UserHistory: the items each user has interacted with, for "exclude seen", for negative
// sampling, and for the neighbourhood models. Keeps each user's items both in arrival order
// (for recency) and sorted (for O(log n) membership).
//
// Thread safety: as EmbeddingTable (const concurrent; mutations exclusive).
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/coding.h"
#include "common/huge_alloc.h"
#include "common/status.h"
#include "common/types.h"

namespace streamrec::models {

class UserHistory {
 public:
  // Records that `user` interacted with `item`; false (and no change) if already recorded.
  bool Add(UserIndex user, ItemIndex item);
  bool Contains(UserIndex user, ItemIndex item) const {
    if (user >= users_.size()) return false;
    const auto& s = users_[user].sorted;
    return std::binary_search(s.begin(), s.end(), item);
  }
  // Items of `user` in ascending order (empty for an unknown user); valid until the next
  // mutation of the user's history.
  std::span<const ItemIndex> Sorted(UserIndex user) const {
    if (user >= users_.size()) return {};
    return users_[user].sorted;
  }
  // Whether the ascending `sorted` holds `item`: a branch-free binary search (the probes of
  // negative sampling are random, so a branchy search mispredicts about every other step).
  static bool SortedContains(std::span<const ItemIndex> sorted, ItemIndex item) {
    if (sorted.empty()) return false;
    const ItemIndex* base = sorted.data();
    // Invariant: the last element <= item, if any, lies in [base, base + n).
    for (size_t n = sorted.size(); n > 1;) {
      const size_t half = n / 2;
      base = base[half] <= item ? base + half : base;
      n -= half;
    }
    return *base == item;
  }
  // Items of `user` in arrival order (empty for an unknown user).
  std::span<const ItemIndex> Items(UserIndex user) const {
    if (user >= users_.size()) return {};
    return users_[user].ordered;
  }
  size_t Count(UserIndex user) const { return Items(user).size(); }
  // Forgets everything about `user`.
  void Clear(UserIndex user);
  uint32_t users() const { return static_cast<uint32_t>(users_.size()); }
  uint64_t total() const { return total_; }

  void Save(ByteWriter* w) const;
  Status Load(ByteReader* r);
  // One user's items (arrival order), for incremental checkpoints.
  void SaveUser(UserIndex user, ByteWriter* w) const;
  // Replaces `user`'s items with the saved ones.
  Status LoadUser(UserIndex user, ByteReader* r);

 private:
  struct Entry {
    std::vector<ItemIndex> ordered;
    std::vector<ItemIndex> sorted;
  };
  std::vector<Entry, HugeAllocator<Entry>> users_;  // huge pages when large (100k users: 4.8 MB)
  uint64_t total_ = 0;
};

}  // namespace streamrec::models
