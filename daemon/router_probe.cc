#include "daemon/router_probe.h"

#include <iterator>
#include <utility>

namespace streamrec::daemon {
namespace {

// Status codes whose requests_total counters are cached; others register on every use.
constexpr int kCachedCodes[] = {200, 202, 400, 401, 403, 404, 405, 415, 429, 503};

}  // namespace

RouterProbe::RouterProbe(MetricsRegistry& metrics, std::vector<std::string> routes)
    : metrics_(metrics), routes_(std::move(routes)), requests_(routes_.size()) {
  static_assert(std::size(kCachedCodes) == kNumCachedCodes);
  latency_.reserve(routes_.size());
  for (const std::string& route : routes_) {
    latency_.push_back(
        &metrics_.AddHistogram("streamrec_http_request_duration_seconds",
                               "Time to handle an HTTP request in the router, by route pattern.",
                               LatencyBucketsSeconds(), {{"route", route}}));
  }
}

Counter& RouterProbe::RequestsCounter(size_t route, int status) {
  return metrics_.AddCounter("streamrec_http_requests_total",
                             "HTTP requests answered by the router, by route pattern and code.",
                             {{"route", routes_[route]}, {"code", std::to_string(status)}});
}

void RouterProbe::OnRequest(size_t route, int status, double seconds) {
  latency_[route]->Observe(seconds);
  for (size_t c = 0; c < kNumCachedCodes; ++c) {
    if (kCachedCodes[c] != status) continue;
    Counter* counter = requests_[route][c].load(std::memory_order_acquire);
    if (counter == nullptr) {
      // Racing threads get the same counter from the registry; storing it twice is harmless.
      counter = &RequestsCounter(route, status);
      requests_[route][c].store(counter, std::memory_order_release);
    }
    counter->Inc();
    return;
  }
  RequestsCounter(route, status).Inc();
}

}  // namespace streamrec::daemon
