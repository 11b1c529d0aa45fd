// Shared pieces of the Kafka integration tests: an embedded broker with test-friendly client
// timings, a listener that keeps "applied" offsets like the daemon's RocksDB would, and
// produce/consume helpers. Everything talks real Kafka protocol over TCP to the mock cluster.
#pragma once

#include <librdkafka/rdkafka.h>
#include <catch2/catch.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "stream/kafka_broker.h"
#include "stream/kafka_options.h"
#include "stream/kafka_sink.h"
#include "stream/kafka_source.h"

namespace streamrec::stream::testing {

// prefix followed by n in decimal. (Spelled out because GCC 12 raises a false -Wrestrict on
// `"literal" + std::to_string(n)`.)
inline std::string Cat(std::string_view prefix, int64_t n) {
  std::string s(prefix);
  s.append(std::to_string(n));
  return s;
}

// A copy of a consumed message that outlives the KafkaSource.
struct Record {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  std::string key;
  std::string payload;
};

inline Record Copy(const Message& m) {
  return {std::string(m.topic()), m.partition(), m.offset(), std::string(m.key()),
          std::string(m.payload())};
}

// Client timings for the mock: a member notices a rebalance within 100 ms and a join waits
// about session.timeout.ms - 1 s (the first join of a group always waits 3 s).
inline KafkaOptions TestOptions(const std::string& brokers, const std::string& topic = "events") {
  KafkaOptions o;
  o.brokers = brokers;
  o.topic = topic;
  o.group_id = "test-group";
  o.client_id = "kafka-test";
  o.session_timeout_ms = 3000;
  o.heartbeat_interval_ms = 100;
  o.linger_ms = 1;
  o.properties["topic.metadata.refresh.interval.ms"] = "1000";
  return o;
}

struct Cluster {
  std::unique_ptr<KafkaBroker> broker;
  KafkaOptions options;
};

// One broker with `topic` of `partitions` partitions (and the DLQ topic).
inline Cluster StartCluster(int partitions, const std::string& topic = "events",
                            int num_brokers = 1) {
  Result<std::unique_ptr<KafkaBroker>> broker = KafkaBroker::Start(num_brokers);
  REQUIRE(broker.ok());
  Cluster c{std::move(broker).value(), {}};
  REQUIRE(c.broker->CreateTopic(topic, partitions).ok());
  REQUIRE(c.broker->CreateTopic("events.dlq", 2).ok());
  c.options = TestOptions(c.broker->bootstrap_servers(), topic);
  return c;
}

// Produces n messages "k<i % keys>" -> "<prefix><i>" and waits for their delivery.
inline void ProduceN(const KafkaOptions& options, int n, const std::string& prefix = "m",
                     int keys = 50, int first = 0) {
  Result<std::unique_ptr<KafkaSink>> sink = KafkaSink::Create(options);
  REQUIRE(sink.ok());
  for (int i = first; i < first + n; ++i) {
    REQUIRE((*sink)
                ->Produce(options.topic, Cat("k", i % keys), Cat(prefix, i), /*block_ms=*/5000)
                .ok());
  }
  REQUIRE((*sink)->Flush(10000).ok());
  REQUIRE((*sink)->counters().delivered == n);
}

// Low and high watermark of one partition, asked of the broker (REQUIRE on failure).
inline std::pair<int64_t, int64_t> Watermarks(const std::string& brokers, const std::string& topic,
                                              int32_t partition) {
  char errstr[256];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  REQUIRE(rd_kafka_conf_set(conf, "bootstrap.servers", brokers.c_str(), errstr, sizeof(errstr)) ==
          RD_KAFKA_CONF_OK);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
  REQUIRE(rk != nullptr);
  int64_t low = -1, high = -1;
  const rd_kafka_resp_err_t err =
      rd_kafka_query_watermark_offsets(rk, topic.c_str(), partition, &low, &high, 5000);
  rd_kafka_destroy(rk);
  REQUIRE(err == RD_KAFKA_RESP_ERR_NO_ERROR);
  return {low, high};
}

// Log end offset of each of the first `partitions` partitions of `topic`.
inline std::map<int32_t, int64_t> EndOffsets(const std::string& brokers, const std::string& topic,
                                             int partitions) {
  std::map<int32_t, int64_t> end;
  for (int32_t p = 0; p < partitions; ++p) end[p] = Watermarks(brokers, topic, p).second;
  return end;
}

// Keeps the next offset to apply per partition, as the daemon keeps it in RocksDB: assignment
// starts there (or at the beginning), revocation checkpoints. Thread-safe, so that consumers on
// several threads can share one store (the tests' stand-in for the group's shared state).
class OffsetStore {
 public:
  void Checkpoint(const std::map<int32_t, int64_t>& next) {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [p, o] : next) next_[p] = o;
  }
  std::map<int32_t, int64_t> Get() const {
    std::lock_guard<std::mutex> lock(mu_);
    return next_;
  }
  std::vector<std::string> Events() const {
    std::lock_guard<std::mutex> lock(mu_);
    return events_;
  }
  void AddEvent(std::string e) {
    std::lock_guard<std::mutex> lock(mu_);
    events_.push_back(std::move(e));
  }

