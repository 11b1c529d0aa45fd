// Support for the end-to-end tests of `streamrec serve`: a broker (the embedded mock over TCP)
// with a producer, the daemon as a child process with its HTTP helpers, Prometheus samples,
// and a reader of whole topics.
#pragma once

#include <signal.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/rng.h"
#include "stream/kafka_broker.h"
#include "stream/kafka_sink.h"
#include "stream/kafka_source.h"
#include "tests/integration/process.h"

namespace streamrec::testing {

using json = nlohmann::json;

struct Event {
  std::string user, item, payload;
};

// A deterministic stream: 300 users, 400 items, ratings and clicks.
inline std::vector<Event> MakeEvents(size_t n, uint64_t seed) {
  Rng rng(seed);
  std::vector<Event> out;
  for (size_t i = 0; i < n; ++i) {
    Event e;
    e.user = "u" + std::to_string(rng.Uniform(300));
    const uint32_t cluster = static_cast<uint32_t>(std::stoi(e.user.substr(1))) % 4;
    e.item = "m" + std::to_string(rng.Uniform(100) * 4 + cluster);
    if (rng.Uniform(3) == 0) {
      e.payload = "{\"type\":\"rating\",\"user\":\"" + e.user + "\",\"item\":\"" + e.item +
                  "\",\"value\":" + std::to_string(1 + rng.Uniform(5)) +
                  ",\"ts\":" + std::to_string(1700000000 + i) + "}";
    } else {
      e.payload = "{\"type\":\"click\",\"user\":\"" + e.user + "\",\"item\":\"" + e.item +
                  "\",\"ts\":" + std::to_string(1700000000 + i) + "}";
    }
    out.push_back(std::move(e));
  }
  return out;
}

inline const std::vector<std::string> kMalformed = {
    "not json",
    "{\"type\":\"rating\",\"user\":\"u1\",\"item\":\"m1\"}",    // no value
    "{\"type\":\"click\",\"user\":\"\",\"item\":\"m1\"}",       // empty user
    "{\"type\":\"teleport\",\"user\":\"u1\",\"item\":\"m1\"}",  // unknown type
    "{\"type\":\"rating\",\"user\":\"u1\",\"item\":\"m1\",\"value\":1e999}",
    "",
    "{\"type\":\"click\",\"user\":\"u\xff\",\"item\":\"m1\"}",  // invalid UTF-8
    "[1,2,3]",
};

struct Broker {
  std::unique_ptr<stream::KafkaBroker> broker;
  std::unique_ptr<stream::KafkaSink> sink;
  explicit Broker(int partitions) {
    auto b = stream::KafkaBroker::Start();
    REQUIRE(b.ok());
    broker = std::move(*b);
    for (const char* t : {"events", "events.dlq", "served"}) {
      REQUIRE(broker->CreateTopic(t, partitions).ok());
    }
    stream::KafkaOptions o;
    o.brokers = broker->bootstrap_servers();
    auto s = stream::KafkaSink::Create(o);
    REQUIRE(s.ok());
    sink = std::move(*s);
  }
  void Produce(const std::string& key, const std::string& payload) {
    REQUIRE(sink->Produce("events", key, payload, 5000).ok());
  }
  void Flush() { REQUIRE(sink->Flush(30000).ok()); }
};

struct Daemon {
  std::unique_ptr<Child> child;
  int port = 0;
  std::string log;
  void Start(const std::string& brokers, const std::string& data_dir, const std::string& group,
             const std::string& dir, const std::vector<std::string>& extra = {}) {
    port = FreePort();
    log = dir + "/serve.log";
    std::vector<std::string> argv = {
        Binary(), "serve",   "--brokers", brokers,  "--data-dir",
        data_dir, "--group", group,       "--http", "127.0.0.1:" + std::to_string(port)};
    argv.insert(argv.end(), extra.begin(), extra.end());
    child = std::make_unique<Child>(argv, log);
    int status = 0;
    REQUIRE(WaitFor([&] { return Http("GET", Url("/healthz"), &status), status == 200; }, 20000));
  }
  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port) + path;
  }
  json Get(const std::string& path, int* status) const {
    const std::string body = Http("GET", Url(path), status);
    json j = json::parse(body, nullptr, false);
    INFO(path << " -> " << body);
    REQUIRE(!j.is_discarded());
    return j;
  }
  uint64_t Applied() const {
    int status = 0;
    const std::string body = Http("GET", Url("/v1/info"), &status);
    json j = json::parse(body, nullptr, false);
    if (status != 200 || j.is_discarded()) return 0;
    return j["model"]["events_applied"].get<uint64_t>();
  }
  std::string Metrics() const {
    int status = 0;
    return Http("GET", Url("/metrics"), &status);
  }
  int Stop() {
    child->Signal(SIGTERM);
    return child->Wait();
  }
};

// Value of an unlabelled sample in Prometheus text.
inline double Sample(const std::string& text, const std::string& name) {
  const size_t at = text.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + name.size() + 2));
}

// Reads every message of a topic from the beginning (a fresh group).
class ReadAll final : public stream::RebalanceListener {
 public:
  Status OnPartitionsAssigned(std::vector<stream::PartitionStart>* parts) override {
    for (auto& p : *parts) p.start_offset = stream::kOffsetBeginning;
    return Status::Ok();
  }
  void OnPartitionsRevoked(const std::vector<stream::TopicPartition>&, bool) override {}
};
inline std::vector<std::string> Consume(const std::string& brokers, const std::string& topic,
                                        size_t want) {
  stream::KafkaOptions o;
  o.brokers = brokers;
  o.topic = topic;
  o.group_id = "reader-" + topic;
  o.session_timeout_ms = 6000;
  o.heartbeat_interval_ms = 100;
  ReadAll listener;
  auto src = stream::KafkaSource::Create(o, &listener);
  REQUIRE(src.ok());
  std::vector<std::string> out;
  std::vector<stream::Message> batch;
  WaitFor(
      [&] {
        (*src)->PollBatch(1000, 100, &batch).IgnoreError();
        for (auto& m : batch) out.emplace_back(m.payload());
        batch.clear();
        return out.size() >= want;
      },
      20000);
  // Anything beyond `want` would arrive promptly: poll a little longer.
  for (int i = 0; i < 5; ++i) {
    (*src)->PollBatch(1000, 100, &batch).IgnoreError();
    for (auto& m : batch) out.emplace_back(m.payload());
    batch.clear();
  }
  (*src)->Close().IgnoreError();
  return out;
}

// Value of a labelled sample, e.g. LabelledSample(text, "x_total", "value=\"1\"").
inline double LabelledSample(const std::string& text, const std::string& name,
                             const std::string& label) {
  const std::string key = "\n" + name + "{" + label + "} ";
  const size_t at = text.find(key);
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + key.size()));
}

inline double NowSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace streamrec::testing
