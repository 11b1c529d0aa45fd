#include "bandits/lin_ucb.h"

#include <algorithm>
#include <cmath>

#include "bandits/linalg.h"

namespace streamrec::bandits {
namespace {
constexpr uint32_t kMagic = Magic("SRLU");
constexpr uint32_t kVersion = 1;
// Largest user vector d (the scoring path keeps x on the stack).
constexpr uint32_t kMaxUserVector = 64;

void PutDoubles(ByteWriter* w, const std::vector<double>& v) {
  for (double x : v) w->PutF64(x);
}
bool GetDoubles(ByteReader* r, std::vector<double>* v) {
  for (double& x : *v) {
    if (!r->GetF64(&x) || !std::isfinite(x)) return false;
  }
  return true;
}
double Dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0.0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}
}  // namespace

Status LinUcbOptions::Apply(const BanditParams& params, BanditParams* effective) {
  BanditParamReader r(params, effective);
  r.Read("user_dim", &user_dim, 0, kMaxUserVector - 1);
  r.Read("alpha", &alpha, 0, 1e3);
  r.Read("lambda", &lambda, 1e-6, 1e6);
  r.Read("user_scale", &user_scale, 0, 1e3);
  r.Read("refresh_every", &refresh_every, 1, 1u << 30);
  r.Read("seed", &seed, 0, ~0u);
  return r.Finish("linucb");
}

LinUcbPolicy::LinUcbPolicy(const LinUcbOptions& options)
    : options_(options), d_(std::min(options.user_dim, kMaxUserVector - 1) + 1) {
  options_.user_dim = d_ - 1;
  const uint32_t e = options_.embedding_dim;
  projection_.resize(static_cast<size_t>(options_.user_dim) * e);
  Rng rng(SeedFor(options_.seed, 0x11cbu));
  const double sd = 1.0 / std::sqrt(std::max(1u, options_.user_dim));
  for (float& p : projection_) p = static_cast<float>(rng.Normal() * sd);
  const uint32_t big = std::max(options_.dim, d_);
  tmp_.resize(big);
  tmp2_.resize(big);
  v_.resize(big);
  tri_ = d_ * (d_ + 1) / 2;
  fields_ = tri_ + 2 * d_ + 2;
  ResetGlobal();
}

void LinUcbPolicy::ResetGlobal() {
  const uint32_t dd = options_.dim;
  a0_.assign(static_cast<size_t>(dd) * dd, 0.0);
  a0_inv_.assign(static_cast<size_t>(dd) * dd, 0.0);
  for (uint32_t i = 0; i < dd; ++i) {
    a0_[static_cast<size_t>(i) * dd + i] = options_.lambda;
    a0_inv_[static_cast<size_t>(i) * dd + i] = 1.0 / options_.lambda;
  }
  b0_.assign(dd, 0.0);
  beta_.assign(dd, 0.0);
  updates_since_refresh_ = 0;
  RefreshGlobal();
}

void LinUcbPolicy::RefreshGlobal() {
  const uint32_t dd = options_.dim;
  MatVec(a0_inv_, dd, b0_, beta_);
  a0_inv_f_.resize(a0_inv_.size());
  beta_f_.resize(dd);
  for (size_t i = 0; i < a0_inv_.size(); ++i) a0_inv_f_[i] = static_cast<float>(a0_inv_[i]);
  for (uint32_t i = 0; i < dd; ++i) beta_f_[i] = static_cast<float>(beta_[i]);
}

void LinUcbPolicy::EnsureArm(ArmIndex arm) {
  if (arm < arms_.size()) return;
  const size_t n = arm + 1;
  arms_.resize(n);
  z_.resize(n);
  q_.resize(n);
  blocks_.resize((n + kLanes - 1) / kLanes * kLanes * fields_, 0.0f);
}

void LinUcbPolicy::ResetArm(ArmIndex arm, const SparseFeatures& f) {
  EnsureArm(arm);
  ArmState& st = arms_[arm];
  st.a_inv.assign(static_cast<size_t>(d_) * d_, 0.0);
  st.a.assign(static_cast<size_t>(d_) * d_, 0.0);
  for (uint32_t i = 0; i < d_; ++i) {
    st.a_inv[static_cast<size_t>(i) * d_ + i] = 1.0 / options_.lambda;
    st.a[static_cast<size_t>(i) * d_ + i] = options_.lambda;
  }
  st.b.assign(d_, 0.0);
  st.s.assign(d_, 0.0);
  st.updates = 0;
  z_[arm] = f;
  RefreshArm(arm);
}

