#include "models/popularity.h"

#include <algorithm>
#include <cmath>

#include "common/topk.h"

namespace streamrec::models {
namespace {
constexpr uint32_t kMagic = Magic("SRPO");
constexpr uint32_t kVersion = 1;
// Rescale when the growth factor passes 2^kMaxExponent (far below double's range).
constexpr double kMaxExponent = 200.0;
}  // namespace

Status PopularityOptions::Apply(const ParamMap& params, ParamMap* effective) {
  ParamReader r(params, effective);
  r.Read("half_life_s", &half_life_s, 0.0, 1e12);
  return r.Finish("pop");
}

void Popularity::Observe(const Interaction& x, const UserHistory&, uint64_t) {
  Add(x.item, x.weight, static_cast<double>(x.ts_seconds));
}

void Popularity::Add(ItemIndex item, float weight, double ts_seconds) {
  if (item >= values_.size()) values_.resize(static_cast<size_t>(item) + 1, 0.0);
  if (options_.half_life_s <= 0.0f) {
    values_[item] += weight;
    return;
  }
  if (!has_ref_) {
    t_ref_ = t_latest_ = ts_seconds;
    has_ref_ = true;
  }
  t_latest_ = std::max(t_latest_, ts_seconds);
  double exponent = (ts_seconds - t_ref_) / options_.half_life_s;
  if (exponent > kMaxExponent) {
    // Move the reference to this event's time: every value shrinks by the same factor.
    const double scale = std::exp2(-exponent);
    for (double& v : values_) v *= scale;
    t_ref_ = ts_seconds;
    exponent = 0.0;
  }
  values_[item] += weight * std::exp2(exponent);
}

double Popularity::Count(ItemIndex item) const {
  if (item >= values_.size()) return 0.0;
  if (options_.half_life_s <= 0.0f) return values_[item];
  return values_[item] * std::exp2((t_ref_ - t_latest_) / options_.half_life_s);
}

void Popularity::ScoreItems(UserIndex, const UserHistory&, std::span<float> out) const {
  const size_t known = std::min(out.size(), values_.size());
  // Scores share one positive factor, so the stored values rank identically; return counts
  // as of the latest event so they read as "decayed counts".
  const double scale =
      options_.half_life_s <= 0.0f ? 1.0 : std::exp2((t_ref_ - t_latest_) / options_.half_life_s);
  for (size_t i = 0; i < known; ++i) out[i] = static_cast<float>(values_[i] * scale);
  std::fill(out.begin() + static_cast<ptrdiff_t>(known), out.end(), kExcludedScore);
}

void Popularity::Save(ByteWriter* w) const {
  w->PutHeader(kMagic, kVersion);
  w->PutF64(t_ref_);
  w->PutF64(t_latest_);
  w->PutU8(has_ref_ ? 1 : 0);
  w->PutVarint(values_.size());
  for (double v : values_) w->PutF64(v);
}

Status Popularity::Load(ByteReader* r) {
  uint32_t version;
  STREAMREC_RETURN_IF_ERROR(r->ExpectHeader(kMagic, kVersion, "popularity", &version));
  uint8_t has_ref;
  uint64_t n;
  std::vector<double> values;
  double t_ref, t_latest;
  if (!r->GetF64(&t_ref) || !r->GetF64(&t_latest) || !r->GetU8(&has_ref) || !r->GetVarint(&n) ||
      n > r->remaining() / sizeof(double)) {
    return Status::Corruption("popularity: truncated");
  }
  values.resize(n);
  for (double& v : values) {
    if (!r->GetF64(&v)) return Status::Corruption("popularity: truncated");
  }
  values_ = std::move(values);
  t_ref_ = t_ref;
  t_latest_ = t_latest;
  has_ref_ = has_ref != 0;
  return Status::Ok();
}

}  // namespace streamrec::models
