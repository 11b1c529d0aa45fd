// streamrec eval: loaders on small files (including garbage), and the quality bars on
// MovieLens-100k, which skip with a message when ../shared/data (or $STREAMREC_DATA) is absent.
#include <catch2/catch.hpp>
#include <fstream>

#include "tests/support/test_data.h"
#include "tools/dataset.h"
#include "tools/eval.h"

namespace streamrec::tools {
namespace {

std::string WriteFile(const testing::TempDir& dir, const std::string& name,
                      const std::string& text) {
  const std::string path = dir.path() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

double Metric(const EvalOptions& o, const std::string& name) {
  auto r = RunEval(o);
  REQUIRE(r.ok());
  INFO(r->dump());
  return (*r)["metrics"][name].get<double>();
}

EvalOptions Ml100k(const std::string& protocol, const std::string& model) {
  EvalOptions o;
  o.protocol = protocol;
  o.data = *testing::DataFile("movielens-100k");
  o.model = model;
  o.progress = false;
  return o;
}

}  // namespace

TEST_CASE("Loaders read each format and detect it", "[eval]") {
  testing::TempDir dir;
  Dataset ml;
  const auto ml_path = WriteFile(dir, "r.data", "1\t10\t4\t100\n2\t10\t3\t50\n1\t11\t5\t70\n");
  CHECK(DetectFormat(ml_path) == DataFormat::kMovieLens);
  REQUIRE(LoadMovieLens(ml_path, &ml).ok());
  REQUIRE(ml.events.size() == 3);
  CHECK(ml.users.size() == 2);
  CHECK(ml.items.size() == 2);
  CHECK(ml.events[2].value == 5.0f);
  CHECK(ml.events[1].ts_seconds == 50);
  CHECK(ml.events[0].is_rating);

  Dataset seq;
  const auto seq_path = WriteFile(dir, "s.txt", "1 5\n1 6\n2 5\n1 7\n");
  CHECK(DetectFormat(seq_path) == DataFormat::kSequences);
  REQUIRE(LoadSequences(seq_path, &seq).ok());
  CHECK(seq.events[3].ts_seconds == 2);  // third item of user 1

  Dataset yc;
  const auto yc_path = WriteFile(
      dir, "y.txt", "SessionId\tItemId\tTime\n1\t214\t1396860669.277\n1\t215\t1396860700\n");
  CHECK(DetectFormat(yc_path) == DataFormat::kYoochoose);
  REQUIRE(LoadYoochoose(yc_path, &yc).ok());
  CHECK(yc.events.size() == 2);
  CHECK(yc.events[0].ts_seconds == 1396860669);

  Dataset js;
  const auto js_path =
      WriteFile(dir, "e.jsonl",
                "{\"type\":\"item\",\"item\":\"m9\",\"features\":{\"year\":1975}}\n"
                "{\"type\":\"rating\",\"user\":\"u1\",\"item\":\"m9\",\"value\":4.5,\"ts\":10}\n"
                "{\"type\":\"purchase\",\"user\":\"u2\",\"item\":\"m9\",\"ts\":11}\n");
  CHECK(DetectFormat(js_path) == DataFormat::kJsonl);
  REQUIRE(LoadJsonl(js_path, ImplicitWeights(), &js).ok());
  REQUIRE(js.events.size() == 2);
  CHECK(js.events[0].is_rating);
  CHECK(js.events[0].value == 4.5f);
  CHECK_FALSE(js.events[1].is_rating);
  CHECK(js.events[1].weight == ImplicitWeights().purchase);
}

TEST_CASE("Loaders reject malformed lines with file and line number", "[eval]") {
  testing::TempDir dir;
  Dataset ds;
  Status st = LoadMovieLens(WriteFile(dir, "bad.data", "1\t2\t4\t9\n1\t2\tfour\t9\n"), &ds);
  CHECK_FALSE(st.ok());
  CHECK_THAT(st.message(), Catch::Contains("bad.data:2"));
  CHECK_FALSE(LoadSequences(WriteFile(dir, "bad.txt", "1\n"), &ds).ok());
  CHECK_FALSE(
      LoadYoochoose(WriteFile(dir, "y.txt", "SessionId\tItemId\tTime\n1\t2\tnoon\n"), &ds).ok());
  CHECK_FALSE(LoadMovieLens(dir.path() + "/missing", &ds).ok());
  st = LoadJsonl(
      WriteFile(dir, "bad.jsonl",
                "{\"type\":\"click\",\"user\":\"u\",\"item\":\"i\"}\n{\"type\":\"click\"}\n"),
      ImplicitWeights(), &ds);
  CHECK_THAT(st.message(), Catch::Contains("bad.jsonl:2"));
  CHECK_THAT(st.message(), Catch::Contains("user"));
}

TEST_CASE("eval reports clear errors for bad requests", "[eval]") {
  testing::TempDir dir;
  EvalOptions o;
  o.progress = false;
  o.data = WriteFile(dir, "r.data", "1\t10\t4\t100\n");
  o.protocol = "nope";
  CHECK_THAT(RunEval(o).status().message(), Catch::Contains("unknown protocol"));
  o.protocol = "prequential";
  o.model = "nope";
  CHECK_THAT(RunEval(o).status().message(), Catch::Contains("unknown model"));
  o.model = "bpr";
  o.params = {{"dimm", 3}};
  CHECK_THAT(RunEval(o).status().message(), Catch::Contains("unknown parameter 'dimm'"));
  o.params = {};
  o.data = dir.path() + "/nothing-here";
  CHECK(RunEval(o).status().IsNotFound());
  o.data = WriteFile(dir, "r2.data", "1\t10\t4\t100\n");
  o.protocol = "rating-cv";
  CHECK_THAT(RunEval(o).status().message(), Catch::Contains("u1..u5"));
}

TEST_CASE("eval on a tiny stream is deterministic", "[eval]") {
  testing::TempDir dir;
  std::string text;
  for (int u = 0; u < 30; ++u) {
    for (int i = 0; i < 12; ++i) {
      text += std::to_string(u) + "\t" + std::to_string((u * 7 + i * 3) % 40) + "\t" +
              std::to_string(1 + (u + i) % 5) + "\t" + std::to_string(u * 100 + i) + "\n";
    }
  }
  EvalOptions o;
  o.progress = false;
  o.data = WriteFile(dir, "r.data", text);
  for (const char* protocol : {"prequential", "ranking-split", "loo-sampled"}) {
    o.protocol = protocol;
    auto a = RunEval(o), b = RunEval(o);
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    CHECK((*a)["metrics"] == (*b)["metrics"]);
  }
}

// The bars of the foundations issue, from the same code `streamrec eval` runs.
TEST_CASE("ML-100k rating-cv: MF mean RMSE <= 0.925", "[eval][ml100k]") {
  if (!testing::DataFile("movielens-100k/u1.base")) {
    STREAMREC_SKIP(
        "MovieLens-100k not found: set STREAMREC_DATA or put ../shared/data beside the checkout");
  }
  CHECK(Metric(Ml100k("rating-cv", "mf"), "rmse") <= 0.925);
}

TEST_CASE("ML-100k ranking-split: BPR NDCG@10 >= 0.42 and above itemknn and pop",
          "[eval][ml100k]") {
  if (!testing::DataFile("movielens-100k/u.data")) {
    STREAMREC_SKIP(
        "MovieLens-100k not found: set STREAMREC_DATA or put ../shared/data beside the checkout");
  }
  const double bpr = Metric(Ml100k("ranking-split", "bpr"), "ndcg@10");
  CHECK(bpr >= 0.42);
  CHECK(bpr > Metric(Ml100k("ranking-split", "itemknn"), "ndcg@10"));
  CHECK(bpr > Metric(Ml100k("ranking-split", "pop"), "ndcg@10"));
}

TEST_CASE("ML-100k prequential: BPR HR@10 >= 1.3 x popularity", "[eval][ml100k]") {
  if (!testing::DataFile("movielens-100k/u.data")) {
    STREAMREC_SKIP(
        "MovieLens-100k not found: set STREAMREC_DATA or put ../shared/data beside the checkout");
  }
  const double pop = Metric(Ml100k("prequential", "pop"), "hr@10");
  CHECK(pop == Approx(0.077).margin(0.001));  // the published all-time popularity figure
  CHECK(Metric(Ml100k("prequential", "bpr"), "hr@10") >= 1.3 * pop);
}

// Session models, kept fast: few epochs / users; the bar figures come from the CLI
// (docs/EVAL.md).
EvalOptions Sessions(const std::string& protocol, const std::string& data,
                     const std::string& model) {
  EvalOptions o;
  o.protocol = protocol;
  o.data = data;
  o.model = model;
  o.progress = false;
  return o;
}

TEST_CASE("session-next on a tiny Yoochoose split: sknn and fpmc beat pop", "[eval][session]") {
  testing::TempDir dir;
  // Train: sessions repeat 1 -> 2 -> 3; item 9 is the most popular but never follows 1 or 2.
  std::string train = "SessionId\tItemId\tTime\n";
  std::string test = train;
  for (int s = 0; s < 30; ++s) {
    const double t = 1000.0 + s * 100;
    train += std::to_string(s) + "\t1\t" + std::to_string(t) + "\n";
    train += std::to_string(s) + "\t2\t" + std::to_string(t + 1) + "\n";
    train += std::to_string(s) + "\t3\t" + std::to_string(t + 2) + "\n";
    train += std::to_string(100 + s) + "\t9\t" + std::to_string(t + 3) + "\n";
    train += std::to_string(100 + s) + "\t9\t" + std::to_string(t + 4) + "\n";
    train += std::to_string(200 + s) + "\t9\t" + std::to_string(t + 5) + "\n";
    train += std::to_string(200 + s) + "\t8\t" + std::to_string(t + 6) + "\n";
  }
  for (int s = 0; s < 5; ++s) {
    const double t = 9000.0 + s * 100;
    test += std::to_string(500 + s) + "\t1\t" + std::to_string(t) + "\n";
    test += std::to_string(500 + s) + "\t2\t" + std::to_string(t + 1) + "\n";
    test += std::to_string(500 + s) + "\t3\t" + std::to_string(t + 2) + "\n";
  }
  WriteFile(dir, "x_train_full.txt", train);
  WriteFile(dir, "x_test.txt", test);
  EvalOptions pop = Sessions("session-next", dir.path(), "pop");
  const double pop_mrr = Metric(pop, "mrr@20");
  for (const char* model : {"sknn", "fpmc"}) {
    INFO(model);
    EvalOptions o = Sessions("session-next", dir.path(), model);
    o.epochs = 5;
    o.params = {{"dim", 8}};
    if (std::string(model) == "sknn") o.params = {};
    auto r = RunEval(o);
    REQUIRE(r.ok());
    CHECK((*r)["metrics"]["evaluated"] == 10);
    CHECK((*r)["metrics"]["mrr@20"].get<double>() > pop_mrr);
    // fpmc learns the order; sknn only the co-occurrence (1, 2, 3 tie after 1).
    CHECK((*r)["metrics"]["mrr@20"].get<double>() >= (std::string(model) == "fpmc" ? 0.5 : 0.3));
    o.online = true;
    auto online = RunEval(o);
    REQUIRE(online.ok());
    CHECK((*online)["params"]["online"] == true);
  }
  EvalOptions bad = Sessions("session-next", dir.path() + "/x_test.txt", "fpmc");
  CHECK_THAT(RunEval(bad).status().message(), Catch::Contains("_train_full"));
}

TEST_CASE("Yoochoose session-next: fpmc near sknn, both far above pop", "[eval][session]") {
  if (!testing::DataFile("yoochoose-sample/yoochoose-clicks-100k_test.txt")) {
    STREAMREC_SKIP(
        "yoochoose-sample not found: set STREAMREC_DATA or put ../shared/data beside "
        "the checkout");
  }
  const std::string data = *testing::DataFile("yoochoose-sample");
  const double pop = Metric(Sessions("session-next", data, "pop"), "recall@20");
  const double sknn = Metric(Sessions("session-next", data, "sknn"), "recall@20");
  EvalOptions fpmc = Sessions("session-next", data, "fpmc");
  fpmc.epochs = 5;  // fast; the tuned default (docs/EVAL.md) reaches sknn
  const double f = Metric(fpmc, "recall@20");
  CHECK(sknn >= 0.6);
  CHECK(sknn > 5 * pop);
  CHECK(f > 5 * pop);
  CHECK(f >= 0.85 * sknn);
}

TEST_CASE("Amazon Games loo-sampled: fpmc beats bpr", "[eval][session]") {
  if (!testing::DataFile("amazon-games/games.txt")) {
    STREAMREC_SKIP(
        "amazon-games not found: set STREAMREC_DATA or put ../shared/data beside "
        "the checkout");
  }
  EvalOptions o = Sessions("loo-sampled", *testing::DataFile("amazon-games/games.txt"), "fpmc");
  o.max_users = 2000;
  o.epochs = 3;
  EvalOptions bpr = o;
  bpr.model = "bpr";
  const double f = Metric(o, "hr@10");
  CHECK(f >= 0.6);
  CHECK(f > Metric(bpr, "hr@10"));
}

}  // namespace streamrec::tools
