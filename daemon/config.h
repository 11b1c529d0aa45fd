// Config of `streamrec serve`: a JSON file, then STREAMREC_* environment variables, then
// command-line flags, each overriding the one before. Validate() names every problem.
// Config is the typed result; each key of the file (its JSON name, default, bounds, environment
// variable, doc) is declared in the table of daemon/config_keys.cc, which reads and checks it
// and generates docs/CONFIG.md. A new key: a field here and an entry there.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "common/types.h"
#include "models/params.h"
#include "stream/event_codec.h"
#include "stream/kafka_options.h"

namespace streamrec::daemon {

// Sessions and the session model (not reloadable: model and key layout shape the stored state).
struct SessionConfig {
  // Session model: "fpmc", "sasrec-lite", "sknn" (models/session_model.h), or "none" (no session
  // state, no session-aware serving; /v1/next answers 503).
  std::string model = "fpmc";
  // Its hyper-parameters (see models/fpmc.h and the others); `dim` is part of the fingerprint.
  models::ParamMap params;
  // An event without a `session` field joins its user's implicit session, which a pause longer
  // than this (seconds of event time) cuts. Also cuts explicit sessions.
  int64_t gap_s = 1800;
  // Sessions idle longer than this (seconds of event time: the largest event ts applied, not the
  // wall clock, so a replay expires the same sessions) are dropped from memory and the store.
  int64_t ttl_s = 86400;
  // Items kept per session; 0 = the model's own max_len.
  uint32_t max_len = 0;
  // Live sessions at most; a new one beyond it evicts the least recently active. Bounds memory
  // (about 8 * max_len + 64 bytes a session) and the kSessions family.
  uint32_t max_sessions = 1'000'000;
  // Weight of the session score in /v1/recommend when the request has both a known user and a
  // live session: blended = weight * z(session) + (1 - weight) * z(bpr), z = z-score over the
  // catalog. 0..1. Held-out next-click HR@10 on a generated stream (2000 users, 3000 items,
  // 150k events; the "[.blend]" check in tests/daemon/session_state_test.cpp): BPR alone 0.308,
  // weight 0.3 0.404, 0.5 0.429, 0.7 0.440, 0.85 0.443, session alone 0.444. 0.7 keeps nearly
  // all of the session model's next-click accuracy while BPR still orders what the session
  // does not decide.
  double weight = 0.7;
  // How the two score scales are made comparable before weighting: "z" (z-scores, O(items)) or
  // "rank" (rank percentiles: sorts both lists, several ms at 100k items). z ranks better at
  // every weight in the check above (rank: 0.375 / 0.397 / 0.416 / 0.431 at 0.3 / 0.5 / 0.7 /
  // 0.85), and is cheaper: the default.
  std::string blend = "z";
  // Whether ratings join sessions. Off: ratings are explicit feedback, often written in bulk
  // with one timestamp (MovieLens), so their order is not a browsing sequence.
  bool ratings = false;
};

// Cold-start exploration (docs/BANDITS.md). policy, feature_dim and the policy's shape parameters
// are part of the fingerprint; the rest may change between runs.
struct BanditConfig {
  // "linucb" (hybrid LinUCB over hashed item features and the user's BPR vector), "thompson"
  // (Beta-Bernoulli), "egreedy", "random", or "none": no exploration slots, no pool, and the
  // `served` topic is not consumed.
  std::string policy = "linucb";
  // Items with fewer interactions than this form the exploration pool; at this count they
  // graduate to the main ranking.
  uint32_t cold_threshold = 20;
  // Exploration slots of each /v1/recommend list by default (a request's `explore` overrides;
  // 0 disables). The slots are the last ones of the list.
  uint32_t explore = 1;
  // Dimension item features are hashed into (LinUCB's D).
  uint32_t feature_dim = 32;
  // Most pool items scored per request (0 = all): a larger pool is sampled by a random window
  // of this many (bandits/exploration_pool.h), so a long-tail catalog of 100k cold items costs
  // a request what 4k do (LinUCB: ~20 us, a quarter of a 20k-item top-k), and propensities
  // account for the sampling. Every cold item is still a candidate in a share of the requests.
  uint32_t max_candidates = 4096;
  // Attribution window: a click on an explored item within window_s seconds (event time) after
  // it was served is reward 1; none by then is reward 0.
  int64_t window_s = 600;
  // Disorder allowed between the event stream's timestamps (seconds).
  int64_t lateness_s = 60;
  // Served records consumed ahead of event time wait (in memory, offsets not yet stored) until
  // event time reaches them; past this many the oldest is joined anyway.
  uint32_t max_held = 100'000;
  // The policy's hyper-parameters (bandits/thompson.h, lin_ucb.h, epsilon_greedy.h).
  models::ParamMap params;

