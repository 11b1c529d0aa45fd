#include "models/blend.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "common/topk.h"

namespace streamrec::models {

ScoreStats StatsOf(const ScoreSums& s) {
  ScoreStats st;
  if (s.n == 0) return st;
  const double mean = s.sum / static_cast<double>(s.n);
  const double var = std::max(0.0, s.sum2 / static_cast<double>(s.n) - mean * mean);
  st.mean = static_cast<float>(mean);
  st.inv_std = var > 1e-12 ? static_cast<float>(1.0 / std::sqrt(var)) : 1.0f;
  st.min = s.min;
  return st;
}

ScoreSums SumsOf(std::span<const float> scores) {
  ScoreSums sums;
  AddScoreSums(scores.data(), scores.size(), &sums);
  return sums;
}

void RankPercentiles(std::span<float> scores) {
  thread_local std::vector<uint32_t> order;
  order.clear();
  for (uint32_t i = 0; i < scores.size(); ++i) {
    if (scores[i] != kExcludedScore) order.push_back(i);
  }
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    return scores[a] != scores[b] ? scores[a] < scores[b] : a > b;
  });
  const float n = static_cast<float>(order.size());
  for (size_t r = 0; r < order.size(); ++r) scores[order[r]] = static_cast<float>(r + 1) / n;
}

BlendCoefficients ZBlend(const ScoreSums& session, const ScoreSums& bpr, float weight) {
  const ScoreStats zs = StatsOf(session);
  const ScoreStats zb = StatsOf(bpr);
  const float ws = weight, wb = 1.0f - weight;
  BlendCoefficients b;
  b.as = ws * zs.inv_std;
  b.ab = wb * zb.inv_std;
  b.c = -b.as * zs.mean - b.ab * zb.mean;
  b.session_min = zs.min;
  b.wb = wb;
  b.bpr_mean = zb.mean;
  b.bpr_inv_std = zb.inv_std;
  return b;
}

void BlendInto(const BlendCoefficients& coefficients, std::span<float> session,
               std::span<const float> bpr) {
  const float as = coefficients.as, ab = coefficients.ab, c = coefficients.c;
  const float smin = coefficients.session_min;
  float* __restrict sc = session.data();
  const float* __restrict lt = bpr.data();
  const size_t n = session.size();
#pragma omp simd
  for (size_t i = 0; i < n; ++i) {
    const float s = sc[i] == kExcludedScore ? smin : sc[i];
    const float v = as * s + ab * lt[i] + c;
    sc[i] = lt[i] == kExcludedScore ? kExcludedScore : v;
  }
}

}  // namespace streamrec::models