void LinUcbPolicy::RefreshArm(ArmIndex arm) {
  const ArmState& st = arms_[arm];
  const uint32_t d = d_, dim = options_.dim;
  uint32_t t = 0;
  for (uint32_t i = 0; i < d; ++i) {
    for (uint32_t j = i; j < d; ++j) {
      const double a = st.a_inv[static_cast<size_t>(i) * d + j];
      Field(arm, t++) = static_cast<float>(i == j ? a : 2.0 * a);
    }
  }
  MatVec(st.a_inv, d, st.b, tmp_);
  MatVec(st.a_inv, d, st.s, tmp2_);
  for (uint32_t i = 0; i < d; ++i) {
    Field(arm, tri_ + i) = static_cast<float>(tmp2_[i]);     // m_a
    Field(arm, tri_ + d + i) = static_cast<float>(tmp_[i]);  // c_a
  }
  const SparseFeatures& z = z_[arm];
  double q = 0.0, zb = 0.0;
  for (uint32_t j = 0; j < z.nnz; ++j) {
    const double* row = a0_inv_.data() + static_cast<size_t>(z.index[j]) * dim;
    double r = 0.0;
    for (uint32_t l = 0; l < z.nnz; ++l) r += z.value[l] * row[z.index[l]];
    q += z.value[j] * r;
    zb += z.value[j] * beta_[z.index[j]];
  }
  q_[arm] = q;
  Field(arm, tri_ + 2 * d) = static_cast<float>(q);
  Field(arm, tri_ + 2 * d + 1) = static_cast<float>(zb);
}

void LinUcbPolicy::RefreshArmsGlobal(bool full, double c, double uv) {
  const uint32_t d = d_;
  for (ArmIndex arm = 0; arm < arms_.size(); ++arm) {
    if (full) {
      RefreshArm(arm);
      continue;
    }
    const SparseFeatures& z = z_[arm];
    double zv = 0.0, zb = 0.0;
    for (uint32_t j = 0; j < z.nnz; ++j) {
      zv += z.value[j] * v_[z.index[j]];
      zb += z.value[j] * beta_[z.index[j]];
    }
    q_[arm] -= c * zv * zv / (1.0 + c * uv);
    Field(arm, tri_ + 2 * d) = static_cast<float>(q_[arm]);
    Field(arm, tri_ + 2 * d + 1) = static_cast<float>(zb);
  }
}

void LinUcbPolicy::UserVector(const UserContext& user, std::span<double> x) const {
  std::fill(x.begin(), x.begin() + d_, 0.0);
  x[0] = 1.0;
  const uint32_t e = options_.embedding_dim;
  if (options_.user_dim == 0 || e == 0 || user.embedding.size() != e) return;
  double norm = 0.0;
  for (float v : user.embedding) norm += static_cast<double>(v) * v;
  if (!(norm > 0.0)) return;
  const double scale = options_.user_scale / std::sqrt(norm);
  for (uint32_t i = 0; i < options_.user_dim; ++i) {
    const float* p = projection_.data() + static_cast<size_t>(i) * e;
    double acc = 0.0;
    for (uint32_t j = 0; j < e; ++j) acc += static_cast<double>(p[j]) * user.embedding[j];
    x[1 + i] = acc * scale;
  }
}

void LinUcbPolicy::UserVectorF(const UserContext& user, float* x) const {
  double xd[kMaxUserVector];
  UserVector(user, std::span<double>(xd, d_));
  for (uint32_t i = 0; i < d_; ++i) x[i] = static_cast<float>(xd[i]);
}

