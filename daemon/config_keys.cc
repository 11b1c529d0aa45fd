#include "daemon/config_keys.h"

#include <cmath>
#include <cstdio>
#include <sstream>

namespace streamrec::daemon {
namespace {

// The field a key sets: FIELD(session.gap_s) is the Config member `session.gap_s`.
#define FIELD(member) [](Config& c) -> FieldRef { return &c.member; }

constexpr ConfigKey kKeys[] = {
    // --- Kafka --------------------------------------------------------------------------------
    {.name = "brokers",
     .field = FIELD(kafka.brokers),
     .default_json = R"("")",
     .env = "STREAMREC_BROKERS",
     .flag = "--brokers",
     .doc = "Kafka bootstrap servers HOST:PORT[,HOST:PORT...]; empty starts the embedded broker "
            "(librdkafka's mock cluster: tests and demos only, messages in memory)"},
    {.name = "topic",
     .field = FIELD(kafka.topic),
     .default_json = R"("events")",
     .format = KeyFormat::kNonEmpty,
     .env = "STREAMREC_TOPIC",
     .flag = "--topic",
     .doc = "The topic of events, the log of record (one JSON event per message, key = user id)"},
    {.name = "dlq_topic",
     .field = FIELD(kafka.dlq_topic),
     .default_json = R"("events.dlq")",
     .doc = "Where events that fail validation go, with the reason"},
    {.name = "served_topic",
     .field = FIELD(kafka.served_topic),
     .default_json = R"("served")",
     .doc = "What the daemon served; consumed back to join with clicks (the bandits' rewards); "
            "must differ from `topic` when exploring"},
    {.name = "group",
     .field = FIELD(kafka.group_id),
     .default_json = R"("streamrec")",
     .format = KeyFormat::kNonEmpty,
     .env = "STREAMREC_GROUP",
     .flag = "--group",
     .doc = "Consumer group id; daemons sharing it split the partitions of `topic`"},
    {.name = "partitions",
     .field = FIELD(embedded_partitions),
     .default_json = "8",
     .min = 1,
     .max = 1024,
     .env = "STREAMREC_PARTITIONS",
     .flag = "--partitions",
     .doc = "Partitions of each topic the embedded broker creates (ignored with `brokers`)"},
    // --- State --------------------------------------------------------------------------------
    {.name = "data_dir",
     .field = FIELD(data_dir),
     .default_json = R"("./data/state")",
     .format = KeyFormat::kNonEmpty,
     .env = "STREAMREC_DATA_DIR",
     .flag = "--data-dir",
     .doc = "RocksDB state directory; a fresh one consumes the topic from its beginning"},
    {.name = "checkpoint_interval_ms",
     .field = FIELD(checkpoint_interval_ms),
     .default_json = "10000",
     .unit = "ms",
     .min = 10,
     .env = "STREAMREC_CHECKPOINT_INTERVAL_MS",
     .flag = "--checkpoint-interval-ms",
     .doc = "A checkpoint (dirty rows + offsets in one write) at least this often; shorter: less "
            "to replay after a crash, more writes"},
    {.name = "checkpoint_events",
     .field = FIELD(checkpoint_events),
     .default_json = "1000000",
     .unit = "events",
     .min = 1,
     .doc = "A checkpoint also after this many applied events, whichever comes first"},
    {.name = "background_nice",
     .field = FIELD(background_nice),
     .default_json = "10",
     .min = 0,
     .max = 19,
     .doc = "Nice value of the checkpoint writer and RocksDB's flush and compaction threads "
            "(0: unchanged), so checkpoints do not show in request latency"},
    // --- HTTP ---------------------------------------------------------------------------------
    {.name = "http",
     .field = FIELD(http),
     .default_json = R"("127.0.0.1:8080")",
     .format = KeyFormat::kHostPort,
     .env = "STREAMREC_HTTP",
     .flag = "--http",
     .doc = "Listen address HOST:PORT (loopback by default: expose deliberately)"},
    {.name = "http_threads",
     .field = FIELD(http_threads),
     .default_json = "2",
     .unit = "threads",
     .min = 1,
     .max = 256,
     .doc = "Threads serving HTTP"},
    {.name = "admin_token",
     .field = FIELD(admin_token),
     .default_json = R"("")",
     .env = "STREAMREC_ADMIN_TOKEN",
     .flag = "--admin-token",
     .doc = "Bearer token of the admin API (POST /admin/checkpoint, DELETE /v1/users/ID); empty "
            "disables it. Prefer `admin_token_file` or the environment"},
    {.name = "admin_token_file",
     .kind = KeyKind::kSecretFile,
     .field = FIELD(admin_token),
     .flag = "--admin-token-file",
     .doc = "File holding `admin_token` (trailing white space cut); overrides `admin_token`"},
    // --- Models and serving -------------------------------------------------------------------
    {.name = "seed",
     .field = FIELD(seed),
     .default_json = "42",
     .doc = "Base seed of every random draw (combined with each event's partition and offset)"},
    {.name = "apply_batch",
     .field = FIELD(apply_batch),
     .default_json = "4",
     .unit = "events",
     .min = 1,
     .max = 100000,
     .doc = "Events applied per hold of a writer's lock; bounds how long a request waits for a "
            "writer"},
    {.name = "scoring_snapshot",
     .field = FIELD(scoring_snapshot),
     .default_json = "true",
     .doc = "Score /v1/recommend's catalog-wide passes on an int8 snapshot of the item tables "
            "outside the model lock, then rescore the best exactly (daemon/scoring_snapshot.h)"},
    {.name = "max_event_bytes",
     .field = FIELD(decoder.max_event_bytes),
     .default_json = "65536",
     .unit = "bytes",
     .doc = "Largest accepted event message; larger ones are dead-lettered"},
    // --- kafka --------------------------------------------------------------------------------
    {.name = "kafka",
     .field = FIELD(kafka.properties),
     .default_json = "{}",
     .doc = "librdkafka properties passed to the consumer and the producer, applied last "
            "(stream/kafka_options.h); unknown names stop start-up"},
    // --- limits -------------------------------------------------------------------------------
    {.name = "limits",
     .kind = KeyKind::kSection,
     .doc = "What events may do to the state, from Kafka or POST /v1/events; an event beyond a "
            "limit is dead-lettered with the reason"},
    {.name = "limits.max_future_s",
     .field = FIELD(limits.max_future_s),
     .default_json = "3600",
     .unit = "s",
     .min = 0,
     .doc = "How far event time may run ahead of the wall clock and of the largest event time "
            "applied"},
    {.name = "limits.max_users",
     .field = FIELD(limits.max_users),
     .default_json = "10000000",
     .unit = "users",
     .min = 1,
     .doc = "Users ever created (erased ones included); events that would create more are "
            "refused"},
    {.name = "limits.max_items",
     .field = FIELD(limits.max_items),
     .default_json = "2000000",
     .unit = "items",
     .min = 1,
     .doc = "Items ever created; events that would create more are refused"},
    // --- ingest -------------------------------------------------------------------------------
    {.name = "ingest",
     .kind = KeyKind::kSection,
     .doc = "POST /v1/events: who may post, how fast, and how long a post waits for Kafka"},
    {.name = "ingest.token",
     .field = FIELD(ingest.token),
     .default_json = R"("")",
     .env = "STREAMREC_INGEST_TOKEN",
     .doc = "Bearer token POST /v1/events requires (the admin token is accepted too); empty: "
            "open"},
    {.name = "ingest.token_file",
     .kind = KeyKind::kSecretFile,
     .field = FIELD(ingest.token),
     .flag = "--ingest-token-file",
     .doc = "File holding `ingest.token`; overrides it"},
    {.name = "ingest.requests_per_s",
     .field = FIELD(ingest.requests_per_s),
     .default_json = "100",
     .unit = "requests/s",
     .min = 0,
     .min_open = true,
     .doc = "Posts a second per client address; beyond: 429 with Retry-After"},
    {.name = "ingest.burst",
     .field = FIELD(ingest.burst),
     .default_json = "200",
     .unit = "requests",
     .min = 1,
     .doc = "Burst of posts a client may send above `ingest.requests_per_s`"},
    {.name = "ingest.new_ids_per_s",
     .field = FIELD(ingest.new_ids_per_s),
     .default_json = "100",
     .unit = "ids/s",
     .min = 0,
     .doc = "New users and items a client may introduce a second (bursts of ten times that); "
            "events beyond are rejected"},
    {.name = "ingest.delivery_timeout_ms",
     .field = FIELD(ingest.delivery_timeout_ms),
     .default_json = "5000",
     .unit = "ms",
     .min = 100,
     .max = 600000,
     .doc = "A post answers 2xx once Kafka acknowledged its events; not within this time: 503"},
    // --- models -------------------------------------------------------------------------------
    {.name = "models",
     .kind = KeyKind::kSection,
     .doc = "Hyper-parameters of the models by name; an unknown parameter is refused"},
    {.name = "models.mf",
     .field = FIELD(mf),
     .default_json = "{}",
     .fingerprint = true,
     .doc = "Biased MF for ratings: parameters of `MFOptions` in models/mf.h (`dim` is in the "
            "fingerprint)"},
    {.name = "models.bpr",
     .field = FIELD(bpr),
     .default_json = "{}",
     .fingerprint = true,
     .doc = "BPR, the ranking model: parameters of `BPROptions` in models/bpr.h (`dim` is in the "
            "fingerprint)"},
    {.name = "models.pop",
     .field = FIELD(pop),
     .default_json = R"({"half_life_s": 604800})",
     .fingerprint = true,
     .doc = "Trending: parameters of models/popularity.h (`half_life_s`, in the fingerprint; one "
            "week)"},
    // --- weights ------------------------------------------------------------------------------
    {.name = "weights",
     .kind = KeyKind::kSection,
     .doc = "Weight of each event type as a positive for the ranking models"},
    {.name = "weights.click",
     .field = FIELD(weights.click),
     .default_json = "1",
     .min = 0,
     .max = 100,
     .doc = "Weight of a click"},
    {.name = "weights.view",
     .field = FIELD(weights.view),
     .default_json = "0.5",
     .min = 0,
     .max = 100,
     .doc = "Weight of a view"},
    {.name = "weights.add_to_cart",
     .field = FIELD(weights.add_to_cart),
     .default_json = "2",
     .min = 0,
     .max = 100,
     .doc = "Weight of an add_to_cart"},
    {.name = "weights.purchase",
     .field = FIELD(weights.purchase),
     .default_json = "3",
     .min = 0,
     .max = 100,
     .doc = "Weight of a purchase"},
    {.name = "weights.rating",
     .field = FIELD(weights.rating),
     .default_json = "1",
     .min = 0,
     .max = 100,
     .doc = "Weight of a rating as an implicit positive (every rating counts)"},
    // --- session ------------------------------------------------------------------------------
    {.name = "session",
     .kind = KeyKind::kSection,
     .doc = "Sessions and the session model (daemon/config.h `SessionConfig` gives the numbers "
            "behind the defaults)"},
    {.name = "session.model",
     .field = FIELD(session.model),
     .default_json = R"("fpmc")",
     .choices = "fpmc|sasrec-lite|sknn|none",
     .fingerprint = true,
     .doc = "Session model (models/session_model.h); none: no sessions, /v1/next answers 503"},
    {.name = "session.params",
     .field = FIELD(session.params),
     .default_json = "{}",
     .fingerprint = true,
     .doc = "The session model's parameters: models/fpmc.h, sasrec_lite.h, session_knn.h (`dim` "
            "is in the fingerprint)"},
    {.name = "session.gap_s",
     .field = FIELD(session.gap_s),
     .default_json = "1800",
     .unit = "s",
     .min = 1,
     .doc = "A pause longer than this (event time) cuts a session"},
    {.name = "session.ttl_s",
     .field = FIELD(session.ttl_s),
     .default_json = "86400",
     .unit = "s",
     .min = 1,
     .doc = "Sessions idle longer than this (event time) are dropped from memory and the store"},
    {.name = "session.max_len",
     .field = FIELD(session.max_len),
     .default_json = "0",
     .unit = "items",
     .min = 0,
     .max = 1000,
     .doc = "Items kept per session; 0: the model's own max_len"},
    {.name = "session.max_sessions",
     .field = FIELD(session.max_sessions),
     .default_json = "1000000",
     .unit = "sessions",
     .min = 1,
     .doc = "Live sessions at most; a new one beyond evicts the least recently active"},
    {.name = "session.weight",
     .field = FIELD(session.weight),
     .default_json = "0.7",
     .min = 0,
     .max = 1,
     .doc = "Weight of the session score against BPR's in /v1/recommend when both apply"},
    {.name = "session.blend",
     .field = FIELD(session.blend),
     .default_json = R"("z")",
     .choices = "z|rank",
     .doc = "How the two scores are made comparable: z-scores, or rank percentiles (slower)"},
    {.name = "session.ratings",
     .field = FIELD(session.ratings),
     .default_json = "false",
     .doc = "Whether ratings join sessions (often written in bulk with one timestamp)"},
    // --- bandit -------------------------------------------------------------------------------
    {.name = "bandit",
     .kind = KeyKind::kSection,
     .doc = "Cold-start exploration (docs/BANDITS.md)"},
    {.name = "bandit.policy",
     .field = FIELD(bandit.policy),
     .default_json = R"("linucb")",
     .choices = "linucb|thompson|egreedy|random|none",
     .fingerprint = true,
     .doc = "Exploration policy; none: no exploration slots, no pool, `served_topic` not "
            "consumed"},
    {.name = "bandit.cold_threshold",
     .field = FIELD(bandit.cold_threshold),
     .default_json = "20",
     .unit = "interactions",
     .min = 1,
     .doc = "Items with fewer interactions form the exploration pool; at this count they "
            "graduate"},
    {.name = "bandit.explore",
     .field = FIELD(bandit.explore),
     .default_json = "1",
     .unit = "slots",
     .min = 0,
     .max = 100,
     .doc = "Exploration slots (the last ones) of each /v1/recommend list; a request's "
            "`explore` overrides"},
    {.name = "bandit.feature_dim",
     .field = FIELD(bandit.feature_dim),
     .default_json = "32",
     .min = 1,
     .max = 4096,
     .fingerprint = true,
     .doc = "Dimension item features are hashed into (LinUCB's D)"},
    {.name = "bandit.max_candidates",
     .field = FIELD(bandit.max_candidates),
     .default_json = "4096",
     .unit = "items",
     .doc = "Most pool items scored per request (0: all); a larger pool is sampled"},
    {.name = "bandit.window_s",
     .field = FIELD(bandit.window_s),
     .default_json = "600",
     .unit = "s",
     .min = 0,
     .max = 30 * 86400,
     .doc = "A click within this time (event time) after an item was served is reward 1, none is "
            "reward 0"},
    {.name = "bandit.lateness_s",
     .field = FIELD(bandit.lateness_s),
     .default_json = "60",
     .unit = "s",
     .min = 0,
     .max = 86400,
     .doc = "Disorder allowed between the event stream's timestamps"},
    {.name = "bandit.max_held",
     .field = FIELD(bandit.max_held),
     .default_json = "100000",
     .unit = "records",
     .min = 1,
     .doc = "Served records ahead of event time held in memory; past this the oldest is joined"},
    {.name = "bandit.params",
     .field = FIELD(bandit.params),
     .default_json = "{}",
     .doc = "The policy's parameters: bandits/lin_ucb.h, thompson.h, epsilon_greedy.h"},
};

#undef FIELD

// A Markdown table cell: '|' escaped (no doc holds a line break).
std::string Cell(std::string_view s) {
  std::string out;
  for (char c : s) out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out;
}

std::string Code(std::string_view s) { return s.empty() ? "" : "`" + std::string(s) + "`"; }

std::string Number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

}  // namespace

std::string_view ParentOf(std::string_view name) {
  const size_t dot = name.rfind('.');
  return dot == std::string_view::npos ? std::string_view() : name.substr(0, dot);
}

std::string ConfigKey::TypeText() const {
  if (kind == KeyKind::kSection) return "object";
  if (kind == KeyKind::kSecretFile) return "string (path)";
  Config scratch;
  return std::visit(
      [](auto* p) -> std::string {
        using T = std::remove_pointer_t<decltype(p)>;
        if constexpr (std::is_same_v<T, std::string>) return "string";
        if constexpr (std::is_same_v<T, bool>) return "boolean";
        if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) return "integer";
        if constexpr (std::is_integral_v<T> && !std::is_signed_v<T>) return "integer >= 0";
        if constexpr (std::is_floating_point_v<T>) return "number";
        if constexpr (std::is_same_v<T, models::ParamMap>) return "object: name -> number";
        if constexpr (std::is_same_v<T, StringMap>) return "object: name -> string";
      },
      field(scratch));
}

