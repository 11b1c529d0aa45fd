#include "bandits/exploration_pool.h"

#include <algorithm>

namespace streamrec::bandits {
namespace {
constexpr uint32_t kMagic = Magic("SRXP");
constexpr uint32_t kVersion = 1;
}  // namespace

Status PoolOptions::Apply(const BanditParams& params, BanditParams* effective) {
  BanditParamReader r(params, effective);
  r.Read("cold_threshold", &cold_threshold, 1, 1u << 30);
  r.Read("feature_dim", &feature_dim, 1, 4096);
  r.Read("max_candidates", &max_candidates, 0, 1u << 30);
  double bias = bias_feature ? 1 : 0;
  r.Read("bias_feature", &bias, 0, 1);
  bias_feature = bias != 0;
  return r.Finish("pool");
}

ExplorationPool::ExplorationPool(const PoolOptions& options, std::unique_ptr<Policy> policy)
    : options_(options), hasher_(options.feature_dim), policy_(std::move(policy)) {
  if (options_.bias_feature) hasher_.Add("bias", 1.0f, &bias_);
}

void ExplorationPool::EnsureItem(ItemIndex item) {
  if (item < item_state_.size()) return;
  const size_t n = std::max<size_t>(item + 1, item_state_.size() * 2);
  item_state_.resize(n, kUnknown);
  item_count_.resize(n, 0);
  item_slot_.resize(n, kNoIndex);
}

void ExplorationPool::MarkDirty(ItemIndex item) {
  if (item >= dirty_bits_.size()) {
    dirty_bits_.resize(std::max<size_t>(item + 1, dirty_bits_.size() * 2), 0);
  }
  if (!dirty_bits_[item]) {
    dirty_bits_[item] = 1;
    dirty_.push_back(item);
  }
}

void ExplorationPool::TakeDirty(std::vector<ItemIndex>* items) {
  std::sort(dirty_.begin(), dirty_.end());
  for (ItemIndex i : dirty_) dirty_bits_[i] = 0;
  items->insert(items->end(), dirty_.begin(), dirty_.end());
  dirty_.clear();
}

uint32_t ExplorationPool::TakeSlot() {
  if (!free_slots_.empty()) {
    const uint32_t s = free_slots_.back();
    free_slots_.pop_back();
    return s;
  }
  slot_item_.push_back(kNoIndex);
  slot_features_.emplace_back();
  slot_learned_.push_back(0);
  return static_cast<uint32_t>(slot_item_.size() - 1);
}

SparseFeatures ExplorationPool::WithBias(const SparseFeatures& features) const {
  // The bias first: an item with more than kMaxFeatureNnz features loses one of its own, never
  // the shared intercept.
  SparseFeatures f = bias_;
  for (uint32_t j = 0; j < features.nnz; ++j) f.Add(features.index[j], features.value[j]);
  return f;
}

void ExplorationPool::Enter(ItemIndex item, const SparseFeatures& features) {
  const SparseFeatures f = WithBias(features);
  const uint32_t slot = TakeSlot();
  slot_item_[slot] = item;
  slot_features_[slot] = f;
  item_slot_[item] = slot;
  item_state_[item] = kCold;
  ++live_;
  policy_->ResetArm(slot, f);
  slot_learned_[slot] = 0;
}

void ExplorationPool::OnItem(ItemIndex item, const SparseFeatures& features, int64_t) {
  EnsureItem(item);
  if (item_state_[item] == kWarm) return;
  if (item_state_[item] == kUnknown) {
    Enter(item, features);
  } else {
    const SparseFeatures f = WithBias(features);
    const uint32_t slot = item_slot_[item];
    if (f == slot_features_[slot]) return;
    slot_features_[slot] = f;
    policy_->ResetArm(slot, f);
    slot_learned_[slot] = 0;
  }
  MarkDirty(item);
}

void ExplorationPool::OnInteraction(ItemIndex item, int64_t) {
  EnsureItem(item);
  if (item_state_[item] == kUnknown) Enter(item, SparseFeatures());
  ++item_count_[item];
  if (item_state_[item] == kCold && item_count_[item] >= options_.cold_threshold) {
    const uint32_t slot = item_slot_[item];
    slot_item_[slot] = kNoIndex;
    slot_features_[slot] = SparseFeatures();
    free_slots_.push_back(slot);
    item_slot_[item] = kNoIndex;
    item_state_[item] = kWarm;
    --live_;
    ++graduated_;
  }
  MarkDirty(item);
}

bool ExplorationPool::OnReward(const UserContext& user, ItemIndex item, float reward,
                               int64_t ts_micros) {
  if (!InPool(item)) return false;
  policy_->Update(user, item_slot_[item], reward, ts_micros);
  slot_learned_[item_slot_[item]] = 1;
  MarkDirty(item);
  return true;
}

void ExplorationPool::SelectSlots(const UserContext& user, uint32_t k,
                                  std::span<const ItemIndex> exclude, int64_t now_micros,
                                  uint64_t seed, SelectScratch* s,
                                  std::vector<ExploreSlot>* out) const {
  if (k == 0 || live_ == 0) return;
  const auto slots = static_cast<uint32_t>(slot_item_.size());
  if (s->mark.size() < slots) s->mark.resize(slots, 0);
  if (++s->epoch == 0) {  // wrapped: old marks could collide
    std::fill(s->mark.begin(), s->mark.end(), 0);
    s->epoch = 1;
  }
  for (ItemIndex i : exclude) {
    if (InPool(i)) s->mark[item_slot_[i]] = s->epoch;
  }
  s->candidates.clear();
  Rng rng(seed);
  const uint32_t window = options_.max_candidates;
  double inclusion = 1.0;
  if (window == 0 || slots <= window) {
    for (uint32_t slot = 0; slot < slots; ++slot) {
      if (slot_item_[slot] != kNoIndex && s->mark[slot] != s->epoch) s->candidates.push_back(slot);
    }
  } else {
    // A window of `window` consecutive slots (circular) from a uniform start.
    const uint32_t start = rng.Uniform(slots);
    for (uint32_t j = 0; j < window; ++j) {
      const uint32_t slot = start + j < slots ? start + j : start + j - slots;
      if (slot_item_[slot] != kNoIndex && s->mark[slot] != s->epoch) s->candidates.push_back(slot);
    }
    inclusion = static_cast<double>(window) / slots;
  }
  s->selections.clear();
  policy_->Select(user, s->candidates, k, now_micros, rng, s, &s->selections);
  for (const Selection& sel : s->selections) {
    out->push_back({slot_item_[sel.arm], sel.score, sel.propensity * inclusion});
  }
}

void ExplorationPool::SaveGlobals(ByteWriter* w) const {
  w->PutHeader(kMagic, kVersion);
  w->PutU32(options_.feature_dim);
  w->PutU8(options_.bias_feature ? 1 : 0);
  w->PutU64(graduated_);
  w->PutU32(static_cast<uint32_t>(slot_item_.size()));
  w->PutU32(static_cast<uint32_t>(free_slots_.size()));
  for (uint32_t s : free_slots_) w->PutU32(s);
  w->PutString(policy_->name());
  policy_->SaveGlobals(w);
}

Status ExplorationPool::LoadGlobals(ByteReader* r) {
  uint32_t version, dim, slots, nfree;
  uint8_t bias;
  uint64_t graduated;
  STREAMREC_RETURN_IF_ERROR(r->ExpectHeader(kMagic, kVersion, "exploration pool", &version));
  if (!r->GetU32(&dim) || !r->GetU8(&bias) || !r->GetU64(&graduated) || !r->GetU32(&slots) ||
      !r->GetU32(&nfree) || nfree > slots) {
    return Status::Corruption("truncated exploration pool globals");
  }
  if (dim != options_.feature_dim || (bias != 0) != options_.bias_feature) {
    return Status::FailedPrecondition(
        "stored exploration pool has another feature_dim or bias_feature");
  }
  std::vector<uint32_t> free_slots(nfree);
  for (uint32_t& s : free_slots) {
    if (!r->GetU32(&s) || s >= slots) return Status::Corruption("bad free slot");
  }
  std::string name;
  if (!r->GetString(&name)) return Status::Corruption("truncated exploration pool globals");
  if (name != policy_->name()) {
    return Status::FailedPrecondition("stored exploration policy is '" + name + "', configured '" +
                                      std::string(policy_->name()) + "'");
  }
  STREAMREC_RETURN_IF_ERROR(policy_->LoadGlobals(r));
  graduated_ = graduated;
  slot_item_.assign(slots, kNoIndex);
  slot_features_.assign(slots, SparseFeatures());
  slot_learned_.assign(slots, 0);
  free_slots_ = std::move(free_slots);
  item_state_.clear();
  item_count_.clear();
  item_slot_.clear();
  live_ = 0;
  // Slots not free and not yet loaded are filled by LoadItem; give them fresh arms meanwhile.
  for (uint32_t s = 0; s < slots; ++s) policy_->ResetArm(s, SparseFeatures());
  return Status::Ok();
}

void ExplorationPool::SaveItem(ItemIndex item, ByteWriter* w) const {
  if (item >= item_state_.size() || item_state_[item] == kUnknown) return;
  w->PutU8(item_state_[item]);
  w->PutU32(item_count_[item]);
  if (item_state_[item] != kCold) return;
  const uint32_t slot = item_slot_[item];
  w->PutU32(slot);
  slot_features_[slot].Save(w);
  w->PutU8(slot_learned_[slot]);
  if (slot_learned_[slot]) policy_->SaveArm(slot, w);
}

Status ExplorationPool::LoadItem(ItemIndex item, ByteReader* r) {
  uint8_t state;
  uint32_t count;
  if (!r->GetU8(&state) || !r->GetU32(&count) || (state != kCold && state != kWarm)) {
    return Status::Corruption("bad exploration pool item record");
  }
  EnsureItem(item);
  if (item_state_[item] == kCold) return Status::Corruption("exploration item loaded twice");
  item_state_[item] = state;
  item_count_[item] = count;
  if (state == kWarm) return Status::Ok();
  uint32_t slot;
  SparseFeatures f;
  if (!r->GetU32(&slot) || slot >= slot_item_.size() || slot_item_[slot] != kNoIndex) {
    return Status::Corruption("bad exploration pool slot");
  }
  STREAMREC_RETURN_IF_ERROR(f.Load(r, options_.feature_dim));
  slot_item_[slot] = item;
  slot_features_[slot] = f;
  item_slot_[item] = slot;
  ++live_;
  policy_->ResetArm(slot, f);
  uint8_t learned;
  if (!r->GetU8(&learned) || learned > 1) {
    return Status::Corruption("bad exploration pool item record");
  }
  slot_learned_[slot] = learned;
  return learned ? policy_->LoadArm(slot, r) : Status::Ok();
}

}  // namespace streamrec::bandits
