#include "models/fpmc.h"

#include <algorithm>
#include <cmath>

#include "common/rng.h"
#include "common/topk.h"

namespace streamrec::models {
namespace {
constexpr uint32_t kMagic = Magic("SRFP");
constexpr uint32_t kVersion = 1;

std::span<const ItemIndex> LastN(std::span<const ItemIndex> s, uint32_t n) {
  return s.size() > n ? s.last(n) : s;
}
}  // namespace

Status FPMCOptions::Apply(const ParamMap& params, ParamMap* effective) {
  ParamReader r(params, effective);
  r.Read("dim", &dim, 1, 1024);
  r.Read("init_std", &init_std, 0.0, 10.0);
  r.Read("max_len", &max_len, 1, 1000);
  r.Read("decay", &decay, 0.0, 1.0);
  r.Read("user_term", &user_term);
  r.Read("seed", &seed, 0, UINT32_MAX);
  head.Read(&r);
  return r.Finish("fpmc");
}

FPMC::FPMC(const FPMCOptions& options)
    : EmbeddingSessionModel(options.dim, options.init_std, options.user_term, options.max_len,
                            options.head, SeedFor(options.seed, 11), SeedFor(options.seed, 12),
                            SeedFor(options.seed, 13)),
      options_(options),
      q_(p_.stride()),
      gq_(p_.stride()) {
  negs_.reserve(options.head.negatives + options.max_len);
}

void FPMC::Query(UserIndex user, std::span<const ItemIndex> recent, float* q) const {
  const uint32_t n = p_.stride();
  std::fill_n(q, n, 0.0f);
  if (HasUser(user)) std::copy_n(p_.Row(user), n, q);
  recent = LastN(recent, options_.max_len);
  if (recent.empty()) return;
  float total = 0.0f, w = 1.0f;
  for (size_t a = 0; a < recent.size(); ++a, w *= options_.decay) total += w;
  w = 1.0f / total;
  for (size_t a = 0; a < recent.size(); ++a, w *= options_.decay) {
    const ItemIndex r = recent[recent.size() - 1 - a];
    if (r >= e_.rows()) continue;
    const float* __restrict e = e_.Row(r);
#pragma omp simd
    for (uint32_t k = 0; k < n; ++k) q[k] += w * e[k];
  }
}

void FPMC::Observe(UserIndex user, std::span<const ItemIndex> recent, ItemIndex next,
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

void FPMC::Step(UserIndex user, std::span<const ItemIndex> recent, ItemIndex pos,
                std::span<const ItemIndex> negs) {
  recent = LastN(recent, options_.max_len);
  const uint32_t n = p_.stride();
  const float lr = options_.head.lr;
  float* __restrict q = q_.data();
  float* __restrict gq = gq_.data();
  Query(user, recent, q);
  const float reg = options_.head.reg * head_.Step(q, recent, pos, negs, gq, &dirty_items_);
  if (HasUser(user)) {
    dirty_users_.Mark(user);
    float* __restrict p = p_.Row(user);
#pragma omp simd
    for (uint32_t k = 0; k < n; ++k) p[k] += lr * (gq[k] - reg * p[k]);
  }
  if (recent.empty()) return;
  float total = 0.0f, w = 1.0f;
  for (size_t a = 0; a < recent.size(); ++a, w *= options_.decay) total += w;
  w = 1.0f / total;
  for (size_t a = 0; a < recent.size(); ++a, w *= options_.decay) {
    const ItemIndex r = recent[recent.size() - 1 - a];
    dirty_items_.Mark(r);
    float* __restrict e = e_.Row(r);
#pragma omp simd
    for (uint32_t k = 0; k < n; ++k) e[k] += lr * (w * gq[k] - reg * e[k]);
  }
}

float FPMC::Loss(UserIndex user, std::span<const ItemIndex> recent, ItemIndex pos,
                 std::span<const ItemIndex> negs) const {
  recent = LastN(recent, options_.max_len);
  std::vector<float> q(p_.stride());
  Query(user, recent, q.data());
  return head_.Loss(q.data(), recent, pos, negs);
}

void FPMC::SaveGlobals(ByteWriter* w) const {
  w->PutHeader(kMagic, kVersion);
  SaveSharedGlobals(w);
}

Status FPMC::LoadGlobals(ByteReader* r) {
  uint32_t version, users;
  STREAMREC_RETURN_IF_ERROR(r->ExpectHeader(kMagic, kVersion, "fpmc globals", &version));
  STREAMREC_RETURN_IF_ERROR(LoadSharedGlobals(r, &users));
  FinishLoadGlobals(users);
  return Status::Ok();
}

void FPMC::Save(ByteWriter* w) const {
  w->PutHeader(kMagic, kVersion);
  p_.Save(w);
  e_.Save(w);
  head_.Save(w);
}

Status FPMC::Load(ByteReader* r) {
  uint32_t version;
  STREAMREC_RETURN_IF_ERROR(r->ExpectHeader(kMagic, kVersion, "fpmc model", &version));
  FPMC m(options_);
  STREAMREC_RETURN_IF_ERROR(m.p_.Load(r));
  STREAMREC_RETURN_IF_ERROR(m.e_.Load(r));
  STREAMREC_RETURN_IF_ERROR(m.head_.Load(r));
  if (m.e_.rows() != m.head_.items()) return Status::Corruption("fpmc: table sizes differ");
  *this = std::move(m);
  return Status::Ok();
}

}  // namespace streamrec::models
