#include "daemon/config.h"

#include <cctype>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <sstream>
#include <tuple>

#include "bandits/policy.h"
#include "models/recommender.h"
#include "models/session_model.h"

namespace streamrec::daemon {
namespace {

using json = nlohmann::json;

// Reads `j[key]` into *out when present; appends to *errors when of the wrong type.
template <typename T>
void Read(const json& j, const char* key, T* out, std::string* errors) {
  auto it = j.find(key);
  if (it == j.end()) return;
  try {
    *out = it->get<T>();
  } catch (const json::exception&) {
    *errors += std::string("'") + key + "' has the wrong type; ";
  }
}

Status ReadParams(const json& j, const std::string& where, ParamMap* out) {
  if (!j.is_object()) return Status::InvalidArgument("'" + where + "' must be an object");
  for (auto& [name, value] : j.items()) {
    if (!value.is_number() && !value.is_boolean()) {
      return Status::InvalidArgument("'" + where + "." + name + "' must be a number");
    }
    (*out)[name] = value.get<double>();
  }
  return Status::Ok();
}

Status ReadStringMap(const json& j, const std::string& where,
                     std::map<std::string, std::string>* out) {
  if (!j.is_object()) return Status::InvalidArgument("'" + where + "' must be an object");
  for (auto& [name, value] : j.items()) {
    if (value.is_string()) {
      (*out)[name] = value.get<std::string>();
    } else if (value.is_number() || value.is_boolean()) {
      (*out)[name] = value.dump();
    } else {
      return Status::InvalidArgument("'" + where + "." + name + "' must be a string");
    }
  }
  return Status::Ok();
}

// The object `name` of j, when present: reports it when it is not an object or has keys other
// than `keys`, reads its "params" into *params, and returns it (null when absent or invalid).
const json* Section(const json& j, const char* name, std::initializer_list<const char*> keys,
                    ParamMap* params, std::string* errors) {
  auto it = j.find(name);
  if (it == j.end()) return nullptr;
  if (!it->is_object()) {
    *errors += "'" + std::string(name) + "' must be an object; ";
    return nullptr;
  }
  for (auto& [key, value] : it->items()) {
    bool known = false;
    for (const char* k : keys) known = known || key == k;
    if (!known) *errors += "unknown key '" + std::string(name) + "." + key + "'; ";
  }
  if (auto p = it->find("params"); p != it->end()) {
    if (Status st = ReadParams(*p, std::string(name) + ".params", params); !st.ok()) {
      *errors += st.message() + "; ";
    }
  }
  return &*it;
}

}  // namespace

Status Config::LoadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::InvalidArgument("cannot read config file " + path);
  json j = json::parse(in, nullptr, /*allow_exceptions=*/false, /*ignore_comments=*/true);
  if (j.is_discarded()) return Status::InvalidArgument(path + ": not valid JSON");
  if (!j.is_object()) return Status::InvalidArgument(path + ": must be a JSON object");
  static const char* kKnown[] = {"brokers",
                                 "topic",
                                 "dlq_topic",
                                 "served_topic",
                                 "group",
                                 "partitions",
                                 "data_dir",
                                 "checkpoint_interval_ms",
                                 "checkpoint_events",
                                 "background_nice",
                                 "http",
                                 "http_threads",
                                 "admin_token",
                                 "models",
                                 "weights",
                                 "session",
                                 "bandit",
                                 "seed",
                                 "apply_batch",
                                 "scoring_snapshot",
                                 "kafka",
                                 "max_event_bytes",
                                 "admin_token_file",
                                 "limits",
                                 "ingest"};
  std::string errors;
  for (auto& [key, value] : j.items()) {
    bool known = false;
    for (const char* k : kKnown) known = known || key == k;
    if (!known) errors += "unknown key '" + key + "'; ";
  }
  Read(j, "brokers", &kafka.brokers, &errors);
  Read(j, "topic", &kafka.topic, &errors);
  Read(j, "dlq_topic", &kafka.dlq_topic, &errors);
  Read(j, "served_topic", &kafka.served_topic, &errors);
  Read(j, "group", &kafka.group_id, &errors);
  Read(j, "partitions", &embedded_partitions, &errors);
  Read(j, "data_dir", &data_dir, &errors);
  Read(j, "checkpoint_interval_ms", &checkpoint_interval_ms, &errors);
  Read(j, "checkpoint_events", &checkpoint_events, &errors);
  Read(j, "background_nice", &background_nice, &errors);
  Read(j, "http", &http, &errors);
  Read(j, "http_threads", &http_threads, &errors);
  Read(j, "admin_token", &admin_token, &errors);
  Read(j, "seed", &seed, &errors);
  Read(j, "apply_batch", &apply_batch, &errors);
  Read(j, "scoring_snapshot", &scoring_snapshot, &errors);
  Read(j, "max_event_bytes", &decoder.max_event_bytes, &errors);
  if (auto it = j.find("admin_token_file"); it != j.end()) {
    if (!it->is_string()) {
      errors += "'admin_token_file' has the wrong type; ";
    } else if (Status st = ReadSecretFile(it->get<std::string>(), &admin_token); !st.ok()) {
      errors += st.message() + "; ";
    }
  }
  ParamMap unused;
  if (const json* o =
          Section(j, "limits", {"max_future_s", "max_users", "max_items"}, &unused, &errors)) {
    Read(*o, "max_future_s", &limits.max_future_s, &errors);
    Read(*o, "max_users", &limits.max_users, &errors);
    Read(*o, "max_items", &limits.max_items, &errors);
  }
  if (const json* o = Section(j, "ingest",
                              {"token", "token_file", "requests_per_s", "burst", "new_ids_per_s",
                               "delivery_timeout_ms"},
                              &unused, &errors)) {
    Read(*o, "token", &ingest.token, &errors);
    Read(*o, "requests_per_s", &ingest.requests_per_s, &errors);
    Read(*o, "burst", &ingest.burst, &errors);
    Read(*o, "new_ids_per_s", &ingest.new_ids_per_s, &errors);
    Read(*o, "delivery_timeout_ms", &ingest.delivery_timeout_ms, &errors);
    if (auto it = o->find("token_file"); it != o->end()) {
      if (!it->is_string()) {
        errors += "'ingest.token_file' has the wrong type; ";
      } else if (Status st = ReadSecretFile(it->get<std::string>(), &ingest.token); !st.ok()) {
        errors += st.message() + "; ";
      }
    }
  }
  if (auto it = j.find("models"); it != j.end()) {
    if (!it->is_object()) {
      errors += "'models' must be an object; ";
    } else {
      for (auto& [name, params] : it->items()) {
        ParamMap* target = name == "mf"    ? &mf
                           : name == "bpr" ? &bpr
                           : name == "pop" ? &pop
                                           : nullptr;
        if (target == nullptr) {
          errors += "unknown model 'models." + name + "' (known: mf, bpr, pop); ";
          continue;
        }
        if (Status st = ReadParams(params, "models." + name, target); !st.ok()) {
          errors += st.message() + "; ";
        }
      }
    }
  }
  if (auto it = j.find("weights"); it != j.end()) {
    Read(*it, "click", &weights.click, &errors);
    Read(*it, "view", &weights.view, &errors);
    Read(*it, "add_to_cart", &weights.add_to_cart, &errors);
    Read(*it, "purchase", &weights.purchase, &errors);
    Read(*it, "rating", &weights.rating, &errors);
  }
  if (const json* o = Section(j, "session",
                              {"model", "params", "gap_s", "ttl_s", "max_len", "max_sessions",
                               "weight", "ratings", "blend"},
                              &session.params, &errors)) {
    Read(*o, "model", &session.model, &errors);
    Read(*o, "gap_s", &session.gap_s, &errors);
    Read(*o, "ttl_s", &session.ttl_s, &errors);
    Read(*o, "max_len", &session.max_len, &errors);
    Read(*o, "max_sessions", &session.max_sessions, &errors);
    Read(*o, "weight", &session.weight, &errors);
    Read(*o, "ratings", &session.ratings, &errors);
    Read(*o, "blend", &session.blend, &errors);
  }
  if (const json* o = Section(j, "bandit",
                              {"policy", "cold_threshold", "explore", "feature_dim",
                               "max_candidates", "window_s", "lateness_s", "max_held", "params"},
                              &bandit.params, &errors)) {
    Read(*o, "policy", &bandit.policy, &errors);
    Read(*o, "cold_threshold", &bandit.cold_threshold, &errors);
    Read(*o, "explore", &bandit.explore, &errors);
    Read(*o, "feature_dim", &bandit.feature_dim, &errors);
    Read(*o, "max_candidates", &bandit.max_candidates, &errors);
    Read(*o, "window_s", &bandit.window_s, &errors);
    Read(*o, "lateness_s", &bandit.lateness_s, &errors);
    Read(*o, "max_held", &bandit.max_held, &errors);
  }
  if (auto it = j.find("kafka"); it != j.end()) {
    if (Status st = ReadStringMap(*it, "kafka", &kafka.properties); !st.ok()) {
      errors += st.message() + "; ";
    }
  }
  if (!errors.empty()) {
    errors.resize(errors.size() - 2);
    return Status::InvalidArgument(path + ": " + errors);
  }
  return Status::Ok();
}

