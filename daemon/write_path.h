// WritePath: how events change the LiveModel. The consumer thread applies each event to its own
// models (the id maps, MF, popularity) under `lock`, in small batches, and records what the
// event means for the other models as a LaneOp. HandOff passes those ops to two lanes, threads
// of the WritePath's own (apply_lane.h) that apply them in the same order, in small batches
// too: the BPR lane (BPR, the histories, exploration) under `bpr_lock`, the session lane (the
// sessions and their model) under `session_lock`. Every model thus sees exactly the sequence
// of updates it would see on one thread (the state is the same function of the stream), while
// an event's work is spread over the cores. Flush waits for both lanes to catch up: Publish
// and checkpoints call it first, so a checkpoint stores exactly the events its offsets cover.
//
// An applied event has one form from the consumer to the lanes: the Interaction (common/
// types.h) the consumer builds from the decoded event, carried inside its LaneOp.
//
// Thread safety: every method is the consumer thread's; the annotations say which lock each
// needs.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <absl/base/thread_annotations.h>
#include "common/metrics.h"
#include "common/status.h"
#include "common/types.h"
#include "daemon/apply_lane.h"
#include "daemon/live_model.h"
#include "stream/event_codec.h"

namespace streamrec::daemon {

// One explored item of a served record, as the EventApplier hands it over.
struct ServedExplore {
  std::string item;
  uint32_t pos = 0;
  double propensity = 1.0;
};

class WritePath {
 public:
  // `model` is borrowed and outlives the write path.
  explicit WritePath(LiveModel& model);
  ~WritePath();

  // Applies one valid event: the consumer's models at once, the lanes' once handed off.
  // `ts_seconds` is the event time (the event's own, or the Kafka timestamp when it has none);
  // `seed` seeds every random draw of the update.
  void Apply(const stream::EventView& event, double ts_seconds, uint64_t seed)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(m_.lock);
  // Whether Apply may take `event` under config.limits: its time at most max_future_s ahead of
  // `now_micros` (the wall clock) and of the largest event time applied, and no new user or
  // item beyond max_users / max_items. InvalidArgument with the reason otherwise.
  Status Admit(const stream::EventView& event, double ts_seconds, int64_t now_micros) const
      ABSL_SHARED_LOCKS_REQUIRED(m_.lock);
  // One served record's explored items, for the reward join; `ts_micros` is the serving time.
  void ApplyServed(std::string_view user, std::string_view rec_id,
                   std::span<const ServedExplore> explored, int64_t ts_micros)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(m_.lock);
  // The served topic's progress, capping the reward join's watermark.
  void SetServedProgress(int64_t cap_micros) ABSL_EXCLUSIVE_LOCKS_REQUIRED(m_.lock);
  // Passes the recorded ops to the lanes: once a batch's worth has gathered, or (`all`)
  // whatever there is. Without the write lock: it may wait for a lane.
  void HandOff(bool all) ABSL_LOCKS_EXCLUDED(m_.lock);
  // Hands everything over and waits until both lanes have applied it.
  void Flush() ABSL_LOCKS_EXCLUDED(m_.lock);
  // Flush, then makes what was applied visible to the scoring snapshot and to Sizes().
  void Publish() ABSL_LOCKS_EXCLUDED(m_.bpr_lock, m_.session_lock);

  // Where each lane records how long it held its lock per run of apply_batch ops (seconds).
  // Null records nothing. Before the first event; both outlive the write path.
  void set_lane_hold_histograms(Histogram* bpr, Histogram* session) {
    bpr_hold_ = bpr;
    session_hold_ = session;
  }
  // How many times a lane yielded the CPU between runs because requests were in flight.
  uint64_t lane_yields() const { return lane_yields_.load(std::memory_order_relaxed); }

 private:
  // What an event (or a served record) means for a lane's models.
  struct LaneOp {
    enum class Kind : uint8_t {
      kInteraction,     // BPR lane: BPR, history, exploration; session lane: the session
      kItem,            // exploration's catalog upsert (features in LaneBatch::features)
      kTime,            // only the event's time
      kForget,          // forget_user (x.user)
      kServed,          // an explored item served (exploration's reward join)
      kServedProgress,  // the served topic's progress cap
    };
    Kind kind = Kind::kTime;
    bool click = false;  // kInteraction: rewards an impression
    Interaction x;       // kInteraction; x.user / x.item for the others that name one
    uint32_t pos = 0;    // kServed: its position
    // kItem: its range of LaneBatch::features; session lane's kInteraction: the session id in
    // LaneBatch::text (empty: the user's implicit session).
    uint32_t text_begin = 0;
    uint32_t text_size = 0;
    double ts_seconds = 0.0;  // the event time (events)
    int64_t micros = 0;       // kServed: serving time; kServedProgress: the cap
    uint64_t seed = 0;        // kInteraction: the update's seed
    uint64_t rec_id = 0;      // kInteraction, kServed: bandits::RecIdHash
    double propensity = 1.0;  // kServed
  };
  struct LaneFeature {
    uint32_t name_begin, name_size;  // in LaneBatch::text
    float value;
  };
  struct LaneBatch {
    std::vector<LaneOp> ops;
    std::string text;  // feature names and session ids of the ops
    std::vector<LaneFeature> features;
    bool empty() const { return ops.empty(); }
    void clear() {
      ops.clear();
      text.clear();
      features.clear();
    }
  };
  // Lane threads: a batch's ops, under the lane's lock in runs of config.apply_batch ops.
  void RunBprLane(LaneBatch& batch) ABSL_LOCKS_EXCLUDED(m_.bpr_lock);
  void RunSessionLane(LaneBatch& batch) ABSL_LOCKS_EXCLUDED(m_.session_lock);
  // Between two runs: yields the CPU when requests are in flight.
  void BetweenRuns();
  void ApplyBprOp(const LaneBatch& batch, const LaneOp& op)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(m_.bpr_lock);
  void ApplySessionOp(const LaneBatch& batch, const LaneOp& op)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(m_.session_lock);

  LiveModel& m_;
  std::atomic<uint64_t> lane_yields_{0};
  Histogram* bpr_hold_ = nullptr;
  Histogram* session_hold_ = nullptr;
  // Last: their threads stop before anything they apply to goes away.
  std::unique_ptr<ApplyLane<LaneBatch>> bpr_lane_;
  std::unique_ptr<ApplyLane<LaneBatch>> session_lane_;
};

}  // namespace streamrec::daemon
