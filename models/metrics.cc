#include "models/metrics.h"

#include <algorithm>

namespace streamrec::models {
namespace {
size_t Hits(std::span<const ItemIndex> ranked, const ItemSet& relevant, size_t k) {
  size_t hits = 0;
  for (size_t r = 0; r < std::min(k, ranked.size()); ++r) hits += relevant.count(ranked[r]);
  return hits;
}
}  // namespace

double PrecisionAtK(std::span<const ItemIndex> ranked, const ItemSet& relevant, size_t k) {
  if (k == 0) return 0.0;
  return static_cast<double>(Hits(ranked, relevant, k)) / static_cast<double>(k);
}

double RecallAtK(std::span<const ItemIndex> ranked, const ItemSet& relevant, size_t k) {
  if (relevant.empty()) return 0.0;
  return static_cast<double>(Hits(ranked, relevant, k)) / static_cast<double>(relevant.size());
}

double AveragePrecisionAtK(std::span<const ItemIndex> ranked, const ItemSet& relevant, size_t k) {
  if (relevant.empty()) return 0.0;
  double sum = 0.0;
  size_t hits = 0;
  for (size_t r = 0; r < std::min(k, ranked.size()); ++r) {
    if (relevant.count(ranked[r])) {
      ++hits;
      sum += static_cast<double>(hits) / static_cast<double>(r + 1);
    }
  }
  return sum / static_cast<double>(relevant.size());
}

double NdcgAtK(std::span<const ItemIndex> ranked, const ItemSet& relevant, size_t k) {
  if (relevant.empty()) return 0.0;
  double dcg = 0.0;
  for (size_t r = 0; r < std::min(k, ranked.size()); ++r) {
    if (relevant.count(ranked[r])) dcg += SingleNdcg(r, k);
  }
  double ideal = 0.0;
  for (size_t r = 0; r < std::min(k, relevant.size()); ++r) ideal += SingleNdcg(r, k);
  return dcg / ideal;
}

double HitAtK(std::span<const ItemIndex> ranked, ItemIndex target, size_t k) {
  return ReciprocalRankAtK(ranked, target, k) > 0.0 ? 1.0 : 0.0;
}

double ReciprocalRankAtK(std::span<const ItemIndex> ranked, ItemIndex target, size_t k) {
  for (size_t r = 0; r < std::min(k, ranked.size()); ++r) {
    if (ranked[r] == target) return 1.0 / static_cast<double>(r + 1);
  }
  return 0.0;
}

}  // namespace streamrec::models
