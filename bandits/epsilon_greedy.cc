#include "bandits/epsilon_greedy.h"

#include <algorithm>

#include "bandits/uniform_random.h"

namespace streamrec::bandits {
namespace {
constexpr uint32_t kMagic = Magic("SREG");
constexpr uint32_t kVersion = 1;
}  // namespace

Status EpsilonGreedyOptions::Apply(const BanditParams& params, BanditParams* effective) {
  BanditParamReader r(params, effective);
  r.Read("epsilon", &epsilon, 0, 1);
  r.Read("prior_alpha", &prior_alpha, 1e-3, 1e6);
  r.Read("prior_beta", &prior_beta, 1e-3, 1e6);
  return r.Finish("egreedy");
}

void EpsilonGreedyPolicy::ResetArm(ArmIndex arm, const SparseFeatures&) {
  if (arm >= arms_.size()) arms_.resize(arm + 1);
  arms_[arm] = Arm();
}

double EpsilonGreedyPolicy::Mean(const UserContext&, ArmIndex arm, int64_t) const {
  const Arm& a = arms_[arm];
  return (options_.prior_alpha + a.clicks) /
         (options_.prior_alpha + options_.prior_beta + a.impressions);
}

void EpsilonGreedyPolicy::Select(const UserContext& user, std::span<const ArmIndex> candidates,
                                 uint32_t k, int64_t now_micros, Rng& rng, SelectScratch* s,
                                 std::vector<Selection>* out) const {
  const auto n = static_cast<uint32_t>(candidates.size());
  if (n == 0 || k == 0) return;
  const uint32_t m = std::min(k, n);
  const bool explore = rng.UniformDouble() < options_.epsilon;
  // The greedy set is needed either way: it determines every chosen arm's propensity.
  s->scores.resize(n);
  for (uint32_t i = 0; i < n; ++i) {
    // Jitter far below any difference of two means breaks ties at random.
    s->scores[i] =
        static_cast<float>(Mean(user, candidates[i], now_micros)) + 1e-7f * rng.UniformFloat();
  }
  TopK(s->scores, m, &s->top);
  const float greedy_floor = s->top.back().score;  // a score >= this is in the greedy set
  const double uniform = options_.epsilon * m / n;
  auto propensity = [&](uint32_t i) {
    return uniform + (s->scores[i] >= greedy_floor ? 1.0 - options_.epsilon : 0.0);
  };
  if (explore) {
    SampleWithoutReplacement(n, m, rng, s);
    for (uint32_t j = 0; j < m; ++j) {
      const uint32_t i = s->order[j];
      out->push_back({candidates[i], s->scores[i], propensity(i)});
    }
  } else {
    for (const ScoredItem& t : s->top) {
      out->push_back({candidates[t.index], t.score, propensity(t.index)});
    }
  }
}

void EpsilonGreedyPolicy::Update(const UserContext&, ArmIndex arm, float reward, int64_t) {
  arms_[arm].clicks += reward;
  arms_[arm].impressions += 1.0;
}

void EpsilonGreedyPolicy::SaveGlobals(ByteWriter* w) const {
  w->PutHeader(kMagic, kVersion);
  w->PutF64(options_.epsilon);
  w->PutF64(options_.prior_alpha);
  w->PutF64(options_.prior_beta);
}

Status EpsilonGreedyPolicy::LoadGlobals(ByteReader* r) {
  uint32_t version;
  STREAMREC_RETURN_IF_ERROR(r->ExpectHeader(kMagic, kVersion, "egreedy state", &version));
  EpsilonGreedyOptions o;
  if (!r->GetF64(&o.epsilon) || !r->GetF64(&o.prior_alpha) || !r->GetF64(&o.prior_beta)) {
    return Status::Corruption("truncated egreedy globals");
  }
  options_ = o;
  return Status::Ok();
}

void EpsilonGreedyPolicy::SaveArm(ArmIndex arm, ByteWriter* w) const {
  w->PutF64(arms_[arm].clicks);
  w->PutF64(arms_[arm].impressions);
}

Status EpsilonGreedyPolicy::LoadArm(ArmIndex arm, ByteReader* r) {
  if (arm >= arms_.size()) arms_.resize(arm + 1);
  Arm a;
  if (!r->GetF64(&a.clicks) || !r->GetF64(&a.impressions) || !(a.clicks >= 0) ||
      !(a.impressions >= a.clicks)) {
    return Status::Corruption("bad egreedy arm record");
  }
  arms_[arm] = a;
  return Status::Ok();
}

}  // namespace streamrec::bandits
