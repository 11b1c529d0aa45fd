#include "models/bpr.h"

#include <algorithm>
#include <cmath>

#include "common/rng.h"
#include "common/topk.h"

namespace streamrec::models {
namespace {
constexpr uint32_t kMagic = Magic("SRBP");
constexpr uint32_t kVersion = 1;
// Draws before giving up on finding an unseen negative (only users who saw ~everything fail).
constexpr int kMaxNegativeDraws = 16;

inline float Sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }
}  // namespace

Status BPROptions::Apply(const ParamMap& params, ParamMap* effective) {
  ParamReader r(params, effective);
  r.Read("dim", &dim, 1, 1024);
  r.Read("lr", &lr, 0.0, 10.0);
  r.Read("reg", &reg, 0.0, 10.0);
  r.Read("reg_bias", &reg_bias, 0.0, 10.0);
  r.Read("init_std", &init_std, 0.0, 10.0);
  r.Read("negatives", &negatives, 1, 1000);
  bool pop = sampling == NegativeSampling::kPopularity;
  r.Read("pop_negatives", &pop);
  sampling = pop ? NegativeSampling::kPopularity : NegativeSampling::kUniform;
  r.Read("pop_exponent", &pop_exponent, 0.0, 2.0);
  r.Read("seed", &seed, 0, UINT32_MAX);
  return r.Finish("bpr");
}

BPR::BPR(const BPROptions& options)
    : options_(options),
      p_(options.dim, options.init_std, SeedFor(options.seed, 3)),
      q_(options.dim, options.init_std, SeedFor(options.seed, 4)),
      scratch_(p_.stride()) {
  negatives_.reserve(options_.negatives);
}

void BPR::EnsureUsers(uint32_t n) {
  if (n > p_.rows()) {
    dirty_users_.MarkRange(p_.rows(), n);
    p_.EnsureRows(n);
  }
}

void BPR::EnsureItems(uint32_t n) {
  if (n > q_.rows()) {
    dirty_items_.MarkRange(q_.rows(), n);
    q_.EnsureRows(n);
    item_bias_.resize(n, 0.0f);
    item_count_.resize(n, 0);
  }
}

void BPR::SetCount(ItemIndex i, uint32_t count) {
  item_count_[i] = count;
  if (options_.sampling == NegativeSampling::kPopularity) {
    pop_sampler_.Set(i, count == 0 ? 0.0
                                   : std::pow(static_cast<double>(count),
                                              static_cast<double>(options_.pop_exponent)));
  }
}

ItemIndex BPR::SampleNegative(std::span<const ItemIndex> seen, ItemIndex pos, Rng& rng) const {
  const uint32_t n = q_.rows();
  const bool by_pop =
      options_.sampling == NegativeSampling::kPopularity && pop_sampler_.total() > 0;
  for (int attempt = 0; attempt < kMaxNegativeDraws; ++attempt) {
    const ItemIndex j = by_pop ? pop_sampler_.Sample(rng) : rng.Uniform(n);
    if (j != pos && !UserHistory::SortedContains(seen, j)) return j;
  }
  return kNoIndex;
}

void BPR::Observe(const Interaction& x, const UserHistory& history, uint64_t seed) {
  EnsureUsers(x.user + 1);
  EnsureItems(x.item + 1);
  SetCount(x.item, item_count_[x.item] + 1);
  dirty_items_.Mark(x.item);
  if (q_.rows() < 2) return;
  Rng rng(seed);
  // Draw every negative first (the draws depend only on the history, not on the steps) and
  // start loading their rows: each is a likely cache miss, and the steps then overlap them.
  negatives_.clear();
  const std::span<const ItemIndex> seen = history.Sorted(x.user);  // looked up once, not per draw
  for (uint32_t s = 0; s < options_.negatives; ++s) {
    const ItemIndex j = SampleNegative(seen, x.item, rng);
    if (j == kNoIndex) break;
    negatives_.push_back(j);
    const float* qj = q_.Row(j);
    for (uint32_t k = 0; k < q_.stride(); k += 16) __builtin_prefetch(qj + k, 1);
    __builtin_prefetch(&item_bias_[j], 1);
  }
  if (negatives_.empty()) return;
  dirty_users_.Mark(x.user);
  for (ItemIndex j : negatives_) {
    dirty_items_.Mark(j);
    PairStep(x.user, x.item, j, x.weight);
  }
}

float BPR::PairLoss(UserIndex u, ItemIndex i, ItemIndex j) const {
  const uint32_t n = p_.stride();
  const float* p = p_.Row(u);
  const float x = item_bias_[i] - item_bias_[j] + Dot(p, q_.Row(i), n) - Dot(p, q_.Row(j), n);
  return std::log1p(std::exp(-x));  // -ln σ(x)
}

