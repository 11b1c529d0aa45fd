#include "models/session_head.h"

#include <algorithm>
#include <cmath>

#include "common/topk.h"

namespace streamrec::models {
namespace {
// Draws before giving up on a negative (only when almost no item is known yet).
constexpr int kMaxNegativeDraws = 16;

inline float Sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }
}  // namespace

void SessionHeadOptions::Read(ParamReader* r) {
  r->Read("lr", &lr, 0.0, 10.0);
  r->Read("reg", &reg, 0.0, 10.0);
  r->Read("reg_bias", &reg_bias, 0.0, 10.0);
  r->Read("negatives", &negatives, 1, 10'000);
  r->Read("pop_negatives", &pop_negatives);
  r->Read("pop_exponent", &pop_exponent, 0.0, 2.0);
  r->Read("softmax", &softmax);
  r->Read("session_negatives", &session_negatives);
  r->Read("repeat", &repeat);
}

SessionHead::SessionHead(uint32_t dim, float init_std, uint64_t salt, uint32_t max_len,
                         const SessionHeadOptions& options)
    : options_(options), f_(dim, init_std, salt), rho_(max_len, 0.0f) {
  logits_.reserve(options.negatives + max_len + 1);
}

void SessionHead::EnsureItems(uint32_t n) {
  if (n > f_.rows()) {
    f_.EnsureRows(n);
    bias_.resize(n, 0.0f);
    count_.resize(n, 0);
  }
}

void SessionHead::SetCount(ItemIndex i, uint32_t count) {
  count_[i] = count;
  if (options_.pop_negatives) {
    pop_sampler_.Set(i, count == 0 ? 0.0
                                   : std::pow(static_cast<double>(count),
                                              static_cast<double>(options_.pop_exponent)));
  }
}

float SessionHead::Repeat(ItemIndex j, std::span<const ItemIndex> recent) const {
  if (!options_.repeat) return 0.0f;
  float r = 0.0f;
  const size_t n = std::min(recent.size(), rho_.size());
  for (size_t a = 0; a < n; ++a) {
    if (recent[recent.size() - 1 - a] == j) r += rho_[a];
  }
  return r;
}

void SessionHead::AddRepeat(ItemIndex j, std::span<const ItemIndex> recent, float delta) {
  if (!options_.repeat) return;
  const size_t n = std::min(recent.size(), rho_.size());
  for (size_t a = 0; a < n; ++a) {
    if (recent[recent.size() - 1 - a] == j) rho_[a] += delta;
  }
}

void SessionHead::SampleNegatives(ItemIndex pos, std::span<const ItemIndex> recent, Rng& rng,
                                  std::vector<ItemIndex>* negs) const {
  negs->clear();
  const uint32_t n = f_.rows();
  if (n < 2) return;
  const bool by_pop = options_.pop_negatives && pop_sampler_.total() > 0;
  for (uint32_t s = 0; s < options_.negatives; ++s) {
    for (int attempt = 0; attempt < kMaxNegativeDraws; ++attempt) {
      const ItemIndex j = by_pop ? pop_sampler_.Sample(rng) : rng.Uniform(n);
      if (j != pos && count_[j] > 0) {
        negs->push_back(j);
        break;
      }
    }
  }
  if (!options_.session_negatives) return;
  const size_t sampled = negs->size();
  for (ItemIndex r : recent) {
    if (r == pos || !Seen(r) ||
        std::find(negs->begin() + static_cast<std::ptrdiff_t>(sampled), negs->end(), r) !=
            negs->end()) {
      continue;
    }
    negs->push_back(r);
  }
}

float SessionHead::Step(const float* __restrict h, std::span<const ItemIndex> recent, ItemIndex pos,
                        std::span<const ItemIndex> negs, float* __restrict gh, DirtySet* dirty) {
  const uint32_t n = f_.stride();
  const float lr = options_.lr, reg = options_.reg, reg_b = options_.reg_bias;
  std::fill_n(gh, n, 0.0f);
  float* __restrict fi = f_.Row(pos);
  dirty->Mark(pos);
  if (!options_.softmax) {
    for (ItemIndex j : negs) {
      float* __restrict fj = f_.Row(j);
      dirty->Mark(j);
      float x = bias_[pos] + Repeat(pos, recent) - bias_[j] - Repeat(j, recent);
#pragma omp simd reduction(+ : x)
      for (uint32_t k = 0; k < n; ++k) x += h[k] * (fi[k] - fj[k]);
      // d(-ln σ(x))/dx = -σ(-x): descent moves x up by g.
      const float g = Sigmoid(-x);
#pragma omp simd
      for (uint32_t k = 0; k < n; ++k) {
        gh[k] += g * (fi[k] - fj[k]);
        fi[k] += lr * (g * h[k] - reg * fi[k]);
        fj[k] += lr * (-g * h[k] - reg * fj[k]);
      }
      bias_[pos] += lr * (g - reg_b * bias_[pos]);
      bias_[j] += lr * (-g - reg_b * bias_[j]);
      AddRepeat(pos, recent, lr * g);
      AddRepeat(j, recent, -lr * g);
    }
    return static_cast<float>(negs.size());
  }
  // Sampled softmax over c_0 = pos, c_k = negs[k-1]: -dLoss/dx_c = [c = 0] - p_c, all computed
  // at the parameters before the step.
  const size_t m = negs.size() + 1;
  auto cand = [&](size_t c) { return c == 0 ? pos : negs[c - 1]; };
  logits_.resize(m);
  float mx = -INFINITY;
  for (size_t c = 0; c < m; ++c) {
    const ItemIndex j = cand(c);
    logits_[c] = bias_[j] + Repeat(j, recent) + Dot(h, f_.Row(j), n);
    mx = std::max(mx, logits_[c]);
  }
  float total = 0.0f;
  for (size_t c = 0; c < m; ++c) total += logits_[c] = std::exp(logits_[c] - mx);
  for (size_t c = 0; c < m; ++c) logits_[c] = (c == 0 ? 1.0f : 0.0f) - logits_[c] / total;
  for (size_t c = 0; c < m; ++c) {
    const float g = logits_[c];
    const float* __restrict fc = f_.Row(cand(c));
#pragma omp simd
    for (uint32_t k = 0; k < n; ++k) gh[k] += g * fc[k];
  }
  for (size_t c = 0; c < m; ++c) {
    const ItemIndex j = cand(c);
    const float g = logits_[c];
    float* __restrict fc = f_.Row(j);
    dirty->Mark(j);
#pragma omp simd
    for (uint32_t k = 0; k < n; ++k) fc[k] += lr * (g * h[k] - reg * fc[k]);
    bias_[j] += lr * (g - reg_b * bias_[j]);
    AddRepeat(j, recent, lr * g);
  }
  return 1.0f;
}

float SessionHead::Loss(const float* h, std::span<const ItemIndex> recent, ItemIndex pos,
                        std::span<const ItemIndex> negs) const {
  const uint32_t n = f_.stride();
  auto x = [&](ItemIndex j) { return bias_[j] + Repeat(j, recent) + Dot(h, f_.Row(j), n); };
  const float xp = x(pos);
  if (!options_.softmax) {
    float loss = 0.0f;
    for (ItemIndex j : negs) loss += std::log1p(std::exp(-(xp - x(j))));
    return loss;
  }
  float mx = xp;
  for (ItemIndex j : negs) mx = std::max(mx, x(j));
  float total = std::exp(xp - mx);
  for (ItemIndex j : negs) total += std::exp(x(j) - mx);
  return std::log(total) - (xp - mx);
}

void SessionHead::Score(const float* h, std::span<const ItemIndex> recent,
                        std::span<float> out) const {
  const auto known = static_cast<uint32_t>(std::min<size_t>(out.size(), f_.rows()));
  ScoreRows(f_.data(), f_.stride(), known, h, bias_.data(), out.data());
  for (uint32_t i = 0; i < known; ++i) {
    if (count_[i] == 0) out[i] = kExcludedScore;
  }
  std::fill(out.begin() + known, out.end(), kExcludedScore);
  AddRepeats(recent, out);
}

void SessionHead::AddRepeats(std::span<const ItemIndex> recent, std::span<float> out) const {
  if (!options_.repeat) return;
  const size_t n = std::min(recent.size(), rho_.size());
  for (size_t a = 0; a < n; ++a) {
    const ItemIndex r = recent[recent.size() - 1 - a];
    if (r < out.size() && out[r] != kExcludedScore) out[r] += rho_[a];
  }
}

float SessionHead::ScoreOne(const float* h, std::span<const ItemIndex> recent, ItemIndex j) const {
  if (j >= f_.rows() || count_[j] == 0) return kExcludedScore;
  return bias_[j] + Dot(h, f_.Row(j), f_.stride()) + Repeat(j, recent);
}

void SessionHead::SaveGlobals(ByteWriter* w) const {
  w->PutU32(f_.rows());
  w->PutVarint(rho_.size());
  w->PutFloats(rho_);
}

Status SessionHead::LoadGlobals(ByteReader* r) {
  uint32_t items;
  uint64_t n;
  if (!r->GetU32(&items) || !r->GetVarint(&n) || n != rho_.size() || !r->GetFloats(rho_)) {
    return Status::Corruption("session head globals: truncated or another max_len");
  }
  EnsureItems(items);
  return Status::Ok();
}

void SessionHead::SaveItemRow(ItemIndex i, ByteWriter* w) const {
  w->PutFloats({f_.Row(i), f_.dim()});
  w->PutF32(bias_[i]);
  w->PutVarint(count_[i]);
}

Status SessionHead::LoadItemRow(ItemIndex i, ByteReader* r) {
  EnsureItems(i + 1);
  uint64_t count;
  if (!r->GetFloats({f_.Row(i), f_.dim()}) || !r->GetF32(&bias_[i]) || !r->GetVarint(&count) ||
      count > UINT32_MAX) {
    return Status::Corruption("session head item row: truncated");
  }
  SetCount(i, static_cast<uint32_t>(count));
  return Status::Ok();
}

void SessionHead::Save(ByteWriter* w) const {
  f_.Save(w);
  w->PutFloats(bias_);
  for (uint32_t c : count_) w->PutVarint(c);
  w->PutVarint(rho_.size());
  w->PutFloats(rho_);
}

Status SessionHead::Load(ByteReader* r) {
  EmbeddingTable f = f_;
  STREAMREC_RETURN_IF_ERROR(f.Load(r));
  f_ = std::move(f);
  bias_.assign(f_.rows(), 0.0f);
  count_.assign(f_.rows(), 0);
  pop_sampler_ = WeightedSampler();
  if (!r->GetFloats(bias_)) return Status::Corruption("session head: truncated biases");
  for (uint32_t i = 0; i < f_.rows(); ++i) {
    uint64_t c;
    if (!r->GetVarint(&c) || c > UINT32_MAX) {
      return Status::Corruption("session head: truncated counts");
    }
    SetCount(i, static_cast<uint32_t>(c));
  }
  uint64_t n;
  if (!r->GetVarint(&n) || n != rho_.size() || !r->GetFloats(rho_)) {
    return Status::Corruption("session head: bad repeat weights");
  }
  return Status::Ok();
}

}  // namespace streamrec::models
