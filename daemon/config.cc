#include "daemon/config.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <tuple>
#include <utility>

#include "bandits/policy.h"
#include "daemon/config_keys.h"
#include "models/recommender.h"
#include "models/session_model.h"

namespace streamrec::daemon {
namespace {

using json = nlohmann::json;

// Reads the current value of a field of a const Config: the accessors of the key table take a
// Config& so that one table serves reading and writing; nothing is written through this.
FieldRef ReadOnly(const ConfigKey& key, const Config& config) {
  return key.field(const_cast<Config&>(config));
}

template <typename T>
std::string IntegerRange() {
  return std::to_string(std::numeric_limits<T>::min()) + ".." +
         std::to_string(std::numeric_limits<T>::max());
}

// An integral JSON number in the range of T (2.0 is 2; 2.5, -1 for an unsigned field, true are
// not).
template <typename T>
bool IntegerFromJson(const json& v, T* out) {
  if (v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    if (!std::in_range<T>(u)) return false;
    *out = static_cast<T>(u);
    return true;
  }
  if (v.is_number_integer()) {
    const int64_t i = v.get<int64_t>();
    if (!std::in_range<T>(i)) return false;
    *out = static_cast<T>(i);
    return true;
  }
  if (v.is_number_float()) {
    const double d = v.get<double>();
    // Beyond 2^53 a double no longer holds every integer.
    if (!(std::abs(d) < 9007199254740992.0) || d != std::trunc(d)) return false;
    const auto i = static_cast<int64_t>(d);
    if (!std::in_range<T>(i)) return false;
    *out = static_cast<T>(i);
    return true;
  }
  return false;
}

Status ReadParams(const json& j, const std::string& where, models::ParamMap* out) {
  if (!j.is_object()) return Status::InvalidArgument("'" + where + "' must be an object");
  for (auto& [name, value] : j.items()) {
    if (!value.is_number() && !value.is_boolean()) {
      return Status::InvalidArgument("'" + where + "." + name + "' must be a number");
    }
    (*out)[name] = value.get<double>();
  }
  return Status::Ok();
}

Status ReadStringMap(const json& j, const std::string& where, StringMap* out) {
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

// Reads `v` into the key's field; the problem, naming the key, when it does not fit.
Status ReadJsonValue(const ConfigKey& key, const json& v, Config* config) {
  const std::string name(key.name);
  if (key.kind == KeyKind::kSecretFile) {
    if (!v.is_string()) return Status::InvalidArgument("'" + name + "' must be a string");
    return ReadSecretFile(v.get<std::string>(), std::get<std::string*>(key.field(*config)));
  }
  return std::visit(
      [&](auto* p) -> Status {
        using T = std::remove_pointer_t<decltype(p)>;
        if constexpr (std::is_same_v<T, std::string>) {
          if (!v.is_string()) return Status::InvalidArgument("'" + name + "' must be a string");
          *p = v.get<std::string>();
        } else if constexpr (std::is_same_v<T, bool>) {
          if (!v.is_boolean()) {
            return Status::InvalidArgument("'" + name + "' must be true or false");
          }
          *p = v.get<bool>();
        } else if constexpr (std::is_integral_v<T>) {
          if (!IntegerFromJson(v, p)) {
            return Status::InvalidArgument("'" + name + "' must be an integer in " +
                                           IntegerRange<T>());
          }
        } else if constexpr (std::is_floating_point_v<T>) {
          if (!v.is_number()) return Status::InvalidArgument("'" + name + "' must be a number");
          *p = static_cast<T>(v.get<double>());
        } else if constexpr (std::is_same_v<T, models::ParamMap>) {
          return ReadParams(v, name, p);
        } else {
          return ReadStringMap(v, name, p);
        }
        return Status::Ok();
      },
      key.field(*config));
}

// Appends to *errors every key of the object `j` (the section `prefix`) that the table does not
// declare there, and walks into the sections.
void CheckKnownKeys(const json& j, const std::string& prefix, std::string* errors) {
  for (auto& [key, value] : j.items()) {
    const std::string name = prefix.empty() ? key : prefix + "." + key;
    const ConfigKey* k = FindConfigKey(name);
    // "a.b" written as one key is not the key b of section a.
    if (k == nullptr || key.find('.') != std::string::npos) {
      *errors += "unknown key '" + name + "'; ";
    } else if (k->kind == KeyKind::kSection) {
      if (value.is_object()) {
        CheckKnownKeys(value, name, errors);
      } else {
        *errors += "'" + name + "' must be an object; ";
      }
    }
  }
}

// The value at the dotted `name` in j; null when absent or under a section that is no object.
const json* FindDotted(const json& j, std::string_view name) {
  const json* at = &j;
  while (true) {
    if (!at->is_object()) return nullptr;
    const size_t dot = name.find('.');
    auto it = at->find(std::string(name.substr(0, dot)));
    if (it == at->end()) return nullptr;
    at = &*it;
    if (dot == std::string_view::npos) return at;
    name.remove_prefix(dot + 1);
  }
}

bool InBounds(const ConfigKey& key, double v) {
  return (key.min_open ? v > key.min : v >= key.min) && v <= key.max;
}

bool IsChoice(const ConfigKey& key, std::string_view value) {
  std::string_view rest = key.choices;
  while (true) {
    const size_t bar = rest.find('|');
    if (rest.substr(0, bar) == value) return true;
    if (bar == std::string_view::npos) return false;
    rest.remove_prefix(bar + 1);
  }
}

// The bounds, choices and format of one key's value in `config`; appends each problem.
void CheckValue(const ConfigKey& key, const Config& config, std::string* errors) {
  const std::string name(key.name);
  std::visit(
      [&](auto* p) {
        using T = std::remove_pointer_t<decltype(p)>;
        if constexpr (std::is_arithmetic_v<T> && !std::is_same_v<T, bool>) {
          if (key.has_bounds() && !InBounds(key, static_cast<double>(*p))) {
            const std::string bounds = key.BoundsText();
            const bool interval = bounds.front() == '[' || bounds.front() == '(';
            *errors += name + " must be " + (interval ? "in " : "") + bounds + "; ";
          }
        } else if constexpr (std::is_same_v<T, std::string>) {
          if (!key.choices.empty() && !IsChoice(key, *p)) {
            std::string choices;
            for (char c : key.choices) choices += c == '|' ? std::string(", ") : std::string(1, c);
            *errors += name + " must be one of " + choices + " (not \"" + *p + "\"); ";
          }
          if (key.format == KeyFormat::kNonEmpty && p->empty()) {
            *errors += name + " must not be empty; ";
          }
          std::string host;
          uint16_t port;
          if (key.format == KeyFormat::kHostPort) {
            if (Status st = ParseHostPort(*p, &host, &port); !st.ok()) {
              *errors += name + ": " + st.message() + "; ";
            }
          }
        }
      },
      ReadOnly(key, config));
}

}  // namespace

std::string FieldJson(const ConfigKey& key, const Config& config) {
  if (key.kind != KeyKind::kValue) return "null";
  return std::visit([](auto* p) { return json(*p).dump(); }, ReadOnly(key, config));
}

Status SetFieldFromText(const ConfigKey& key, std::string_view source, const std::string& text,
                        Config* config) {
  const std::string what = std::string(source) + "='" + text + "'";
  return std::visit(
      [&](auto* p) -> Status {
        using T = std::remove_pointer_t<decltype(p)>;
        const char* begin = text.data();
        const char* end = text.data() + text.size();
        if constexpr (std::is_same_v<T, std::string>) {
          *p = text;
        } else if constexpr (std::is_same_v<T, bool>) {
          if (text == "true" || text == "1") {
            *p = true;
          } else if (text == "false" || text == "0") {
            *p = false;
          } else {
            return Status::InvalidArgument(what + " is not true or false");
          }
        } else if constexpr (std::is_arithmetic_v<T>) {
          T value{};
          auto [at, ec] = std::from_chars(begin, end, value);
          if (ec != std::errc() || at != end) {
            return Status::InvalidArgument(what + " is not a number");
          }
          *p = value;
        } else {
          return Status::InvalidArgument(what + ": " + std::string(key.name) +
                                         " is set in the config file only");
        }
        return Status::Ok();
      },
      key.field(*config));
}

Status Config::LoadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::InvalidArgument("cannot read config file " + path);
  json j = json::parse(in, nullptr, /*allow_exceptions=*/false, /*ignore_comments=*/true);
  if (j.is_discarded()) return Status::InvalidArgument(path + ": not valid JSON");
  if (!j.is_object()) return Status::InvalidArgument(path + ": must be a JSON object");
  std::string errors;
  CheckKnownKeys(j, "", &errors);
  // In table order, so a secret file read after its key wins over it.
  for (const ConfigKey& key : ConfigKeys()) {
    if (key.kind == KeyKind::kSection) continue;
    if (const json* v = FindDotted(j, key.name)) {
      if (Status st = ReadJsonValue(key, *v, this); !st.ok()) errors += st.message() + "; ";
    }
  }
  if (!errors.empty()) {
    errors.resize(errors.size() - 2);
    return Status::InvalidArgument(path + ": " + errors);
  }
  return Status::Ok();
}

Status Config::LoadEnv() {
  std::string errors;
  for (const ConfigKey& key : ConfigKeys()) {
    if (key.env.empty()) continue;
    const char* v = std::getenv(std::string(key.env).c_str());
    if (v == nullptr || *v == '\0') continue;
    if (Status st = SetFieldFromText(key, key.env, v, this); !st.ok()) {
      errors += st.message() + "; ";
    }
  }
  if (errors.empty()) return Status::Ok();
  errors.resize(errors.size() - 2);
  return Status::InvalidArgument(errors);
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
  for (const ConfigKey& key : ConfigKeys()) {
    if (key.kind == KeyKind::kValue) CheckValue(key, *this, &errors);
  }
  // What the table cannot say: the models check their own parameters, and two topics must differ.
  for (const auto& [name, params] : {std::pair{"mf", &mf}, {"bpr", &bpr}, {"pop", &pop}}) {
    if (auto m = models::MakeRecommender(name, *params); !m.ok())
      errors += m.status().message() + "; ";
  }
  if (session.model != "none" && IsChoice(*FindConfigKey("session.model"), session.model)) {
    if (auto m = models::MakeSessionModel(session.model, session.params); !m.ok())
      errors += "session: " + m.status().message() + "; ";
  }
  if (bandit.enabled() && IsChoice(*FindConfigKey("bandit.policy"), bandit.policy)) {
    if (auto p =
            bandits::MakePolicy(bandit.policy, bandit.params, std::max(1u, bandit.feature_dim), 64);
        !p.ok())
      errors += "bandit: " + p.status().message() + "; ";
  }
  if (bandit.enabled() && kafka.served_topic == kafka.topic)
    errors += "served_topic must differ from topic; ";
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
    models::ParamMap effective;
    if (!models::MakeRecommender(name, *params, &effective).ok()) continue;
    os << name << '.' << key << '=' << effective[key] << ';';
  }
  // The session model's name and embedding size shape its rows (kUsers/kItems parts, globals).
  os << "session.model=" << session.model << ';';
  if (session.model != "none") {
    models::ParamMap effective;
    if (models::MakeSessionModel(session.model, session.params, &effective).ok()) {
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
