#include "http/http_server_probe.h"

#include <string>

namespace streamrec::http {

HttpServerProbe::HttpServerProbe(MetricsRegistry& metrics) {
  active_ =
      &metrics.AddGauge("streamrec_http_connections_active", "HTTP connections currently open.");
  accepted_ = &metrics.AddCounter("streamrec_http_connections_accepted_total",
                                  "HTTP connections accepted.");
  rejected_ = &metrics.AddCounter("streamrec_http_connections_rejected_total",
                                  "HTTP connections refused because max_connections were open.");
  reserved_ = &metrics.AddCounter(
      "streamrec_http_connections_reserved_total",
      "HTTP connections accepted beyond max_connections for health and metrics only.");
  evicted_ = &metrics.AddCounter(
      "streamrec_http_connections_evicted_total",
      "Idle HTTP connections closed to make room for a new one when every slot was taken.");
  blocking_rejected_ = &metrics.AddCounter(
      "streamrec_http_blocking_rejected_total",
      "Requests refused (503) because max_blocking_requests slow requests were in flight.");
  const std::string help =
      "HTTP requests refused or connections dropped by the transport, by reason.";
  const std::string name = "streamrec_http_transport_errors_total";
  body_limit_ = &metrics.AddCounter(name, help, {{"reason", "body_limit"}});
  header_limit_ = &metrics.AddCounter(name, help, {{"reason", "header_limit"}});
  bad_request_ = &metrics.AddCounter(name, help, {{"reason", "bad_request"}});
  timeout_ = &metrics.AddCounter(name, help, {{"reason", "timeout"}});
  handler_exception_ = &metrics.AddCounter(name, help, {{"reason", "handler_exception"}});
}

void HttpServerProbe::OnError(Error error) {
  switch (error) {
    case Error::kBodyLimit:
      body_limit_->Inc();
      return;
    case Error::kHeaderLimit:
      header_limit_->Inc();
      return;
    case Error::kBadRequest:
      bad_request_->Inc();
      return;
    case Error::kTimeout:
      timeout_->Inc();
      return;
    case Error::kHandlerException:
      handler_exception_->Inc();
      return;
  }
}

}  // namespace streamrec::http
