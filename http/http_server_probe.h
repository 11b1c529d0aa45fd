// HttpServerProbe: the HTTP transport's metrics. It registers them with the MetricsRegistry
// (names and help texts live in http_server_probe.cc) and offers one typed call per thing that
// happens to a connection or a request; the server calls those and never sees a metric name.
//
// Thread safety: every method may be called from any thread (the metrics are lock-free
// atomics); the server calls them from its network and blocking threads.
#pragma once

#include "common/metrics.h"

namespace streamrec::http {

class HttpServerProbe {
 public:
  // Why the transport refused a request or dropped a connection
  // (streamrec_http_transport_errors_total{reason}).
  enum class Error { kBodyLimit, kHeaderLimit, kBadRequest, kTimeout, kHandlerException };

  // Registers every metric of the server with `metrics`, which must outlive the probe.
  explicit HttpServerProbe(MetricsRegistry& metrics);
  HttpServerProbe(const HttpServerProbe&) = delete;
  HttpServerProbe& operator=(const HttpServerProbe&) = delete;

  // A connection was accepted within max_connections, or (`reserved`) beyond it for the
  // reserved paths only.
  void OnAccepted(bool reserved) { (reserved ? reserved_ : accepted_)->Inc(); }
  // A connection was refused because every slot was taken.
  void OnRejected() { rejected_->Inc(); }
  // An idle connection was closed to make room for a new one.
  void OnEvicted() { evicted_->Inc(); }
  // A session started or ended (streamrec_http_connections_active).
  void OnSessionOpened() { active_->Add(1); }
  void OnSessionClosed() { active_->Add(-1); }
  // A slow request was refused because max_blocking_requests were in flight.
  void OnBlockingRejected() { blocking_rejected_->Inc(); }
  void OnError(Error error);

 private:
  // Owned by the registry.
  Gauge* active_;
  Counter* accepted_;
  Counter* rejected_;
  Counter* reserved_;
  Counter* evicted_;
  Counter* blocking_rejected_;
  Counter* body_limit_;
  Counter* header_limit_;
  Counter* bad_request_;
  Counter* timeout_;
  Counter* handler_exception_;
};

}  // namespace streamrec::http
