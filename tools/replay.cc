// `streamrec replay`: produces a dataset into a Kafka topic, one event per message keyed by user,
// at full speed or at --rate events/s, with a progress line. JSONL lines are produced as they
// are (malformed ones too: the daemon dead-letters them); MovieLens, sequence and Yoochoose rows
// are converted to wire-format events (ratings, clicks).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <thread>

#include "common/exit_code.h"
#include "stream/event_codec.h"
#include "stream/kafka_sink.h"
#include "tools/commands.h"
#include "tools/dataset.h"

namespace streamrec::tools {
namespace {

struct ReplayOptions {
  std::string file;
  std::string format = "auto";
  std::string brokers;
  std::string topic = "events";
  double rate = 0;  // events/s; 0 = as fast as the producer takes them
  std::string compression = "lz4";
  bool progress = true;
};

// Holds the events sent to `rate` a second, in steps of 5 ms: one sleep per step's worth of
// events rather than one per event, whose 20k wake-ups a second at --rate 20000 would take a
// share of a small machine and preempt whatever else runs there (the daemon being measured).
// The producer batches (linger.ms) far more coarsely than that anyway.
class Pacer {
 public:
  explicit Pacer(double rate)
      : rate_(rate),
        step_(std::max<uint64_t>(1, static_cast<uint64_t>(rate * 0.005))),  // rate: >= 0, finite
        start_(std::chrono::steady_clock::now()) {}
  void Wait(uint64_t sent) const {
    if (rate_ <= 0 || sent % step_ != 0) return;
    const auto due = start_ + std::chrono::duration<double>(static_cast<double>(sent) / rate_);
    std::this_thread::sleep_until(due);
  }

 private:
  double rate_;
  uint64_t step_;  // events a sleep
  std::chrono::steady_clock::time_point start_;
};

int Replay(const ReplayOptions& o) {
  auto fail = [](const std::string& msg) {
    std::cerr << "streamrec replay: " << msg << "\n";
    return 2;
  };
  auto path = ResolveDataPath(o.file);
  if (!path.ok()) return fail(path.status().message());
  DataFormat format;
  if (Status st = ParseDataFormat(o.format, &format); !st.ok()) return fail(st.message());
  if (format == DataFormat::kAuto) format = DetectFormat(*path);

  stream::KafkaOptions ko;
  ko.brokers = o.brokers;
  ko.producer_properties["compression.codec"] = o.compression;
  ko.producer_properties["linger.ms"] = "100";  // large batches (see KafkaOptions::linger_ms)
  auto sink = stream::KafkaSink::Create(ko);
  if (!sink.ok()) return fail(sink.status().message());

  const auto t0 = std::chrono::steady_clock::now();
  uint64_t sent = 0;
  Pacer pacer(o.rate);
  auto produce = [&](std::string_view key, std::string_view payload) -> bool {
    pacer.Wait(sent);
    if (Status st = (*sink)->Produce(o.topic, key, payload, /*block_ms=*/60000); !st.ok()) {
      std::cerr << "streamrec replay: " << st.message() << "\n";
      return false;
    }
    ++sent;
    if (o.progress && sent % 50000 == 0) {
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::fprintf(stderr, "\r[replay] %llu events  %.0f events/s   ",
                   static_cast<unsigned long long>(sent), static_cast<double>(sent) / s);
    }
    return true;
  };

  if (format == DataFormat::kJsonl) {
    std::ifstream in(*path);
    if (!in) return fail("cannot open " + *path);
    stream::EventDecoder decoder;
    stream::EventView e;
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      // Keyed by user (item events by item); a line that does not decode keeps an empty key.
      std::string_view key;
      if (decoder.Decode(line, &e).ok()) key = e.type == EventType::kItem ? e.item : e.user;
      if (!produce(key, line)) return 1;
    }
  } else {
    Dataset ds;
    if (Status st = LoadDataset(*path, format, &ds); !st.ok()) return fail(st.message());
    std::string json;
    for (const Interaction& x : ds.events) {
      stream::EventView e;
      e.type = x.is_rating ? EventType::kRating : EventType::kClick;
      e.user = ds.users.Name(x.user);
      e.item = ds.items.Name(x.item);
      e.value = x.value;
      e.ts_seconds = static_cast<double>(x.ts_seconds);
      json.clear();
      stream::EncodeEvent(e, &json);
      if (!produce(e.user, json)) return 1;
    }
  }
  if (Status st = (*sink)->Flush(120000); !st.ok()) return fail("flush: " + st.message());
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (o.progress) std::fprintf(stderr, "\n");
  std::printf("replayed %llu events to '%s' in %.2f s (%.0f events/s)\n",
              static_cast<unsigned long long>(sent), o.topic.c_str(), s,
              static_cast<double>(sent) / std::max(s, 1e-9));
  return 0;
}

}  // namespace

void AddReplayCommand(CLI::App& app) {
  auto o = std::make_shared<ReplayOptions>();
  CLI::App* cmd =
      app.add_subcommand("replay", "Produce a dataset into a Kafka topic, keyed by user");
  cmd->add_option("--data,file", o->file,
                  "JSONL events, MovieLens u.data, sequences or Yoochoose TSV")
      ->required();
  cmd->add_option("--format", o->format, "auto | movielens | sequences | yoochoose | jsonl");
  cmd->add_option("--brokers", o->brokers, "bootstrap servers HOST:PORT")->required();
  cmd->add_option("--topic", o->topic, "topic")->capture_default_str();
  cmd->add_option("--rate", o->rate, "events per second (0 = full speed)")
      ->check(CLI::Validator(
          [](const std::string& v) {
            double r = 0;
            return CLI::detail::lexical_cast(v, r) && r >= 0 && std::isfinite(r)
                       ? std::string()
                       : "must be 0 (full speed) or events per second, got '" + v + "'";
          },
          "RATE"))
      ->capture_default_str();
  cmd->add_option("--compression", o->compression, "none | lz4 | zstd | gzip | snappy")
      ->capture_default_str();
  cmd->add_flag(
      "--quiet,!--progress", [o](int64_t n) { o->progress = n <= 0; }, "no progress line");
  cmd->callback([o] { SetExitCode(Replay(*o)); });
}

}  // namespace streamrec::tools
