#include "models/sampler.h"

#include <algorithm>
#include <bit>

namespace streamrec::models {

void WeightedSampler::Rebuild(size_t capacity) {
  tree_.assign(capacity + 1, 0.0);
  for (size_t i = 0; i < weights_.size(); ++i) {
    for (size_t j = i + 1; j <= capacity; j += j & (~j + 1)) tree_[j] += weights_[i];
  }
}

void WeightedSampler::Set(uint32_t index, double weight) {
  if (index >= weights_.size()) {
    weights_.resize(static_cast<size_t>(index) + 1, 0.0);
    if (weights_.size() + 1 > tree_.size()) Rebuild(std::bit_ceil(weights_.size()));
  }
  const double delta = weight - weights_[index];
  weights_[index] = weight;
  total_ += delta;
  const size_t cap = tree_.size() - 1;
  for (size_t j = static_cast<size_t>(index) + 1; j <= cap; j += j & (~j + 1)) tree_[j] += delta;
}

uint32_t WeightedSampler::Sample(Rng& rng) const {
  double target = rng.UniformDouble() * total_;
  // Descend the implicit tree: find the smallest prefix whose sum exceeds target.
  size_t pos = 0;
  const size_t cap = tree_.size() - 1;
  for (size_t step = cap; step > 0; step >>= 1) {
    const size_t next = pos + step;
    if (next <= cap && tree_[next] <= target) {
      pos = next;
      target -= tree_[next];
    }
  }
  // pos is the count of indices whose cumulative weight <= target; clamp against rounding.
  return static_cast<uint32_t>(std::min(pos, weights_.size() - 1));
}

}  // namespace streamrec::models
