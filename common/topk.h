// Exact top-k selection over a dense score array (models and bandits share it).
#pragma once

#include <cstdint>
#include <limits>
#include <span>
#include <vector>

namespace streamrec {

struct ScoredItem {
  uint32_t index;
  float score;
};

// Score that TopK never returns: write it into the scores of excluded items.
inline constexpr float kExcludedScore = -std::numeric_limits<float>::infinity();

// Writes the (at most) k highest-scoring entries of `scores` to *out, best first; ties go to the
// lower index, so the result is deterministic. Entries equal to kExcludedScore or NaN are never
// returned. One pass with a size-k min-heap behind a threshold test: O(n + k log k) in practice.
void TopK(std::span<const float> scores, size_t k, std::vector<ScoredItem>* out);

}  // namespace streamrec
