// Item-kNN: cosine similarity over item co-occurrence in users' histories, learned online.
//   sim(i, j) = co(i, j) / (sqrt(n_i · n_j) + shrink)
// A user's score for item k is the sum of sim(j, k) over the user's recent items j. The baseline
// for the ranking models, and the engine behind /v1/similar.
#pragma once

#include <cmath>
#include <vector>

#include "common/topk.h"
#include "models/flat_counter.h"
#include "models/recommender.h"

namespace streamrec::models {

struct ItemKNNOptions {
  // Most recent items of a user's history that co-occur with a new item and that score.
  // Bounds the work per event at O(max_history).
  uint32_t max_history = 200;
  // Added to the cosine denominator: damps similarities resting on few co-occurrences.
  float shrink = 10.0f;
  Status Apply(const ParamMap& params, ParamMap* effective = nullptr);
};

class ItemKNN final : public Recommender {
 public:
  explicit ItemKNN(const ItemKNNOptions& options) : options_(options) {}

  std::string_view name() const override { return "itemknn"; }
  void Observe(const Interaction& x, const UserHistory& history, uint64_t seed) override;
  void ScoreItems(UserIndex user, const UserHistory& history, std::span<float> out) const override;
  void ForgetUser(UserIndex) override {}
  void Save(ByteWriter* w) const override;
  Status Load(ByteReader* r) override;

  float Similarity(ItemIndex a, ItemIndex b) const;
  // The k items most similar to `item` (never itself), best first.
  void Similar(ItemIndex item, size_t k, std::vector<ScoredItem>* out) const;
  uint32_t items() const { return static_cast<uint32_t>(count_.size()); }

 private:
  void EnsureItem(ItemIndex i);
  float Sim(float co, ItemIndex a, ItemIndex b) const {
    return co / (root_count_[a] * root_count_[b] + options_.shrink);
  }

  ItemKNNOptions options_;
  std::vector<uint32_t> count_;
  std::vector<float> root_count_;  // sqrt(count_)
  std::vector<FlatCounter> co_;    // symmetric co-occurrence counts
};

}  // namespace streamrec::models
