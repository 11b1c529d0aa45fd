// HttpServer: HTTP/1.1 on Boost.Beast + Asio. A listener accepts connections;
// each connection is a session on its own strand that reads one request at a time
// (do_read/on_read), hands it to an HttpHandler (the router) and writes the answer, with
// keep-alive, timeouts and size limits. N threads run one io_context. Beast stays inside
// http_server.cc: this header is all the daemon sees.
//
// Limits and what a client gets when it breaks one:
//   body > max_body_bytes            -> 413 JSON error, connection closed
//   header > max_header_bytes        -> 431 JSON error, connection closed
//   malformed request line/headers   -> 400 JSON error, connection closed
//   no request within idle_timeout   -> connection closed
//   request/response slower than request_timeout -> connection closed
//   more than max_connections open   -> up to reserved_connections more are accepted for
//                                       the reserved paths (/healthz, /readyz, /metrics: one
//                                       request each, short idle timeout), anything else on
//                                       them gets 503; beyond that the connection idle the
//                                       longest is closed to make room, and when none is idle
//                                       the new one gets a best-effort 503 at once
//   HTTP/1.1 request without Host    -> 400
//   HEAD                             -> the GET answer's headers, no body
//   a request the handler may block on (HttpHandler::MayBlock) runs on one of
//   blocking_threads; more than max_blocking_requests of them at once -> 503
//
// Thread safety: Start, Stop and port may be called from any thread, but Start/Stop must not be
// called from inside a handler (Stop joins the server threads). The handler is called
// concurrently from all server threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/metrics.h"
#include "common/status.h"
#include "http/http_message.h"

namespace streamrec::http {

struct HttpServerOptions {
  // Address to bind (IPv4 or IPv6 literal). The default keeps the API on loopback; set
  // "0.0.0.0" deliberately to expose it. Needs restart.
  std::string bind_address = "127.0.0.1";
  // TCP port; 0 picks an ephemeral port (read it back with HttpServer::port()).
  uint16_t port = 0;
  // Threads running the io_context. More threads serve more concurrent connections; requests
  // are short and CPU-bound, so more than the core count does not help.
  int threads = 2;
  // Largest request body in bytes (POST /v1/events); larger gets 413 before it is read.
  size_t max_body_bytes = 1 << 20;
  // Largest request line plus headers, in bytes; larger gets 431.
  size_t max_header_bytes = 16 << 10;
  // Connections open at once; further ones get a best-effort 503 and are closed. Each costs a
  // file descriptor and a few KiB of buffers.
  size_t max_connections = 1024;
  // Connections accepted beyond max_connections for `reserved_paths` only, so that an
  // orchestrator's liveness and readiness probes and the metrics scraper are answered while
  // the cap is full (a flood must not get a healthy daemon restarted). Each serves one request
  // and waits at most reserved_idle_timeout_ms for it.
  size_t reserved_connections = 64;
  std::vector<std::string> reserved_paths = {"/healthz", "/readyz", "/metrics"};
  int64_t reserved_idle_timeout_ms = 2000;
  // Threads for requests the handler may block on (POST /v1/events waits for Kafka), and how
  // many such requests may be in flight at once (queued or running); beyond it, 503.
  int blocking_threads = 4;
  size_t max_blocking_requests = 256;
  // How long a connection may wait for the first byte of its next request (after accept or
  // after the previous response) before it is closed.
  int64_t idle_timeout_ms = 30000;
  // How long one request may take from its first byte to its last, and again for writing the
  // response; bounds slow senders and slow readers.
  int64_t request_timeout_ms = 10000;
  // Stop() waits this long for sessions to finish their current response before it stops the
  // io_context anyway.
  int64_t stop_grace_ms = 2000;
};

class HttpServer {
 public:
  // `handler` is borrowed and must outlive the server. `metrics` (borrowed, may be null, must
  // outlive the server) receives streamrec_http_connections_* and
  // streamrec_http_transport_errors_total.
  HttpServer(HttpServerOptions options, HttpHandler& handler, MetricsRegistry* metrics = nullptr);
  // Calls Stop().
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds, listens and starts the threads. InvalidArgument for a bad address or options,
  // IOError when the port cannot be bound, FailedPrecondition when called twice.
  Status Start();

  // Graceful stop: closes the listening socket, lets responses in flight finish (up to
  // stop_grace_ms), closes every connection, joins the threads. Idempotent; a no-op before
  // Start.
  void Stop();

  // The bound port (the ephemeral one when options.port was 0); 0 before Start.
  uint16_t port() const;

  // Connections currently open.
  size_t active_connections() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace streamrec::http
