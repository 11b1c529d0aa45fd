#include "bandits/thompson.h"

#include <algorithm>
#include <cmath>

#include "bandits/sampling.h"

namespace streamrec::bandits {
namespace {
constexpr uint32_t kMagic = Magic("SRTS");
constexpr uint32_t kVersion = 1;
}  // namespace

Status ThompsonOptions::Apply(const BanditParams& params, BanditParams* effective) {
  BanditParamReader r(params, effective);
  r.Read("prior_alpha", &prior_alpha, 1e-3, 1e6);
  r.Read("prior_beta", &prior_beta, 1e-3, 1e6);
  r.Read("half_life_s", &half_life_s, 0, 1e12);
  return r.Finish("thompson");
}

void ThompsonPolicy::ResetArm(ArmIndex arm, const SparseFeatures&) {
  if (arm >= arms_.size()) arms_.resize(arm + 1);
  arms_[arm] = Arm();
}

double ThompsonPolicy::Decay(const Arm& a, int64_t now_micros) const {
  if (options_.half_life_s <= 0.0 || now_micros <= a.last_micros) return 1.0;
  return std::exp2(-static_cast<double>(now_micros - a.last_micros) * 1e-6 / options_.half_life_s);
}

void ThompsonPolicy::Posterior(ArmIndex arm, int64_t now_micros, double* alpha,
                               double* beta) const {
  const Arm& a = arms_[arm];
  const double d = Decay(a, now_micros);
  *alpha = options_.prior_alpha + a.successes * d;
  *beta = options_.prior_beta + a.failures * d;
}

void ThompsonPolicy::Select(const UserContext&, std::span<const ArmIndex> candidates, uint32_t k,
                            int64_t now_micros, Rng& rng, SelectScratch* s,
                            std::vector<Selection>* out) const {
  const size_t n = candidates.size();
  if (n == 0 || k == 0) return;
  s->scores.resize(n);
  for (size_t i = 0; i < n; ++i) {
    double alpha, beta;
    Posterior(candidates[i], now_micros, &alpha, &beta);
    s->scores[i] = static_cast<float>(SampleBeta(rng, alpha, beta));
  }
  TopK(s->scores, static_cast<size_t>(k) + 1, &s->top);
  const size_t chosen = std::min<size_t>(k, s->top.size());
  // Every candidate is chosen when there are at most k of them.
  const bool all = s->top.size() <= k;
  const double threshold = all ? 0.0 : s->top[k].score;
  for (size_t j = 0; j < chosen; ++j) {
    const ArmIndex arm = candidates[s->top[j].index];
    double propensity = 1.0;
    if (!all) {
      double alpha, beta;
      Posterior(arm, now_micros, &alpha, &beta);
      propensity = std::clamp(1.0 - BetaCdf(threshold, alpha, beta), 1e-9, 1.0);
    }
    out->push_back({arm, s->top[j].score, propensity});
  }
}

void ThompsonPolicy::Update(const UserContext&, ArmIndex arm, float reward, int64_t ts_micros) {
  Arm& a = arms_[arm];
  const double d = Decay(a, ts_micros);
  a.successes = a.successes * d + reward;
  a.failures = a.failures * d + (1.0 - reward);
  a.last_micros = std::max(a.last_micros, ts_micros);
}

double ThompsonPolicy::Mean(const UserContext&, ArmIndex arm, int64_t now_micros) const {
  double alpha, beta;
  Posterior(arm, now_micros, &alpha, &beta);
  return alpha / (alpha + beta);
}

void ThompsonPolicy::SaveGlobals(ByteWriter* w) const {
  w->PutHeader(kMagic, kVersion);
  w->PutF64(options_.prior_alpha);
  w->PutF64(options_.prior_beta);
  w->PutF64(options_.half_life_s);
}

Status ThompsonPolicy::LoadGlobals(ByteReader* r) {
  uint32_t version;
  STREAMREC_RETURN_IF_ERROR(r->ExpectHeader(kMagic, kVersion, "thompson state", &version));
  ThompsonOptions o;
  if (!r->GetF64(&o.prior_alpha) || !r->GetF64(&o.prior_beta) || !r->GetF64(&o.half_life_s)) {
    return Status::Corruption("truncated thompson globals");
  }
  options_ = o;
  return Status::Ok();
}

void ThompsonPolicy::SaveArm(ArmIndex arm, ByteWriter* w) const {
  const Arm& a = arms_[arm];
  w->PutF64(a.successes);
  w->PutF64(a.failures);
  w->PutI64(a.last_micros);
}

Status ThompsonPolicy::LoadArm(ArmIndex arm, ByteReader* r) {
  if (arm >= arms_.size()) arms_.resize(arm + 1);
  Arm a;
  if (!r->GetF64(&a.successes) || !r->GetF64(&a.failures) || !r->GetI64(&a.last_micros) ||
      !(a.successes >= 0) || !(a.failures >= 0)) {
    return Status::Corruption("bad thompson arm record");
  }
  arms_[arm] = a;
  return Status::Ok();
}

}  // namespace streamrec::bandits
