#include "daemon/applier_probe.h"

#include <string>

namespace streamrec::daemon {

ApplierProbe::ApplierProbe(MetricsRegistry* metrics) {
  applied_ = &metrics->AddCounter("streamrec_events_applied_total",
                                  "Events applied to the model (each exactly once)");
  invalid_ =
      &metrics->AddCounter("streamrec_events_invalid_total",
                           "Events that failed validation and went to the dead-letter topic");
  dlq_failed_ = &metrics->AddCounter("streamrec_dlq_produce_failures_total",
                                     "Dead letters the producer refused (retried until accepted)");
  checkpoints_ = &metrics->AddCounter("streamrec_checkpoints_total", "Checkpoints written");
  checkpoint_failures_ =
      &metrics->AddCounter("streamrec_checkpoint_failures_total", "Checkpoints that failed");
  checkpoint_seconds_ =
      &metrics->AddHistogram("streamrec_checkpoint_duration_seconds",
                             "Time to build and write one checkpoint", LatencyBucketsSeconds());
  apply_lock_seconds_ = &metrics->AddHistogram(
      "streamrec_apply_lock_hold_seconds",
      "Time the event applier holds the model's write lock per run", LatencyBucketsSeconds());
  served_records_ = &metrics->AddCounter(
      "streamrec_served_records_consumed_total",
      "Records of the served topic consumed for the reward join (exploration on)");
  served_forced_ = &metrics->AddCounter(
      "streamrec_served_held_overflow_total",
      "Served records joined before event time reached them because bandit.max_held was full");
  for (int t = 0; t < kNumEventTypes; ++t) {
    by_type_[t] =
        &metrics->AddCounter("streamrec_events_by_type_total", "Events applied, by type",
                             {{"type", std::string(EventTypeName(static_cast<EventType>(t)))}});
  }
}

}  // namespace streamrec::daemon
