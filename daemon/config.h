// Config of `streamrec serve`: a JSON file, then STREAMREC_* environment variables, then
// command-line flags, each overriding the one before. Validate() names every problem.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "common/types.h"
#include "models/params.h"
#include "stream/event_codec.h"
#include "stream/kafka_options.h"

namespace streamrec::daemon {

struct Config {
  // --- Kafka (not reloadable) ---------------------------------------------------------------
  // Topics, group id, consumer tuning and pass-through librdkafka properties. An empty
  // kafka.brokers starts the embedded broker (librdkafka's mock cluster: test/demo only,
  // messages in memory, ~5 MiB per partition; production uses real Kafka).
  stream::KafkaOptions kafka;
  // Partitions of each topic the embedded broker creates.
  int embedded_partitions = 8;

  // --- State --------------------------------------------------------------------------------
  // RocksDB directory; a fresh one consumes the topic from its beginning.
  std::string data_dir = "./data/state";
  // A checkpoint (dirty rows + offsets, one atomic write) happens after this many ms or this
  // many applied events, whichever comes first. Shorter = less to replay after a crash, more
  // write load.
  int64_t checkpoint_interval_ms = 1000;
  uint64_t checkpoint_events = 200'000;
  // Nice value (1-19; 0 = unchanged) of the background threads: the checkpoint writer and
  // RocksDB's flush and compaction threads. They then yield the CPU to the HTTP threads and
  // the consumer, so a checkpoint does not show in request latency; they still get their
  // share when the machine is busy (checkpoints are delayed, never skipped).
  int background_nice = 10;

  // --- HTTP ---------------------------------------------------------------------------------
  // Listen address "host:port"; 127.0.0.1 by default (expose deliberately).
  std::string http = "127.0.0.1:8080";
  int http_threads = 2;
  // Bearer token of the admin API (POST /admin/checkpoint, DELETE /v1/users/ID); empty
  // disables it.
  std::string admin_token;

  // --- Models (not reloadable: they shape the stored state) -----------------------------------
  ParamMap mf;                                    // see models/mf.h
  ParamMap bpr;                                   // see models/bpr.h
  ParamMap pop = {{"half_life_s", 7 * 86400.0}};  // trending: one-week half-life
  ImplicitWeights weights;
  // Base seed of every random draw (combined with each event's partition and offset).
  uint64_t seed = 42;
  // Events applied per hold of the model's write lock: bounds how long a reader waits
  // (64 events are ~0.2 ms of writer work).
  uint32_t apply_batch = 64;
  // Validation limits of incoming events.
  DecoderOptions decoder;

  // Reads a JSON config file over the current values.
  Status LoadFile(const std::string& path);
  // Applies STREAMREC_BROKERS, _TOPIC, _GROUP, _DATA_DIR, _HTTP, _ADMIN_TOKEN,
  // _CHECKPOINT_INTERVAL_MS, _PARTITIONS.
  Status LoadEnv();
  // InvalidArgument listing every bad value.
  Status Validate() const;
  // The settings whose change makes stored state unreadable or meaningless (embedding sizes,
  // popularity half-life), as "k=v;k=v"; a store created with another fingerprint is refused.
  std::string Fingerprint() const;
};

// Splits "host:port"; InvalidArgument when malformed.
Status ParseHostPort(const std::string& s, std::string* host, uint16_t* port);

}  // namespace streamrec::daemon