void LinUcbPolicy::Select(const UserContext& user, std::span<const ArmIndex> candidates, uint32_t k,
                          int64_t, Rng& rng, SelectScratch* s, std::vector<Selection>* out) const {
  const size_t n = candidates.size();
  if (n == 0 || k == 0) return;
  const uint32_t d = d_;
  float x[kMaxUserVector];
  UserVectorF(user, x);
  // x x^T packed like the blocks' upper triangle.
  float xx[kMaxUserVector * (kMaxUserVector + 1) / 2];
  const uint32_t tri = tri_;
  for (uint32_t i = 0, t = 0; i < d; ++i) {
    for (uint32_t j = i; j < d; ++j) xx[t++] = x[i] * x[j];
  }
  const float alpha = static_cast<float>(options_.alpha);
  // Scores kLanes arms at a time: every group that holds a candidate, once per run of
  // candidates in it (the pool passes them in slot order, so each group once; free slots and
  // excluded arms in a group are scored too and simply not picked up: cheaper than gathering).
  const uint32_t groups = static_cast<uint32_t>((arms_.size() + kLanes - 1) / kLanes);
  s->arm_scores.resize(static_cast<size_t>(groups) * kLanes);
  float* all = s->arm_scores.data();
  const uint32_t fields = fields_;
  uint32_t last_group = ~0u;
  for (const ArmIndex c : candidates) {
    const uint32_t g = c / kLanes;
    if (g == last_group) continue;
    last_group = g;
    const float* b = blocks_.data() + static_cast<size_t>(g) * fields * kLanes;
    float xax[kLanes] = {}, xm[kLanes] = {}, xc[kLanes] = {};
    for (uint32_t t = 0; t < tri; ++t) {
      const float w = xx[t];
      const float* r = b + t * kLanes;
#pragma omp simd
      for (uint32_t l = 0; l < kLanes; ++l) xax[l] += r[l] * w;
    }
    for (uint32_t i = 0; i < d; ++i) {
      const float w = x[i];
      const float* rm = b + (tri + i) * kLanes;
      const float* rc = b + (tri + d + i) * kLanes;
#pragma omp simd
      for (uint32_t l = 0; l < kLanes; ++l) {
        xm[l] += rm[l] * w;
        xc[l] += rc[l] * w;
      }
    }
    const float* rq = b + (tri + 2 * d) * kLanes;
    const float* rz = b + (tri + 2 * d + 1) * kLanes;
    float* out_g = all + static_cast<size_t>(g) * kLanes;
#pragma omp simd
    for (uint32_t l = 0; l < kLanes; ++l) {
      const float one_minus = 1.0f - xm[l];
      const float var = std::max(0.0f, rq[l] * one_minus * one_minus + xax[l]);
      out_g[l] = rz[l] * one_minus + xc[l] + alpha * std::sqrt(var);
    }
  }
  s->scores.resize(n);
  float* scores = s->scores.data();
  // The tie-breaking jitter: a multiplicative hash of the arm under a per-request salt (one draw
  // instead of one per candidate; the loop vectorizes).
  const auto salt = static_cast<uint32_t>(rng.Next() >> 32);
  for (size_t c = 0; c < n; ++c) {
    const uint32_t h = (candidates[c] ^ salt) * 0x9E3779B1u;
    scores[c] = all[candidates[c]] + 1e-6f * (static_cast<float>(h >> 8) * 0x1.0p-24f);
  }
  TopK(s->scores, k, &s->top);
  for (const ScoredItem& t : s->top) out->push_back({candidates[t.index], t.score, 1.0});
}

double LinUcbPolicy::Mean(const UserContext& user, ArmIndex arm, int64_t) const {
  double x[kMaxUserVector];
  UserVector(user, std::span<double>(x, d_));
  double xm = 0.0, xc = 0.0;
  for (uint32_t i = 0; i < d_; ++i) {
    xm += x[i] * Field(arm, tri_ + i);
    xc += x[i] * Field(arm, tri_ + d_ + i);
  }
  return Field(arm, tri_ + 2 * d_ + 1) * (1.0 - xm) + xc;
}

