// Beta–Bernoulli Thompson sampling, one posterior per arm. Arm a's click probability has prior
// Beta(prior_alpha, prior_beta); each reward r adds r to alpha and 1 - r to beta. With a
// half-life h > 0 the evidence decays: at time t, alpha = prior_alpha + S * 2^(-(t - t_last)/h)
// (same for beta), where S is the decayed sum at the last update t_last, so old clicks fade.
// Select draws θ_a ~ Beta(alpha_a, beta_a) for every candidate and takes the k largest.
//
// Propensity: P(a in top-k | the other candidates' draws) = 1 - I_T(alpha_a, beta_a), where T
// is the k-th largest draw among the other candidates (= the (k+1)-th overall draw) and I the
// regularized incomplete beta. Conditioning on the other arms' (independent) draws makes this
// the exact probability of the action given the policy's own randomness, so IPW with it is
// unbiased; it costs k incomplete-beta evaluations instead of a Monte-Carlo re-selection.
#pragma once

#include <vector>

#include "bandits/policy.h"

namespace streamrec::bandits {

struct ThompsonOptions {
  // Beta prior pseudo-counts of a new arm; their ratio is the prior click rate and their sum its
  // weight. Tuned on bandit-sim (docs/BANDITS.md): a low, heavy prior (0.25% worth 401
  // impressions) lets a click or two lift an arm at once while hundreds of unclicked arms'
  // posterior tails stay too thin to steal impressions; Beta(1, 20) spread impressions over the
  // ~700-arm pool and reached only 1.33x random's explore CTR.
  double prior_alpha = 1.0;
  double prior_beta = 400.0;
  // Half-life of the evidence in seconds; 0 = no decay.
  double half_life_s = 0.0;

  Status Apply(const BanditParams& params, BanditParams* effective = nullptr);
};

class ThompsonPolicy final : public Policy {
 public:
  explicit ThompsonPolicy(const ThompsonOptions& options) : options_(options) {}

  std::string_view name() const override { return "thompson"; }
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

  // Posterior parameters of `arm` at time `now_micros` (decay applied).
  void Posterior(ArmIndex arm, int64_t now_micros, double* alpha, double* beta) const;
  const ThompsonOptions& options() const { return options_; }

 private:
  struct Arm {
    double successes = 0.0;  // decayed sums at last_micros
    double failures = 0.0;
    int64_t last_micros = 0;
  };
  double Decay(const Arm& a, int64_t now_micros) const;

  ThompsonOptions options_;
  std::vector<Arm> arms_;
};

}  // namespace streamrec::bandits
