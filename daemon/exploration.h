// Exploration: the daemon's cold-start exploration (docs/BANDITS.md), as ModelState uses it. It
// owns the ExplorationPool (the cold items and the configured policy) and the RewardJoiner
// (served ⋈ click within the attribution window), keeps the event-time clock that closes
// windows, feeds joined rewards back to the policy with the user's BPR vector as context, and
// moves all of it to and from the store (kBandits: one record per item; kModel: the pool's
// globals, the joiner's open state and the clock).
//
// Time is event time: the largest `ts` of the events applied (not the wall clock, so a replay
// joins the same rewards). A served record is joined once event time has reached its serving
// time (the EventApplier holds it until then), so whichever of the two topics is consumed
// ahead, a click is matched against every impression that precedes it.
//
// Thread safety: none of its own. ModelState calls the writer methods on its BPR lane under that
// lane's lock (or, for AppendCheckpoint and Restore, on the consumer thread while the lane is
// idle) and the const ones under the lane's lock shared.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bandits/exploration_pool.h"
#include "bandits/reward_joiner.h"
#include "common/status.h"
#include "daemon/config.h"
#include "models/embedding_table.h"
#include "state/store.h"
#include "state/write_batch.h"
#include "stream/event_codec.h"

namespace streamrec::daemon {

struct ExplorationStats {
  uint32_t pool_size = 0;
  uint64_t graduated = 0;
  uint64_t rewards_one = 0, rewards_zero = 0;
  uint64_t open_impressions = 0;
  uint64_t late_served = 0, evicted_served = 0;
};

class Exploration {
 public:
  // `users` is the ranking model's user table (BPR), the context of every reward; borrowed.
  // InvalidArgument for an unknown policy or bad parameters.
  static Result<std::unique_ptr<Exploration>> Create(const BanditConfig& config,
                                                     const models::EmbeddingTable* users);

  // --- writer side (REQUIRES: exclusive access) -----------------------------------------------
  // Moves event time to ts_micros (never backwards); closes the windows it passes (reward 0).
  void AdvanceTime(int64_t ts_micros);
  // Caps the join's watermark with the served stream's progress (RewardJoiner::
  // SetWatermarkCap): no window closes, and no click is forgotten, beyond what the consumed
  // served records have reached. INT64_MAX when the served topic is caught up.
  void SetServedProgress(int64_t cap_micros);
  // Catalog upsert with features: a new item is explorable at once.
  void OnItem(ItemIndex item, std::span<const stream::Feature> features);
  // One interaction of `user` with `item` at the clock's now: counts towards graduation; a
  // click (`is_click`) is also matched against the impressions of `item` to `user` (`rec_id`,
  // bandits::RecIdHash of the event's rec_id, must be the impression's when the event has one).
  void OnInteraction(UserIndex user, ItemIndex item, uint64_t rec_id, bool is_click);
  // One explored item as served (rec_id hashed as above, position, propensity) at ts_micros.
  void OnServed(UserIndex user, ItemIndex item, uint64_t rec_id, uint32_t pos, double propensity,
                int64_t ts_micros);
  // Puts changed items' records, the pool's globals, the joiner and the clock.
  void AppendCheckpoint(state::WriteBatch* batch);
  // Loads what AppendCheckpoint wrote. Before the writer starts. Corruption for a malformed
  // record or one naming an item index >= `items`.
  Status Restore(const state::StateReader& store, uint32_t items);

  // --- readers (REQUIRES: at least shared access) ---------------------------------------------
  // Appends to *out up to k pool items for a user whose BPR vector is `embedding` (empty when
  // unknown), none of them in `exclude`. Allocation-free once warm (per-thread scratch).
  void Select(std::span<const float> embedding, uint32_t k, std::span<const ItemIndex> exclude,
              uint64_t seed, std::vector<bandits::ExploreSlot>* out) const;
  // "explore:linucb", ... (the `source` of explored items).
  const std::string& source() const { return source_; }
  std::string_view policy() const { return pool_.policy().name(); }
  int64_t now_micros() const { return now_micros_; }
  ExplorationStats Stats() const;

 private:
  Exploration(const BanditConfig& config, std::unique_ptr<bandits::Policy> policy,
              const models::EmbeddingTable* users);
  // Feeds the rewards the joiner emitted to the pool.
  void ApplyRewards();

  const BanditConfig config_;
  const models::EmbeddingTable* const users_;
  bandits::ExplorationPool pool_;
  bandits::RewardJoiner joiner_;
  const std::string source_;
  int64_t now_micros_ = 0;
  int64_t served_cap_ = std::numeric_limits<int64_t>::max();
  bool joiner_dirty_ = false;
  std::vector<bandits::Reward> rewards_;  // writer scratch
  std::vector<ItemIndex> dirty_;
  std::string value_;
};

}  // namespace streamrec::daemon
