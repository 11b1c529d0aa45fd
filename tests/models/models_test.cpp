// Behaviour shared by every Recommender: determinism, save/load, learning a planted structure,
// forgetting users, and the factory's errors.
#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <vector>

#include "common/rng.h"
#include "common/topk.h"
#include "models/item_knn.h"
#include "models/popularity.h"
#include "models/recommender.h"

namespace streamrec::models {
namespace {

constexpr uint32_t kUsers = 200, kItems = 1000, kClusters = 4;

// Users of cluster c interact with items of cluster c (item % kClusters == c), popular items
// (low index) more often; 5% noise.
std::vector<Interaction> PlantedStream(uint64_t seed, size_t n) {
  Rng rng(seed);
  std::vector<Interaction> out;
  for (size_t e = 0; e < n; ++e) {
    Interaction x;
    x.user = rng.Uniform(kUsers);
    const uint32_t c = x.user % kClusters;
    uint32_t slot = std::min(rng.Uniform(kItems / kClusters), rng.Uniform(kItems / kClusters));
    x.item = rng.Uniform(20) == 0 ? rng.Uniform(kItems) : slot * kClusters + c;
    x.value = x.item % kClusters == c ? 5.0f : 1.0f;
    x.is_rating = true;
    x.ts_seconds = static_cast<int64_t>(e);
    out.push_back(x);
  }
  return out;
}

std::unique_ptr<Recommender> Make(const std::string& name, ParamMap p = {}) {
  auto m = MakeRecommender(name, p);
  REQUIRE(m.ok());
  return std::move(*m);
}

void Train(Recommender& m, UserHistory& h, const std::vector<Interaction>& xs, uint64_t seed,
           int epochs = 1) {
  for (int e = 0; e < epochs; ++e) {
    for (size_t i = 0; i < xs.size(); ++i) {
      m.Observe(xs[i], h, SeedFor(seed, e, i));
      h.Add(xs[i].user, xs[i].item);
    }
  }
}

std::string Bytes(const Recommender& m) {
  std::string s;
  ByteWriter w(&s);
  m.Save(&w);
  return s;
}

}  // namespace

TEST_CASE("Same stream and seed give identical saved bytes, another seed differs", "[models]") {
  const auto stream = PlantedStream(1, 5000);
  for (const char* name : {"mf", "bpr", "pop", "itemknn"}) {
    INFO(name);
    auto a = Make(name), b = Make(name), c = Make(name);
    UserHistory ha, hb, hc;
    Train(*a, ha, stream, 7);
    Train(*b, hb, stream, 7);
    Train(*c, hc, stream, 8);
    CHECK(Bytes(*a) == Bytes(*b));
    if (std::string(name) == "bpr") CHECK(Bytes(*a) != Bytes(*c));  // negatives depend on seed
  }
  // Popularity-sampled negatives are deterministic too.
  auto a = Make("bpr", {{"pop_negatives", 1}}), b = Make("bpr", {{"pop_negatives", 1}});
  UserHistory ha, hb;
  Train(*a, ha, stream, 3);
  Train(*b, hb, stream, 3);
  CHECK(Bytes(*a) == Bytes(*b));
}

TEST_CASE("Save/load round trip restores the same scores and bytes", "[models]") {
  const auto stream = PlantedStream(2, 3000);
  for (const char* name : {"mf", "bpr", "pop", "itemknn"}) {
    INFO(name);
    auto m = Make(name, std::string(name) == "pop" ? ParamMap{{"half_life_s", 100}} : ParamMap{});
    UserHistory h;
    Train(*m, h, stream, 1);
    const std::string bytes = Bytes(*m);
    auto back =
        Make(name, std::string(name) == "pop" ? ParamMap{{"half_life_s", 100}} : ParamMap{});
    ByteReader r(bytes);
    REQUIRE(back->Load(&r).ok());
    CHECK(r.done());
    CHECK(Bytes(*back) == bytes);
    std::vector<float> s1(kItems), s2(kItems);
    for (UserIndex u : {0u, 17u, 199u, 5000u}) {
      m->ScoreItems(u, h, s1);
      back->ScoreItems(u, h, s2);
      CHECK(s1 == s2);
    }
    // Every truncation is refused cleanly.
    for (size_t cut : {size_t{0}, size_t{7}, bytes.size() / 3, bytes.size() - 1}) {
      auto bad = Make(name);
      ByteReader br(std::string_view(bytes).substr(0, cut));
      CHECK_FALSE(bad->Load(&br).ok());
    }
  }
}

TEST_CASE("Incremental checkpoints (globals + dirty rows) restore the exact model", "[models]") {
  const auto stream = PlantedStream(9, 6000);
  for (const char* name : {"mf", "bpr", "pop", "itemknn"}) {
    INFO(name);
    auto m = Make(name);
    UserHistory h;
    // The "store": latest bytes per row, and the globals.
    std::map<UserIndex, std::string> users;
    std::map<ItemIndex, std::string> items;
    std::string globals;
    auto checkpoint = [&] {
      std::vector<UserIndex> du;
      std::vector<ItemIndex> di;
      m->TakeDirty(&du, &di);
      for (UserIndex u : du) {
        users[u].clear();
        ByteWriter w(&users[u]);
        m->SaveUserRow(u, &w);
      }
      for (ItemIndex i : di) {
        items[i].clear();
        ByteWriter w(&items[i]);
        m->SaveItemRow(i, &w);
      }
      globals.clear();
      ByteWriter w(&globals);
      m->SaveGlobals(&w);
    };
    // Three checkpoints at uneven points of the stream.
    size_t done = 0;
    for (size_t part : {size_t{1000}, size_t{2500}, stream.size()}) {
      for (size_t i = done; i < part; ++i) {
        m->Observe(stream[i], h, SeedFor(1, i));
        h.Add(stream[i].user, stream[i].item);
      }
      done = part;
      checkpoint();
    }
    if (std::string(name) == "mf" || std::string(name) == "bpr") CHECK(!users.empty());
    auto back = Make(name);
    ByteReader g(globals);
    REQUIRE(back->LoadGlobals(&g).ok());
    for (auto& [u, bytes] : users) {
      ByteReader r(bytes);
      REQUIRE(back->LoadUserRow(u, &r).ok());
      CHECK(r.done());
    }
    for (auto& [i, bytes] : items) {
      ByteReader r(bytes);
      REQUIRE(back->LoadItemRow(i, &r).ok());
      CHECK(r.done());
    }
    CHECK(Bytes(*back) == Bytes(*m));
  }
}

TEST_CASE("A model saved with another dim is refused with a message", "[models]") {
  auto m = Make("bpr", {{"dim", 16}});
  UserHistory h;
  Train(*m, h, PlantedStream(3, 100), 1);
  const std::string bytes = Bytes(*m);
  auto other = Make("bpr", {{"dim", 32}});
  ByteReader r(bytes);
  Status st = other->Load(&r);
  CHECK_FALSE(st.ok());
  CHECK_THAT(st.message(), Catch::Contains("dim 16"));
}

TEST_CASE("The ranking models learn the planted clusters far better than chance", "[models]") {
  const auto stream = PlantedStream(4, 20000);
  for (const char* name : {"bpr", "itemknn"}) {
    INFO(name);
    auto m = Make(name);
    UserHistory h;
    Train(*m, h, stream, 5, std::string(name) == "itemknn" ? 1 : 5);
    // Fraction of each user's top-5 unseen items that are in the user's cluster (chance: 1/4).
    std::vector<float> scores(kItems);
    std::vector<ScoredItem> top;
    double in_cluster = 0, total = 0;
    for (UserIndex u = 0; u < kUsers; ++u) {
      m->ScoreItems(u, h, scores);
      for (ItemIndex i : h.Items(u)) scores[i] = kExcludedScore;
      TopK(scores, 5, &top);
      for (const auto& s : top) {
        in_cluster += s.index % kClusters == u % kClusters;
        total += 1;
      }
    }
    CHECK(in_cluster / total > 0.8);
  }
}

TEST_CASE("MF predicts planted ratings and clamps to the rating range", "[models]") {
  // Users rate uniformly random items: 5 inside their cluster, 1 outside.
  Rng rng(5);
  std::vector<Interaction> ratings;
  for (int e = 0; e < 20000; ++e) {
    Interaction x;
    x.user = rng.Uniform(kUsers);
    x.item = rng.Uniform(100);
    x.value = x.item % kClusters == x.user % kClusters ? 5.0f : 1.0f;
    x.is_rating = true;
    ratings.push_back(x);
  }
  auto m = Make("mf");
  UserHistory h;
  Train(*m, h, ratings, 5, 20);
  double in = 0, out = 0;
  for (UserIndex u = 0; u < kUsers; ++u) {
    for (ItemIndex i = 0; i < 100; ++i) {
      (i % kClusters == u % kClusters ? in : out) += m->PredictRating(u, i);
    }
  }
  CHECK(in / (kUsers * 25) > 4.0);   // same cluster
  CHECK(out / (kUsers * 75) < 2.0);  // other clusters
  const float cold = m->PredictRating(100000, 100000);
  CHECK(cold >= 1.0f);
  CHECK(cold <= 5.0f);
}

TEST_CASE("ForgetUser resets what a model knows of that user only", "[models]") {
  for (const char* name : {"mf", "bpr"}) {
    INFO(name);
    auto m = Make(name);
    UserHistory h;
    Train(*m, h, PlantedStream(6, 5000), 1);
    std::vector<float> before(kItems), other_before(kItems), after(kItems), other_after(kItems);
    m->ScoreItems(3, h, before);
    m->ScoreItems(4, h, other_before);
    m->ForgetUser(3);
    m->ScoreItems(3, h, after);
    m->ScoreItems(4, h, other_after);
    CHECK(before != after);
    CHECK(other_before == other_after);
  }
}

TEST_CASE("Decayed popularity halves a count per half-life", "[models]") {
  Popularity pop({/*half_life_s=*/10.0f});
  pop.Add(0, 1.0f, 0.0);
  pop.Add(1, 1.0f, 10.0);
  CHECK(pop.Count(0) == Approx(0.5));
  CHECK(pop.Count(1) == Approx(1.0));
  // Far in the future the values are rescaled, not overflowed, and the ratios survive.
  pop.Add(1, 1.0f, 1e5);
  pop.Add(0, 4.0f, 1e5);
  CHECK(std::isfinite(pop.Count(0)));
  CHECK(pop.Count(0) == Approx(4.0));
  CHECK(pop.Count(1) == Approx(1.0));
}

TEST_CASE("Item-kNN similarity is cosine over co-occurrence", "[models]") {
  ItemKNN knn({/*max_history=*/100, /*shrink=*/0.0f});
  UserHistory h;
  // Users 0,1 see items 0 and 1; user 2 sees 0 and 2.
  const std::vector<Interaction> xs = {{0, 0}, {0, 1}, {1, 0}, {1, 1}, {2, 0}, {2, 2}};
  Train(knn, h, xs, 1);
  CHECK(knn.Similarity(0, 1) == Approx(2.0 / std::sqrt(3.0 * 2.0)));
  CHECK(knn.Similarity(0, 2) == Approx(1.0 / std::sqrt(3.0 * 1.0)));
  CHECK(knn.Similarity(1, 2) == 0.0f);
  std::vector<ScoredItem> sim;
  knn.Similar(0, 5, &sim);
  REQUIRE(sim.size() == 2);
  CHECK(sim[0].index == 1);
}

TEST_CASE("The factory rejects unknown models and parameters", "[models]") {
  CHECK_FALSE(MakeRecommender("nope", {}).ok());
  auto bad = MakeRecommender("bpr", {{"learning_rate", 0.1}});
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(bad.status().message(), Catch::Contains("unknown parameter 'learning_rate'"));
  auto range = MakeRecommender("mf", {{"dim", 0}});
  REQUIRE_FALSE(range.ok());
  CHECK_THAT(range.status().message(), Catch::Contains("'dim'"));
  ParamMap effective;
  REQUIRE(MakeRecommender("mf", {{"dim", 8}}, &effective).ok());
  CHECK(effective.at("dim") == 8);
  CHECK(effective.count("lr") == 1);
}

}  // namespace streamrec::models
