#include "common/topk.h"

#include <algorithm>

#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif

namespace streamrec {
namespace {
// Strict "better than": higher score, then lower index.
inline bool Better(const ScoredItem& a, const ScoredItem& b) {
  return a.score > b.score || (a.score == b.score && a.index < b.index);
}

// Whether any of the 16 scores at p is > t (NaN is not).
inline bool AnyAbove(const float* p, float t) {
#if defined(__AVX512F__)
  return _mm512_cmp_ps_mask(_mm512_loadu_ps(p), _mm512_set1_ps(t), _CMP_GT_OQ) != 0;
#elif defined(__AVX2__)
  const __m256 v = _mm256_set1_ps(t);
  const __m256 gt = _mm256_or_ps(_mm256_cmp_ps(_mm256_loadu_ps(p), v, _CMP_GT_OQ),
                                 _mm256_cmp_ps(_mm256_loadu_ps(p + 8), v, _CMP_GT_OQ));
  return _mm256_movemask_ps(gt) != 0;
#else
  bool any = false;
  for (int j = 0; j < 16; ++j) any |= p[j] > t;
  return any;
#endif
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
    // Later indices lose ties, so only a strictly higher score can enter.
    const auto offer = [&](uint32_t j) {
      if (scores[j] > threshold) {
        std::pop_heap(out->begin(), out->end(), Better);
        out->back() = {j, scores[j]};
        std::push_heap(out->begin(), out->end(), Better);
        threshold = out->front().score;
      }
    };
    // Once the heap is full almost nothing enters: test a block of kBlock scores against the
    // threshold at once (one vector compare) and look at single scores only in blocks that hold
    // a candidate.
    constexpr uint32_t kBlock = 16;
    for (; i + kBlock <= n; i += kBlock) {
      if (!AnyAbove(scores.data() + i, threshold)) continue;
      for (uint32_t j = i; j < i + kBlock; ++j) offer(j);
    }
    for (; i < n; ++i) offer(i);
  }
  std::sort_heap(out->begin(), out->end(), Better);
}

}  // namespace streamrec