  bool enabled() const { return policy != "none"; }
};

// What events may do to the state, whatever their source (Kafka or POST /v1/events). An event
// beyond a limit is dead-lettered with the reason, never applied. Reloadable (read per event).
struct LimitsConfig {
  // Event time (`ts`, else the Kafka timestamp) may run at most this many seconds ahead of the
  // wall clock and of the largest event time applied; later events are refused. Allows for
  // producers' clock skew; one event from a clock set to 2100 must not expire every session
  // and decay trending to zero.
  int64_t max_future_s = 3600;
  // Users and items ever created (erased users included: their rows are not reused). Bound
  // the memory of the tables (each id costs its embedding rows: ~0.5-1 KiB an item with the
  // default dimensions) and of top-k. Events that would create one more are refused.
  uint32_t max_users = 10'000'000;
  uint32_t max_items = 2'000'000;
};

// POST /v1/events: who may post, how fast, and how long a post waits for Kafka.
struct IngestConfig {
  // Bearer token required on POST /v1/events (the admin token is accepted too); empty: open,
  // as fits the default loopback bind. Pass it with STREAMREC_INGEST_TOKEN or
  // --ingest-token-file rather than on the command line (visible in ps).
  std::string token;
  // Requests a second per client address, with bursts of up to `burst`; beyond: 429 with
  // Retry-After. Bounds what one client can make the daemon produce.
  double requests_per_s = 100;
  double burst = 200;
  // New ids (users and items not yet in the model) a client may introduce a second, with
  // bursts of up to ten times as many; events beyond are rejected (400 for that event). Bulk
  // catalog loads go through Kafka, where Kafka's client quotas bound a producer.
  double new_ids_per_s = 100;
  // A post answers 2xx only once Kafka acknowledged every accepted event (acks=all); an event
  // not acknowledged within this time fails the post with 503 and is counted in
  // streamrec_http_events_failed_total.
  int delivery_timeout_ms = 5000;
};

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
  // write load. The sampled negatives of BPR and the session model dirty item rows all over
  // the catalog, so under steady ingest each checkpoint rewrites most of it whatever its
  // interval (100k items: ~100 MB); at one a second that was ~40% of a core of writes and
  // flushes on a 2-core machine, at one every 10 s it is a tenth. A crash re-consumes at most
  // the events since the last checkpoint.
  int64_t checkpoint_interval_ms = 10'000;
  uint64_t checkpoint_events = 1'000'000;
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
  models::ParamMap mf;                                    // see models/mf.h
  models::ParamMap bpr;                                   // see models/bpr.h
  models::ParamMap pop = {{"half_life_s", 7 * 86400.0}};  // trending: one-week half-life
  ImplicitWeights weights;
  SessionConfig session;
  BanditConfig bandit;
  // Base seed of every random draw (combined with each event's partition and offset).
  uint64_t seed = 42;
  // Events applied per hold of a writer's lock (the consumer's, and each apply lane's): bounds
  // how long a reader waits for a writer (4 events are a few us of each writer's work; readers
  // pass a writer that waits, rw_lock.h).
  uint32_t apply_batch = 4;
  // Score /v1/recommend's catalog-wide passes on an int8 snapshot of the item tables, outside
  // the model lock, then rescore the best candidates exactly (daemon/scoring_snapshot.h; costs
  // two quarter-size copies of BPR's and the session head's item tables). false: every
  // request scores the live float tables under the shared lock.
  bool scoring_snapshot = true;
  // Validation limits of incoming events.
  stream::DecoderOptions decoder;
  LimitsConfig limits;
  IngestConfig ingest;

  // Reads a JSON config file over the current values; InvalidArgument naming every unknown key
  // and every value of the wrong type.
  Status LoadFile(const std::string& path);
  // Applies the STREAMREC_* environment variables of the key table (an empty one is ignored).
  Status LoadEnv();
  // InvalidArgument listing every value out of its bounds or choices, and what the models
  // refuse.
  Status Validate() const;
  // The settings whose change makes stored state unreadable or meaningless (embedding sizes,
  // popularity half-life), as "k=v;k=v"; a store created with another fingerprint is refused.
  std::string Fingerprint() const;
};

// Reads a secret from a file: its contents without trailing white space. InvalidArgument when
// the file cannot be read or holds nothing.
Status ReadSecretFile(const std::string& path, std::string* out);

// Splits "host:port"; InvalidArgument when malformed.
Status ParseHostPort(const std::string& s, std::string* host, uint16_t* port);

}  // namespace streamrec::daemon
