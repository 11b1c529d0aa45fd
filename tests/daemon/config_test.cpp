// Config: every malformed file is refused with a message naming what to fix; garbage never
// crashes the loader. (The serve integration test checks that start-up stops on them.)
#include "daemon/config.h"

#include <stdlib.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "daemon/commands.h"
#include "daemon/config_keys.h"
#include "tests/support/test_data.h"

namespace streamrec::daemon {
namespace {

using json = nlohmann::json;

Status LoadInto(const testing::TempDir& dir, const std::string& text, Config* c) {
  const std::string path = dir.path() + "/config.json";
  std::ofstream(path, std::ios::binary) << text;
  return c->LoadFile(path);
}

Status Load(const testing::TempDir& dir, const std::string& text) {
  Config c;
  STREAMREC_RETURN_IF_ERROR(LoadInto(dir, text, &c));
  return c.Validate();
}

// {"a": {"b": value}} for the dotted name "a.b".
json Nested(std::string_view name, json value) {
  for (size_t dot = name.rfind('.'); dot != std::string_view::npos; dot = name.rfind('.')) {
    value = json{{std::string(name.substr(dot + 1)), std::move(value)}};
    name = name.substr(0, dot);
  }
  return json{{std::string(name), std::move(value)}};
}

// A value of the key's type other than its default: a number one more, another choice, the
// negated boolean, a string with a suffix.
json OtherValue(const ConfigKey& key) {
  const json d = json::parse(key.default_json);
  if (d.is_boolean()) return !d.get<bool>();
  if (d.is_number_float()) return d.get<double>() + 1;
  if (d.is_number()) return d.get<int64_t>() + 1;
  if (d.is_string() && !key.choices.empty()) {
    const std::string first(key.choices.substr(0, key.choices.find('|')));
    const std::string rest(key.choices.substr(key.choices.find('|') + 1));
    return d.get<std::string>() == first ? rest.substr(0, rest.find('|')) : first;
  }
  if (d.is_string()) return d.get<std::string>() + "1";
  return nullptr;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("Config: bad files are refused with a message naming the key", "[config]") {
  testing::TempDir dir;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{", "JSON"},
      {"[1, 2]", "object"},
      {std::string("\x00\xff{", 3), "JSON"},
      {R"({"no_such_key": 1})", "no_such_key"},
      {R"({"apply_batch": "many"})", "apply_batch"},
      {R"({"apply_batch": 0})", "apply_batch"},
      {R"({"background_nice": 25})", "background_nice"},
      {R"({"checkpoint_interval_ms": 1})", "checkpoint_interval_ms"},
      {R"({"http": "nowhere"})", "http"},
      {R"({"session": 3})", "session"},
      {R"({"session": {"mode": "fpmc"}})", "session.mode"},
      {R"({"session": {"model": "markov"}})", "session"},
      {R"({"session": {"weight": 1.5}})", "session.weight"},
      {R"({"session": {"weight": "half"}})", "weight"},
      {R"({"session": {"blend": "max"}})", "session.blend"},
      {R"({"session": {"gap_s": 0}})", "session.gap_s"},
      {R"({"session": {"ttl_s": -5}})", "session.ttl_s"},
      {R"({"session": {"max_sessions": 0}})", "session.max_sessions"},
      {R"({"session": {"params": {"dim": 0}}})", "dim"},
      {R"({"session": {"params": {"no_such_param": 1}}})", "no_such_param"},
      {R"({"models": {"bpr": {"dim": -1}}})", "dim"},
      {R"({"bandit": 1})", "bandit"},
      {R"({"bandit": {"policy": "ucb1"}})", "ucb1"},
      {R"({"bandit": {"polcy": "linucb"}})", "bandit.polcy"},
      {R"({"bandit": {"explore": -1}})", "explore"},
      {R"({"bandit": {"explore": 101}})", "bandit.explore"},
      {R"({"bandit": {"cold_threshold": 0}})", "bandit.cold_threshold"},
      {R"({"bandit": {"feature_dim": 0}})", "bandit.feature_dim"},
      {R"({"bandit": {"window_s": -1}})", "bandit.window_s"},
      {R"({"bandit": {"policy": "linucb", "params": {"alpha": -1}}})", "alpha"},
      {R"({"bandit": {"policy": "thompson", "params": {"alpha": 1}}})", "alpha"},
      {R"({"served_topic": "events"})", "served_topic"},
      {R"({"scoring_snapshot": "yes"})", "scoring_snapshot"},
      {R"({"scoring_snapshot": 1})", "scoring_snapshot"},
  };
  for (const auto& [text, names] : cases) {
    INFO(text);
    const Status st = Load(dir, text);
    REQUIRE_FALSE(st.ok());
    CHECK(st.message().find(names) != std::string::npos);
  }
  // And the documented keys load.
  CHECK(Load(dir, R"({"background_nice": 0, "apply_batch": 128,
                      "session": {"model": "sknn", "weight": 0.5, "blend": "rank"}})")
            .ok());
  CHECK(Load(dir, R"({"session": {"model": "none"}})").ok());
  CHECK(Load(dir, R"({"bandit": {"policy": "thompson", "explore": 2, "window_s": 60,
                                 "params": {"prior_beta": 100}}})")
            .ok());
  CHECK(Load(dir, R"({"bandit": {"policy": "none"}})").ok());
  CHECK(Load(dir, R"({"scoring_snapshot": false})").ok());
}

