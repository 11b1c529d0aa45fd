#include "common/metrics.h"

#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/test_data.h"

namespace streamrec {
namespace {

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

size_t Count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t pos = haystack.find(needle); pos != std::string::npos;
       pos = haystack.find(needle, pos + 1)) {
    ++n;
  }
  return n;
}

bool OnPath(const char* tool) {
  const std::string cmd = std::string("command -v ") + tool + " >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

TEST_CASE("metrics: counter and gauge render with labels", "[metrics]") {
  MetricsRegistry reg;
  Counter& c = reg.AddCounter("streamrec_events_applied_total", "Events applied.");
  c.Inc();
  c.Inc(41);
  CHECK(c.value() == 42);
  Gauge& g = reg.AddGauge("streamrec_model_items", "Items in the model.", {{"model", "bpr"}});
  g.Set(10);
  g.Add(-2.5);
  CHECK(g.value() == 7.5);

  const std::string text = reg.RenderPrometheus();
  CHECK(Contains(text, "# HELP streamrec_events_applied_total Events applied.\n"));
  CHECK(Contains(text, "# TYPE streamrec_events_applied_total counter\n"));
  CHECK(Contains(text, "\nstreamrec_events_applied_total 42\n"));
  CHECK(Contains(text, "# TYPE streamrec_model_items gauge\n"));
  CHECK(Contains(text, "streamrec_model_items{model=\"bpr\"} 7.5\n"));
}

TEST_CASE("metrics: same name and labels return the same metric", "[metrics]") {
  MetricsRegistry reg;
  Counter& a = reg.AddCounter("streamrec_x_total", "X.", {{"route", "/a"}});
  Counter& b = reg.AddCounter("streamrec_x_total", "X.", {{"route", "/a"}});
  Counter& other = reg.AddCounter("streamrec_x_total", "X.", {{"route", "/b"}});
  CHECK(&a == &b);
  CHECK(&a != &other);
  a.Inc();
  b.Inc();
  other.Inc(5);
  const std::string text = reg.RenderPrometheus();
  // HELP/TYPE once per name, both series under it.
  CHECK(Count(text, "# HELP streamrec_x_total") == 1);
  CHECK(Count(text, "# TYPE streamrec_x_total") == 1);
  CHECK(Contains(text, "streamrec_x_total{route=\"/a\"} 2\n"));
  CHECK(Contains(text, "streamrec_x_total{route=\"/b\"} 5\n"));
}

TEST_CASE("metrics: histogram buckets are cumulative with sum and count", "[metrics]") {
  MetricsRegistry reg;
  Histogram& h = reg.AddHistogram("streamrec_latency_seconds", "Latency.", {0.1, 1.0, 10.0},
                                  {{"route", "/r"}});
  h.Observe(0.05);
  h.Observe(0.1);  // bounds are inclusive
  h.Observe(0.5);
  h.Observe(100);
  CHECK(h.count() == 4);
  CHECK(h.sum() == Approx(100.65));
  const std::string text = reg.RenderPrometheus();
  CHECK(Contains(text, "# TYPE streamrec_latency_seconds histogram\n"));
  CHECK(Contains(text, "streamrec_latency_seconds_bucket{route=\"/r\",le=\"0.1\"} 2\n"));
  CHECK(Contains(text, "streamrec_latency_seconds_bucket{route=\"/r\",le=\"1\"} 3\n"));
  CHECK(Contains(text, "streamrec_latency_seconds_bucket{route=\"/r\",le=\"10\"} 3\n"));
  CHECK(Contains(text, "streamrec_latency_seconds_bucket{route=\"/r\",le=\"+Inf\"} 4\n"));
  CHECK(Contains(text, "streamrec_latency_seconds_sum{route=\"/r\"} 100.65"));
  CHECK(Contains(text, "streamrec_latency_seconds_count{route=\"/r\"} 4\n"));
}

TEST_CASE("metrics: label values and help text are escaped", "[metrics]") {
  MetricsRegistry reg;
  reg.AddCounter("streamrec_odd_total", "Line one\nback\\slash \"quoted\"",
                 {{"user", "a\"b\\c\nd"}})
      .Inc();
  const std::string text = reg.RenderPrometheus();
  CHECK(Contains(text, "# HELP streamrec_odd_total Line one\\nback\\\\slash \"quoted\"\n"));
  CHECK(Contains(text, "streamrec_odd_total{user=\"a\\\"b\\\\c\\nd\"} 1\n"));
}

TEST_CASE("metrics: gauge functions run at scrape time", "[metrics]") {
  MetricsRegistry reg;
  double lag = 3;
  reg.AddGaugeFn("streamrec_consumer_lag_messages", "Lag.", {{"partition", "0"}},
                 [&lag] { return lag; });
  CHECK(Contains(reg.RenderPrometheus(), "streamrec_consumer_lag_messages{partition=\"0\"} 3\n"));
  lag = 1234567;
  CHECK(Contains(reg.RenderPrometheus(),
                 "streamrec_consumer_lag_messages{partition=\"0\"} 1234567\n"));
  // Re-registering replaces the function.
  reg.AddGaugeFn("streamrec_consumer_lag_messages", "Lag.", {{"partition", "0"}},
                 [] { return std::numeric_limits<double>::infinity(); });
  CHECK(
      Contains(reg.RenderPrometheus(), "streamrec_consumer_lag_messages{partition=\"0\"} +Inf\n"));
}

TEST_CASE("metrics: values format like Prometheus parses them", "[metrics]") {
  CHECK(FormatPrometheusValue(0) == "0");
  CHECK(FormatPrometheusValue(1.5) == "1.5");
  CHECK(FormatPrometheusValue(0.00005) == "5e-05");
  CHECK(FormatPrometheusValue(-2) == "-2");
  CHECK(FormatPrometheusValue(std::nan("")) == "NaN");
  CHECK(FormatPrometheusValue(-std::numeric_limits<double>::infinity()) == "-Inf");
}

TEST_CASE("metrics: latency buckets are increasing, 50us to 5s", "[metrics]") {
  const std::vector<double> b = LatencyBucketsSeconds();
  REQUIRE(b.size() >= 10);
  CHECK(b.front() == Approx(50e-6));
  CHECK(b.back() == Approx(5.0));
  for (size_t i = 1; i < b.size(); ++i) {
    CHECK(b[i] > b[i - 1]);
    CHECK(b[i] / b[i - 1] <= 2.5 + 1e-9);
  }
}

TEST_CASE("metrics: increments from many threads are not lost", "[metrics]") {
  MetricsRegistry reg;
  Counter& c = reg.AddCounter("streamrec_hits_total", "Hits.");
  Gauge& g = reg.AddGauge("streamrec_level", "Level.");
  Histogram& h = reg.AddHistogram("streamrec_op_seconds", "Op.", LatencyBucketsSeconds());
  constexpr int kThreads = 4;
  constexpr int kPerThread = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        c.Inc();
        g.Add(1);
        h.Observe(0.001 * (t + 1));
        // Registration and rendering concurrently with the hot path.
        if (i % 5000 == 0) {
          reg.AddCounter("streamrec_hits_total", "Hits.").Inc(0);
          (void)reg.RenderPrometheus();
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(c.value() == uint64_t{kThreads} * kPerThread);
  CHECK(g.value() == Approx(double{kThreads} * kPerThread));
  CHECK(h.count() == uint64_t{kThreads} * kPerThread);
}

// A populated registry (every metric type, labels, escaping) through `promtool check metrics`.
TEST_CASE("metrics: output passes promtool check metrics", "[metrics][promtool]") {
  if (!OnPath("promtool")) {
    STREAMREC_SKIP("promtool not on PATH (Debian: apt-get install prometheus)");
  }
  MetricsRegistry reg;
  reg.AddCounter("streamrec_events_applied_total", "Events applied to the model.").Inc(7);
  reg.AddCounter("streamrec_http_requests_total", "HTTP requests.",
                 {{"route", "/v1/recommend"}, {"code", "200"}})
      .Inc(3);
  reg.AddCounter("streamrec_http_requests_total", "HTTP requests.",
                 {{"route", "other"}, {"code", "404"}})
      .Inc();
  reg.AddGauge("streamrec_model_items", "Items in the model.").Set(1234);
  reg.AddGaugeFn("streamrec_consumer_lag_messages", "Consumer lag.", {{"partition", "1"}},
                 [] { return 5.0; });
  reg.AddCounter("streamrec_odd_total", "Odd \"help\" with\\backslash\nand newline.",
                 {{"id", "q\"uo\\te\nnl ü"}})
      .Inc();
  Histogram& h = reg.AddHistogram("streamrec_http_request_duration_seconds", "Latency.",
                                  LatencyBucketsSeconds(), {{"route", "/v1/recommend"}});
  for (double v : {0.00001, 0.0003, 0.02, 3.0, 9.0}) h.Observe(v);

  streamrec::testing::TempDir dir;
  const std::string path = dir.path() + "/metrics.txt";
  {
    std::ofstream out(path);
    out << reg.RenderPrometheus();
  }
  const std::string cmd = "promtool check metrics < " + path + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  std::string output;
  char buf[512];
  while (fgets(buf, sizeof(buf), p) != nullptr) output += buf;
  const int rc = pclose(p);
  INFO("promtool output:\n" << output << "\ninput:\n" << reg.RenderPrometheus());
  CHECK(rc == 0);
  CHECK(output.empty());  // lint problems are printed even when the exit code is 0
}

}  // namespace
}  // namespace streamrec
