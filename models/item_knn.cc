#include "models/item_knn.h"

#include <algorithm>
#include <cmath>

namespace streamrec::models {
namespace {
constexpr uint32_t kMagic = Magic("SRKN");
constexpr uint32_t kVersion = 1;
// Weight of popularity in the score: breaks ties (and ranks for users with no history) without
// ever outweighing a real co-occurrence.
constexpr float kPopTieBreak = 1e-6f;
}  // namespace

Status ItemKNNOptions::Apply(const ParamMap& params, ParamMap* effective) {
  ParamReader r(params, effective);
  r.Read("max_history", &max_history, 1, 1'000'000);
  r.Read("shrink", &shrink, 0.0, 1e9);
  return r.Finish("itemknn");
}

void ItemKNN::EnsureItem(ItemIndex i) {
  if (i >= count_.size()) {
    count_.resize(static_cast<size_t>(i) + 1, 0);
    root_count_.resize(count_.size(), 0.0f);
    co_.resize(count_.size());
  }
}

void ItemKNN::Observe(const Interaction& x, const UserHistory& history, uint64_t) {
  EnsureItem(x.item);
  if (history.Contains(x.user, x.item)) return;  // a repeat adds no co-occurrence
  ++count_[x.item];
  root_count_[x.item] = std::sqrt(static_cast<float>(count_[x.item]));
  auto items = history.Items(x.user);
  const size_t start =
      items.size() > options_.max_history ? items.size() - options_.max_history : 0;
  for (size_t k = start; k < items.size(); ++k) {
    const ItemIndex j = items[k];
    co_[x.item].Add(j, 1.0f);
    co_[j].Add(x.item, 1.0f);
  }
}

float ItemKNN::Similarity(ItemIndex a, ItemIndex b) const {
  if (a >= co_.size() || b >= co_.size()) return 0.0f;
  const float co = co_[a].Get(b);
  return co == 0.0f ? 0.0f : Sim(co, a, b);
}

void ItemKNN::ScoreItems(UserIndex user, const UserHistory& history, std::span<float> out) const {
  const size_t known = std::min(out.size(), count_.size());
  for (size_t k = 0; k < known; ++k) out[k] = kPopTieBreak * static_cast<float>(count_[k]);
  std::fill(out.begin() + static_cast<ptrdiff_t>(known), out.end(), kExcludedScore);
  auto items = history.Items(user);
  const size_t start =
      items.size() > options_.max_history ? items.size() - options_.max_history : 0;
  for (size_t h = start; h < items.size(); ++h) {
    const ItemIndex j = items[h];
    if (j >= co_.size()) continue;
    const float rj = root_count_[j];
    const float shrink = options_.shrink;
    float* o = out.data();
    const float* rk = root_count_.data();
    co_[j].ForEach([&](ItemIndex k, float co) {
      if (k < known) o[k] += co / (rj * rk[k] + shrink);
    });
  }
}

void ItemKNN::Similar(ItemIndex item, size_t k, std::vector<ScoredItem>* out) const {
  out->clear();
  if (item >= co_.size()) return;
  std::vector<float> scores(count_.size(), kExcludedScore);
  co_[item].ForEach([&](ItemIndex j, float co) { scores[j] = Sim(co, item, j); });
  scores[item] = kExcludedScore;
  TopK(scores, k, out);
}

void ItemKNN::Save(ByteWriter* w) const {
  w->PutHeader(kMagic, kVersion);
  w->PutVarint(count_.size());
  for (size_t i = 0; i < count_.size(); ++i) {
    w->PutVarint(count_[i]);
    // Sorted neighbours: the same model always saves the same bytes.
    std::vector<std::pair<ItemIndex, float>> nb;
    co_[i].ForEach([&](ItemIndex j, float c) { nb.emplace_back(j, c); });
    std::sort(nb.begin(), nb.end());
    w->PutVarint(nb.size());
    for (const auto& [j, c] : nb) {
      w->PutVarint(j);
      w->PutF32(c);
    }
  }
}

Status ItemKNN::Load(ByteReader* r) {
  uint32_t version;
  STREAMREC_RETURN_IF_ERROR(r->ExpectHeader(kMagic, kVersion, "itemknn model", &version));
  uint64_t n;
  if (!r->GetVarint(&n) || n > r->remaining()) return Status::Corruption("itemknn: bad count");
  std::vector<uint32_t> count(n);
  std::vector<FlatCounter> co(n);
  std::vector<float> root(n);
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t c, m;
    if (!r->GetVarint(&c) || !r->GetVarint(&m) || m > r->remaining()) {
      return Status::Corruption("itemknn: truncated");
    }
    count[i] = static_cast<uint32_t>(c);
    root[i] = std::sqrt(static_cast<float>(c));
    for (uint64_t k = 0; k < m; ++k) {
      uint64_t j;
      float v;
      if (!r->GetVarint(&j) || !r->GetF32(&v) || j >= n) {
        return Status::Corruption("itemknn: truncated");
      }
      co[i].Add(static_cast<ItemIndex>(j), v);
    }
  }
  count_ = std::move(count);
  root_count_ = std::move(root);
  co_ = std::move(co);
  return Status::Ok();
}

}  // namespace streamrec::models