Status Config::LoadEnv() {
  auto env = [](const char* name) -> const char* {
    const char* v = std::getenv(name);
    return v != nullptr && *v != '\0' ? v : nullptr;
  };
  if (const char* v = env("STREAMREC_BROKERS")) kafka.brokers = v;
  if (const char* v = env("STREAMREC_TOPIC")) kafka.topic = v;
  if (const char* v = env("STREAMREC_GROUP")) kafka.group_id = v;
  if (const char* v = env("STREAMREC_DATA_DIR")) data_dir = v;
  if (const char* v = env("STREAMREC_HTTP")) http = v;
  if (const char* v = env("STREAMREC_ADMIN_TOKEN")) admin_token = v;
  if (const char* v = env("STREAMREC_INGEST_TOKEN")) ingest.token = v;
  auto number = [](const char* name, const char* v, auto* out) -> Status {
    const char* end = v + std::strlen(v);
    auto [p, ec] = std::from_chars(v, end, *out);
    if (ec != std::errc() || p != end) {
      return Status::InvalidArgument(std::string(name) + "='" + v + "' is not a number");
    }
    return Status::Ok();
  };
  if (const char* v = env("STREAMREC_CHECKPOINT_INTERVAL_MS")) {
    STREAMREC_RETURN_IF_ERROR(
        number("STREAMREC_CHECKPOINT_INTERVAL_MS", v, &checkpoint_interval_ms));
  }
  if (const char* v = env("STREAMREC_PARTITIONS")) {
    STREAMREC_RETURN_IF_ERROR(number("STREAMREC_PARTITIONS", v, &embedded_partitions));
  }
  return Status::Ok();
}

