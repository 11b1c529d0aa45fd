#include "common/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <variant>

namespace streamrec {
namespace {

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "streamrec metrics: programming error: %s\n", what.c_str());
  std::abort();
}

bool IsValidMetricName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    const bool digit = c >= '0' && c <= '9';
    if (!alpha && !(digit && i > 0)) return false;
  }
  return true;
}

bool IsValidLabelName(std::string_view name) {
  if (name.empty() || name == "le" || name.substr(0, 2) == "__") return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    const bool digit = c >= '0' && c <= '9';
    if (!alpha && !(digit && i > 0)) return false;
  }
  return true;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// HELP text escapes backslash and newline; label values also escape the double quote.
void AppendEscaped(std::string& out, std::string_view s, bool quote) {
  for (char c : s) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '"':
        if (quote) {
          out += "\\\"";
        } else {
          out += c;
        }
        break;
      default:
        out += c;
    }
  }
}

// `{a="x",b="y"}` with an optional extra label (the histogram's "le"); nothing if no labels.
void AppendLabels(std::string& out, const Labels& labels, std::string_view extra_name = {},
                  std::string_view extra_value = {}) {
  if (labels.empty() && extra_name.empty()) return;
  out += '{';
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out += ',';
    first = false;
    out += k;
    out += "=\"";
    AppendEscaped(out, v, /*quote=*/true);
    out += '"';
  }
  if (!extra_name.empty()) {
    if (!first) out += ',';
    out += extra_name;
    out += "=\"";
    out += extra_value;
    out += '"';
  }
  out += '}';
}

}  // namespace

std::string FormatPrometheusValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  if (ec != std::errc()) return "NaN";  // cannot happen with 32 bytes
  return std::string(buf, end);
}

std::vector<double> LatencyBucketsSeconds() {
  return {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
          0.025,   0.05,   0.1,     0.25,   0.5,   1.0,    2.5,   5.0};
}

// ---------------------------------------------------------------------------------------------
// Histogram

