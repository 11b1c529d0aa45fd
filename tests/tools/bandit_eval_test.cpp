// streamrec eval's bandit protocols on the public data (skip when ../shared/data is absent):
// bandit-sim reports the metrics and is deterministic given --seed; ope's estimates
// land near the CTR observed under the evaluated policy.
#include <catch2/catch.hpp>

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

}  // namespace streamrec::tools