Status ReadSecretFile(const std::string& path, std::string* out) {
  std::ifstream in(path);
  if (!in) return Status::InvalidArgument("cannot read the secret file " + path);
  std::stringstream contents;
  contents << in.rdbuf();
  std::string secret = contents.str();
  while (!secret.empty() && std::isspace(static_cast<unsigned char>(secret.back()))) {
    secret.pop_back();
  }
  if (secret.empty()) return Status::InvalidArgument("the secret file " + path + " is empty");
  *out = std::move(secret);
  return Status::Ok();
}

Status ParseHostPort(const std::string& s, std::string* host, uint16_t* port) {
  const auto colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == s.size()) {
    return Status::InvalidArgument("'" + s + "' is not HOST:PORT");
  }
  unsigned value = 0;
  const char* b = s.data() + colon + 1;
  const char* e = s.data() + s.size();
  auto [p, ec] = std::from_chars(b, e, value);
  if (ec != std::errc() || p != e || value > 65535) {
    return Status::InvalidArgument("'" + s + "': port must be 0..65535");
  }
  *host = s.substr(0, colon);
  if (host->size() >= 2 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);  // [::1]
  }
  *port = static_cast<uint16_t>(value);
  return Status::Ok();
}

Status Config::Validate() const {
  std::string errors;
  if (kafka.topic.empty()) errors += "topic must not be empty; ";
  if (kafka.group_id.empty()) errors += "group must not be empty; ";
  if (data_dir.empty()) errors += "data_dir must not be empty; ";
  if (embedded_partitions < 1 || embedded_partitions > 1024)
    errors += "partitions must be 1..1024; ";
  if (checkpoint_interval_ms < 10) errors += "checkpoint_interval_ms must be >= 10; ";
  if (checkpoint_events < 1) errors += "checkpoint_events must be >= 1; ";
  if (background_nice < 0 || background_nice > 19) errors += "background_nice must be 0..19; ";
  if (http_threads < 1 || http_threads > 256) errors += "http_threads must be 1..256; ";
  if (apply_batch < 1 || apply_batch > 100000) errors += "apply_batch must be 1..100000; ";
  std::string host;
  uint16_t port;
  if (Status st = ParseHostPort(http, &host, &port); !st.ok())
    errors += "http: " + st.message() + "; ";
  for (const auto& [name, params] : {std::pair{"mf", &mf}, {"bpr", &bpr}, {"pop", &pop}}) {
    if (auto m = MakeRecommender(name, *params); !m.ok()) errors += m.status().message() + "; ";
  }
  if (session.model != "none") {
    if (auto m = MakeSessionModel(session.model, session.params); !m.ok())
      errors += "session: " + m.status().message() + "; ";
  }
  if (bandit.enabled()) {
    if (auto p =
            bandits::MakePolicy(bandit.policy, bandit.params, std::max(1u, bandit.feature_dim), 64);
        !p.ok())
      errors += "bandit: " + p.status().message() + "; ";
  }
  if (bandit.cold_threshold < 1) errors += "bandit.cold_threshold must be >= 1; ";
  if (bandit.explore > 100) errors += "bandit.explore must be 0..100; ";
  if (bandit.feature_dim < 1 || bandit.feature_dim > 4096)
    errors += "bandit.feature_dim must be 1..4096; ";
  if (bandit.window_s < 0 || bandit.window_s > 30 * 86400)
    errors += "bandit.window_s must be 0..2592000 (30 days); ";
  if (bandit.lateness_s < 0 || bandit.lateness_s > 86400)
    errors += "bandit.lateness_s must be 0..86400; ";
  if (bandit.max_held < 1) errors += "bandit.max_held must be >= 1; ";
  if (bandit.enabled() && kafka.served_topic == kafka.topic)
    errors += "served_topic must differ from topic; ";
  if (session.blend != "z" && session.blend != "rank")
    errors += "session.blend must be \"z\" or \"rank\"; ";
  if (session.gap_s < 1) errors += "session.gap_s must be >= 1; ";
  if (session.ttl_s < 1) errors += "session.ttl_s must be >= 1; ";
  if (session.max_len > 1000) errors += "session.max_len must be 0..1000; ";
  if (session.max_sessions < 1) errors += "session.max_sessions must be >= 1; ";
  if (!(session.weight >= 0.0 && session.weight <= 1.0))
    errors += "session.weight must be in [0, 1]; ";
  for (float w :
       {weights.click, weights.view, weights.add_to_cart, weights.purchase, weights.rating}) {
    if (!(w >= 0.0f && w <= 100.0f)) {
      errors += "weights must be in [0, 100]; ";
      break;
    }
  }
  if (limits.max_future_s < 0) errors += "limits.max_future_s must be >= 0; ";
  if (limits.max_users < 1) errors += "limits.max_users must be >= 1; ";
  if (limits.max_items < 1) errors += "limits.max_items must be >= 1; ";
  if (!(ingest.requests_per_s > 0) || !(ingest.burst >= 1))
    errors += "ingest.requests_per_s must be > 0 and ingest.burst >= 1; ";
  if (!(ingest.new_ids_per_s >= 0)) errors += "ingest.new_ids_per_s must be >= 0; ";
  if (ingest.delivery_timeout_ms < 100 || ingest.delivery_timeout_ms > 600'000)
    errors += "ingest.delivery_timeout_ms must be 100..600000; ";
  if (errors.empty()) return Status::Ok();
  errors.resize(errors.size() - 2);
  return Status::InvalidArgument("invalid config: " + errors);
}

std::string Config::Fingerprint() const {
  // Only what changes the meaning of stored bytes: embedding sizes and the decay reference of
  // popularity. Learning rates and the like may change between runs.
  std::ostringstream os;
  os.precision(9);
  for (const auto& [name, params, key] :
       {std::tuple{"mf", &mf, "dim"}, {"bpr", &bpr, "dim"}, {"pop", &pop, "half_life_s"}}) {
    ParamMap effective;
    if (!MakeRecommender(name, *params, &effective).ok()) continue;
    os << name << '.' << key << '=' << effective[key] << ';';
  }
  // The session model's name and embedding size shape its rows (kUsers/kItems parts, globals).
  os << "session.model=" << session.model << ';';
  if (session.model != "none") {
    ParamMap effective;
    if (MakeSessionModel(session.model, session.params, &effective).ok()) {
      if (auto it = effective.find("dim"); it != effective.end()) {
        os << "session.dim=" << it->second << ';';
      }
    }
  }
  // The policy and the hashed dimension shape the kBandits records.
  os << "bandit.policy=" << bandit.policy << ';';
  if (bandit.enabled()) os << "bandit.feature_dim=" << bandit.feature_dim << ';';
  std::string s = os.str();
  s.pop_back();
  return s;
}

}  // namespace streamrec::daemon
