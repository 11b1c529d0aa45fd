// Config: every malformed file is refused with a message naming what to fix; garbage never
// crashes the loader. (The serve integration test checks that start-up stops on them.)
#include "daemon/config.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/test_data.h"

namespace streamrec::daemon {
namespace {

Status Load(const testing::TempDir& dir, const std::string& text) {
  const std::string path = dir.path() + "/config.json";
  std::ofstream(path, std::ios::binary) << text;
  Config c;
  STREAMREC_RETURN_IF_ERROR(c.LoadFile(path));
  return c.Validate();
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

}  // namespace streamrec::daemon
