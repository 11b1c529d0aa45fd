#include "common/topk.h"

#include <algorithm>

namespace streamrec {
namespace {
// Strict "better than": higher score, then lower index.
inline bool Better(const ScoredItem& a, const ScoredItem& b) {
  return a.score > b.score || (a.score == b.score && a.index < b.index);
}
}  // namespace

void TopK(std::span<const float> scores, size_t k, std::vector<ScoredItem>* out) {
  out->clear();
  if (k == 0) return;
  out->reserve(k);
  // Min-heap on Better: the front is the worst of the current best k.
  const auto n = static_cast<uint32_t>(scores.size());
  uint32_t i = 0;
  for (; i < n && out->size() < k; ++i) {
    const float s = scores[i];
    if (!(s > kExcludedScore)) continue;  // excluded or NaN
    out->push_back({i, s});
    std::push_heap(out->begin(), out->end(), Better);
  }
  if (out->size() == k) {
    float threshold = out->front().score;
    for (; i < n; ++i) {
      // Later indices lose ties, so only a strictly higher score can enter.
      if (scores[i] > threshold) {
        std::pop_heap(out->begin(), out->end(), Better);
        out->back() = {i, scores[i]};
        std::push_heap(out->begin(), out->end(), Better);
        threshold = out->front().score;
      }
    }
  }
  std::sort_heap(out->begin(), out->end(), Better);
}

}  // namespace streamrec
