// EventApplier: the consumer thread's work. For each polled batch it decodes every message,
// sends the invalid ones to the DeadLetterSink (with the reason), applies the valid ones to the
// ModelState in small locked batches, and tracks the next offset of every owned partition.
// Checkpoints write the model's changes and those offsets in ONE store write (exactly-once
// state, DESIGN.md); the write runs on a CheckpointWriter thread while events keep being
// applied, after the dead letters before it are delivered, and Kafka commits follow it, for
// lag monitoring only. A batch whose write fails is merged into the next one, so no change is
// ever left out of the store. With exploration on, records of the served topic wait in a
// ServedHold until event time reaches them. As the RebalanceListener it seeks newly assigned
// partitions to the offsets in the store and checkpoints before partitions go away. Its
// metrics are an ApplierProbe's.
//
// Collaborators, all borrowed: the ModelState, a StateStore, a DeadLetterSink
// (KafkaDeadLetterSink in the daemon), a MessageSource for the commits and the served topic's
// watermarks, a Clock. None needs a broker, so tests use fakes.
//
// Thread safety: everything runs on the consumer thread, except RequestCheckpoint (any
// thread) and the atomic counters read by metrics.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/metrics.h"
#include "daemon/applier_probe.h"
#include "daemon/checkpoint_writer.h"
#include "daemon/config.h"
#include "daemon/dead_letter_sink.h"
#include "daemon/model_state.h"
#include "daemon/served_hold.h"
#include "state/store.h"
#include "stream/kafka_source.h"
#include "stream/served_codec.h"

namespace streamrec::daemon {

class EventApplier final : public stream::RebalanceListener {
 public:
  // Borrowed pointers must outlive the applier. `dead_letters` takes the invalid events;
  // `source` (may be set later with set_source) receives the lag-visibility commits and
  // answers the served topic's watermarks.
  EventApplier(const Config& config, ModelState* model, state::StateStore* store,
               DeadLetterSink* dead_letters, MetricsRegistry* metrics, const Clock* clock);

  void set_source(stream::MessageSource* source) { source_ = source; }
  // Set when the daemon stops: lets a dead letter stuck behind a down broker be abandoned.
  void set_stop_flag(const std::atomic<bool>* stop) { stop_ = stop; }

  // Handles one polled batch, in order, then publishes (below) when the last publish is old
  // enough.
  void Handle(std::vector<stream::Message>& batch);
  // Makes the events applied so far visible to /v1/recommend's lock-free scoring
  // (ModelState::Publish), then counts them in streamrec_events_applied_total: once the counter
  // shows an event, recommendations reflect it. Without `force`, at most every
  // 250 ms, or 25 times as long as the last publish took when that is longer (event_applier.cc).
  // The consumer loop forces it when a poll comes back empty.
  void Publish(bool force);
  // Collects the outcome of the checkpoint in flight when it has finished (its error, if it
  // failed), and starts the next one when due (interval or event count). A requested
  // checkpoint, or `force`, is written now and waited for: then the status says whether
  // everything applied so far is durable.
  Status MaybeCheckpoint(bool force = false);

  // Exploration: tells the reward join how far the served topic has been consumed (every
  // consumed served record's time, or "caught up" once every assigned served partition is read
  // to its high watermark), so that windows close only behind both streams. Consumer thread;
  // call after each poll.
  void UpdateServedProgress();

  // Any thread: asks the consumer thread for a checkpoint and waits for it (up to timeout_ms).
  Status RequestCheckpoint(int timeout_ms);

  // stream::RebalanceListener (consumer thread, inside PollBatch/Close).
  Status OnPartitionsAssigned(std::vector<stream::PartitionStart>* partitions) override;
  void OnPartitionsRevoked(const std::vector<stream::TopicPartition>& partitions,
                           bool lost) override;

  // Whether the last checkpoint failed (e.g. a full disk), and its error. Ingest pauses while
  // it is so, and readiness says why (Application). Any thread.
  bool checkpoint_failing() const { return checkpoint_failing_.load(std::memory_order_acquire); }
  std::string checkpoint_error() const;

