#include "daemon/http_router.h"

#include <chrono>
#include <cmath>
#include <exception>
#include <initializer_list>
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

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int HttpStatusOf(const Status& status) {
  switch (status.code()) {
    case Status::Code::kInvalidArgument:
      return 400;
    case Status::Code::kNotFound:
      return 404;
    case Status::Code::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

HttpResponse ErrorFromStatus(const Status& status) {
  return JsonError(HttpStatusOf(status), status.message());
}

HttpResponse JsonOk(std::string body, int status = 200) {
  HttpResponse res;
  res.status = status;
  res.body = std::move(body);
  return res;
}

const std::string* FindParam(const QueryParams& params, std::string_view key) {
  for (const auto& [k, v] : params) {
    if (k == key) return &v;
  }
  return nullptr;
}

// Checks a decoded id: UTF-8, bounded length.
Status ValidateId(std::string_view name, std::string_view value, size_t max_bytes) {
  if (value.size() > max_bytes) {
    return Status::InvalidArgument("parameter '" + std::string(name) + "' is longer than " +
                                   std::to_string(max_bytes) + " bytes");
  }
  if (!IsValidUtf8(value)) {
    return Status::InvalidArgument("parameter '" + std::string(name) + "' is not valid UTF-8");
  }
  if (HasControlCharacter(value)) {
    return Status::InvalidArgument("parameter '" + std::string(name) +
                                   "' contains a control character");
  }
  return Status::Ok();
}

// An id parameter; empty string when absent or empty.
Result<std::string> OptionalId(const QueryParams& params, std::string_view name, size_t max_bytes) {
  const std::string* v = FindParam(params, name);
  if (v == nullptr) return std::string();
  STREAMREC_RETURN_IF_ERROR(ValidateId(name, *v, max_bytes));
  return *v;
}

Result<std::string> RequiredId(const QueryParams& params, std::string_view name, size_t max_bytes) {
  Result<std::string> id = OptionalId(params, name, max_bytes);
  if (id.ok() && id->empty()) {
    return Status::InvalidArgument("missing parameter '" + std::string(name) + "'");
  }
  return id;
}

// Parses a decimal integer made of 1..9 digits (no sign, no spaces) into [lo, hi].
std::optional<int64_t> ParseBoundedInt(std::string_view s, int64_t lo, int64_t hi) {
  if (s.empty() || s.size() > 9) return std::nullopt;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  if (v < lo || v > hi) return std::nullopt;
  return v;
}

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

void AppendItems(std::string& out, const std::vector<ScoredId>& items) {
  out += '[';
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ',';
    out += "{\"item\":";
    AppendJsonString(items[i].item, &out);
    out += ",\"score\":";
    AppendJsonNumber(out, items[i].score);
    out += ",\"source\":";
    AppendJsonString(items[i].source, &out);
    if (items[i].propensity >= 0.0) {
      out += ",\"propensity\":";
      AppendJsonNumber(out, items[i].propensity);
    }
    out += '}';
  }
  out += ']';
}

// ASCII-lowercase media type of a Content-Type value, without parameters and spaces.
std::string MediaType(std::string_view content_type) {
  content_type = content_type.substr(0, content_type.find(';'));
  while (!content_type.empty() && (content_type.front() == ' ' || content_type.front() == '\t')) {
    content_type.remove_prefix(1);
  }
  while (!content_type.empty() && (content_type.back() == ' ' || content_type.back() == '\t')) {
    content_type.remove_suffix(1);
  }
  std::string out(content_type);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool IsBlank(std::string_view s) {
  for (char c : s) {
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return false;
  }
  return true;
}

// True when `authorization` is "Bearer <token>" (scheme in any case) for one of the non-empty
// `tokens`, compared in constant time.
bool BearerMatches(std::string_view authorization, std::initializer_list<std::string_view> tokens) {
  constexpr std::string_view kBearer = "bearer ";
  bool scheme_ok = authorization.size() > kBearer.size();
  for (size_t i = 0; scheme_ok && i < kBearer.size(); ++i) {
    const char c = authorization[i];
    scheme_ok = (c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c) == kBearer[i];
  }
  if (!scheme_ok) return false;
  bool match = false;
  for (std::string_view token : tokens) {
    match |= !token.empty() && ConstantTimeEquals(authorization.substr(kBearer.size()), token);
  }
  return match;
}

HttpResponse Unauthorized() {
  HttpResponse res = JsonError(401, "missing or wrong bearer token");
  res.headers.emplace_back("WWW-Authenticate", "Bearer");
  return res;
}

double MonotonicSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Free helpers

Result<std::string> PercentDecode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size()) {
        return Status::InvalidArgument("bad percent-encoding: truncated escape");
      }
      const int h = HexValue(s[i + 1]);
      const int l = HexValue(s[i + 2]);
      if (h < 0 || l < 0) return Status::InvalidArgument("bad percent-encoding: non-hex escape");
      c = static_cast<char>(h * 16 + l);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      c = ' ';
    }
    if (c == '\0') return Status::InvalidArgument("NUL byte");
    out += c;
  }
  return out;
}

Result<QueryParams> ParseQuery(std::string_view query) {
  QueryParams params;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    Result<std::string> key = PercentDecode(pair.substr(0, eq), /*plus_is_space=*/true);
    if (!key.ok()) return key.status();
    Result<std::string> value = eq == std::string_view::npos
                                    ? Result<std::string>(std::string())
                                    : PercentDecode(pair.substr(eq + 1), /*plus_is_space=*/true);
    if (!value.ok()) {
      std::string name = *key;
      if (name.size() > 64) name.resize(64);
      return Status::InvalidArgument(value.status().message() + " in parameter '" + name + "'");
    }
    params.emplace_back(std::move(*key), std::move(*value));
  }
  return params;
}

std::string RenderRecommendationJson(const Recommendation& rec) {
  std::string out;
  out.reserve(64 + rec.user.size() + rec.rec_id.size() + rec.items.size() * 64);
  out += "{\"user\":";
  AppendJsonString(rec.user, &out);
  out += ",\"rec_id\":";
  AppendJsonString(rec.rec_id, &out);
  out += ",\"items\":";
  AppendItems(out, rec.items);
  out += '}';
  return out;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  const size_t n = a.size() > b.size() ? a.size() : b.size();
  unsigned diff = a.size() == b.size() ? 0u : 1u;
  for (size_t i = 0; i < n; ++i) {
    const unsigned char ca = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char cb = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned>(ca ^ cb);
  }
  return diff == 0;
}

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