TEST_CASE("Config: the bandit policy and feature dimension are in the fingerprint", "[config]") {
  Config a, b;
  b.bandit.policy = "thompson";
  CHECK(a.Fingerprint() != b.Fingerprint());
  CHECK(a.Fingerprint().find("bandit.policy=linucb") != std::string::npos);
  b = a;
  b.bandit.feature_dim = 64;
  CHECK(a.Fingerprint() != b.Fingerprint());
  b = a;
  b.bandit.explore = 3;  // serving-time only
  b.bandit.window_s = 10;
  CHECK(a.Fingerprint() == b.Fingerprint());
}

TEST_CASE("Config keys: the table is well formed", "[config]") {
  std::set<std::string_view> names;
  for (const ConfigKey& key : ConfigKeys()) {
    INFO(key.name);
    CHECK(names.insert(key.name).second);
    CHECK_FALSE(key.doc.empty());
    // A key of a section comes after its section.
    if (!ParentOf(key.name).empty()) {
      const ConfigKey* section = FindConfigKey(ParentOf(key.name));
      REQUIRE(section != nullptr);
      CHECK(section->kind == KeyKind::kSection);
      CHECK(section < &key);
    }
    if (key.kind == KeyKind::kSection) {
      CHECK(key.field == nullptr);
      continue;
    }
    REQUIRE(key.field != nullptr);
    if (key.kind == KeyKind::kValue) {
      const json d = json::parse(key.default_json);
      if (!key.choices.empty()) CHECK(key.choices.find(d.get<std::string>()) != key.choices.npos);
    }
  }
}

TEST_CASE("Config keys: each default in the table is the default of Config", "[config]") {
  const Config defaults;
  for (const ConfigKey& key : ConfigKeys()) {
    if (key.kind != KeyKind::kValue) continue;
    INFO(key.name << " table " << key.default_json << " Config " << FieldJson(key, defaults));
    CHECK(json::parse(FieldJson(key, defaults)) == json::parse(key.default_json));
  }
  CHECK(defaults.Validate().ok());
}

