// EventApplier: the consumer thread's work. For each polled batch it decodes every message,
// dead-letters the invalid ones (with the reason), applies the valid ones to the ModelState in
// small locked batches, and tracks the next offset of every owned partition. Checkpoints write
// the model's changes and those offsets in ONE store write (exactly-once state, DESIGN.md);
// Kafka commits follow, for lag monitoring only. As the RebalanceListener it seeks newly
// assigned partitions to the offsets in the store and checkpoints before partitions go away.
//
// Thread safety: everything runs on the consumer thread, except RequestCheckpoint (any
// thread) and the atomic counters read by metrics.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "daemon/config.h"
#include "daemon/metrics.h"
#include "daemon/model_state.h"
#include "state/store.h"
#include "stream/kafka_sink.h"
#include "stream/kafka_source.h"

namespace streamrec::daemon {

class EventApplier final : public stream::RebalanceListener {
 public:
  // Borrowed pointers must outlive the applier. `dlq` produces dead letters; `source` (may be
  // set later with set_source) receives the lag-visibility commits.
  EventApplier(const Config& config, ModelState* model, state::StateStore* store,
               stream::KafkaSink* dlq, MetricsRegistry* metrics, const Clock* clock);

  void set_source(stream::MessageSource* source) { source_ = source; }
  // Set when the daemon stops: lets a dead letter stuck behind a down broker be abandoned.
  void set_stop_flag(const std::atomic<bool>* stop) { stop_ = stop; }

  // Handles one polled batch, in order.
  void Handle(std::vector<stream::Message>& batch);
  // Checkpoints when due (interval or event count) or requested; `force` checkpoints now.
  Status MaybeCheckpoint(bool force = false);

  // Any thread: asks the consumer thread for a checkpoint and waits for it (up to timeout_ms).
  Status RequestCheckpoint(int timeout_ms);

  // stream::RebalanceListener (consumer thread, inside PollBatch/Close).
  Status OnPartitionsAssigned(std::vector<stream::PartitionStart>* partitions) override;
  void OnPartitionsRevoked(const std::vector<stream::TopicPartition>& partitions,
                           bool lost) override;

  uint64_t events_applied() const { return applied_->value(); }
  uint64_t events_invalid() const { return invalid_->value(); }
  // Partitions with at least one assignment, and their next offsets (consumer thread).
  const std::map<int32_t, int64_t>& next_offsets() const { return next_offsets_; }
  bool assigned() const { return has_assignment_.load(std::memory_order_acquire); }

 private:
  Status Checkpoint();
  void ApplyRun(std::vector<stream::Message>& batch, size_t begin, size_t end);

  const Config& config_;
  ModelState* const model_;
  state::StateStore* const store_;
  stream::KafkaSink* const dlq_;
  stream::MessageSource* source_ = nullptr;
  const Clock* const clock_;
  EventDecoder decoder_;
  const std::atomic<bool>* stop_ = nullptr;
  std::vector<std::pair<size_t, std::string>> rejected_;  // (batch index, reason) of a run
  bool dlq_abandoned_ = false;

  std::map<int32_t, int64_t> next_offsets_;  // owned partitions -> next offset to apply
  uint64_t since_checkpoint_ = 0;
  int64_t last_checkpoint_us_ = 0;
  std::atomic<bool> has_assignment_{false};

  // Checkpoint requests from other threads.
  std::mutex request_mu_;
  std::condition_variable request_cv_;
  uint64_t requested_ = 0;      // GUARDED_BY(request_mu_)
  uint64_t completed_ = 0;      // GUARDED_BY(request_mu_)
  Status last_request_status_;  // GUARDED_BY(request_mu_)
  std::atomic<bool> request_pending_{false};

  // Metrics (owned by the registry).
  Counter* applied_;
  Counter* invalid_;
  Counter* dlq_failed_;
  Counter* checkpoints_;
  Counter* checkpoint_failures_;
  Histogram* checkpoint_seconds_;
  Histogram* apply_lock_seconds_;
  std::array<Counter*, kNumEventTypes> by_type_{};
};

}  // namespace streamrec::daemon
