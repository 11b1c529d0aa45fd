#include "daemon/service_probe.h"

namespace streamrec::daemon {

ServiceProbe::ServiceProbe(MetricsRegistry& metrics) {
  served_ = &metrics.AddCounter("streamrec_served_total", "Recommendation lists served");
  served_dropped_ = &metrics.AddCounter(
      "streamrec_served_log_dropped_total",
      "Served lists not logged to the served topic because the producer queue was full");
  posted_ = &metrics.AddCounter("streamrec_http_events_posted_total",
                                "Events accepted by POST /v1/events and acknowledged by Kafka");
  undelivered_ = &metrics.AddCounter(
      "streamrec_http_events_failed_total",
      "Valid events of POST /v1/events that Kafka did not acknowledge (the post answered 503)");
}

}  // namespace streamrec::daemon
