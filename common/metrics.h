// A small Prometheus registry without dependencies: counters, gauges, histograms and gauges
// computed at scrape time, rendered in the text exposition format 0.0.4.
//
// Thread safety: every method of every class here may be called concurrently. Counter::Inc,
// Gauge::Set/Add and Histogram::Observe are lock-free (relaxed atomics; hot paths call them).
// Registration (Add*) and RenderPrometheus take the registry's mutex.
//
// Names follow Prometheus conventions: metric names match [a-zA-Z_:][a-zA-Z0-9_:]*, label names
// [a-zA-Z_][a-zA-Z0-9_]* (not "le", not starting with "__"), counters end in "_total", and every
// metric of this project starts with "streamrec_". Breaking a naming rule, or registering one
// name with two types, two help texts or two bucket layouts, is a programming error: the process
// aborts with a message (in every build type), so it shows up the first time the daemon starts.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace streamrec {

// Label name/value pairs of one series, in the order they are rendered.
using Labels = std::vector<std::pair<std::string, std::string>>;

// A monotonically increasing count.
class Counter {
 public:
  void Inc(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// A value that goes up and down.
class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double d) { value_.fetch_add(d, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

// Counts observations into fixed buckets (upper bounds, inclusive) plus an implicit +Inf
// bucket, and keeps their sum. Rendered cumulatively, with _sum and _count.
class Histogram {
 public:
  // REQUIRES: `upper_bounds` strictly increasing and finite.
  explicit Histogram(std::vector<double> upper_bounds);

  void Observe(double v);

  const std::vector<double>& upper_bounds() const { return upper_bounds_; }
  // Per-bucket (not cumulative) counts; the last entry is the +Inf bucket. Each entry is read
  // atomically, the vector as a whole is not a snapshot.
  std::vector<uint64_t> BucketCounts() const;
  double sum() const { return sum_.load(std::memory_order_relaxed); }
  // Total observations (the sum of BucketCounts()).
  uint64_t count() const;

 private:
  const std::vector<double> upper_bounds_;
  // upper_bounds_.size() + 1 entries; the last is +Inf.
  const std::unique_ptr<std::atomic<uint64_t>[]> buckets_;
  std::atomic<double> sum_{0.0};
};

class MetricsRegistry {
 public:
  MetricsRegistry();
  ~MetricsRegistry();
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // Each returns a reference valid for the registry's lifetime; the same (name, labels) twice
  // returns the same metric; one name has one type and help text (a mismatch aborts).
  Counter& AddCounter(const std::string& name, const std::string& help, const Labels& labels = {});
  Gauge& AddGauge(const std::string& name, const std::string& help, const Labels& labels = {});
  // Every series of one name must use the same buckets.
  Histogram& AddHistogram(const std::string& name, const std::string& help,
                          std::vector<double> buckets, const Labels& labels = {});
  // A gauge computed at scrape time (lag, model sizes). `fn` runs on the scraping thread, under
  // the registry's mutex (so it must not call back into this registry), and whatever it
  // captures must outlive every later RenderPrometheus call. The same (name, labels) again
  // replaces the function.
  void AddGaugeFn(const std::string& name, const std::string& help, const Labels& labels,
                  std::function<double()> fn);
  // The same for a counter whose value lives elsewhere (e.g. persisted with the model, so it
  // does not restart at 0): `fn` must never decrease while the process lives.
  void AddCounterFn(const std::string& name, const std::string& help, const Labels& labels,
                    std::function<double()> fn);

  // Prometheus text exposition format 0.0.4: # HELP / # TYPE once per name, samples grouped by
  // name (names sorted, series in registration order), label values escaped.
  std::string RenderPrometheus() const;

 private:
  enum class Type { kCounter, kGauge, kHistogram };
  struct Series;
  struct Family;

  // Finds or creates the family `name` and its series `labels`. REQUIRES: mu_ held.
  Series& FindOrAddSeries(const std::string& name, const std::string& help, Type type,
                          const Labels& labels);

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Family>> families_;  // GUARDED_BY(mu_)
};

// Upper bounds for request latencies in seconds: 50us .. 5s in 1-2.5-5 steps (16 buckets).
std::vector<double> LatencyBucketsSeconds();

// Formats a sample value the way Prometheus parses it: shortest round-trip decimal, "+Inf",
// "-Inf", "NaN". Exposed for tests and the router.
std::string FormatPrometheusValue(double v);

}  // namespace streamrec