TEST_CASE("Config keys: each key of a file sets its own field and no other", "[config]") {
  testing::TempDir dir;
  const Config defaults;
  for (const ConfigKey& key : ConfigKeys()) {
    if (key.kind != KeyKind::kValue) continue;
    INFO(key.name);
    json value = OtherValue(key);
    if (value.is_null()) {  // a map: one more entry
      value = key.TypeText() == "object: name -> string" ? json{{"x", "1"}} : json{{"x", 1}};
    }
    Config c;
    REQUIRE(LoadInto(dir, Nested(key.name, value).dump(), &c).ok());
    json expected = value;
    if (key.default_json != "{}" && value.is_object()) {
      expected = json::parse(key.default_json);
      expected.update(value);  // a map merges into its default
    }
    CHECK(json::parse(FieldJson(key, c)) == expected);
    for (const ConfigKey& other : ConfigKeys()) {
      if (other.kind == KeyKind::kValue && &other != &key) {
        INFO("and not " << other.name);
        CHECK(FieldJson(other, c) == FieldJson(other, defaults));
      }
    }
  }
  // A file of every default, over a config holding other values, gives the defaults back.
  json all = json::object();
  Config changed;
  for (const ConfigKey& key : ConfigKeys()) {
    if (key.kind != KeyKind::kValue || key.default_json.front() == '{') continue;
    all.merge_patch(Nested(key.name, json::parse(key.default_json)));
    REQUIRE(SetFieldFromText(key, "test",
                             OtherValue(key).is_string() ? OtherValue(key).get<std::string>()
                                                         : OtherValue(key).dump(),
                             &changed)
                .ok());
  }
  REQUIRE(LoadInto(dir, all.dump(), &changed).ok());
  for (const ConfigKey& key : ConfigKeys()) {
    if (key.kind != KeyKind::kValue) continue;
    INFO(key.name);
    CHECK(FieldJson(key, changed) == FieldJson(key, defaults));
  }
}

TEST_CASE("Config keys: a secret file sets its token", "[config]") {
  testing::TempDir dir;
  std::ofstream(dir.path() + "/admin") << "s3cret\n";
  std::ofstream(dir.path() + "/ingest") << "t0ken \n";
  Config c;
  REQUIRE(LoadInto(dir,
                   R"({"admin_token": "in-file", "admin_token_file": ")" + dir.path() +
                       R"(/admin", "ingest": {"token_file": ")" + dir.path() + R"(/ingest"}})",
                   &c)
              .ok());
  CHECK(c.admin_token == "s3cret");
  CHECK(c.ingest.token == "t0ken");
  const Status st = LoadInto(dir, R"({"ingest": {"token_file": "/no/such/file"}})", &c);
  REQUIRE_FALSE(st.ok());
  CHECK(st.message().find("/no/such/file") != std::string::npos);
}

TEST_CASE("Config keys: unknown keys are refused with their dotted names", "[config]") {
  testing::TempDir dir;
  for (const auto& [text, name] : std::vector<std::pair<std::string, std::string>>{
           {R"({"limits": {"max_user": 5}})", "'limits.max_user'"},
           {R"({"weights": {"clik": 1}})", "'weights.clik'"},
           {R"({"models": {"als": {}}})", "'models.als'"},
           {R"({"session.gap_s": 5})", "'session.gap_s'"},
           {R"({"ingest": {"token": "t", "rate": 1}})", "'ingest.rate'"},
       }) {
    INFO(text);
    const Status st = Load(dir, text);
    REQUIRE_FALSE(st.ok());
    CHECK(st.message().find("unknown key " + name) != std::string::npos);
  }
  // Every problem of a file at once.
  const Status st = Load(dir, R"({"a": 1, "bandit": {"b": 2}, "seed": "x", "weights": 3})");
  REQUIRE_FALSE(st.ok());
  for (const char* part : {"'a'", "'bandit.b'", "'seed'", "'weights'"}) {
    CHECK(st.message().find(part) != std::string::npos);
  }
  // The pass-through maps take any name.
  CHECK(Load(dir, R"({"kafka": {"socket.keepalive.enable": true}, "models": {"mf": {"lr": 0.02}}})")
            .ok());
}

