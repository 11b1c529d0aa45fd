#include "models/mf.h"

#include <algorithm>
#include <cmath>

#include "common/rng.h"
#include "common/topk.h"

namespace streamrec::models {
namespace {
constexpr uint32_t kMagic = Magic("SRMF");
constexpr uint32_t kVersion = 1;
}  // namespace

Status MFOptions::Apply(const ParamMap& params, ParamMap* effective) {
  ParamReader r(params, effective);
  r.Read("dim", &dim, 1, 1024);
  r.Read("lr", &lr, 0.0, 1.0);
  r.Read("lr_bias_scale", &lr_bias_scale, 0.0, 100.0);
  r.Read("reg", &reg, 0.0, 10.0);
  r.Read("reg_bias", &reg_bias, 0.0, 10.0);
  r.Read("init_std", &init_std, 0.0, 10.0);
  r.Read("rating_min", &rating_min, -1e6, 1e6);
  r.Read("rating_max", &rating_max, -1e6, 1e6);
  r.Read("seed", &seed, 0, UINT32_MAX);
  return r.Finish("mf");
}

BiasedMF::BiasedMF(const MFOptions& options)
    : options_(options),
      p_(options.dim, options.init_std, SeedFor(options.seed, 1)),
      q_(options.dim, options.init_std, SeedFor(options.seed, 2)) {}

void BiasedMF::Observe(const Interaction& x, const UserHistory&, uint64_t) {
  if (x.is_rating) Update(x.user, x.item, x.value);
}

void BiasedMF::EnsureUsers(uint32_t n) {
  if (n > p_.rows()) {
    dirty_users_.MarkRange(p_.rows(), n);
    p_.EnsureRows(n);
    user_bias_.resize(n, 0.0f);
  }
}

void BiasedMF::EnsureItems(uint32_t n) {
  if (n > q_.rows()) {
    dirty_items_.MarkRange(q_.rows(), n);
    q_.EnsureRows(n);
    item_bias_.resize(n, 0.0f);
  }
}

void BiasedMF::Update(UserIndex user, ItemIndex item, float rating) {
  EnsureUsers(user + 1);
  EnsureItems(item + 1);
  dirty_users_.Mark(user);
  dirty_items_.Mark(item);
  sum_ += rating;
  ++count_;
  const auto mu = static_cast<float>(global_mean());
  float* __restrict p = p_.Row(user);
  float* __restrict q = q_.Row(item);
  float& bu = user_bias_[user];
  float& bi = item_bias_[item];
  const uint32_t n = p_.stride();
  const float err = rating - (mu + bu + bi + Dot(p, q, n));
  const float lr = options_.lr;
  const float reg = options_.reg;
  const float lr_b = lr * options_.lr_bias_scale;
  bu += lr_b * (err - options_.reg_bias * bu);
  bi += lr_b * (err - options_.reg_bias * bi);
#pragma omp simd
  for (uint32_t k = 0; k < n; ++k) {
    const float pk = p[k];
    const float qk = q[k];
    p[k] = pk + lr * (err * qk - reg * pk);
    q[k] = qk + lr * (err * pk - reg * qk);
  }
}

float BiasedMF::RawPredict(UserIndex user, ItemIndex item) const {
  float r = static_cast<float>(global_mean());
  const bool known_user = user < p_.rows();
  const bool known_item = item < q_.rows();
  if (known_user) r += user_bias_[user];
  if (known_item) r += item_bias_[item];
  if (known_user && known_item) r += Dot(p_.Row(user), q_.Row(item), p_.stride());
  return r;
}

float BiasedMF::PredictRating(UserIndex user, ItemIndex item) const {
  return std::clamp(RawPredict(user, item), options_.rating_min, options_.rating_max);
}

void BiasedMF::ScoreItems(UserIndex user, const UserHistory&, std::span<float> out) const {
  const auto known = std::min<size_t>(out.size(), q_.rows());
  if (user < p_.rows()) {
    ScoreRows(q_.data(), q_.stride(), static_cast<uint32_t>(known), p_.Row(user), item_bias_.data(),
              out.data());
  } else {
    std::copy_n(item_bias_.begin(), known, out.begin());
  }
  std::fill(out.begin() + static_cast<ptrdiff_t>(known), out.end(), kExcludedScore);
}

void BiasedMF::ForgetUser(UserIndex user) {
  if (user >= p_.rows()) return;
  p_.ResetRow(user);
  user_bias_[user] = 0.0f;
  dirty_users_.Mark(user);
}

void BiasedMF::SaveGlobals(ByteWriter* w) const {
  w->PutHeader(kMagic, kVersion);
  w->PutF64(sum_);
  w->PutU64(count_);
  w->PutU32(p_.rows());
  w->PutU32(q_.rows());
}

Status BiasedMF::LoadGlobals(ByteReader* r) {
  uint32_t version, users, items;
  STREAMREC_RETURN_IF_ERROR(r->ExpectHeader(kMagic, kVersion, "mf globals", &version));
  double sum;
  uint64_t count;
  if (!r->GetF64(&sum) || !r->GetU64(&count) || !r->GetU32(&users) || !r->GetU32(&items)) {
    return Status::Corruption("mf globals: truncated");
  }
  sum_ = sum;
  count_ = count;
  EnsureUsers(users);
  EnsureItems(items);
  return Status::Ok();
}

void BiasedMF::SaveUserRow(UserIndex u, ByteWriter* w) const {
  if (u >= p_.rows()) return;  // no row: an empty record
  w->PutFloats({p_.Row(u), p_.dim()});
  w->PutF32(user_bias_[u]);
}

Status BiasedMF::LoadUserRow(UserIndex u, ByteReader* r) {
  EnsureUsers(u + 1);
  if (!r->GetFloats({p_.Row(u), p_.dim()}) || !r->GetF32(&user_bias_[u])) {
    return Status::Corruption("mf user row: truncated");
  }
  return Status::Ok();
}

void BiasedMF::SaveItemRow(ItemIndex i, ByteWriter* w) const {
  if (i >= q_.rows()) return;  // no row: an empty record
  w->PutFloats({q_.Row(i), q_.dim()});
  w->PutF32(item_bias_[i]);
}

Status BiasedMF::LoadItemRow(ItemIndex i, ByteReader* r) {
  EnsureItems(i + 1);
  if (!r->GetFloats({q_.Row(i), q_.dim()}) || !r->GetF32(&item_bias_[i])) {
    return Status::Corruption("mf item row: truncated");
  }
  return Status::Ok();
}

void BiasedMF::TakeDirty(std::vector<UserIndex>* users, std::vector<ItemIndex>* items) {
  dirty_users_.Take(users);
  dirty_items_.Take(items);
}

void BiasedMF::Save(ByteWriter* w) const {
  w->PutHeader(kMagic, kVersion);
  w->PutF64(sum_);
  w->PutU64(count_);
  p_.Save(w);
  q_.Save(w);
  w->PutFloats(user_bias_);
  w->PutFloats(item_bias_);
}

Status BiasedMF::Load(ByteReader* r) {
  uint32_t version;
  STREAMREC_RETURN_IF_ERROR(r->ExpectHeader(kMagic, kVersion, "mf model", &version));
  BiasedMF m(options_);
  if (!r->GetF64(&m.sum_) || !r->GetU64(&m.count_)) return Status::Corruption("mf: truncated");
  STREAMREC_RETURN_IF_ERROR(m.p_.Load(r));
  STREAMREC_RETURN_IF_ERROR(m.q_.Load(r));
  m.user_bias_.resize(m.p_.rows());
  m.item_bias_.resize(m.q_.rows());
  if (!r->GetFloats(m.user_bias_) || !r->GetFloats(m.item_bias_)) {
    return Status::Corruption("mf: truncated biases");
  }
  *this = std::move(m);
  return Status::Ok();
}

}  // namespace streamrec::models
