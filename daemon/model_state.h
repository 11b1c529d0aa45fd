// ModelState: the daemon's live, in-memory model (the hot copy) as the rest of the daemon sees
// it: a facade over four rooms with one job each.
//   LiveModel        (live_model.h)       the tables and their three locks; the lock order
//   WritePath        (write_path.h)       applies events: the consumer thread and two lanes
//   ModelCheckpoint  (model_checkpoint.h) writes changes to, and restores from, the store
//   Ranker           (ranker.h)           answers the queries (top-k, blend, exclusions)
// The store's layout is state_layout.h.
//
// Thread safety: the writer side is the consumer thread's (the EventApplier), with the locks
// the annotations name; the readers are any thread's.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <absl/base/thread_annotations.h>
#include "common/metrics.h"
#include "common/status.h"
#include "daemon/config.h"
#include "daemon/live_model.h"
#include "daemon/model_checkpoint.h"
#include "daemon/ranker.h"
#include "daemon/recommend_service.h"
#include "daemon/rw_lock.h"
#include "daemon/write_path.h"
#include "state/store.h"
#include "state/write_batch.h"
#include "stream/event_codec.h"

namespace streamrec::daemon {

class ModelState {
 public:
  // InvalidArgument when a model's parameters are invalid.
  static Result<std::unique_ptr<ModelState>> Create(const Config& config);

  // --- writer side (the consumer thread) ------------------------------------------------------
  // The consumer's lock, held (WriteLock) around Apply, Admit, ApplyServed, SetServedProgress.
  RwLock& lock() ABSL_LOCK_RETURNED(live_->lock) { return live_->lock; }
  // The forwarders below carry their room's annotation for the callers; the analysis does not
  // see that live_ is the room's model, so their one-line bodies are not analysed.
  // See WritePath::Apply.
  void Apply(const stream::EventView& event, double ts_seconds, uint64_t seed)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(live_->lock) ABSL_NO_THREAD_SAFETY_ANALYSIS {
    write_.Apply(event, ts_seconds, seed);
  }
  // See WritePath::Admit.
  Status Admit(const stream::EventView& event, double ts_seconds, int64_t now_micros) const
      ABSL_SHARED_LOCKS_REQUIRED(live_->lock) ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return write_.Admit(event, ts_seconds, now_micros);
  }
  // One served record's explored items (what /v1/recommend showed in its exploration slots),
  // for the reward join. `ts_micros` is the serving time.
  void ApplyServed(std::string_view user, std::string_view rec_id,
                   std::span<const ServedExplore> explored, int64_t ts_micros)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(live_->lock) ABSL_NO_THREAD_SAFETY_ANALYSIS {
    write_.ApplyServed(user, rec_id, explored, ts_micros);
  }
  // The served topic's progress, capping the reward join's watermark.
  void SetServedProgress(int64_t cap_micros)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(live_->lock) ABSL_NO_THREAD_SAFETY_ANALYSIS {
    write_.SetServedProgress(cap_micros);
  }
  // Event time as exploration sees it (the largest event ts applied), micros; 0 when
  // exploration is off.
  int64_t event_time_micros() const ABSL_SHARED_LOCKS_REQUIRED(live_->lock) {
    return live_->exploring ? live_->event_time_us : 0;
  }
  // See WritePath::HandOff and Flush. Without the lock.
  void HandOff(bool all) { write_.HandOff(all); }
  void Flush() { write_.Flush(); }
  // Makes what was applied visible to Recommend's lock-free scoring and to Sizes().
  void Publish() { write_.Publish(); }
  // Appends every change since the last call to *batch (after a Flush).
  void AppendCheckpoint(state::WriteBatch* batch) {
    write_.Flush();
    checkpoint_.AppendChanges(batch);
  }
  // Replaces the model with what `store` holds. Before the writer starts.
  Status Restore(const state::StateReader& store);
  // See Ranker::set_lock_wait_histogram, WritePath::set_lane_hold_histograms.
  void set_lock_wait_histogram(Histogram* h) { ranker_.set_lock_wait_histogram(h); }
  void set_lane_hold_histograms(Histogram* bpr, Histogram* session) {
    write_.set_lane_hold_histograms(bpr, session);
  }
  uint64_t lane_yields() const { return write_.lane_yields(); }

  // --- readers (any thread; they lock shared) --------------------------------------------------
  // Top-k for `user` (BPR; popularity for an unknown user), seen items excluded on request.
  void Recommend(const std::string& user, uint32_t k, bool exclude_seen,
                 std::vector<ScoredId>* out) const {
    Recommend(user, {}, k, exclude_seen, out);
  }
  // Session-aware top-k. The session is `session` (explicit id) or, when empty, the user's live
  // implicit session. With a known user and a live session: the blend of models/blend.h, each
  // item's source "session" when the session term is the larger part of its blended score,
  // else "bpr". With only one of the two: that one alone ("session" or "bpr"); neither:
  // popularity. exclude_seen also excludes the session's own items. `user` may be empty.
  //
  // `explore` of the k slots (the last ones) go to cold items the exploration policy picks
  // (source "explore:<policy>", with their propensity), none of them seen or already listed;
  // fewer when the pool runs short, none when exploration is off. `seed` drives its draws.
  void Recommend(std::string_view user, std::string_view session, uint32_t k, bool exclude_seen,
                 std::vector<ScoredId>* out, uint32_t explore = 0, uint64_t seed = 0) const {
    ranker_.Recommend(user, session, k, exclude_seen, out, explore, seed);
  }
  // "People who viewed `item` viewed next": the session model's scores after the one-item
  // session [item], the item itself excluded. NotFound for an unknown item, Unavailable when no
  // session model is configured.
  Status Next(const std::string& item, uint32_t k, std::vector<ScoredId>* out) const {
    return ranker_.Next(item, k, out);
  }
  // Items closest to `item` by cosine of BPR item embeddings; NotFound for an unknown item.
  Status Similar(const std::string& item, uint32_t k, std::vector<ScoredId>* out) const {
    return ranker_.Similar(item, k, out);
  }
  void Popular(uint32_t k, std::vector<ScoredId>* out) const { ranker_.Popular(k, out); }
  PredictResult Predict(const std::string& user, const std::string& item) const {
    return ranker_.Predict(user, item);
  }
  ModelSizes Sizes() const { return ranker_.Sizes(); }
  bool KnowsUser(std::string_view user) const { return ranker_.KnowsUser(user); }
  bool KnowsItem(std::string_view item) const { return ranker_.KnowsItem(item); }
  // Exploration's pool and reward counters; all zero when exploration is off.
  ExplorationStats BanditStats() const { return ranker_.BanditStats(); }
  // Name of the session model / the exploration policy; "none" when off.
  std::string_view session_model_name() const { return live_->session_model_name; }
  std::string_view bandit_policy() const { return live_->bandit_policy; }

 private:
  explicit ModelState(std::unique_ptr<LiveModel> live);

  const std::unique_ptr<LiveModel> live_;
  ModelCheckpoint checkpoint_;
  Ranker ranker_;
  WritePath write_;  // last: its lane threads stop first
};

}  // namespace streamrec::daemon