TEST_CASE("Config keys: a value of the wrong type is refused naming its key", "[config]") {
  testing::TempDir dir;
  for (const ConfigKey& key : ConfigKeys()) {
    if (key.kind == KeyKind::kSection) continue;
    const std::string type = key.TypeText();
    std::vector<json> wrong;
    if (type.rfind("string", 0) == 0) wrong = {5, true, json::array()};
    if (type == "boolean") wrong = {1, "true"};
    if (type.rfind("integer", 0) == 0) wrong = {"7", true, 1.5, json::object()};
    if (type == "integer >= 0") wrong.push_back(-1);
    if (type == "number") wrong = {"0.5", true};
    if (type.rfind("object", 0) == 0) wrong = {3, json::array(), Nested("x", json::array())};
    INFO(key.name << ": " << type);
    REQUIRE_FALSE(wrong.empty());
    for (const json& v : wrong) {
      const std::string text = Nested(key.name, v).dump();
      INFO(text);
      const Status st = Load(dir, text);
      REQUIRE_FALSE(st.ok());
      CHECK(st.message().find(std::string(key.name)) != std::string::npos);
    }
  }
  // An integral number written as a float is that integer; a huge one fits no field.
  Config c;
  REQUIRE(LoadInto(dir, R"({"session": {"max_sessions": 2e3}})", &c).ok());
  CHECK(c.session.max_sessions == 2000);
  CHECK_FALSE(Load(dir, R"({"limits": {"max_users": 5000000000}})").ok());
}

TEST_CASE("Config keys: values out of bounds or choices are refused, the bounds accepted",
          "[config]") {
  testing::TempDir dir;
  for (const ConfigKey& key : ConfigKeys()) {
    if (key.kind != KeyKind::kValue) continue;
    INFO(key.name);
    std::vector<json> outside;
    if (key.min != -ConfigKey::kNone) outside.push_back(key.min_open ? key.min : key.min - 1);
    if (key.max != ConfigKey::kNone) outside.push_back(key.max + 1);
    if (!key.choices.empty()) outside.push_back("no-such-choice");
    if (key.format != KeyFormat::kAny) outside.push_back("");
    // (On a config without the exploration policy and the session model, whose allocations
    // grow with some of these values.)
    for (const json& v : outside) {
      const std::string text = Nested(key.name, v).dump();
      INFO(text);
      Config c;
      c.bandit.policy = "none";
      c.session.model = "none";
      Status st = LoadInto(dir, text, &c);
      if (st.ok()) st = c.Validate();
      REQUIRE_FALSE(st.ok());
      CHECK(st.message().find(std::string(key.name)) != std::string::npos);
    }
    // The bounds themselves are valid.
    std::vector<std::string> inside;
    char buf[32];
    if (key.min != -ConfigKey::kNone && !key.min_open) {
      std::snprintf(buf, sizeof buf, "%.17g", key.min);
      inside.push_back(buf);
    }
    if (key.max != ConfigKey::kNone) {
      std::snprintf(buf, sizeof buf, "%.17g", key.max);
      inside.push_back(buf);
    }
    for (std::string_view choices = key.choices; !choices.empty();) {
      const size_t bar = choices.find('|');
      inside.emplace_back(choices.substr(0, bar));
      choices = bar == choices.npos ? std::string_view() : choices.substr(bar + 1);
    }
    for (const std::string& v : inside) {
      INFO(v);
      Config c;
      c.bandit.policy = "none";
      c.session.model = "none";
      REQUIRE(SetFieldFromText(key, "test", v, &c).ok());
      const Status st = c.Validate();
      INFO(st.message());
      CHECK(st.ok());
    }
  }
  // Validate names every problem, not the first.
  Config c;
  c.embedded_partitions = 0;
  c.session.weight = 2;
  c.bandit.policy = "ucb1";
  c.http = "nowhere";
  c.kafka.topic = "";
  const Status st = c.Validate();
  REQUIRE_FALSE(st.ok());
  for (const char* part :
       {"partitions must be 1..1024", "session.weight must be in [0, 1]",
        "bandit.policy must be one of", "\"ucb1\"", "http:", "topic must not be empty"}) {
    INFO(st.message());
    CHECK(st.message().find(part) != std::string::npos);
  }
}

