#include "daemon/http_router.h"

#include <chrono>
#include <cmath>
#include <exception>
#include <iterator>
#include <optional>

#include "daemon/dashboard.h"

namespace streamrec::daemon {

using http::HttpRequest;
using http::HttpResponse;
using http::JsonError;

enum HttpRouter::Route : int {
  kRecommend = 0,
  kSimilar,
  kNext,
  kPopular,
  kPredict,
  kInfo,
  kEvents,
  kForgetUser,
  kCheckpoint,
  kHealthz,
  kReadyz,
  kMetrics,
  kDashboard,
  kOther,  // unknown paths; must stay last
};

namespace {

struct RouteInfo {
  std::string_view pattern;  // also the metrics label
  std::string_view method;
};

// Indexed by HttpRouter::Route.
constexpr RouteInfo kRoutes[] = {
    {"/v1/recommend", "GET"},
    {"/v1/similar", "GET"},
    {"/v1/next", "GET"},
    {"/v1/popular", "GET"},
    {"/v1/predict", "GET"},
    {"/v1/info", "GET"},
    {"/v1/events", "POST"},
    {"/v1/users/{user}", "DELETE"},
    {"/admin/checkpoint", "POST"},
    {"/healthz", "GET"},
    {"/readyz", "GET"},
    {"/metrics", "GET"},
    {"/", "GET"},
    {"other", ""},
};

constexpr std::string_view kUsersPrefix = "/v1/users/";

constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

Result<uint32_t> ParseK(const QueryParams& params) {
  const std::string* v = FindParam(params, "k");
  if (v == nullptr) return HttpRouter::kDefaultK;
  const auto k = ParseBoundedInt(*v, 1, HttpRouter::kMaxK);
  if (!k) {
    return Status::InvalidArgument("parameter 'k' must be an integer in [1, " +
                                   std::to_string(HttpRouter::kMaxK) + "]");
  }
  return static_cast<uint32_t>(*k);
}

double MonotonicSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// HttpRouter

namespace {

// The `route` labels of the metrics, indexed by Route.
std::vector<std::string> RoutePatterns() {
  std::vector<std::string> patterns;
  for (const RouteInfo& r : kRoutes) patterns.emplace_back(r.pattern);
  return patterns;
}

}  // namespace

HttpRouter::HttpRouter(RecommendService& service, MetricsRegistry& metrics, RouterOptions options)
    : service_(service),
      metrics_(metrics),
      options_(std::move(options)),
      ingest_limiter_(options_.ingest_requests_per_s, options_.ingest_burst),
      probe_(metrics, RoutePatterns()) {
  static_assert(std::size(kRoutes) == kNumRoutes);
}

HttpRouter::~HttpRouter() = default;

HttpResponse HttpRouter::Handle(const HttpRequest& request) {
  const auto start = std::chrono::steady_clock::now();
  const size_t qmark = request.target.find('?');
  const std::string_view path = request.target.substr(0, qmark);
  const std::string_view query =
      qmark == std::string_view::npos ? std::string_view() : request.target.substr(qmark + 1);

  Route route = kOther;
  std::string_view path_param;
  for (int r = 0; r < kOther; ++r) {
    if (path == kRoutes[r].pattern) {
      route = static_cast<Route>(r);
      break;
    }
  }
  if (route == kOther && path.size() > kUsersPrefix.size() &&
      path.substr(0, kUsersPrefix.size()) == kUsersPrefix &&
      path.find('/', kUsersPrefix.size()) == std::string_view::npos) {
    route = kForgetUser;
    path_param = path.substr(kUsersPrefix.size());
  }

  HttpResponse res;
  // HEAD is GET without the body (the transport leaves it out).
  const bool head_as_get = request.method == "HEAD" && kRoutes[route].method == "GET";
  if (route == kOther) {
    std::string shown(path.substr(0, 200));
    res = JsonError(404, "no route for '" + shown + "'");
  } else if (request.method != kRoutes[route].method && !head_as_get) {
    res = JsonError(405, "method " + std::string(request.method.substr(0, 16)) +
                             " not allowed on " + std::string(kRoutes[route].pattern) + "; use " +
                             std::string(kRoutes[route].method));
    res.headers.emplace_back("Allow", kRoutes[route].method == "GET"
                                          ? std::string("GET, HEAD")
                                          : std::string(kRoutes[route].method));
  } else {
    try {
      res = Dispatch(route, query, path_param, request);
    } catch (const std::exception& e) {
      res = JsonError(500, std::string("internal error: ") + e.what());
    } catch (...) {
      res = JsonError(500, "internal error");
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  probe_.OnRequest(route, res.status, seconds);
  return res;
}

bool HttpRouter::MayBlock(const HttpRequest& request) const {
  if (request.method != "POST" && request.method != "DELETE") return false;
  const std::string_view path = request.target.substr(0, request.target.find('?'));
  return path == "/v1/events" || path == "/admin/checkpoint" ||
         path.substr(0, kUsersPrefix.size()) == kUsersPrefix;
}

HttpResponse HttpRouter::Dispatch(Route route, std::string_view query, std::string_view path_param,
                                  const HttpRequest& request) {
  // Admin routes authenticate before looking at anything else.
  if (route == kCheckpoint || route == kForgetUser) {
    if (options_.admin_token.empty()) {
      return JsonError(403, "admin API disabled: set admin_token");
    }
    if (!BearerMatches(request.authorization, {options_.admin_token})) return Unauthorized();
  }

  switch (route) {
    case kHealthz:
      return JsonOk("{\"status\":\"ok\"}");
    case kReadyz:
      if (const Status ready = service_.Readiness(); !ready.ok()) {
        return JsonError(503, "not ready: " + ready.message());
      }
      return JsonOk("{\"status\":\"ready\"}");
    case kMetrics: {
      HttpResponse res;
      res.content_type = kMetricsContentType;
      res.body = metrics_.RenderPrometheus();
      return res;
    }
    case kDashboard: {
      HttpResponse res;
      res.content_type = "text/html; charset=utf-8";
      res.body = DashboardHtml();
      res.headers.emplace_back("Cache-Control", "no-store");
      return res;
    }
    case kInfo:
      return JsonOk(service_.InfoJson());
    case kCheckpoint: {
      const Status st = service_.Checkpoint();
      if (!st.ok()) return ErrorFromStatus(st);
      return JsonOk("{\"status\":\"ok\"}");
    }
    case kForgetUser: {
      Result<std::string> user = PercentDecode(path_param, /*plus_is_space=*/false);
      if (!user.ok()) return JsonError(400, user.status().message() + " in user id");
      const Status valid = ValidateId("user", *user, options_.max_id_bytes);
      if (!valid.ok()) return ErrorFromStatus(valid);
      const Status st = service_.ForgetUser(*user);
      if (!st.ok()) return ErrorFromStatus(st);
      std::string body = "{\"user\":";
      AppendJsonString(*user, &body);
      body += ",\"status\":\"forget_user produced\"}";
      return JsonOk(std::move(body), 202);
    }
    case kEvents: {
      if (!options_.ingest_token.empty() &&
          !BearerMatches(request.authorization, {options_.ingest_token, options_.admin_token})) {
        return Unauthorized();
      }
      if (double retry_s = 0;
          !ingest_limiter_.TryTake(request.remote_address, 1.0, MonotonicSeconds(), &retry_s)) {
        HttpResponse res = JsonError(429, "too many requests from this client: at most " +
                                              std::to_string(options_.ingest_requests_per_s) +
                                              " POST /v1/events a second");
        res.headers.emplace_back("Retry-After",
                                 std::to_string(static_cast<int64_t>(std::ceil(retry_s))));
        return res;
      }
      const std::string media = MediaType(request.content_type);
      if (media != "application/json" && media != "application/x-ndjson") {
        return JsonError(415, "Content-Type must be application/json or application/x-ndjson");
      }
      if (IsBlank(request.body)) return JsonError(400, "empty body: expected events");
      Result<PostEventsResult> posted = service_.PostEvents(request.body, request.remote_address);
      if (!posted.ok()) return ErrorFromStatus(posted.status());
      const bool all_rejected =
          posted->accepted == 0 && posted->failed == 0 && posted->rejected_count > 0;
      const int status = posted->failed > 0 ? 503 : all_rejected ? 400 : 200;
      std::string body = "{";
      if (status != 200) {
        body += "\"error\":{\"code\":" + std::to_string(status) + ",\"message\":";
        AppendJsonString(posted->failed > 0
                             ? std::to_string(posted->failed) +
                                   " events were not acknowledged by Kafka (" +
                                   posted->delivery_error + "); send them again"
                             : "all " + std::to_string(posted->rejected_count) + " events rejected",
                         &body);
        body += "},";
      }
      body += "\"accepted\":" + std::to_string(posted->accepted);
      if (posted->failed > 0) body += ",\"failed\":" + std::to_string(posted->failed);
      body += ",\"rejected_count\":" + std::to_string(posted->rejected_count) + ",\"rejected\":[";
      for (size_t i = 0; i < posted->rejected.size(); ++i) {
        if (i > 0) body += ',';
        body += "{\"index\":" + std::to_string(posted->rejected[i].first) + ",\"reason\":";
        AppendJsonString(posted->rejected[i].second, &body);
        body += '}';
      }
      body += "]}";
      HttpResponse res = JsonOk(std::move(body), status);
      if (status == 503) res.headers.emplace_back("Retry-After", "5");
      return res;
    }
    default:
      break;
  }

  // The query routes.
  Result<QueryParams> parsed = ParseQuery(query);
  if (!parsed.ok()) return ErrorFromStatus(parsed.status());
  const QueryParams& params = *parsed;
  const size_t max_id = options_.max_id_bytes;

  switch (route) {
    case kRecommend: {
      RecommendRequest req;
      Result<std::string> user = OptionalId(params, "user", max_id);
      if (!user.ok()) return ErrorFromStatus(user.status());
      Result<std::string> session = OptionalId(params, "session", max_id);
      if (!session.ok()) return ErrorFromStatus(session.status());
      if (user->empty() && session->empty()) {
        return JsonError(400, "missing parameter 'user' (or 'session')");
      }
      Result<uint32_t> k = ParseK(params);
      if (!k.ok()) return ErrorFromStatus(k.status());
      req.user = std::move(*user);
      req.session = std::move(*session);
      req.k = *k;
      if (const std::string* v = FindParam(params, "exclude_seen")) {
        if (*v == "true" || *v == "1") {
          req.exclude_seen = true;
        } else if (*v == "false" || *v == "0") {
          req.exclude_seen = false;
        } else {
          return JsonError(400, "parameter 'exclude_seen' must be true, false, 1 or 0");
        }
      }
      if (const std::string* v = FindParam(params, "explore")) {
        const auto explore = ParseBoundedInt(*v, 0, req.k);
        if (!explore) {
          return JsonError(400, "parameter 'explore' must be an integer in [0, k]");
        }
        req.explore = static_cast<int32_t>(*explore);
      }
      Result<Recommendation> rec = service_.Recommend(req);
      if (!rec.ok()) return ErrorFromStatus(rec.status());
      return JsonOk(RenderRecommendationJson(*rec));
    }
    case kSimilar: {
      Result<std::string> item = RequiredId(params, "item", max_id);
      if (!item.ok()) return ErrorFromStatus(item.status());
      Result<uint32_t> k = ParseK(params);
      if (!k.ok()) return ErrorFromStatus(k.status());
      Result<std::vector<ScoredId>> similar = service_.Similar(*item, *k);
      if (!similar.ok()) return ErrorFromStatus(similar.status());
      std::string body = "{\"item\":";
      AppendJsonString(*item, &body);
      body += ",\"items\":";
      AppendItems(body, *similar);
      body += '}';
      return JsonOk(std::move(body));
    }
    case kNext: {
      Result<std::string> item = RequiredId(params, "item", max_id);
      if (!item.ok()) return ErrorFromStatus(item.status());
      Result<uint32_t> k = ParseK(params);
      if (!k.ok()) return ErrorFromStatus(k.status());
      Result<std::vector<ScoredId>> next = service_.Next(*item, *k);
      if (!next.ok()) return ErrorFromStatus(next.status());
      std::string body = "{\"item\":";
      AppendJsonString(*item, &body);
      body += ",\"items\":";
      AppendItems(body, *next);
      body += '}';
      return JsonOk(std::move(body));
    }
    case kPopular: {
      Result<uint32_t> k = ParseK(params);
      if (!k.ok()) return ErrorFromStatus(k.status());
      std::string body = "{\"items\":";
      AppendItems(body, service_.Popular(*k));
      body += '}';
      return JsonOk(std::move(body));
    }
    case kPredict: {
      Result<std::string> user = RequiredId(params, "user", max_id);
      if (!user.ok()) return ErrorFromStatus(user.status());
      Result<std::string> item = RequiredId(params, "item", max_id);
      if (!item.ok()) return ErrorFromStatus(item.status());
      Result<PredictResult> predicted = service_.Predict(*user, *item);
      if (!predicted.ok()) return ErrorFromStatus(predicted.status());
      std::string body = "{\"user\":";
      AppendJsonString(*user, &body);
      body += ",\"item\":";
      AppendJsonString(*item, &body);
      body += ",\"rating\":";
      AppendJsonNumber(body, predicted->rating);
      body += ",\"known\":";
      body += predicted->known ? "true" : "false";
      body += '}';
      return JsonOk(std::move(body));
    }
    default:
      return JsonError(500, "route without handler");
  }
}

}  // namespace streamrec::daemon
