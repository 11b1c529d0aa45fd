// ServiceProbe: DaemonService's metrics (lists served and logged, events posted). It registers
// them with the MetricsRegistry (names and help texts live in service_probe.cc) and offers one
// typed call per thing that happens; the service calls those and never sees a metric name.
//
// Thread safety: every method may be called from any thread (the metrics are lock-free
// atomics); the service calls them from the HTTP server's threads.
#pragma once

#include <cstdint>

#include "common/metrics.h"

namespace streamrec::daemon {

class ServiceProbe {
 public:
  // Registers every metric of the service with `metrics`, which must outlive the probe.
  explicit ServiceProbe(MetricsRegistry& metrics);
  ServiceProbe(const ServiceProbe&) = delete;
  ServiceProbe& operator=(const ServiceProbe&) = delete;

  // A recommendation list was served (streamrec_served_total).
  void OnServed() { served_->Inc(); }
  // A served list could not be logged to the served topic (the producer queue was full).
  void OnServedLogDropped() { served_dropped_->Inc(); }
  // A POST /v1/events: `accepted` events Kafka acknowledged, `failed` valid ones it did not.
  void OnEventsPosted(uint64_t accepted, uint64_t failed) {
    posted_->Inc(accepted);
    if (failed > 0) undelivered_->Inc(failed);
  }

 private:
  // Owned by the registry.
  Counter* served_;
  Counter* served_dropped_;
  Counter* posted_;
  Counter* undelivered_;
};

}  // namespace streamrec::daemon
