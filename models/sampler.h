// WeightedSampler: draws an index with probability proportional to its weight, with O(log n)
// weight updates and draws (a Fenwick tree over doubles). Used for popularity^0.75 negatives.
#pragma once

#include <cstdint>
#include <vector>

#include "common/rng.h"

namespace streamrec::models {

class WeightedSampler {
 public:
  // Sets the weight of `index` (>= 0), growing the domain as needed.
  void Set(uint32_t index, double weight);
  double Weight(uint32_t index) const { return index < weights_.size() ? weights_[index] : 0.0; }
  double total() const { return total_; }
  uint32_t size() const { return static_cast<uint32_t>(weights_.size()); }
  // Index drawn in proportion to weight. REQUIRES: total() > 0.
  uint32_t Sample(Rng& rng) const;

 private:
  void Rebuild(size_t capacity);
  std::vector<double> weights_;
  std::vector<double> tree_;  // 1-based Fenwick tree; tree_.size() - 1 is a power of two
  double total_ = 0.0;
};

}  // namespace streamrec::models
