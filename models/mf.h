// Biased matrix factorization for explicit ratings (Koren et al.):
//   r̂(u,i) = μ + b_u + b_i + p_u·q_i
// trained by one SGD step per rating on the squared error with L2 regularization.
// μ is the running mean of all ratings observed.
#pragma once

#include <vector>

#include "models/dirty_set.h"
#include "models/embedding_table.h"
#include "models/recommender.h"

namespace streamrec::models {

struct MFOptions {
  // Embedding size. Larger fits more structure, costs memory and time linearly.
  uint32_t dim = 64;
  // SGD learning rate of the factors (and of the biases, scaled by lr_bias_scale).
  float lr = 0.01f;
  float lr_bias_scale = 1.0f;
  // L2 weights on factors and on biases.
  float reg = 0.08f;
  float reg_bias = 0.02f;
  // Standard deviation of the initial factors.
  float init_std = 0.05f;
  // Predictions are clamped to [rating_min, rating_max].
  float rating_min = 1.0f;
  float rating_max = 5.0f;
  // Salt of the deterministic row initialization.
  uint32_t seed = 1;

  // Overrides fields from `params` ("dim", "lr", ...).
  Status Apply(const ParamMap& params, ParamMap* effective = nullptr);
};

class BiasedMF final : public Recommender {
 public:
  explicit BiasedMF(const MFOptions& options);

  std::string_view name() const override { return "mf"; }
  // Uses rating events only; implicit events are ignored.
  void Observe(const Interaction& x, const UserHistory& history, uint64_t seed) override;
  void ScoreItems(UserIndex user, const UserHistory& history, std::span<float> out) const override;
  float PredictRating(UserIndex user, ItemIndex item) const override;
  void ForgetUser(UserIndex user) override;
  void Save(ByteWriter* w) const override;
  Status Load(ByteReader* r) override;
  void SaveGlobals(ByteWriter* w) const override;
  Status LoadGlobals(ByteReader* r) override;
  void SaveUserRow(UserIndex u, ByteWriter* w) const override;
  Status LoadUserRow(UserIndex u, ByteReader* r) override;
  void SaveItemRow(ItemIndex i, ByteWriter* w) const override;
  Status LoadItemRow(ItemIndex i, ByteReader* r) override;
  void TakeDirty(std::vector<UserIndex>* users, std::vector<ItemIndex>* items) override;

  // One SGD step on (user, item, rating). Grows the tables as needed.
  void Update(UserIndex user, ItemIndex item, float rating);
  const MFOptions& options() const { return options_; }
  const EmbeddingTable& users() const { return p_; }
  const EmbeddingTable& items() const { return q_; }
  float user_bias(UserIndex u) const { return user_bias_[u]; }
  float item_bias(ItemIndex i) const { return item_bias_[i]; }
  double global_mean() const { return count_ == 0 ? 0.0 : sum_ / static_cast<double>(count_); }

 private:
  // Unclamped prediction; unknown user or item contribute nothing of their own.
  float RawPredict(UserIndex user, ItemIndex item) const;
  void EnsureUsers(uint32_t n);
  void EnsureItems(uint32_t n);

  MFOptions options_;
  EmbeddingTable p_;
  EmbeddingTable q_;
  std::vector<float> user_bias_;
  std::vector<float> item_bias_;
  double sum_ = 0.0;
  uint64_t count_ = 0;
  DirtySet dirty_users_;
  DirtySet dirty_items_;
};

}  // namespace streamrec::models
