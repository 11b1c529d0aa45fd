// ExplorationPool: the cold items and the policy that explores them. An item is in the pool
// while it has fewer than `cold_threshold` interactions: it enters at once with an `item`
// (catalog) event carrying its features, or at its first interaction; it graduates (leaves for
// good, its slot reused) when its count reaches the threshold. SelectSlots fills a request's
// exploration slots from the pool; rewards from the RewardJoiner feed the policy back.
//
// Persistence is row-level like models/recommender.h: SaveGlobals (options, slot layout, the
// policy's shared state) plus one record per item (count, pool slot, features, and the policy's
// arm posterior once a reward has moved it from its prior: an arm still at ResetArm's value is
// rebuilt from the features, so the common record of a cold item stays a few bytes however
// large the policy's arm — LinUCB's is two dim x dim matrices); TakeDirty lists the items changed
// since the last call. Restore: LoadGlobals, then
// LoadItem for every saved item. Replaying the same calls gives the same bytes.
//
// Thread safety: SelectSlots and the accessors are const and may run concurrently (each caller
// with its own SelectScratch); everything else needs exclusive access.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "bandits/feature_hasher.h"
#include "bandits/policy.h"
#include "common/types.h"

namespace streamrec::bandits {

struct PoolOptions {
  // An item with fewer interactions than this is cold (explorable); at this count it graduates
  // to the main ranking. Reloadable (applies to later interactions).
  uint32_t cold_threshold = 20;
  // Dimension item features are hashed into (LinUCB's D: 16/32/64). Not reloadable.
  uint32_t feature_dim = 32;
  // Adds the feature "bias" = 1 to every item, LinUCB's shared intercept. Not reloadable.
  bool bias_feature = true;
  // Most pool items one SelectSlots call scores; 0 = all. Above it, the candidates are a
  // window of this many consecutive pool slots starting at a random slot (each slot is in it
  // with probability max_candidates / slots), which bounds a request's cost in a huge long-tail
  // catalog; propensities are then multiplied by that inclusion probability. Reloadable.
  uint32_t max_candidates = 0;

  Status Apply(const BanditParams& params, BanditParams* effective = nullptr);
};

// One filled exploration slot.
struct ExploreSlot {
  ItemIndex item = kNoIndex;
  float score = 0.0f;
  // See Selection::propensity (per policy: exact k/n for random, conditional for Thompson...).
  double propensity = 1.0;
};

class ExplorationPool {
 public:
  ExplorationPool(const PoolOptions& options, std::unique_ptr<Policy> policy);

  const PoolOptions& options() const { return options_; }
  const Policy& policy() const { return *policy_; }
  // The hasher to build the SparseFeatures that OnItem takes (bias added by the pool).
  const FeatureHasher& hasher() const { return hasher_; }

  // Catalog upsert: `item` with hashed `features`. A new item enters the pool at once (it is
  // cold); a cold item's features are replaced (its arm restarts when they changed); a
  // graduated item is not affected.
  void OnItem(ItemIndex item, const SparseFeatures& features, int64_t ts_micros);
  // One interaction (rating, click, ...) with `item`: counts towards graduation; an item never
  // seen enters the pool (without features) first.
  void OnInteraction(ItemIndex item, int64_t ts_micros);
  // A joined reward (1 click, 0 none) for `item` shown to `user` at `ts_micros` (impression
  // time). False (and ignored) when the item is not in the pool any more.
  bool OnReward(const UserContext& user, ItemIndex item, float reward, int64_t ts_micros);

  // Appends to *out up to k pool items, best first, none of them in `exclude` (e.g. the user's
  // seen items and the items already in the list), each with its propensity (see
  // PoolOptions::max_candidates for large pools). Every random draw
  // comes from `seed`. Allocation-free once `scratch` has grown to the pool's size.
  void SelectSlots(const UserContext& user, uint32_t k, std::span<const ItemIndex> exclude,
                   int64_t now_micros, uint64_t seed, SelectScratch* scratch,
                   std::vector<ExploreSlot>* out) const;

  bool InPool(ItemIndex item) const {
    return item < item_slot_.size() && item_slot_[item] != kNoIndex;
  }
  // Interactions counted for `item` (0 for an unknown item).
  uint32_t Interactions(ItemIndex item) const {
    return item < item_count_.size() ? item_count_[item] : 0;
  }
  // Items in the pool now, and items that ever graduated.
  uint32_t size() const { return live_; }
  uint64_t graduated() const { return graduated_; }
  // The policy's arm of a pool item (kNoIndex when not in the pool), for tests and reports.
  ArmIndex ArmOf(ItemIndex item) const { return InPool(item) ? item_slot_[item] : kNoIndex; }

  void SaveGlobals(ByteWriter* w) const;
  Status LoadGlobals(ByteReader* r);
  // One item's record (empty for an item the pool never saw; LoadItem is then not needed).
  void SaveItem(ItemIndex item, ByteWriter* w) const;
  Status LoadItem(ItemIndex item, ByteReader* r);
  // Appends (ascending) the items changed since the last call and forgets them.
  void TakeDirty(std::vector<ItemIndex>* items);

 private:
  enum : uint8_t { kUnknown = 0, kCold = 1, kWarm = 2 };
  void EnsureItem(ItemIndex item);
  void Enter(ItemIndex item, const SparseFeatures& features);
  SparseFeatures WithBias(const SparseFeatures& features) const;
  void MarkDirty(ItemIndex item);
  uint32_t TakeSlot();

  PoolOptions options_;
  FeatureHasher hasher_;
  SparseFeatures bias_;
  std::unique_ptr<Policy> policy_;
  // By item.
  std::vector<uint8_t> item_state_;
  std::vector<uint32_t> item_count_;
  std::vector<uint32_t> item_slot_;
  // By slot (= arm).
  std::vector<ItemIndex> slot_item_;
  std::vector<SparseFeatures> slot_features_;
  std::vector<uint8_t> slot_learned_;  // 1: a reward moved the arm from its prior
  std::vector<uint32_t> free_slots_;   // LIFO
  uint32_t live_ = 0;
  uint64_t graduated_ = 0;
  std::vector<uint8_t> dirty_bits_;
  std::vector<ItemIndex> dirty_;
};

}  // namespace streamrec::bandits
