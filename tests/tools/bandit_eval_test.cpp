// streamrec eval's bandit protocols on the public data (skip when ../shared/data is absent):
// bandit-sim reports the metrics and is deterministic given --seed; ope's estimates
// land near the CTR observed under the evaluated policy.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/support/test_data.h"
#include "tools/bandit_eval.h"
#include "tools/eval.h"

namespace streamrec::tools {
namespace {

EvalOptions Sim(const std::string& policy) {
  EvalOptions o;
  o.protocol = "bandit-sim";
  o.data = *testing::DataFile("movielens-100k");
  o.policy = policy;
  o.progress = false;
  o.params["max_events"] = 15000;  // the first 15% of the stream: fast
  o.params["dim"] = 16;
  return o;
}

}  // namespace

TEST_CASE("bandit-sim reports the exploration metrics, deterministically", "[eval][bandits]") {
  if (!testing::DataFile("movielens-100k/u.item")) {
    STREAMREC_SKIP("movielens-100k not found (set STREAMREC_DATA or provide ../shared/data)");
  }
  for (const char* policy : {"random", "thompson", "linucb", "egreedy"}) {
    INFO(policy);
    auto a = RunEval(Sim(policy));
    REQUIRE(a.ok());
    const auto& m = (*a)["metrics"];
    for (const char* key : {"explore_ctr", "list_ctr", "explore_ctr_first50", "regret", "graduated",
                            "explore_ctr_over_time"}) {
      CHECK(m.contains(key));
    }
    CHECK(m["explore_ctr"].get<double>() > 0.0);
    CHECK(m["explore_ctr"].get<double>() < 1.0);
    CHECK(m["regret"].get<double>() >= 0.0);
    CHECK(m["explore_impressions"].get<double>() > 10000);
    CHECK((*a)["policy"] == policy);
    auto b = RunEval(Sim(policy));
    REQUIRE(b.ok());
    nlohmann::json ma = m, mb = (*b)["metrics"];
    ma.erase("seconds");
    mb.erase("seconds");
    CHECK(ma == mb);
  }
  EvalOptions bad = Sim("thompson");
  bad.params["alpha"] = 1;  // a LinUCB parameter
  CHECK_FALSE(RunEval(bad).ok());
  bad = Sim("nope");
  CHECK_FALSE(RunEval(bad).ok());
}

TEST_CASE("ope estimates each logged policy's CTR from the other's logs", "[eval][bandits]") {
  if (!testing::DataFile("open-bandit-sample/random/men/men.csv")) {
    STREAMREC_SKIP("open-bandit-sample not found (set STREAMREC_DATA or provide ../shared/data)");
  }
  for (const char* policy : {"thompson", "random"}) {
    EvalOptions o;
    o.protocol = "ope";
    o.data = *testing::DataFile("open-bandit-sample");
    o.policy = policy;
    o.progress = false;
    auto r = RunEval(o);
    REQUIRE(r.ok());
    INFO(r->dump());
    const auto& m = (*r)["metrics"];
    const double observed = m["observed_ctr"].get<double>();
    CHECK(observed > 0.002);
    CHECK(observed < 0.02);
    if (std::string(policy) == "thompson") {
      // BTS from the uniform logs (weights bounded by 34 π_e): ~100 clicks, tight estimates.
      CHECK(m["snipw"].get<double>() == Approx(observed).epsilon(0.2));
      CHECK(m["ipw"].get<double>() == Approx(observed).epsilon(0.2));
    } else {
      // Uniform from the BTS logs: BTS rarely shows most items, so a few rows carry huge
      // weights; the estimates are only good to a factor of two on 20k rows.
      CHECK(m["ipw"].get<double>() > observed / 2);
      CHECK(m["ipw"].get<double>() < observed * 2);
      CHECK(m["snipw"].get<double>() > observed / 2);
      CHECK(m["snipw"].get<double>() < observed * 2);
    }
  }
}

TEST_CASE("bandit-sim and ope refuse malformed data files with a message, never crash",
          "[eval][bandits]") {
  namespace fs = std::filesystem;
  auto write = [](const fs::path& p, const std::string& text) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
  };
  const std::string header = ",timestamp,item_id,position,click,propensity_score\n";
  const std::string good = "0,2019-11-24,3,1,0,0.05\n";
  // Each case: the men's random log replaced by this text (the other three files are good).
  const std::vector<std::string> bad_logs = {
      "",                                              // empty
      ",timestamp,item_id,click\n0,t,1,0\n",           // missing columns
      header,                                          // no rows
      header + "0,t,3\n",                              // too few columns
      header + "0,t,abc,1,0,0.05\n",                   // item not a number
      header + "0,t,3,1,2,0.05\n",                     // click not 0/1
      header + "0,t,3,0,0,0.05\n",                     // position 0
      header + "0,t,3,1,0,0\n",                        // propensity 0
      header + "0,t,3,1,0,nan\n",                      // propensity not a number
      header + "0,t,3,1,0,0.05xyz\n",                  // trailing garbage
      header + std::string("\xff\x00\x01,,,,,\n", 9),  // binary
  };
  for (size_t i = 0; i < bad_logs.size(); ++i) {
    testing::TempDir dir;
    const fs::path root(dir.path());
    for (const char* policy : {"random", "bts"}) {
      for (const char* campaign : {"men", "women"}) {
        write(root / policy / campaign / (std::string(campaign) + ".csv"), header + good);
      }
    }
    write(root / "random" / "men" / "men.csv", bad_logs[i]);
    EvalOptions o;
    o.protocol = "ope";
    o.policy = "thompson";
    o.progress = false;
    auto r = RunOpe(o, root.string());
    INFO("case " << i);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message().find("men.csv") != std::string::npos);
  }

  // bandit-sim: a malformed u.item or u.data is an error naming the file.
  for (const auto& [item_text, data_text] : std::vector<std::pair<std::string, std::string>>{
           {"1|Toy Story|01-Jan-1995\n", "1\t1\t5\t881250949\n"},     // u.item: too few fields
           {std::string(24, '|') + "\n", "1\t1\tfive\t881250949\n"},  // u.data: bad rating
           {std::string(24, '|') + "\n", std::string("\x00\xff\n", 3)}}) {
    testing::TempDir dir;
    const fs::path root(dir.path());
    write(root / "u.item", item_text);
    write(root / "u.data", data_text);
    EvalOptions o;
    o.protocol = "bandit-sim";
    o.policy = "random";
    o.progress = false;
    auto r = RunBanditSim(o, root.string());
    INFO(item_text << " / " << data_text);
    REQUIRE_FALSE(r.ok());
    CHECK((r.status().message().find("u.item") != std::string::npos ||
           r.status().message().find("u.data") != std::string::npos));
  }
}

}  // namespace streamrec::tools
