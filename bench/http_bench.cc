// HTTP serving cost, from the pure router down to the whole server under wrk.
//
//   build-http/bench/http_bench                               all of it (wrk runs take ~5 s each)
//   build-http/bench/http_bench --benchmark_filter=Wrk        only the wrk runs
//   STREAMREC_WRK_SECONDS=10 build-http/bench/http_bench ...  longer wrk runs
//
// BM_Wrk/<server threads>/<connections> starts the server on an ephemeral loopback port with a
// fake service that returns a fixed 10-item answer, then runs (and prints to stderr)
//   wrk -t1 -c<connections> -d5s --latency 'http://127.0.0.1:PORT/v1/recommend?user=u1&k=10'
// and reports wrk's Requests/sec as the req_per_s counter. wrk shares the machine's cores with
// the server, so the numbers are a floor. Skipped when wrk is not on PATH.
#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "daemon/http_router.h"
#include "http/http_server.h"

namespace streamrec::daemon {
namespace {

using ::streamrec::http::HttpRequest;
using ::streamrec::http::HttpResponse;
using ::streamrec::http::HttpServer;
using ::streamrec::http::HttpServerOptions;

// Answers every call with the same 10 items; the rest is never called by these benchmarks.
class FixedService final : public RecommendService {
 public:
  FixedService() {
    for (int i = 0; i < 10; ++i) {
      items_.push_back({"m" + std::to_string(1000 + i * 37), 2.5f - 0.173f * i, "bpr"});
    }
  }
  Result<Recommendation> Recommend(const RecommendRequest& request) override {
    Recommendation rec;
    rec.user = request.user;
    rec.rec_id = "0123456789abcdef";
    rec.items = items_;
    return rec;
  }
  Result<std::vector<ScoredId>> Similar(const std::string&, uint32_t) override { return items_; }
  Result<std::vector<ScoredId>> Next(const std::string&, uint32_t) override { return items_; }
  std::vector<ScoredId> Popular(uint32_t) override { return items_; }
  Result<PredictResult> Predict(const std::string&, const std::string&) override {
    return PredictResult{3.5f, true};
  }
  Result<PostEventsResult> PostEvents(std::string_view, std::string_view) override {
    return PostEventsResult{};
  }
  Status ForgetUser(const std::string&) override { return Status::Ok(); }
  Status Checkpoint() override { return Status::Ok(); }
  std::string InfoJson() override { return "{}"; }
  Status Readiness() override { return Status::Ok(); }

 private:
  std::vector<ScoredId> items_;
};

RecommendRequest UserRequest(const std::string& user) {
  RecommendRequest req;
  req.user = user;
  return req;
}

constexpr const char* kTarget = "/v1/recommend?user=u1&k=10";

void BM_RouterRecommend(benchmark::State& state) {
  FixedService svc;
  MetricsRegistry metrics;
  HttpRouter router(svc, metrics, RouterOptions{});
  HttpRequest req;
  req.method = "GET";
  req.target = kTarget;
  for (auto _ : state) {
    HttpResponse res = router.Handle(req);
    benchmark::DoNotOptimize(res.body.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RouterRecommend);

// The hand-written renderer the router uses ...
void BM_RenderRecommendation(benchmark::State& state) {
  FixedService svc;
  const Recommendation rec = svc.Recommend(UserRequest("u1")).value();
  for (auto _ : state) {
    std::string body = RenderRecommendationJson(rec);
    benchmark::DoNotOptimize(body.data());
  }
}
BENCHMARK(BM_RenderRecommendation);

// ... against the same document built with nlohmann::json.
void BM_RenderRecommendationNlohmann(benchmark::State& state) {
  FixedService svc;
  const Recommendation rec = svc.Recommend(UserRequest("u1")).value();
  for (auto _ : state) {
    nlohmann::json j;
    j["user"] = rec.user;
    j["rec_id"] = rec.rec_id;
    auto& items = j["items"] = nlohmann::json::array();
    for (const ScoredId& s : rec.items) {
      items.push_back({{"item", s.item}, {"score", s.score}, {"source", s.source}});
    }
    std::string body = j.dump();
    benchmark::DoNotOptimize(body.data());
  }
}
BENCHMARK(BM_RenderRecommendationNlohmann);

// One keep-alive connection, one request at a time: the round-trip latency of the server.
void BM_ServerRoundTrip(benchmark::State& state) {
  namespace net = boost::asio;
  namespace http = boost::beast::http;
  FixedService svc;
  MetricsRegistry metrics;
  HttpRouter router(svc, metrics, RouterOptions{});
  HttpServerOptions options;
  options.threads = static_cast<int>(state.range(0));
  HttpServer server(options, router, &metrics);
  if (!server.Start().ok()) {
    state.SkipWithError("server did not start");
    return;
  }
  net::io_context ioc;
  boost::beast::tcp_stream stream(ioc);
  stream.connect(net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), server.port()));
  boost::beast::flat_buffer buffer;
  http::request<http::empty_body> req{http::verb::get, kTarget, 11};
  req.set(http::field::host, "127.0.0.1");
  for (auto _ : state) {
    http::write(stream, req);
    http::response<http::string_body> res;
    http::read(stream, buffer, res);
    if (res.result_int() != 200) state.SkipWithError("non-200 answer");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ServerRoundTrip)->Arg(1)->Arg(2)->UseRealTime();

// The whole server under wrk; see the top of the file.
void BM_Wrk(benchmark::State& state) {
  if (std::system("command -v wrk >/dev/null 2>&1") != 0) {
    state.SkipWithError("wrk not on PATH");
    return;
  }
  const char* seconds_env = std::getenv("STREAMREC_WRK_SECONDS");
  const std::string seconds = seconds_env != nullptr ? seconds_env : "5";
  FixedService svc;
  MetricsRegistry metrics;
  HttpRouter router(svc, metrics, RouterOptions{});
  HttpServerOptions options;
  options.threads = static_cast<int>(state.range(0));
  HttpServer server(options, router, &metrics);
  if (!server.Start().ok()) {
    state.SkipWithError("server did not start");
    return;
  }
  const std::string cmd = "wrk -t1 -c" + std::to_string(state.range(1)) + " -d" + seconds +
                          "s --latency 'http://127.0.0.1:" + std::to_string(server.port()) +
                          kTarget + "' 2>&1";
  double req_per_s = 0;
  for (auto _ : state) {
    std::fprintf(stderr, "$ %s\n", cmd.c_str());
    FILE* p = popen(cmd.c_str(), "r");
    if (p == nullptr) {
      state.SkipWithError("popen failed");
      return;
    }
    char line[512];
    while (std::fgets(line, sizeof(line), p) != nullptr) {
      std::fputs(line, stderr);
      std::sscanf(line, "Requests/sec: %lf", &req_per_s);
    }
    pclose(p);
  }
  state.counters["req_per_s"] = req_per_s;
  state.counters["server_threads"] = static_cast<double>(state.range(0));
}
BENCHMARK(BM_Wrk)
    ->Args({1, 2})
    ->Args({2, 2})
    ->Args({2, 16})
    ->Iterations(1)
    ->Unit(benchmark::kSecond)
    ->UseRealTime();

}  // namespace
}  // namespace streamrec::daemon
