// ε-greedy baseline. Each arm's click rate is estimated by its Beta posterior mean
// (prior_alpha + clicks) / (prior_alpha + prior_beta + impressions). With probability epsilon
// the whole explore set is k arms drawn uniformly without replacement; otherwise it is the k
// arms of highest mean (ties broken by a random jitter).
//
// Propensity (exact for distinct means): P(a chosen) = epsilon k/n + (1 - epsilon) [a in the
// greedy top-k], n = number of candidates.
#pragma once

#include <vector>

#include "bandits/policy.h"

namespace streamrec::bandits {

struct EpsilonGreedyOptions {
  // Probability of a uniformly random explore set.
  double epsilon = 0.1;
  // Beta prior of the mean estimate (see ThompsonOptions).
  double prior_alpha = 1.0;
  double prior_beta = 20.0;

  Status Apply(const BanditParams& params, BanditParams* effective = nullptr);
};

class EpsilonGreedyPolicy final : public Policy {
 public:
  explicit EpsilonGreedyPolicy(const EpsilonGreedyOptions& options) : options_(options) {}

  std::string_view name() const override { return "egreedy"; }
  void ResetArm(ArmIndex arm, const SparseFeatures& f) override;
  void Select(const UserContext& user, std::span<const ArmIndex> candidates, uint32_t k,
              int64_t now_micros, Rng& rng, SelectScratch* scratch,
              std::vector<Selection>* out) const override;
  void Update(const UserContext& user, ArmIndex arm, float reward, int64_t ts_micros) override;
  double Mean(const UserContext& user, ArmIndex arm, int64_t now_micros) const override;
  void SaveGlobals(ByteWriter* w) const override;
  Status LoadGlobals(ByteReader* r) override;
  void SaveArm(ArmIndex arm, ByteWriter* w) const override;
  Status LoadArm(ArmIndex arm, ByteReader* r) override;

 private:
  struct Arm {
    double clicks = 0.0;
    double impressions = 0.0;
  };
  EpsilonGreedyOptions options_;
  std::vector<Arm> arms_;
};

}  // namespace streamrec::bandits
