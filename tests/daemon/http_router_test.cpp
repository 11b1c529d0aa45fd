// HttpRouter without sockets: every route, the bad-input table, JSON escaping, metrics.
#include "daemon/http_router.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <string>

#include "daemon/dashboard.h"
#include "tests/daemon/fake_service.h"

namespace streamrec::daemon {
namespace {

using ::streamrec::http::HttpRequest;
using ::streamrec::http::HttpResponse;

using json = nlohmann::json;
using testing::FakeRecommendService;

struct RouterFixture {
  FakeRecommendService svc;
  MetricsRegistry metrics;
  HttpRouter router;

  explicit RouterFixture(RouterOptions options = Options())
      : router(svc, metrics, std::move(options)) {}

  static RouterOptions Options() {
    RouterOptions o;
    o.admin_token = "s3cret";
    return o;
  }

  // POST /v1/events with one event, from `client`.
  HttpResponse PostOne(std::string_view auth, std::string_view client = "127.0.0.1") {
    return Call("POST", "/v1/events", "{\"a\":1}", "application/json", auth, client);
  }

  HttpResponse Get(std::string_view target) { return Call("GET", target); }
  HttpResponse Call(std::string_view method, std::string_view target, std::string_view body = {},
                    std::string_view content_type = {}, std::string_view auth = {},
                    std::string_view client = "127.0.0.1") {
    HttpRequest req;
    req.remote_address = client;
    req.method = method;
    req.target = target;
    req.body = body;
    req.content_type = content_type;
    req.authorization = auth;
    return router.Handle(req);
  }
};

json Parse(const HttpResponse& res) {
  INFO("body: " << res.body);
  REQUIRE(res.content_type == "application/json");
  return json::parse(res.body);
}

std::string ErrorMessage(const HttpResponse& res) {
  const json j = Parse(res);
  REQUIRE(j.contains("error"));
  CHECK(j["error"]["code"] == res.status);
  return j["error"]["message"].get<std::string>();
}

TEST_CASE("http router: recommend happy path", "[http][router]") {
  RouterFixture f;
  const HttpResponse res = f.Get("/v1/recommend?user=u42&k=3");
  REQUIRE(res.status == 200);
  const json j = Parse(res);
  CHECK(j["user"] == "u42");
  CHECK(j["rec_id"] == "r-u42-3");
  REQUIRE(j["items"].size() == 3);
  CHECK(j["items"][0]["item"] == "u42-i0");
  CHECK(j["items"][0]["score"] == 3.0);
  CHECK(j["items"][0]["source"] == "bpr");
  CHECK(j["items"][2]["item"] == "u42-i2");
  // Defaults reach the service.
  std::lock_guard<std::mutex> lock(f.svc.mu);
  CHECK(f.svc.last_request.exclude_seen);
  CHECK(f.svc.last_request.explore == -1);
  CHECK(f.svc.last_request.session.empty());
}

TEST_CASE("http router: recommend options reach the service", "[http][router]") {
  RouterFixture f;
  SECTION("default k is 10") {
    const json j = Parse(f.Get("/v1/recommend?user=u1"));
    CHECK(j["items"].size() == 10);
  }
  SECTION("exclude_seen, explore and session") {
    const HttpResponse res =
        f.Get("/v1/recommend?user=u1&k=5&exclude_seen=false&explore=2&session=s%209");
    REQUIRE(res.status == 200);
    const json j = Parse(res);
    CHECK(j["rec_id"] == "r-u1-5+seen");
    CHECK(j["items"][2]["source"] == "bpr");
    CHECK(j["items"][3]["source"] == "explore:thompson");
    CHECK(j["items"][4]["source"] == "explore:thompson");
    std::lock_guard<std::mutex> lock(f.svc.mu);
    CHECK(f.svc.last_request.session == "s 9");
    CHECK(f.svc.last_request.explore == 2);
    CHECK_FALSE(f.svc.last_request.exclude_seen);
  }
  SECTION("exclude_seen=1 and explore=k are accepted") {
    CHECK(f.Get("/v1/recommend?user=u1&k=4&exclude_seen=1&explore=4").status == 200);
  }
  SECTION("session alone is enough") {
    const json j = Parse(f.Get("/v1/recommend?session=s1&k=2"));
    CHECK(j["user"] == "");
    CHECK(j["items"][0]["item"] == "s1-i0");
    CHECK(j["items"][0]["source"] == "session");
  }
  SECTION("user and session together reach the service") {
    const json j = Parse(f.Get("/v1/recommend?user=u3&session=abc&k=2"));
    CHECK(j["user"] == "u3");
    std::lock_guard<std::mutex> lock(f.svc.mu);
    CHECK(f.svc.last_request.user == "u3");
    CHECK(f.svc.last_request.session == "abc");
  }
  SECTION("an empty session parameter is no session") {
    CHECK(f.Get("/v1/recommend?user=u3&session=").status == 200);
    std::lock_guard<std::mutex> lock(f.svc.mu);
    CHECK(f.svc.last_request.session.empty());
  }
  SECTION("k=1000 is the upper bound") {
    const json j = Parse(f.Get("/v1/recommend?user=u1&k=1000"));
    CHECK(j["items"].size() == 1000);
  }
  SECTION("percent-decoded UTF-8 user id") {
    const json j = Parse(f.Get("/v1/recommend?user=%C3%BCser%2B1+x&k=1"));
    CHECK(j["user"] == "\xC3\xBCser+1 x");
  }
}

TEST_CASE("http router: similar, popular, predict, info", "[http][router]") {
  RouterFixture f;
  {
    const json j = Parse(f.Get("/v1/similar?item=m7&k=2"));
    CHECK(j["item"] == "m7");
    REQUIRE(j["items"].size() == 2);
    CHECK(j["items"][1]["item"] == "m7~1");
    CHECK(j["items"][1]["score"].get<double>() == Approx(0.99));
  }
  {
    const json j = Parse(f.Get("/v1/popular?k=4"));
    REQUIRE(j["items"].size() == 4);
    CHECK(j["items"][3]["item"] == "pop3");
    CHECK(j["items"][3]["score"] == 0.25);
    CHECK(j["items"][3]["source"] == "popular");
    CHECK(Parse(f.Get("/v1/popular"))["items"].size() == 10);
  }
  {
    const json j = Parse(f.Get("/v1/predict?user=abc&item=m1"));
    CHECK(j["user"] == "abc");
    CHECK(j["item"] == "m1");
    CHECK(j["rating"].get<double>() == Approx(3.2));
    CHECK(j["known"] == true);
    CHECK(Parse(f.Get("/v1/predict?user=abc&item=cold"))["known"] == false);
  }
  {
    const HttpResponse res = f.Get("/v1/info");
    REQUIRE(res.status == 200);
    CHECK(Parse(res)["model"]["items"] == 42);
  }
}

TEST_CASE("http router: next items after an item", "[http][router]") {
  RouterFixture f;
  const HttpResponse res = f.Get("/v1/next?item=m%207&k=3");
  REQUIRE(res.status == 200);
  const json j = Parse(res);
  CHECK(j["item"] == "m 7");
  REQUIRE(j["items"].size() == 3);
  CHECK(j["items"][0]["item"] == "m 7>n0");
  CHECK(j["items"][2]["score"].get<double>() == Approx(0.98));
  CHECK(j["items"][0]["source"] == "session");
  CHECK(Parse(f.Get("/v1/next?item=m1"))["items"].size() == 10);
  // Metrics label the route by its pattern.
  CHECK_THAT(f.metrics.RenderPrometheus(), Catch::Contains("route=\"/v1/next\""));
}

TEST_CASE("http router: health, readiness, metrics, dashboard", "[http][router]") {
  RouterFixture f;
  CHECK(f.Get("/healthz").status == 200);
  CHECK(Parse(f.Get("/healthz"))["status"] == "ok");
  CHECK(f.Get("/readyz").status == 200);
  f.svc.ready = false;
  const HttpResponse not_ready = f.Get("/readyz");
  CHECK(not_ready.status == 503);
  CHECK_THAT(ErrorMessage(not_ready), Catch::Contains("not ready"));

  f.Get("/v1/recommend?user=u1");
  f.Get("/nope");
  const HttpResponse m = f.Get("/metrics");
  REQUIRE(m.status == 200);
  CHECK(m.content_type == "text/plain; version=0.0.4; charset=utf-8");
  CHECK_THAT(
      m.body,
      Catch::Contains("streamrec_http_requests_total{route=\"/v1/recommend\",code=\"200\"} 1\n"));
  CHECK_THAT(m.body,
             Catch::Contains("streamrec_http_requests_total{route=\"other\",code=\"404\"} 1\n"));
  CHECK_THAT(m.body, Catch::Contains("streamrec_http_request_duration_seconds_count{route=\"/v1/"
                                     "recommend\"} 1\n"));

  const HttpResponse page = f.Get("/");
  REQUIRE(page.status == 200);
  CHECK(page.content_type == "text/html; charset=utf-8");
  CHECK(page.body == DashboardHtml());
  CHECK_THAT(page.body, Catch::Contains("/v1/recommend"));
  CHECK_THAT(page.body, Catch::Contains("/metrics"));
}

TEST_CASE("http router: POST /v1/events", "[http][router]") {
  RouterFixture f;
  SECTION("JSON array, one rejected") {
    const HttpResponse res = f.Call("POST", "/v1/events", R"([{"a":1},{"bad":1},{"c":1}])",
                                    "application/json; charset=utf-8");
    REQUIRE(res.status == 200);
    const json j = Parse(res);
    CHECK(j["accepted"] == 2);
    REQUIRE(j["rejected"].size() == 1);
    CHECK(j["rejected"][0]["index"] == 1);
    CHECK(j["rejected"][0]["reason"] == "bad event");
  }
  SECTION("NDJSON") {
    const json j =
        Parse(f.Call("POST", "/v1/events", "{\"a\":1}\n{\"b\":2}\n", "application/x-ndjson"));
    CHECK(j["accepted"] == 2);
    CHECK(j["rejected"].empty());
  }
  SECTION("everything rejected is a 400 that still lists the reasons") {
    const HttpResponse res = f.Call("POST", "/v1/events", "{\"bad\":1}", "application/x-ndjson");
    CHECK(res.status == 400);
    const json j = Parse(res);
    CHECK(j["error"]["code"] == 400);
    CHECK(j["accepted"] == 0);
    CHECK(j["rejected"].size() == 1);
  }
  SECTION("wrong content type is 415") {
    const HttpResponse res = f.Call("POST", "/v1/events", "{}", "text/plain");
    CHECK(res.status == 415);
    CHECK(f.Call("POST", "/v1/events", "{}", "").status == 415);
  }
  SECTION("empty body is 400") {
    CHECK(f.Call("POST", "/v1/events", "  \n", "application/json").status == 400);
  }
  SECTION("service errors map to status codes") {
    CHECK(f.Call("POST", "/v1/events", "unavailable", "application/json").status == 503);
  }
}

TEST_CASE("http router: admin routes need the bearer token", "[http][router]") {
  RouterFixture f;
  SECTION("checkpoint") {
    const HttpResponse none = f.Call("POST", "/admin/checkpoint");
    CHECK(none.status == 401);
    CHECK(f.Call("POST", "/admin/checkpoint", {}, {}, "Bearer wrong").status == 401);
    CHECK(f.Call("POST", "/admin/checkpoint", {}, {}, "Bearer s3cret2").status == 401);
    CHECK(f.Call("POST", "/admin/checkpoint", {}, {}, "Basic s3cret").status == 401);
    CHECK(f.Call("POST", "/admin/checkpoint", {}, {}, "Bearer ").status == 401);
    CHECK(f.svc.checkpoints == 0);
    const HttpResponse ok = f.Call("POST", "/admin/checkpoint", {}, {}, "Bearer s3cret");
    CHECK(ok.status == 200);
    CHECK(f.svc.checkpoints == 1);
    CHECK(f.Call("POST", "/admin/checkpoint", {}, {}, "bearer s3cret").status == 200);
  }
  SECTION("forget user") {
    CHECK(f.Call("DELETE", "/v1/users/u9").status == 401);
    const HttpResponse ok = f.Call("DELETE", "/v1/users/u%209%2F1", {}, {}, "Bearer s3cret");
    CHECK(ok.status == 202);
    CHECK(Parse(ok)["user"] == "u 9/1");
    {
      std::lock_guard<std::mutex> lock(f.svc.mu);
      REQUIRE(f.svc.forgotten.size() == 1);
      CHECK(f.svc.forgotten[0] == "u 9/1");
    }
    CHECK(f.Call("DELETE", "/v1/users/missing", {}, {}, "Bearer s3cret").status == 404);
    CHECK(f.Call("DELETE", "/v1/users/%zz", {}, {}, "Bearer s3cret").status == 400);
    CHECK(f.Call("GET", "/v1/users/u9").status == 405);
    CHECK(f.Call("DELETE", "/v1/users/", {}, {}, "Bearer s3cret").status == 404);
    CHECK(f.Call("DELETE", "/v1/users/a/b", {}, {}, "Bearer s3cret").status == 404);
  }
  SECTION("no token configured disables the admin API") {
    HttpRouter open_router(f.svc, f.metrics, RouterOptions{});
    HttpRequest req;
    req.method = "POST";
    req.target = "/admin/checkpoint";
    req.authorization = "Bearer ";
    const HttpResponse res = open_router.Handle(req);
    CHECK(res.status == 403);
    CHECK(ErrorMessage(res) == "admin API disabled: set admin_token");
  }
}

TEST_CASE("http router: bad inputs", "[http][router]") {
  RouterFixture f;
  struct Case {
    std::string method;
    std::string target;
    int status;
    std::string message_part;
  };
  const Case cases[] = {
      {"GET", "/nope", 404, "no route"},
      {"GET", "/v1/recommendx?user=u1", 404, "no route"},
      {"GET", "/v1", 404, "no route"},
      {"POST", "/v1/recommend?user=u1", 405, "not allowed"},
      {"DELETE", "/metrics", 405, "not allowed"},
      {"GET", "/v1/events", 405, "not allowed"},
      {"GET", "/admin/checkpoint", 405, "not allowed"},
      {"GET", "/v1/recommend", 400, "'user'"},
      {"GET", "/v1/recommend?k=5", 400, "'user'"},
      {"GET", "/v1/recommend?user=&k=5", 400, "'user'"},
      {"GET", "/v1/recommend?user=u1&k=0", 400, "'k'"},
      {"GET", "/v1/recommend?user=u1&k=1001", 400, "'k'"},
      {"GET", "/v1/recommend?user=u1&k=abc", 400, "'k'"},
      {"GET", "/v1/recommend?user=u1&k=-1", 400, "'k'"},
      {"GET", "/v1/recommend?user=u1&k=", 400, "'k'"},
      {"GET", "/v1/recommend?user=u1&k=10.5", 400, "'k'"},
      {"GET", "/v1/recommend?user=u1&k=99999999999999999999", 400, "'k'"},
      {"GET", "/v1/recommend?user=u1&k=+5", 400, "'k'"},
      {"GET", "/v1/recommend?user=u1&exclude_seen=yes", 400, "'exclude_seen'"},
      {"GET", "/v1/recommend?user=u1&k=5&explore=6", 400, "'explore'"},
      {"GET", "/v1/recommend?user=u1&explore=-1", 400, "'explore'"},
      {"GET", "/v1/recommend?user=u1&explore=x", 400, "'explore'"},
      {"GET", "/v1/recommend?user=u%zz1", 400, "'user'"},
      {"GET", "/v1/recommend?user=u%4", 400, "percent-encoding"},
      {"GET", "/v1/recommend?user=u%", 400, "percent-encoding"},
      {"GET", "/v1/recommend?user=a%00b", 400, "NUL"},
      {"GET", "/v1/recommend?user=%C3%28", 400, "UTF-8"},
      {"GET", "/v1/recommend?user=" + std::string(257, 'x'), 400, "longer than 256"},
      {"GET", "/v1/recommend?session=%ff", 400, "'session'"},
      {"GET", "/v1/similar", 400, "'item'"},
      {"GET", "/v1/similar?item=m1&k=0", 400, "'k'"},
      {"GET", "/v1/popular?k=1001", 400, "'k'"},
      {"GET", "/v1/predict?user=u1", 400, "'item'"},
      {"GET", "/v1/predict?item=m1", 400, "'user'"},
      {"GET", "/v1/similar?item=missing", 404, "unknown item"},
      {"GET", "/v1/next", 400, "'item'"},
      {"GET", "/v1/next?item=", 400, "'item'"},
      {"GET", "/v1/next?item=m1&k=0", 400, "'k'"},
      {"GET", "/v1/next?item=m1&k=1001", 400, "'k'"},
      {"GET", "/v1/next?item=%C3%28", 400, "UTF-8"},
      {"GET", "/v1/next?item=" + std::string(257, 'x'), 400, "longer than 256"},
      {"GET", "/v1/next?item=missing", 404, "unknown item"},
      {"GET", "/v1/next?item=nomodel", 503, "no session model"},
      {"POST", "/v1/next?item=m1", 405, "not allowed"},
      {"GET", "/v1/recommend?session=" + std::string(257, 's'), 400, "longer than 256"},
      {"GET", "/v1/recommend?session=&k=3", 400, "'user'"},
      {"GET", "/v1/recommend?user=unavailable", 503, "model not loaded"},
      {"GET", "/v1/recommend?user=throw", 500, "boom"},
  };
  for (const Case& c : cases) {
    INFO(c.method << " " << c.target);
    const HttpResponse res = f.Call(c.method, c.target);
    CHECK(res.status == c.status);
    CHECK_THAT(ErrorMessage(res), Catch::Contains(c.message_part));
  }
  // 405 says what is allowed.
  const HttpResponse res = f.Call("PUT", "/v1/events");
  REQUIRE(res.status == 405);
  REQUIRE(res.headers.size() == 1);
  CHECK(res.headers[0].first == "Allow");
  CHECK(res.headers[0].second == "POST");
  // The k=1000 bound is inclusive, explore=0 is fine, a repeated parameter takes the first.
  CHECK(f.Get("/v1/recommend?user=u1&k=1000&explore=0").status == 200);
  CHECK(Parse(f.Get("/v1/recommend?user=u1&k=2&k=abc"))["items"].size() == 2);
}

TEST_CASE("http router: odd ids are escaped into valid JSON", "[http][router]") {
  const std::string odd_ids[] = {
      "quote\"inside",
      "back\\slash",
      "ctrl\x01\x1f\b\f\n\r\t",
      "del\x7f",
      "utf8 \xC3\xBC \xE2\x82\xAC \xF0\x9F\x98\x80",
      "</script><b>",
      std::string("nul\0in", 6),
  };
  for (const std::string& id : odd_ids) {
    Recommendation rec;
    rec.user = id;
    rec.rec_id = id + "-rec";
    rec.items.push_back({id, 1.5f, "bpr"});
    const std::string text = RenderRecommendationJson(rec);
    INFO(text);
    const json j = json::parse(text);
    CHECK(j["user"].get<std::string>() == id);
    CHECK(j["rec_id"].get<std::string>() == id + "-rec");
    CHECK(j["items"][0]["item"].get<std::string>() == id);
    CHECK(j["items"][0]["score"] == 1.5);
  }
  // Through the router: a percent-encoded id with a quote and a backslash.
  RouterFixture f;
  const json j = Parse(f.Get("/v1/similar?item=%22q%5C&k=1"));
  CHECK(j["item"] == "\"q\\");
  CHECK(j["items"][0]["item"] == "\"q\\~0");
}

TEST_CASE("http router: invalid UTF-8 from the service still gives valid JSON", "[http][router]") {
  Recommendation rec;
  rec.user = "bad\xC3";         // truncated sequence
  rec.rec_id = "\xED\xA0\x80";  // surrogate
  rec.items.push_back({"\xFF\xFE", 1.0f, "bpr"});
  const json j = json::parse(RenderRecommendationJson(rec));
  CHECK(j["user"] == "bad\xEF\xBF\xBD");
  CHECK(j["rec_id"] == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  CHECK(j["items"][0]["item"] == "\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST_CASE("http router: scores render compactly, non-finite become null", "[http][router]") {
  std::string out;
  AppendJsonNumber(out, 1.93f);
  CHECK(out == "1.93");
  out.clear();
  AppendJsonNumber(out, 0.1f);
  CHECK(out == "0.1");
  out.clear();
  AppendJsonNumber(out, 1e-7f);
  CHECK(json::parse(out).get<double>() == Approx(1e-7));
  out.clear();
  AppendJsonNumber(out, std::numeric_limits<float>::quiet_NaN());
  CHECK(out == "null");
  out.clear();
  AppendJsonNumber(out, -std::numeric_limits<float>::infinity());
  CHECK(out == "null");
}

TEST_CASE("http router: query parsing and percent-decoding", "[http][router]") {
  Result<QueryParams> q = ParseQuery("a=1&&b=x%20y+z&flag&=v&a=2");
  REQUIRE(q.ok());
  REQUIRE(q->size() == 5);
  CHECK((*q)[0] == std::pair<std::string, std::string>{"a", "1"});
  CHECK((*q)[1] == std::pair<std::string, std::string>{"b", "x y z"});
  CHECK((*q)[2] == std::pair<std::string, std::string>{"flag", ""});
  CHECK((*q)[3] == std::pair<std::string, std::string>{"", "v"});
  CHECK(ParseQuery("").ok());
  CHECK_FALSE(ParseQuery("a=%G0").ok());
  CHECK_FALSE(ParseQuery("a%=1").ok());

  CHECK(PercentDecode("a+b%2B", /*plus_is_space=*/false).value() == "a+b+");
  CHECK(PercentDecode("%e2%82%ac", true).value() == "\xE2\x82\xAC");
  CHECK_FALSE(PercentDecode("%0", true).ok());
  CHECK_FALSE(PercentDecode("%00", true).ok());
}

TEST_CASE("http router: constant-time compare", "[http][router]") {
  CHECK(ConstantTimeEquals("abc", "abc"));
  CHECK(ConstantTimeEquals("", ""));
  CHECK_FALSE(ConstantTimeEquals("abc", "abd"));
  CHECK_FALSE(ConstantTimeEquals("abc", "abcd"));
  CHECK_FALSE(ConstantTimeEquals("", "a"));
  CHECK_FALSE(ConstantTimeEquals(std::string_view("a\0", 2), "a"));
}

}  // namespace
}  // namespace streamrec::daemon

namespace streamrec::daemon {
namespace {

TEST_CASE("issue17: POST /v1/events lists the first 100 rejections and counts the rest",
          "[http][router]") {
  RouterFixture f;
  std::string body;
  for (int i = 0; i < 5000; ++i) body += "{\"bad\":1}\n";
  const HttpResponse res = f.Call("POST", "/v1/events", body, "application/x-ndjson");
  CHECK(res.status == 400);
  const json j = Parse(res);
  CHECK(j["rejected"].size() == PostEventsResult::kMaxListedRejections);
  CHECK(j["rejected_count"] == 5000);
  CHECK(res.body.size() < 8000);  // bounded, whatever the body's size
}

TEST_CASE("issue17: events Kafka did not acknowledge make the post a 503", "[http][router]") {
  RouterFixture f;
  const HttpResponse res =
      f.Call("POST", "/v1/events", "{\"a\":1}\n{\"undeliverable\":1}\n", "application/x-ndjson");
  CHECK(res.status == 503);
  const json j = Parse(res);
  CHECK(j["accepted"] == 1);
  CHECK(j["failed"] == 1);
  CHECK_THAT(j["error"]["message"].get<std::string>(), Catch::Contains("not acknowledged"));
}

TEST_CASE("issue17: POST /v1/events is rate limited per client, with Retry-After",
          "[http][router]") {
  RouterOptions o;
  o.ingest_requests_per_s = 1;
  o.ingest_burst = 3;
  RouterFixture f(o);
  for (int i = 0; i < 3; ++i) CHECK(f.PostOne("", "10.0.0.1").status == 200);
  const HttpResponse limited = f.PostOne("", "10.0.0.1");
  CHECK(limited.status == 429);
  bool retry_after = false;
  for (const auto& [name, value] : limited.headers) retry_after |= name == "Retry-After";
  CHECK(retry_after);
  CHECK(f.PostOne("", "10.0.0.2").status == 200);  // another client has its own budget
  {
    std::lock_guard l(f.svc.mu);
    CHECK(f.svc.last_client == "10.0.0.2");
  }
}

TEST_CASE("issue17: an ingest token guards POST /v1/events, the admin token passes too",
          "[http][router]") {
  RouterOptions o;
  o.admin_token = "admin";
  o.ingest_token = "ingest";
  RouterFixture f(o);
  CHECK(f.PostOne("").status == 401);
  CHECK(f.PostOne("Bearer wrong").status == 401);
  CHECK(f.PostOne("Bearer ingest").status == 200);
  CHECK(f.PostOne("bearer admin").status == 200);
}

TEST_CASE("issue17: HEAD is answered on GET routes", "[http][router]") {
  RouterFixture f;
  CHECK(f.Call("HEAD", "/healthz").status == 200);
  CHECK(f.Call("HEAD", "/v1/popular?k=2").status == 200);
  const HttpResponse post_only = f.Call("HEAD", "/v1/events");
  CHECK(post_only.status == 405);
  const HttpResponse get_only = f.Call("POST", "/healthz");
  REQUIRE(get_only.status == 405);
  bool allow = false;
  for (const auto& [name, value] : get_only.headers)
    allow |= name == "Allow" && value == "GET, HEAD";
  CHECK(allow);
}

TEST_CASE("issue17: an id with a control character is refused like a NUL", "[http][router]") {
  RouterFixture f;
  CHECK(f.Get("/v1/recommend?user=u%01x").status == 400);
  CHECK(f.Get("/v1/recommend?user=u%00x").status == 400);
  CHECK(f.Call("DELETE", "/v1/users/u%1Fx", {}, {}, "Bearer s3cret").status == 400);
}

TEST_CASE("issue17: the slow routes are run off the network threads", "[http][router]") {
  RouterFixture f;
  const auto may_block = [&](std::string_view method, std::string_view target) {
    HttpRequest req;
    req.method = method;
    req.target = target;
    return f.router.MayBlock(req);
  };
  CHECK(may_block("POST", "/v1/events"));
  CHECK(may_block("POST", "/admin/checkpoint"));
  CHECK(may_block("DELETE", "/v1/users/u1"));
  CHECK_FALSE(may_block("GET", "/v1/recommend?user=u1"));
  CHECK_FALSE(may_block("GET", "/healthz"));
}

}  // namespace
}  // namespace streamrec::daemon
