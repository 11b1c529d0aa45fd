// RouterProbe: the HTTP API's metrics. It registers them with the MetricsRegistry (names and
// help texts live in router_probe.cc) and offers one typed call per request answered; the
// router calls it and never sees a metric name.
//
// Thread safety: OnRequest may be called concurrently from every server thread (the metrics
// are lock-free atomics; a (route, code) seen for the first time registers under the
// registry's mutex).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <string>
#include <vector>

#include "common/metrics.h"

namespace streamrec::daemon {

class RouterProbe {
 public:
  // `routes` are the route patterns (the `route` label), indexed by the router's route number.
  // Registers streamrec_http_request_duration_seconds{route} for each; the counters of
  // streamrec_http_requests_total{route,code} register the first time a (route, code) is
  // answered. `metrics` must outlive the probe.
  RouterProbe(MetricsRegistry& metrics, std::vector<std::string> routes);
  RouterProbe(const RouterProbe&) = delete;
  RouterProbe& operator=(const RouterProbe&) = delete;

  // The router answered a request of `route` with `status` after `seconds`.
  void OnRequest(size_t route, int status, double seconds);

 private:
  static constexpr size_t kNumCachedCodes = 10;

  Counter& RequestsCounter(size_t route, int status);

  MetricsRegistry& metrics_;
  const std::vector<std::string> routes_;
  // Owned by the registry; one per route.
  std::vector<Histogram*> latency_;
  // requests_total counters by [route][code index], registered on first use.
  std::vector<std::array<std::atomic<Counter*>, kNumCachedCodes>> requests_;
};

}  // namespace streamrec::daemon