Histogram::Histogram(std::vector<double> upper_bounds)
    : upper_bounds_(std::move(upper_bounds)),
      buckets_(new std::atomic<uint64_t>[upper_bounds_.size() + 1]) {
  for (size_t i = 0; i < upper_bounds_.size(); ++i) {
    if (!std::isfinite(upper_bounds_[i]) || (i > 0 && upper_bounds_[i] <= upper_bounds_[i - 1])) {
      Die("histogram buckets must be finite and strictly increasing");
    }
  }
  for (size_t i = 0; i <= upper_bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::Observe(double v) {
  // Upper bounds are inclusive (Prometheus "le"); NaN lands in +Inf.
  const size_t i =
      std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), v) - upper_bounds_.begin();
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

std::vector<uint64_t> Histogram::BucketCounts() const {
  std::vector<uint64_t> counts(upper_bounds_.size() + 1);
  for (size_t i = 0; i < counts.size(); ++i) {
    counts[i] = buckets_[i].load(std::memory_order_relaxed);
  }
  return counts;
}

uint64_t Histogram::count() const {
  uint64_t total = 0;
  for (uint64_t c : BucketCounts()) total += c;
  return total;
}

// ---------------------------------------------------------------------------------------------
// MetricsRegistry

struct MetricsRegistry::Series {
  Labels labels;
  // Exactly one is set, matching the family's type (a Counter or Gauge family may hold either
  // a value or a function).
  std::unique_ptr<Counter> counter;
  std::function<double()> counter_fn;
  std::unique_ptr<Gauge> gauge;
  std::function<double()> gauge_fn;
  std::unique_ptr<Histogram> histogram;
};

struct MetricsRegistry::Family {
  Type type;
  std::string help;
  std::vector<double> buckets;  // histograms only
  // Registration order; unique_ptr keeps references stable.
  std::vector<std::unique_ptr<Series>> series;
};

MetricsRegistry::MetricsRegistry() = default;
MetricsRegistry::~MetricsRegistry() = default;

MetricsRegistry::Series& MetricsRegistry::FindOrAddSeries(const std::string& name,
                                                          const std::string& help, Type type,
                                                          const Labels& labels) {
  if (!IsValidMetricName(name)) Die("invalid metric name '" + name + "'");
  if (type == Type::kCounter && !EndsWith(name, "_total")) {
    Die("counter '" + name + "' must end in _total");
  }
  for (const auto& [k, v] : labels) {
    if (!IsValidLabelName(k)) Die("invalid label name '" + k + "' on '" + name + "'");
  }
  auto& family = families_[name];
  if (family == nullptr) {
    family = std::make_unique<Family>();
    family->type = type;
    family->help = help;
  } else if (family->type != type) {
    Die("metric '" + name + "' registered with two types");
  } else if (family->help != help) {
    Die("metric '" + name + "' registered with two help texts");
  }
  for (auto& s : family->series) {
    if (s->labels == labels) return *s;
  }
  family->series.push_back(std::make_unique<Series>());
  family->series.back()->labels = labels;
  return *family->series.back();
}

Counter& MetricsRegistry::AddCounter(const std::string& name, const std::string& help,
                                     const Labels& labels) {
  std::lock_guard<std::mutex> lock(mu_);
  Series& s = FindOrAddSeries(name, help, Type::kCounter, labels);
  if (s.counter == nullptr) s.counter = std::make_unique<Counter>();
  return *s.counter;
}

Gauge& MetricsRegistry::AddGauge(const std::string& name, const std::string& help,
                                 const Labels& labels) {
  std::lock_guard<std::mutex> lock(mu_);
  Series& s = FindOrAddSeries(name, help, Type::kGauge, labels);
  if (s.gauge_fn) Die("gauge '" + name + "' already registered as a function");
  if (s.gauge == nullptr) s.gauge = std::make_unique<Gauge>();
  return *s.gauge;
}

Histogram& MetricsRegistry::AddHistogram(const std::string& name, const std::string& help,
                                         std::vector<double> buckets, const Labels& labels) {
  std::lock_guard<std::mutex> lock(mu_);
  Series& s = FindOrAddSeries(name, help, Type::kHistogram, labels);
  Family& family = *families_[name];
  if (family.series.size() == 1 && s.histogram == nullptr) {
    family.buckets = buckets;
  } else if (family.buckets != buckets) {
    Die("histogram '" + name + "' registered with two bucket layouts");
  }
  if (s.histogram == nullptr) s.histogram = std::make_unique<Histogram>(std::move(buckets));
  return *s.histogram;
}

void MetricsRegistry::AddGaugeFn(const std::string& name, const std::string& help,
                                 const Labels& labels, std::function<double()> fn) {
  std::lock_guard<std::mutex> lock(mu_);
  Series& s = FindOrAddSeries(name, help, Type::kGauge, labels);
  if (s.gauge != nullptr) Die("gauge '" + name + "' already registered as a value");
  s.gauge_fn = std::move(fn);
}

void MetricsRegistry::AddCounterFn(const std::string& name, const std::string& help,
                                   const Labels& labels, std::function<double()> fn) {
  std::lock_guard<std::mutex> lock(mu_);
  Series& s = FindOrAddSeries(name, help, Type::kCounter, labels);
  if (s.counter != nullptr) Die("counter '" + name + "' already registered as a value");
  s.counter_fn = std::move(fn);
}

std::string MetricsRegistry::RenderPrometheus() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  out.reserve(4096);
  for (const auto& [name, family] : families_) {
    out += "# HELP ";
    out += name;
    out += ' ';
    AppendEscaped(out, family->help, /*quote=*/false);
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += family->type == Type::kCounter ? "counter"
           : family->type == Type::kGauge ? "gauge"
                                          : "histogram";
    out += '\n';
    for (const auto& s : family->series) {
      switch (family->type) {
        case Type::kCounter:
          out += name;
          AppendLabels(out, s->labels);
          out += ' ';
          out += s->counter_fn ? FormatPrometheusValue(s->counter_fn())
                               : std::to_string(s->counter->value());
          out += '\n';
          break;
        case Type::kGauge: {
          const double v = s->gauge_fn ? s->gauge_fn() : s->gauge->value();
          out += name;
          AppendLabels(out, s->labels);
          out += ' ';
          out += FormatPrometheusValue(v);
          out += '\n';
          break;
        }
        case Type::kHistogram: {
          const Histogram& h = *s->histogram;
          const std::vector<uint64_t> counts = h.BucketCounts();
          uint64_t cumulative = 0;
          for (size_t i = 0; i < counts.size(); ++i) {
            cumulative += counts[i];
            const std::string le = i < h.upper_bounds().size()
                                       ? FormatPrometheusValue(h.upper_bounds()[i])
                                       : std::string("+Inf");
            out += name;
            out += "_bucket";
            AppendLabels(out, s->labels, "le", le);
            out += ' ';
            out += std::to_string(cumulative);
            out += '\n';
          }
          out += name;
          out += "_sum";
          AppendLabels(out, s->labels);
          out += ' ';
          out += FormatPrometheusValue(h.sum());
          out += '\n';
          // _count equals the +Inf bucket by construction (same loads).
          out += name;
          out += "_count";
          AppendLabels(out, s->labels);
          out += ' ';
          out += std::to_string(cumulative);
          out += '\n';
          break;
        }
      }
    }
  }
  return out;
}

}  // namespace streamrec