 private:
  mutable std::mutex mu_;
  std::map<int32_t, int64_t> next_;
  std::vector<std::string> events_;  // "<name> assign 0,1,2" / "<name> revoke 0,1"
};

// A RebalanceListener over an OffsetStore. `pending` holds what was applied since the last
// checkpoint; OnPartitionsRevoked() checkpoints it, like the daemon flushing its WriteBatch.
class StoreListener : public RebalanceListener {
 public:
  StoreListener(std::string name, OffsetStore* store) : name_(std::move(name)), store_(store) {}

  // Overrides for specific partitions, consulted before the store.
  std::map<int32_t, int64_t> start_overrides;

  Status OnPartitionsAssigned(std::vector<PartitionStart>* partitions) override {
    const std::map<int32_t, int64_t> stored = store_->Get();
    std::string event = name_ + " assign";
    for (PartitionStart& p : *partitions) {
      if (auto it = start_overrides.find(p.partition); it != start_overrides.end()) {
        p.start_offset = it->second;
      } else if (auto st = stored.find(p.partition); st != stored.end()) {
        p.start_offset = st->second;
      }
      event += Cat(" ", p.partition);
    }
    store_->AddEvent(event);
    assigned_calls++;
    return Status::Ok();
  }
  void OnPartitionsRevoked(const std::vector<TopicPartition>& partitions, bool lost) override {
    Checkpoint();
    std::string event = name_ + (lost ? " lost" : " revoke");
    for (const TopicPartition& p : partitions) event += Cat(" ", p.partition);
    store_->AddEvent(event);
    revoked_calls++;
  }

  // Records a handled batch (the "apply" step).
  void Applied(const std::vector<Message>& batch) {
    for (const Message& m : batch) pending_[m.partition()] = m.offset() + 1;
  }
  void Checkpoint() {
    store_->Checkpoint(pending_);
    pending_.clear();
  }

  int assigned_calls = 0;
  int revoked_calls = 0;

 private:
  std::string name_;
  OffsetStore* store_;
  std::map<int32_t, int64_t> pending_;
};

// Polls until `done(records)` or timeout_ms; checkpoints after every batch.
inline std::vector<Record> ConsumeUntil(KafkaSource* source, StoreListener* listener,
                                        const std::function<bool(const std::vector<Record>&)>& done,
                                        int timeout_ms) {
  std::vector<Record> records;
  std::vector<Message> batch;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!done(records) && std::chrono::steady_clock::now() < deadline) {
    Status st = source->PollBatch(500, 100, &batch);
    REQUIRE(st.ok());
    for (const Message& m : batch) records.push_back(Copy(m));
    listener->Applied(batch);
    listener->Checkpoint();
  }
  batch.clear();
  return records;
}

inline std::function<bool(const std::vector<Record>&)> AtLeast(size_t n) {
  return [n](const std::vector<Record>& r) { return r.size() >= n; };
}

}  // namespace streamrec::stream::testing
