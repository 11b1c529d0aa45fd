// HttpRouter: the HTTP API of DESIGN.md as a pure function of the request. It
// parses and validates parameters, calls one RecommendService method, renders JSON, and
// records per-route metrics. No sockets: the server (http_server.h) feeds it requests, tests
// call Handle() directly.
//
// Routes (errors are {"error":{"code":N,"message":"..."}} with status N):
//   GET    /v1/recommend?user=ID&k=10[&session=ID][&exclude_seen=true][&explore=N]
//            (user or session or both; session only = an anonymous session)
//   GET    /v1/similar?item=ID&k=10        GET /v1/popular?k=10
//   GET    /v1/next?item=ID&k=10           (what sessions click after ID; 404 unknown item)
//   GET    /v1/predict?user=ID&item=ID     GET /v1/info
//   POST   /v1/events   (application/json array or application/x-ndjson; bearer token when
//            ingest_token is set)
//            200 {"accepted":N,"rejected":[{"index":i,"reason":"..."}],"rejected_count":R}
//            once Kafka acknowledged the N accepted events; "rejected" lists the first 100
//            rejections only. 400 with the same fields plus "error" when every event was
//            rejected; 503 with "failed":F when F valid events were not acknowledged (send
//            them again); 429 with Retry-After past the client's request rate.
//   GET    /healthz  /readyz  /metrics  /  (dashboard page)
//   POST   /admin/checkpoint                200 {"status":"ok"}              (bearer token)
//   DELETE /v1/users/ID                     202 {"user":ID,"status":"forget_user produced"}
//                                                                            (bearer token)
// Status codes: 400 bad/missing parameter (the message names it), 401 missing/wrong token,
// 403 admin API disabled, 404 unknown route, 405 wrong method (with Allow), 415 wrong
// Content-Type, 429 too many requests; service errors map InvalidArgument -> 400, NotFound ->
// 404, Unavailable -> 503, anything else -> 500. HEAD is answered on every GET route (the
// transport sends the headers only).
//
// Query strings are split on '&', keys and values percent-decoded ('+' is a space); a value
// that is badly encoded, contains NUL, is not UTF-8, or (for ids) is longer than max_id_bytes
// is a 400. When a parameter repeats, the first one counts.
//
// Thread safety: Handle may be called concurrently from any number of threads; the router's
// state after construction is read-only apart from atomics.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/metrics.h"
#include "common/status.h"
#include "daemon/rate_limiter.h"
#include "daemon/recommend_service.h"
#include "daemon/route_helpers.h"
#include "daemon/router_probe.h"
#include "http/http_message.h"

namespace streamrec::daemon {

struct RouterOptions {
  // Bearer token required by POST /admin/checkpoint and DELETE /v1/users/ID, compared in
  // constant time. Empty = the admin API is disabled (403). Not reloadable.
  std::string admin_token;
  // Longest id (user, item, session) accepted, in bytes after percent-decoding; longer is a
  // 400. Bounds the work and the memory an id can cost.
  size_t max_id_bytes = 256;
  // Bearer token required by POST /v1/events (the admin token also passes); empty = open.
  std::string ingest_token;
  // POST /v1/events requests a second per client address, and the burst allowed; beyond: 429.
  double ingest_requests_per_s = 100;
  double ingest_burst = 200;
};

class HttpRouter final : public http::HttpHandler {
 public:
  // k bounds of every top-k route.
  static constexpr uint32_t kDefaultK = 10;
  static constexpr uint32_t kMaxK = 1000;

  // `service` and `metrics` are borrowed and must outlive the router. Registers
  // streamrec_http_request_duration_seconds{route} and streamrec_http_requests_total{route,code}
  // (route = the route pattern, "other" for unknown paths).
  HttpRouter(RecommendService& service, MetricsRegistry& metrics, RouterOptions options);
  ~HttpRouter() override;

  http::HttpResponse Handle(const http::HttpRequest& request) override;
  // POST /v1/events waits for Kafka's acknowledgements, the admin routes for a checkpoint or
  // a produce: the server runs them off its network threads.
  bool MayBlock(const http::HttpRequest& request) const override;

 private:
  enum Route : int;
  static constexpr size_t kNumRoutes = 14;

  http::HttpResponse Dispatch(Route route, std::string_view query, std::string_view path_param,
                              const http::HttpRequest& request);

  RecommendService& service_;
  MetricsRegistry& metrics_;
  const RouterOptions options_;
  RateLimiter ingest_limiter_;
  RouterProbe probe_;
};

}  // namespace streamrec::daemon
