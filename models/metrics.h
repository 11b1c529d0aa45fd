// Ranking and rating metrics, as the evaluation literature (and Microsoft Recommenders) define
// them. `ranked` is a recommendation list, best first; `relevant` the held-out items.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <unordered_set>

#include "common/types.h"

namespace streamrec::models {

using ItemSet = std::unordered_set<ItemIndex>;

// Hits in the top k, over k.
double PrecisionAtK(std::span<const ItemIndex> ranked, const ItemSet& relevant, size_t k);
// Hits in the top k, over |relevant|.
double RecallAtK(std::span<const ItemIndex> ranked, const ItemSet& relevant, size_t k);
// Σ over hits at rank r (1-based) of precision@r, over |relevant| (Microsoft Recommenders'
// map_at_k convention).
double AveragePrecisionAtK(std::span<const ItemIndex> ranked, const ItemSet& relevant, size_t k);
// Binary-relevance NDCG: Σ_hits 1/log2(r+1) over the ideal Σ_{r ≤ min(k,|relevant|)} 1/log2(r+1).
double NdcgAtK(std::span<const ItemIndex> ranked, const ItemSet& relevant, size_t k);
// 1 when `target` is in the top k.
double HitAtK(std::span<const ItemIndex> ranked, ItemIndex target, size_t k);
// 1/rank of `target` within the top k, else 0.
double ReciprocalRankAtK(std::span<const ItemIndex> ranked, ItemIndex target, size_t k);
// NDCG of a single relevant item at 0-based position `rank` (0 when rank >= k).
inline double SingleNdcg(size_t rank, size_t k) {
  return rank < k ? 1.0 / std::log2(static_cast<double>(rank) + 2.0) : 0.0;
}

// Running mean of a metric.
class Mean {
 public:
  void Add(double v) {
    sum_ += v;
    ++n_;
  }
  double value() const { return n_ == 0 ? 0.0 : sum_ / static_cast<double>(n_); }
  uint64_t count() const { return n_; }

 private:
  double sum_ = 0.0;
  uint64_t n_ = 0;
};

// Running RMSE and MAE of rating predictions.
class ErrorStats {
 public:
  void Add(double predicted, double actual) {
    const double e = predicted - actual;
    se_ += e * e;
    ae_ += std::abs(e);
    ++n_;
  }
  double rmse() const { return n_ == 0 ? 0.0 : std::sqrt(se_ / static_cast<double>(n_)); }
  double mae() const { return n_ == 0 ? 0.0 : ae_ / static_cast<double>(n_); }
  uint64_t count() const { return n_; }

 private:
  double se_ = 0.0;
  double ae_ = 0.0;
  uint64_t n_ = 0;
};

}  // namespace streamrec::models