void BPR::PairStep(UserIndex u, ItemIndex i, ItemIndex j, float weight) {
  const uint32_t n = p_.stride();
  float* __restrict p = p_.Row(u);
  float* __restrict qi = q_.Row(i);
  float* __restrict qj = q_.Row(j);
  float* __restrict p_old = scratch_.data();
  float x = item_bias_[i] - item_bias_[j];
#pragma omp simd reduction(+ : x)
  for (uint32_t k = 0; k < n; ++k) x += p[k] * (qi[k] - qj[k]);
  // d(-ln σ(x))/dx = -σ(-x); SGD moves along g = weight·σ(-x).
  const float g = weight * Sigmoid(-x);
  const float lr = options_.lr;
  const float reg = options_.reg;
#pragma omp simd
  for (uint32_t k = 0; k < n; ++k) {
    p_old[k] = p[k];
    p[k] += lr * (g * (qi[k] - qj[k]) - reg * p[k]);
  }
#pragma omp simd
  for (uint32_t k = 0; k < n; ++k) {
    qi[k] += lr * (g * p_old[k] - reg * qi[k]);
    qj[k] += lr * (-g * p_old[k] - reg * qj[k]);
  }
  item_bias_[i] += lr * (g - options_.reg_bias * item_bias_[i]);
  item_bias_[j] += lr * (-g - options_.reg_bias * item_bias_[j]);
}

void BPR::ScoreItems(UserIndex user, const UserHistory&, std::span<float> out) const {
  const auto known = static_cast<uint32_t>(std::min<size_t>(out.size(), q_.rows()));
  if (user < p_.rows()) {
    ScoreRows(q_.data(), q_.stride(), known, p_.Row(user), item_bias_.data(), out.data());
  } else {
    std::copy_n(item_bias_.begin(), known, out.begin());  // cold user: the learned item prior
  }
  std::fill(out.begin() + known, out.end(), kExcludedScore);
}

void BPR::ForgetUser(UserIndex user) {
  if (user >= p_.rows()) return;
  p_.ResetRow(user);
  dirty_users_.Mark(user);
}

void BPR::SaveGlobals(ByteWriter* w) const {
  w->PutHeader(kMagic, kVersion);
  w->PutU32(p_.rows());
  w->PutU32(q_.rows());
}

Status BPR::LoadGlobals(ByteReader* r) {
  uint32_t version, users, items;
  STREAMREC_RETURN_IF_ERROR(r->ExpectHeader(kMagic, kVersion, "bpr globals", &version));
  if (!r->GetU32(&users) || !r->GetU32(&items)) return Status::Corruption("bpr globals: truncated");
  EnsureUsers(users);
  EnsureItems(items);
  return Status::Ok();
}

void BPR::SaveUserRow(UserIndex u, ByteWriter* w) const {
  if (u >= p_.rows()) return;  // no row: an empty record
  w->PutFloats({p_.Row(u), p_.dim()});
}

Status BPR::LoadUserRow(UserIndex u, ByteReader* r) {
  EnsureUsers(u + 1);
  if (!r->GetFloats({p_.Row(u), p_.dim()})) return Status::Corruption("bpr user row: truncated");
  return Status::Ok();
}

void BPR::SaveItemRow(ItemIndex i, ByteWriter* w) const {
  if (i >= q_.rows()) return;  // no row: an empty record
  w->PutFloats({q_.Row(i), q_.dim()});
  w->PutF32(item_bias_[i]);
  w->PutVarint(item_count_[i]);
}

Status BPR::LoadItemRow(ItemIndex i, ByteReader* r) {
  EnsureItems(i + 1);
  uint64_t count;
  if (!r->GetFloats({q_.Row(i), q_.dim()}) || !r->GetF32(&item_bias_[i]) || !r->GetVarint(&count) ||
      count > UINT32_MAX) {
    return Status::Corruption("bpr item row: truncated");
  }
  SetCount(i, static_cast<uint32_t>(count));
  return Status::Ok();
}

void BPR::TakeDirty(std::vector<UserIndex>* users, std::vector<ItemIndex>* items) {
  dirty_users_.Take(users);
  dirty_items_.Take(items);
}

void BPR::Save(ByteWriter* w) const {
  w->PutHeader(kMagic, kVersion);
  p_.Save(w);
  q_.Save(w);
  w->PutFloats(item_bias_);
  for (uint32_t c : item_count_) w->PutVarint(c);
}

Status BPR::Load(ByteReader* r) {
  uint32_t version;
  STREAMREC_RETURN_IF_ERROR(r->ExpectHeader(kMagic, kVersion, "bpr model", &version));
  BPR m(options_);
  STREAMREC_RETURN_IF_ERROR(m.p_.Load(r));
  STREAMREC_RETURN_IF_ERROR(m.q_.Load(r));
  m.item_bias_.resize(m.q_.rows());
  m.item_count_.resize(m.q_.rows());
  if (!r->GetFloats(m.item_bias_)) return Status::Corruption("bpr: truncated biases");
  for (uint32_t i = 0; i < m.q_.rows(); ++i) {
    uint64_t c;
    if (!r->GetVarint(&c) || c > UINT32_MAX) return Status::Corruption("bpr: truncated counts");
    m.item_count_[i] = static_cast<uint32_t>(c);
    if (options_.sampling == NegativeSampling::kPopularity && c > 0) {
      m.pop_sampler_.Set(
          i, std::pow(static_cast<double>(c), static_cast<double>(options_.pop_exponent)));
    }
  }
  *this = std::move(m);
  return Status::Ok();
}

}  // namespace streamrec::models