std::string ConfigKey::BoundsText() const {
  const bool integral = TypeText().rfind("integer", 0) == 0;
  const bool has_min = min != -kNone, has_max = max != kNone;
  if (has_min && has_max) {
    return integral ? Number(min) + ".." + Number(max)
                    : (min_open ? "(" : "[") + Number(min) + ", " + Number(max) + "]";
  }
  if (has_min) return (min_open ? "> " : ">= ") + Number(min);
  if (has_max) return "<= " + Number(max);
  return "";
}

std::span<const ConfigKey> ConfigKeys() { return kKeys; }

const ConfigKey* FindConfigKey(std::string_view name) {
  for (const ConfigKey& k : kKeys) {
    if (k.name == name) return &k;
  }
  return nullptr;
}

std::string ConfigReference() {
  std::ostringstream os;
  os << "# Configuration of `streamrec serve`\n\n"
        "Generated from the key table in `daemon/config_keys.cc`; do not edit. Regenerate with\n"
        "`build/streamrec serve --help-config > docs/CONFIG.md` (the test\n"
        "`docs/CONFIG.md is generated from the config table` fails when this file is stale).\n\n"
        "Precedence: the JSON file (`--config FILE`; `//` comments allowed) < `STREAMREC_*`\n"
        "environment variables < command-line flags. A key of a section is written nested:\n"
        "`session.gap_s` is `{\"session\": {\"gap_s\": ...}}`. Unknown keys, values of the wrong\n"
        "type and values out of bounds stop start-up with a message naming each. Every key takes\n"
        "effect at start-up. A key marked *fingerprint* shapes the stored state: a store created\n"
        "with another value is refused rather than misread. An example that `serve --config`\n"
        "accepts as is: [config/streamrec.example.json](../config/streamrec.example.json).\n";
  auto table_head = [&os] {
    os << "\n| key | type | default | unit, bounds | what |\n|---|---|---|---|---|\n";
  };
  auto row = [&os](const ConfigKey& k) {
    std::string bounds = std::string(k.unit);
    auto add = [&bounds](const std::string& part) {
      if (!part.empty()) bounds += (bounds.empty() ? "" : ", ") + part;
    };
    add(k.BoundsText());
    if (!k.choices.empty()) {
      std::string choices = "one of ";
      for (char c : k.choices) choices += c == '|' ? std::string(", ") : std::string(1, c);
      add(choices);
    }
    if (k.format == KeyFormat::kNonEmpty) add("not empty");
    if (k.format == KeyFormat::kHostPort) add("HOST:PORT");
    std::string doc = std::string(k.doc);
    if (!k.env.empty()) doc += "; env " + Code(k.env);
    if (!k.flag.empty()) doc += "; flag " + Code(k.flag);
    if (k.fingerprint) doc += "; *fingerprint*";
    os << "| " << Code(k.name) << " | " << k.TypeText() << " | " << Cell(Code(k.default_json))
       << " | " << Cell(bounds) << " | " << Cell(doc) << " |\n";
  };
  // The top-level keys first, then each section with its keys.
  os << "\n## Top level\n";
  table_head();
  for (const ConfigKey& k : kKeys) {
    if (k.kind != KeyKind::kSection && ParentOf(k.name).empty()) row(k);
  }
  for (const ConfigKey& section : kKeys) {
    if (section.kind != KeyKind::kSection) continue;
    os << "\n## `" << section.name << "`\n\n" << section.doc << ".\n";
    table_head();
    for (const ConfigKey& k : kKeys) {
      if (ParentOf(k.name) == section.name) row(k);
    }
  }
  os << "\n## Environment variables\n\nEach overrides its key of the file (an empty variable is "
        "ignored); a flag overrides both.\n\n| variable | key |\n|---|---|\n";
  for (const ConfigKey& k : kKeys) {
    if (!k.env.empty()) os << "| " << Code(k.env) << " | " << Code(k.name) << " |\n";
  }
  os << "\n## Flags of `streamrec serve`\n\nEach overrides its key of the file and the "
        "environment. `--config FILE` names the file.\n\n| flag | key |\n|---|---|\n";
  for (const ConfigKey& k : kKeys) {
    if (!k.flag.empty()) os << "| " << Code(k.flag) << " | " << Code(k.name) << " |\n";
  }
  return os.str();
}

}  // namespace streamrec::daemon