TEST_CASE("Config keys: environment variables override the file", "[config]") {
  testing::TempDir dir;
  Config c;
  REQUIRE(LoadInto(dir, R"({"topic": "from-file", "partitions": 2, "group": "g"})", &c).ok());
  ::setenv("STREAMREC_TOPIC", "from-env", 1);
  ::setenv("STREAMREC_PARTITIONS", "16", 1);
  ::setenv("STREAMREC_GROUP", "", 1);  // empty: ignored
  ::setenv("STREAMREC_CHECKPOINT_INTERVAL_MS", "2500", 1);
  REQUIRE(c.LoadEnv().ok());
  CHECK(c.kafka.topic == "from-env");
  CHECK(c.embedded_partitions == 16);
  CHECK(c.kafka.group_id == "g");
  CHECK(c.checkpoint_interval_ms == 2500);
  // Every variable of the table sets its key.
  for (const ConfigKey& key : ConfigKeys()) {
    if (key.env.empty()) continue;
    INFO(key.env);
    const json other = OtherValue(key);
    const std::string text = other.is_string() ? other.get<std::string>() : other.dump();
    ::setenv(std::string(key.env).c_str(), text.c_str(), 1);
    Config e;
    REQUIRE(e.LoadEnv().ok());
    CHECK(json::parse(FieldJson(key, e)) == other);
  }
  // Malformed numbers are refused, each named.
  ::setenv("STREAMREC_PARTITIONS", "many", 1);
  ::setenv("STREAMREC_CHECKPOINT_INTERVAL_MS", "10s", 1);
  const Status st = c.LoadEnv();
  REQUIRE_FALSE(st.ok());
  CHECK(st.message().find("STREAMREC_PARTITIONS='many'") != std::string::npos);
  CHECK(st.message().find("STREAMREC_CHECKPOINT_INTERVAL_MS='10s'") != std::string::npos);
  for (const ConfigKey& key : ConfigKeys()) {
    if (!key.env.empty()) ::unsetenv(std::string(key.env).c_str());
  }
}

TEST_CASE("Config keys: the fingerprint covers the keys marked so, and only those", "[config]") {
  const Config defaults;
  for (const ConfigKey& key : ConfigKeys()) {
    if (key.kind != KeyKind::kValue || key.default_json.front() == '{') continue;
    INFO(key.name);
    const json other = OtherValue(key);
    Config c;
    REQUIRE(SetFieldFromText(key, "test",
                             other.is_string() ? other.get<std::string>() : other.dump(), &c)
                .ok());
    CHECK((c.Fingerprint() != defaults.Fingerprint()) == key.fingerprint);
  }
}

TEST_CASE("Config keys: every flag of the table is a flag of serve", "[config]") {
  CLI::App app;
  AddServeCommand(app);
  CLI::App* serve = app.get_subcommand("serve");
  for (const ConfigKey& key : ConfigKeys()) {
    if (key.flag.empty()) continue;
    INFO(key.flag);
    CHECK_NOTHROW(serve->get_option(std::string(key.flag)));
  }
}

TEST_CASE("Config keys: the reference names every key, variable and flag", "[config]") {
  const std::string doc = ConfigReference();
  for (const ConfigKey& key : ConfigKeys()) {
    INFO(key.name);
    CHECK(doc.find("`" + std::string(key.name) + "`") != std::string::npos);
    if (!key.env.empty()) CHECK(doc.find("| `" + std::string(key.env) + "` |") != doc.npos);
    if (!key.flag.empty()) CHECK(doc.find("| `" + std::string(key.flag) + "` |") != doc.npos);
  }
}

TEST_CASE("Config: the example config loads, validates and has every section", "[config]") {
  const std::string path = STREAMREC_SOURCE_DIR "/config/streamrec.example.json";
  Config c;
  const Status loaded = c.LoadFile(path);
  INFO(loaded.message());
  REQUIRE(loaded.ok());
  const Status valid = c.Validate();
  INFO(valid.message());
  CHECK(valid.ok());
  const json example = json::parse(ReadAll(path));
  for (const ConfigKey& key : ConfigKeys()) {
    if (key.kind == KeyKind::kSection || ParentOf(key.name).empty()) {
      INFO(key.name);
      CHECK((example.contains(std::string(key.name)) || key.kind == KeyKind::kSecretFile ||
             key.name == "admin_token"));
    }
  }
}

}  // namespace streamrec::daemon