double LinUcbPolicy::ReferenceUcb(const UserContext& user, ArmIndex arm) const {
  // Literal Algorithm 2 with dense B_a = s z^T and A_a^-1 obtained by direct inversion.
  const uint32_t dim = options_.dim, d = d_;
  const ArmState& st = arms_[arm];
  std::vector<double> x(d), z(dim, 0.0);
  UserVector(user, x);
  for (uint32_t j = 0; j < z_[arm].nnz; ++j) z[z_[arm].index[j]] = z_[arm].value[j];
  std::vector<double> a_inv = st.a;
  InvertInPlace(a_inv, d);
  std::vector<double> a0_inv = a0_;
  InvertInPlace(a0_inv, dim);
  std::vector<double> bmat(static_cast<size_t>(d) * dim);  // B_a, d x dim
  for (uint32_t i = 0; i < d; ++i)
    for (uint32_t j = 0; j < dim; ++j) bmat[static_cast<size_t>(i) * dim + j] = st.s[i] * z[j];
  std::vector<double> beta(dim), ainv_x(d), bt_ainv_x(dim, 0.0), a0i_z(dim), a0i_bt(dim);
  MatVec(a0_inv, dim, b0_, beta);
  MatVec(a_inv, d, x, ainv_x);
  for (uint32_t i = 0; i < d; ++i)
    for (uint32_t j = 0; j < dim; ++j)
      bt_ainv_x[j] += bmat[static_cast<size_t>(i) * dim + j] * ainv_x[i];
  MatVec(a0_inv, dim, z, a0i_z);
  MatVec(a0_inv, dim, bt_ainv_x, a0i_bt);
  // θ = A^-1 (b - B β)
  std::vector<double> rhs(d), theta(d);
  for (uint32_t i = 0; i < d; ++i) {
    double bb = 0.0;
    for (uint32_t j = 0; j < dim; ++j) bb += bmat[static_cast<size_t>(i) * dim + j] * beta[j];
    rhs[i] = st.b[i] - bb;
  }
  MatVec(a_inv, d, rhs, theta);
  const double var = Dot(z, a0i_z) - 2.0 * Dot(z, a0i_bt) + Dot(x, ainv_x) + Dot(bt_ainv_x, a0i_bt);
  return Dot(z, beta) + Dot(x, theta) + options_.alpha * std::sqrt(std::max(0.0, var));
}

void LinUcbPolicy::Update(const UserContext& user, ArmIndex arm, float reward, int64_t) {
  const uint32_t dim = options_.dim, d = d_;
  ArmState& st = arms_[arm];
  double x[kMaxUserVector];
  UserVector(user, std::span<double>(x, d));
  const std::span<const double> xs(x, d);
  // γ = s^T A^-1 s and s^T A^-1 b before the arm's update.
  MatVec(st.a_inv, d, st.s, tmp_);
  double gamma = 0.0;
  for (uint32_t i = 0; i < d; ++i) gamma += st.s[i] * tmp_[i];
  MatVec(st.a_inv, d, st.b, tmp_);
  double sc = 0.0;
  for (uint32_t i = 0; i < d; ++i) sc += st.s[i] * tmp_[i];
  // A_a += x x^T, B_a += x z^T (s += x), b_a += r x.
  if (!ShermanMorrisonUpdate(st.a_inv, d, xs, 1.0, tmp_)) {
    for (uint32_t i = 0; i < d; ++i)
      for (uint32_t j = 0; j < d; ++j) st.a[static_cast<size_t>(i) * d + j] += x[i] * x[j];
    st.a_inv = st.a;
    InvertInPlace(st.a_inv, d);
  } else {
    for (uint32_t i = 0; i < d; ++i)
      for (uint32_t j = 0; j < d; ++j) st.a[static_cast<size_t>(i) * d + j] += x[i] * x[j];
  }
  for (uint32_t i = 0; i < d; ++i) {
    st.s[i] += x[i];
    st.b[i] += reward * x[i];
  }
  ++st.updates;
  double gamma2 = 0.0, sc2 = 0.0;
  MatVec(st.a_inv, d, st.s, tmp_);
  for (uint32_t i = 0; i < d; ++i) gamma2 += st.s[i] * tmp_[i];
  MatVec(st.a_inv, d, st.b, tmp_);
  for (uint32_t i = 0; i < d; ++i) sc2 += st.s[i] * tmp_[i];
  // A0 += (1 + γ - γ') z z^T;  b0 += (r + s·c - s'·c') z.
  const double coef = 1.0 + gamma - gamma2;
  const double bcoef = reward + sc - sc2;
  const SparseFeatures& z = z_[arm];
  std::fill(tmp2_.begin(), tmp2_.begin() + dim, 0.0);
  for (uint32_t j = 0; j < z.nnz; ++j) {
    tmp2_[z.index[j]] = z.value[j];
    b0_[z.index[j]] += bcoef * z.value[j];
    for (uint32_t l = 0; l < z.nnz; ++l) {
      a0_[static_cast<size_t>(z.index[j]) * dim + z.index[l]] += coef * z.value[j] * z.value[l];
    }
  }
  // v = A0^-1 u before the update, for the arms' q_a.
  const std::span<const double> u(tmp2_.data(), dim);
  MatVec(a0_inv_, dim, u, v_);
  double uv = 0.0;
  for (uint32_t i = 0; i < dim; ++i) uv += u[i] * v_[i];
  const bool refresh = ++updates_since_refresh_ >= options_.refresh_every;
  bool full = refresh;
  if (refresh || !ShermanMorrisonUpdate(a0_inv_, dim, u, coef, tmp_)) {
    a0_inv_ = a0_;
    if (!InvertInPlace(a0_inv_, dim)) ResetGlobal();  // cannot happen for PD A0
    updates_since_refresh_ = 0;
    full = true;
  }
  RefreshGlobal();
  RefreshArm(arm);
  RefreshArmsGlobal(full, coef, uv);
}

