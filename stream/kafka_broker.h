// KafkaBroker: an in-process Kafka cluster for tests, demos and `streamrec serve` without
// --brokers. It is librdkafka's mock cluster (rdkafka_mock.h): real Kafka protocol over TCP on
// 127.0.0.1, so any Kafka client (ours, kcat) talks to it, but it keeps everything in memory.
//
// Limits of the mock in Debian's librdkafka 2.0.2 (verified by tests/stream/kafka_broker_test.cpp
// and bench/kafka_consume_bench.cc; see stream/README.md):
//  - Retention: each partition keeps at most ~5 MiB of message-set bytes; older sets are
//    dropped silently as new ones arrive, the log start offset moves up and a consumer further
//    behind jumps ahead (auto.offset.reset). Spread data over several partitions (8 by default in
//    `streamrec broker`) and compress on the producer (lz4/zstd; KafkaSink does lz4): the limit
//    counts stored (compressed) bytes. Measured with ~90-100 B JSON events in one partition: ~44k
//    kept uncompressed, ~165k with lz4 and ~390k with zstd (batches of up to 10k messages; smaller
//    batches compress worse).
//  - Ports: every broker listens on 127.0.0.1 with a port the kernel picks
//    (rd_kafka_mock_cluster_new has no port parameter in 2.0.2, and neither has the
//    test.mock.num.brokers property); a fixed port is not possible. Hand the address over with
//    bootstrap_servers() (the `streamrec broker` subcommand prints it and writes --addr-file).
//  - A consumer group's first join waits 3 s (the mock's fixed group.initial.rebalance.delay);
//    later rebalances wait about session.timeout.ms - 1 s for members to rejoin.
//  - One message set (producer batch) per partition per Fetch response (per the mock's source),
//    so the producer's batch size bounds what a consumer gets per round trip.
//  - No persistence: everything is gone when the KafkaBroker is destroyed, which takes ~1 s
//    (measured: rd_kafka_mock_cluster_destroy() returns after about a second).
//
// Thread-safety: thread-safe (the mock runs on its own thread; every method is a request to
// it). Clients must be closed before the KafkaBroker is destroyed, or they will only see a
// broker that went away.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

struct rd_kafka_s;               // rd_kafka_t
struct rd_kafka_mock_cluster_s;  // rd_kafka_mock_cluster_t

namespace streamrec::stream {

class KafkaBroker {
 public:
  // Starts a cluster of num_brokers brokers with ids 1..num_brokers, each on its own
  // 127.0.0.1 port. Topics must be created with CreateTopic() (a client asking for an unknown
  // topic gets it auto-created with the mock's default partition count, 4 in 2.0.2).
  static Result<std::unique_ptr<KafkaBroker>> Start(int num_brokers = 1);
  ~KafkaBroker();
  KafkaBroker(const KafkaBroker&) = delete;
  KafkaBroker& operator=(const KafkaBroker&) = delete;

  // "127.0.0.1:PORT[,127.0.0.1:PORT2...]": the value for bootstrap.servers.
  const std::string& bootstrap_servers() const { return bootstrap_servers_; }
  int num_brokers() const { return num_brokers_; }

  // Creates `topic` with `partitions` partitions, their leaders spread over the brokers.
  // InvalidArgument if it exists already or the arguments are bad.
  Status CreateTopic(std::string_view topic, int partitions, int replication_factor = 1);

  // Disconnects broker `broker_id` (-1: all) and refuses new connections, without moving
  // partition leadership: its partitions are unavailable until SetBrokerUp(). Clients retry.
  Status SetBrokerDown(int32_t broker_id);
  Status SetBrokerUp(int32_t broker_id);
  // Adds rtt_ms of latency to every response of broker `broker_id` (-1: all).
  Status SetBrokerRtt(int32_t broker_id, int rtt_ms);

 private:
  KafkaBroker() = default;

  rd_kafka_s* rk_ = nullptr;                    // owned; the handle the mock cluster needs
  rd_kafka_mock_cluster_s* cluster_ = nullptr;  // owned
  std::string bootstrap_servers_;
  int num_brokers_ = 0;
};

}  // namespace streamrec::stream
