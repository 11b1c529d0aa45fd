#include "models/sasrec_lite.h"

#include <algorithm>
#include <cmath>

#include "common/rng.h"
#include "common/topk.h"

namespace streamrec::models {
namespace {
constexpr uint32_t kMagic = Magic("SRSA");
constexpr uint32_t kVersion = 1;

std::span<const ItemIndex> LastN(std::span<const ItemIndex> s, uint32_t n) {
  return s.size() > n ? s.last(n) : s;
}

// y += a * x over n floats.
inline void Axpy(float a, const float* __restrict x, float* __restrict y, uint32_t n) {
#pragma omp simd
  for (uint32_t k = 0; k < n; ++k) y[k] += a * x[k];
}
}  // namespace

Status SASRecLiteOptions::Apply(const ParamMap& params, ParamMap* effective) {
  ParamReader r(params, effective);
  r.Read("dim", &dim, 1, 1024);
  r.Read("init_std", &init_std, 0.0, 10.0);
  r.Read("w_init_std", &w_init_std, 0.0, 10.0);
  r.Read("reg_w", &reg_w, 0.0, 10.0);
  r.Read("max_len", &max_len, 1, 1000);
  r.Read("user_term", &user_term);
  r.Read("seed", &seed, 0, UINT32_MAX);
  head.Read(&r);
  return r.Finish("sasrec-lite");
}

SASRecLite::SASRecLite(const SASRecLiteOptions& options)
    : EmbeddingSessionModel(options.dim, options.init_std, options.user_term, options.max_len,
                            options.head, SeedFor(options.seed, 21), SeedFor(options.seed, 22),
                            SeedFor(options.seed, 23)),
      options_(options),
      pos_(options.dim, options.init_std, SeedFor(options.seed, 24)),
      wq_(options.dim, options.w_init_std, SeedFor(options.seed, 25)),
      v_(options.dim, options.w_init_std, SeedFor(options.seed, 26)) {
  pos_.EnsureRows(options.max_len);
  wq_.EnsureRows(options.dim);
  v_.EnsureRows(options.dim);
  InitActivations(&act_);
  const uint32_t n = e_.stride();
  gh_.resize(n);
  go_.resize(n);
  gq_.resize(n);
  gx_.resize(static_cast<size_t>(options.max_len) * n);
  g_.resize(options.max_len);
  negs_.reserve(options.head.negatives + options.max_len);
}

void SASRecLite::InitActivations(Activations* a) const {
  const uint32_t n = e_.stride();
  a->x.assign(static_cast<size_t>(options_.max_len) * n, 0.0f);
  a->alpha.assign(options_.max_len, 0.0f);
  a->q.assign(n, 0.0f);
  a->o.assign(n, 0.0f);
  a->h.assign(n, 0.0f);
  a->len = 0;
}

void SASRecLite::Forward(UserIndex user, std::span<const ItemIndex> recent, Activations* a) const {
  const uint32_t n = e_.stride(), d = e_.dim();
  recent = LastN(recent, options_.max_len);
  const auto len = static_cast<uint32_t>(recent.size());
  a->len = len;
  float* h = a->h.data();
  std::fill_n(h, n, 0.0f);
  if (HasUser(user)) std::copy_n(p_.Row(user), n, h);
  if (len == 0) return;
  for (uint32_t t = 0; t < len; ++t) {
    float* x = a->x.data() + static_cast<size_t>(t) * n;
    const float* p = pos_.Row(len - 1 - t);
    if (recent[t] < e_.rows()) {
      const float* e = e_.Row(recent[t]);
#pragma omp simd
      for (uint32_t k = 0; k < n; ++k) x[k] = e[k] + p[k];
    } else {
      std::copy_n(p, n, x);
    }
  }
  const float* xl = a->x.data() + static_cast<size_t>(len - 1) * n;
  float* q = a->q.data();
  std::fill_n(q, n, 0.0f);
  for (uint32_t i = 0; i < d; ++i) q[i] = Dot(wq_.Row(i), xl, n);
  const float inv_sqrt_d = 1.0f / std::sqrt(static_cast<float>(d));
  float mx = -INFINITY;
  for (uint32_t t = 0; t < len; ++t) {
    a->alpha[t] = Dot(q, a->x.data() + static_cast<size_t>(t) * n, n) * inv_sqrt_d;
    mx = std::max(mx, a->alpha[t]);
  }
  float total = 0.0f;
  for (uint32_t t = 0; t < len; ++t) total += a->alpha[t] = std::exp(a->alpha[t] - mx);
  for (uint32_t t = 0; t < len; ++t) a->alpha[t] /= total;
  float* o = a->o.data();
  std::fill_n(o, n, 0.0f);
  for (uint32_t t = 0; t < len; ++t) Axpy(a->alpha[t], a->x.data() + size_t{t} * n, o, n);
  for (uint32_t i = 0; i < d; ++i) h[i] += xl[i] + Dot(v_.Row(i), o, n);
}

void SASRecLite::Backward(UserIndex user, std::span<const ItemIndex> recent, const float* gh,
                          float steps) {
  const uint32_t n = e_.stride(), d = e_.dim();
  const float lr = options_.head.lr, reg = options_.head.reg * steps,
              reg_w = options_.reg_w * steps;
  recent = LastN(recent, options_.max_len);
  if (HasUser(user)) {
    dirty_users_.Mark(user);
    float* p = p_.Row(user);
#pragma omp simd
    for (uint32_t k = 0; k < n; ++k) p[k] += lr * (gh[k] - reg * p[k]);
  }
  const uint32_t len = act_.len;
  if (len == 0) return;
  const float* xs = act_.x.data();
  const float* xl = xs + static_cast<size_t>(len - 1) * n;
  const float* alpha = act_.alpha.data();
  const float* q = act_.q.data();
  const float* o = act_.o.data();
  float* go = go_.data();
  float* gq = gq_.data();
  float* gx = gx_.data();
  // h = xl + V o: go = V^T gh; then V's own step.
  std::fill_n(go, n, 0.0f);
  for (uint32_t i = 0; i < d; ++i) Axpy(gh[i], v_.Row(i), go, n);
  for (uint32_t i = 0; i < d; ++i) {
    float* vi = v_.Row(i);
    const float gi = gh[i];
#pragma omp simd
    for (uint32_t k = 0; k < n; ++k) vi[k] += lr * (gi * o[k] - reg_w * vi[k]);
  }
  // o = Σ α_t x_t, α = softmax(s), s_t = q·x_t/√d.
  float mean = 0.0f;
  for (uint32_t t = 0; t < len; ++t) {
    g_[t] = Dot(go, xs + size_t{t} * n, n);
    mean += alpha[t] * g_[t];
  }
  const float inv_sqrt_d = 1.0f / std::sqrt(static_cast<float>(d));
  std::fill_n(gq, n, 0.0f);
  for (uint32_t t = 0; t < len; ++t) {
    const float gs = alpha[t] * (g_[t] - mean) * inv_sqrt_d;  // -dLoss/ds_t, with the 1/√d
    float* gxt = gx + size_t{t} * n;
    const float* xt = xs + size_t{t} * n;
#pragma omp simd
    for (uint32_t k = 0; k < n; ++k) {
      gxt[k] = alpha[t] * go[k] + gs * q[k];
      gq[k] += gs * xt[k];
    }
  }
  // Residual and query paths into x_last; then Wq's step (after its transpose was used).
  float* gxl = gx + static_cast<size_t>(len - 1) * n;
  for (uint32_t k = 0; k < d; ++k) gxl[k] += gh[k];
  for (uint32_t i = 0; i < d; ++i) Axpy(gq[i], wq_.Row(i), gxl, n);
  for (uint32_t i = 0; i < d; ++i) {
    float* wi = wq_.Row(i);
    const float gi = gq[i];
#pragma omp simd
    for (uint32_t k = 0; k < n; ++k) wi[k] += lr * (gi * xl[k] - reg_w * wi[k]);
  }
  for (uint32_t t = 0; t < len; ++t) {
    const float* gxt = gx + size_t{t} * n;
    float* p = pos_.Row(len - 1 - t);
#pragma omp simd
    for (uint32_t k = 0; k < n; ++k) p[k] += lr * (gxt[k] - reg * p[k]);
    if (recent[t] >= e_.rows()) continue;
    dirty_items_.Mark(recent[t]);
    float* e = e_.Row(recent[t]);
#pragma omp simd
    for (uint32_t k = 0; k < n; ++k) e[k] += lr * (gxt[k] - reg * e[k]);
  }
}

void SASRecLite::Step(UserIndex user, std::span<const ItemIndex> recent, ItemIndex pos,
                      std::span<const ItemIndex> negs) {
  recent = LastN(recent, options_.max_len);
  Forward(user, recent, &act_);
  const float steps = head_.Step(act_.h.data(), recent, pos, negs, gh_.data(), &dirty_items_);
  Backward(user, recent, gh_.data(), steps);
}

void SASRecLite::Observe(UserIndex user, std::span<const ItemIndex> recent, ItemIndex next,
                         uint64_t seed) {
  recent = LastN(recent, options_.max_len);
  ItemIndex top = next;
  for (ItemIndex r : recent) top = std::max(top, r);
  EnsureItems(top + 1);
  if (options_.user_term && user != kNoUser) EnsureUsers(user + 1);
  head_.Count(next);
  dirty_items_.Mark(next);
  Rng rng(seed);
  head_.SampleNegatives(next, recent, rng, &negs_);
  if (!negs_.empty()) Step(user, recent, next, negs_);
}

float SASRecLite::Loss(UserIndex user, std::span<const ItemIndex> recent, ItemIndex pos,
                       std::span<const ItemIndex> negs) const {
  recent = LastN(recent, options_.max_len);
  Activations a;
  InitActivations(&a);
  Forward(user, recent, &a);
  return head_.Loss(a.h.data(), recent, pos, negs);
}

void SASRecLite::Query(UserIndex user, std::span<const ItemIndex> recent, float* h) const {
  thread_local Activations a;
  if (a.h.size() != e_.stride() || a.alpha.size() < options_.max_len) InitActivations(&a);
  Forward(user, LastN(recent, options_.max_len), &a);
  std::copy_n(a.h.data(), e_.stride(), h);
}

void SASRecLite::SaveGlobals(ByteWriter* w) const {
  w->PutHeader(kMagic, kVersion);
  SaveSharedGlobals(w);
  pos_.Save(w);
  wq_.Save(w);
  v_.Save(w);
}

Status SASRecLite::LoadGlobals(ByteReader* r) {
  uint32_t version, users;
  STREAMREC_RETURN_IF_ERROR(r->ExpectHeader(kMagic, kVersion, "sasrec-lite globals", &version));
  STREAMREC_RETURN_IF_ERROR(LoadSharedGlobals(r, &users));
  EmbeddingTable pos = pos_, wq = wq_, v = v_;
  STREAMREC_RETURN_IF_ERROR(pos.Load(r));
  STREAMREC_RETURN_IF_ERROR(wq.Load(r));
  STREAMREC_RETURN_IF_ERROR(v.Load(r));
  if (pos.rows() != options_.max_len || wq.rows() != options_.dim || v.rows() != options_.dim) {
    return Status::Corruption("sasrec-lite globals: saved with another max_len or dim");
  }
  pos_ = std::move(pos);
  wq_ = std::move(wq);
  v_ = std::move(v);
  FinishLoadGlobals(users);
  return Status::Ok();
}

void SASRecLite::Save(ByteWriter* w) const {
  w->PutHeader(kMagic, kVersion);
  p_.Save(w);
  e_.Save(w);
  pos_.Save(w);
  wq_.Save(w);
  v_.Save(w);
  head_.Save(w);
}

Status SASRecLite::Load(ByteReader* r) {
  uint32_t version;
  STREAMREC_RETURN_IF_ERROR(r->ExpectHeader(kMagic, kVersion, "sasrec-lite model", &version));
  SASRecLite m(options_);
  STREAMREC_RETURN_IF_ERROR(m.p_.Load(r));
  STREAMREC_RETURN_IF_ERROR(m.e_.Load(r));
  STREAMREC_RETURN_IF_ERROR(m.pos_.Load(r));
  STREAMREC_RETURN_IF_ERROR(m.wq_.Load(r));
  STREAMREC_RETURN_IF_ERROR(m.v_.Load(r));
  STREAMREC_RETURN_IF_ERROR(m.head_.Load(r));
  if (m.e_.rows() != m.head_.items() || m.pos_.rows() != options_.max_len ||
      m.wq_.rows() != options_.dim || m.v_.rows() != options_.dim) {
    return Status::Corruption("sasrec-lite: table sizes differ from the options");
  }
  *this = std::move(m);
  return Status::Ok();
}

}  // namespace streamrec::models