void LinUcbPolicy::SaveGlobals(ByteWriter* w) const {
  w->PutHeader(kMagic, kVersion);
  w->PutU32(options_.dim);
  w->PutU32(options_.user_dim);
  w->PutU32(options_.embedding_dim);
  w->PutU32(options_.seed);
  w->PutF64(options_.lambda);
  w->PutF64(options_.user_scale);
  w->PutU64(updates_since_refresh_);
  PutDoubles(w, a0_);
  PutDoubles(w, a0_inv_);
  PutDoubles(w, b0_);
}

Status LinUcbPolicy::LoadGlobals(ByteReader* r) {
  uint32_t version, dim, user_dim, embedding_dim, seed;
  double lambda, user_scale;
  uint64_t since;
  STREAMREC_RETURN_IF_ERROR(r->ExpectHeader(kMagic, kVersion, "linucb state", &version));
  if (!r->GetU32(&dim) || !r->GetU32(&user_dim) || !r->GetU32(&embedding_dim) ||
      !r->GetU32(&seed) || !r->GetF64(&lambda) || !r->GetF64(&user_scale) || !r->GetU64(&since)) {
    return Status::Corruption("truncated linucb globals");
  }
  if (dim != options_.dim || user_dim != options_.user_dim ||
      embedding_dim != options_.embedding_dim || seed != options_.seed ||
      lambda != options_.lambda || user_scale != options_.user_scale) {
    return Status::FailedPrecondition(
        "stored linucb state has another shape (dim, user_dim, embedding_dim, seed, lambda or "
        "user_scale differ from the configuration)");
  }
  if (!GetDoubles(r, &a0_) || !GetDoubles(r, &a0_inv_) || !GetDoubles(r, &b0_)) {
    return Status::Corruption("truncated linucb globals");
  }
  updates_since_refresh_ = since;
  RefreshGlobal();
  RefreshArmsGlobal(/*full=*/true, 0.0, 0.0);
  return Status::Ok();
}

void LinUcbPolicy::SaveArm(ArmIndex arm, ByteWriter* w) const {
  const ArmState& st = arms_[arm];
  w->PutU64(st.updates);
  PutDoubles(w, st.a_inv);
  PutDoubles(w, st.a);
  PutDoubles(w, st.b);
  PutDoubles(w, st.s);
}

Status LinUcbPolicy::LoadArm(ArmIndex arm, ByteReader* r) {
  if (arm >= arms_.size()) return Status::FailedPrecondition("linucb arm loaded before reset");
  ArmState& st = arms_[arm];
  if (!r->GetU64(&st.updates) || !GetDoubles(r, &st.a_inv) || !GetDoubles(r, &st.a) ||
      !GetDoubles(r, &st.b) || !GetDoubles(r, &st.s)) {
    return Status::Corruption("bad linucb arm record");
  }
  RefreshArm(arm);
  return Status::Ok();
}

}  // namespace streamrec::bandits
