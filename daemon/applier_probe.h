// ApplierProbe: the EventApplier's metrics. It registers them with the MetricsRegistry (names
// and help texts live in applier_probe.cc) and offers one typed call per thing that happens;
// the applier's logic calls those and never sees a metric name.
//
// Thread safety: every method may be called from any thread (the metrics are lock-free
// atomics); the applier calls them from the consumer thread.
#pragma once

#include <array>
#include <cstdint>

#include "common/metrics.h"
#include "common/types.h"

namespace streamrec::daemon {

class ApplierProbe {
 public:
  // Registers every metric of the applier with `metrics`, which must outlive the probe.
  explicit ApplierProbe(MetricsRegistry* metrics);
  ApplierProbe(const ApplierProbe&) = delete;
  ApplierProbe& operator=(const ApplierProbe&) = delete;

  // `n` events of `type` were applied and published (streamrec_events_applied_total and
  // streamrec_events_by_type_total{type}).
  void OnApplied(EventType type, uint64_t n) {
    applied_->Inc(n);
    by_type_[static_cast<int>(type)]->Inc(n);
  }
  // An event was dead-lettered (streamrec_events_invalid_total).
  void OnDeadLettered() { invalid_->Inc(); }
  // The dead-letter sink refused one (it is retried).
  void OnDeadLetterRefused() { dlq_failed_->Inc(); }
  // A checkpoint was written, `seconds` after it started being built.
  void OnCheckpointWritten(double seconds) {
    checkpoints_->Inc();
    checkpoint_seconds_->Observe(seconds);
  }
  void OnCheckpointFailed() { checkpoint_failures_->Inc(); }
  // The applier held the model's write lock for one run of events.
  void OnApplyLockHeld(double seconds) { apply_lock_seconds_->Observe(seconds); }
  // A record of the served topic was consumed (decoded) for the reward join.
  void OnServedConsumed() { served_records_->Inc(); }
  // `n` held served records joined before event time reached them (bandit.max_held).
  void OnServedForced(uint64_t n) {
    if (n > 0) served_forced_->Inc(n);
  }

  uint64_t applied() const { return applied_->value(); }
  uint64_t invalid() const { return invalid_->value(); }

 private:
  // Owned by the registry.
  Counter* applied_;
  Counter* invalid_;
  Counter* dlq_failed_;
  Counter* checkpoints_;
  Counter* checkpoint_failures_;
  Histogram* checkpoint_seconds_;
  Histogram* apply_lock_seconds_;
  Counter* served_records_;
  Counter* served_forced_;
  std::array<Counter*, kNumEventTypes> by_type_{};
};

}  // namespace streamrec::daemon