  uint64_t events_applied() const { return probe_.applied(); }
  // Served records waiting for event time to reach them (any thread).
  uint64_t served_held() const { return hold_.held(); }
  uint64_t events_invalid() const { return probe_.invalid(); }
  // Partitions with at least one assignment, and their next offsets (consumer thread).
  const std::map<int32_t, int64_t>& next_offsets() const { return next_offsets_; }
  bool assigned() const { return has_assignment_.load(std::memory_order_acquire); }

 private:
  // Waits for the checkpoint in flight, then writes one of everything applied so far and
  // waits for it too.
  Status CheckpointNow();
  // Builds the batch (a failed batch first, then the changes and the offsets) and submits it.
  Status StartCheckpoint();
  // Takes the outcome of the write in flight (waiting for it when `wait`); Ok when none has
  // finished. On success tells Kafka the offsets; on failure keeps the batch for the next.
  Status FinishCheckpoint(bool wait);
  // Applies batch[begin, end) under the write lock (ApplyLocked: returns the seconds it held
  // it), then dead-letters what it refused.
  void ApplyRun(std::vector<stream::Message>& batch, size_t begin, size_t end);
  double ApplyLocked(std::vector<stream::Message>& batch, size_t begin, size_t end)
      ABSL_LOCKS_EXCLUDED(model_->lock());
  // A message of the served topic (exploration on): decoded, then joined now when event time
  // has reached its serving time, else held until it does.
  Status TakeServed(const stream::Message& m) ABSL_EXCLUSIVE_LOCKS_REQUIRED(model_->lock());
  // Joins the held served records whose time `now` (micros; or event time, when later) has
  // reached, and the oldest beyond bandit.max_held.
  void ReleaseHeld(int64_t now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(model_->lock());

  const Config& config_;
  ModelState* const model_;
  state::StateStore* const store_;
  DeadLetterSink* const dead_letters_;
  stream::MessageSource* source_ = nullptr;
  const Clock* const clock_;
  ApplierProbe probe_;
  stream::EventDecoder decoder_;
  const std::atomic<bool>* stop_ = nullptr;
  std::vector<std::pair<size_t, std::string>> rejected_;  // (batch index, reason) of a run
  bool dlq_abandoned_ = false;

  std::map<int32_t, int64_t> next_offsets_;  // owned partitions -> next offset to apply

  // Exploration: the served topic's records wait in hold_ until event time reaches them
  // (their offsets are stored only once joined, so a restart consumes them again).
  const bool explore_on_;
  stream::ServedDecoder served_decoder_;
  ServedHold hold_;
  std::vector<ServedExplore> explored_;  // a served record's explored items (reused)
  int64_t served_cap_;                   // the cap last given to the model
  std::map<int32_t, int64_t> inflight_served_;
  uint64_t since_checkpoint_ = 0;
  int64_t last_checkpoint_us_ = 0;
  std::atomic<bool> has_assignment_{false};

  // Checkpoints in flight (consumer thread only, apart from the writer's own thread).
  state::WriteBatch building_;   // the next batch, reusing the capacity of earlier ones
  state::WriteBatch collected_;  // a batch back from the writer
  state::WriteBatch retry_;      // a batch whose write failed; the next one starts with it
  std::map<int32_t, int64_t> inflight_offsets_;  // the offsets the batch in flight stores
  std::chrono::steady_clock::time_point inflight_start_;

  std::atomic<bool> checkpoint_failing_{false};
  mutable std::mutex error_mu_;
  std::string checkpoint_error_;  // GUARDED_BY(error_mu_): the last failure's message

  // Checkpoint requests from other threads.
  std::mutex request_mu_;
  std::condition_variable request_cv_;
  uint64_t requested_ = 0;      // GUARDED_BY(request_mu_)
  uint64_t completed_ = 0;      // GUARDED_BY(request_mu_)
  Status last_request_status_;  // GUARDED_BY(request_mu_)
  std::atomic<bool> request_pending_{false};

  // Events applied and not yet published, by type: counted once they are (Publish).
  std::array<uint64_t, kNumEventTypes> uncounted_{};
  bool unpublished_ = false;
  std::chrono::steady_clock::time_point last_publish_{};
  std::chrono::steady_clock::duration publish_cost_{};  // how long the last publish took

  // Last: destroyed first, so the write in flight ends while everything it uses exists.
  CheckpointWriter writer_;
};

}  // namespace streamrec::daemon
