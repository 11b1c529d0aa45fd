// ExplorationPool: entry, graduation, exclusion, and row-level persistence (round trip and
// determinism: the same inputs give the same bytes).
#include <algorithm>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "bandits/exploration_pool.h"

namespace streamrec::bandits {
namespace {

std::unique_ptr<ExplorationPool> NewPool(const std::string& policy, uint32_t threshold = 5) {
  PoolOptions o;
  o.cold_threshold = threshold;
  o.feature_dim = 16;
  auto p = MakePolicy(policy, {}, o.feature_dim, 4);
  REQUIRE(p.ok());
  return std::make_unique<ExplorationPool>(o, std::move(*p));
}

// A fixed script of item, interaction, reward and selection calls.
void Drive(ExplorationPool& pool, uint64_t seed, int steps) {
  Rng rng(seed);
  SelectScratch s;
  std::vector<ExploreSlot> out;
  for (int t = 0; t < steps; ++t) {
    const ItemIndex item = rng.Uniform(40);
    std::vector<float> e = {static_cast<float>(rng.Normal()), static_cast<float>(rng.Normal()),
                            static_cast<float>(rng.Normal()), static_cast<float>(rng.Normal())};
    switch (rng.Uniform(4)) {
      case 0: {
        SparseFeatures f;
        pool.hasher().Add("genre:" + std::to_string(item % 4), 1.0f, &f);
        pool.hasher().Add("year", 0.1f * (item % 7), &f);
        pool.OnItem(item, f, t);
        break;
      }
      case 1:
        if (rng.Uniform(4) == 0) pool.OnInteraction(item, t);
        break;
      default:
        out.clear();
        pool.SelectSlots({e}, 2, {}, t, SeedFor(seed, t), &s, &out);
        for (const ExploreSlot& slot : out) {
          (void)pool.OnReward({e}, slot.item, rng.Uniform(5) == 0 ? 1.0f : 0.0f, t);
        }
    }
  }
}

std::string Snapshot(const ExplorationPool& pool) {
  std::string bytes;
  ByteWriter w(&bytes);
  pool.SaveGlobals(&w);
  for (ItemIndex i = 0; i < 64; ++i) {
    std::string row;
    ByteWriter rw(&row);
    pool.SaveItem(i, &rw);
    w.PutString(row);
  }
  return bytes;
}

Status Restore(ExplorationPool& pool, const std::string& bytes) {
  ByteReader r(bytes);
  STREAMREC_RETURN_IF_ERROR(pool.LoadGlobals(&r));
  for (ItemIndex i = 0; i < 64; ++i) {
    std::string row;
    if (!r.GetString(&row)) return Status::Corruption("rows");
    if (row.empty()) continue;
    ByteReader rr(row);
    STREAMREC_RETURN_IF_ERROR(pool.LoadItem(i, &rr));
    if (!rr.done()) return Status::Corruption("row not consumed");
  }
  return Status::Ok();
}

}  // namespace

TEST_CASE("Items enter the pool cold and graduate at the threshold", "[bandits]") {
  auto pool = NewPool("thompson", 3);
  SparseFeatures f;
  pool->hasher().Add("genre:Drama", 1.0f, &f);
  pool->OnItem(7, f, 0);
  CHECK(pool->InPool(7));  // explorable at once, before any interaction
  pool->OnInteraction(9, 0);
  CHECK(pool->InPool(9));
  CHECK(pool->size() == 2);
  pool->OnInteraction(7, 1);
  pool->OnInteraction(7, 2);
  CHECK(pool->InPool(7));
  pool->OnInteraction(7, 3);
  CHECK_FALSE(pool->InPool(7));
  CHECK(pool->graduated() == 1);
  CHECK_FALSE(pool->OnReward({}, 7, 1.0f, 4));
  pool->OnItem(7, f, 5);  // a catalog update does not bring a warm item back
  CHECK_FALSE(pool->InPool(7));
  std::vector<ItemIndex> dirty;
  pool->TakeDirty(&dirty);
  CHECK(dirty == std::vector<ItemIndex>{7, 9});
  dirty.clear();
  pool->TakeDirty(&dirty);
  CHECK(dirty.empty());
}

TEST_CASE("SelectSlots never returns an excluded item", "[bandits]") {
  for (const char* policy : {"thompson", "linucb", "egreedy", "random"}) {
    auto pool = NewPool(policy, 100);
    for (ItemIndex i = 0; i < 30; ++i) pool->OnItem(i, SparseFeatures(), 0);
    std::vector<ItemIndex> exclude;
    for (ItemIndex i = 0; i < 30; i += 2) exclude.push_back(i);
    SelectScratch s;
    std::vector<ExploreSlot> out;
    for (uint64_t seed = 0; seed < 50; ++seed) {
      out.clear();
      pool->SelectSlots({}, 3, exclude, 0, seed, &s, &out);
      REQUIRE(out.size() == 3);
      for (const auto& slot : out) {
        CHECK(slot.item % 2 == 1);
        CHECK(slot.propensity > 0.0);
        CHECK(slot.propensity <= 1.0);
      }
      CHECK(out[0].item != out[1].item);
    }
    if (std::string(policy) == "random") CHECK(out[0].propensity == Approx(3.0 / 15));
  }
}

TEST_CASE("A large pool is sampled by a window of max_candidates slots", "[bandits]") {
  PoolOptions o;
  o.feature_dim = 16;
  o.max_candidates = 100;
  auto p = MakePolicy("random", {}, o.feature_dim, 4);
  REQUIRE(p.ok());
  ExplorationPool pool(o, std::move(*p));
  for (ItemIndex i = 0; i < 1000; ++i) pool.OnItem(i, SparseFeatures(), 0);
  SelectScratch s;
  std::vector<ExploreSlot> out;
  std::vector<int> picked(1000, 0);
  for (uint64_t seed = 0; seed < 20000; ++seed) {
    out.clear();
    pool.SelectSlots({}, 2, {}, 0, seed, &s, &out);
    REQUIRE(out.size() == 2);
    CHECK(out[0].item != out[1].item);
    // Uniform within the window of 100, the window one tenth of the pool: 2/100 * 100/1000.
    for (const ExploreSlot& x : out) {
      CHECK(x.propensity == Approx(2.0 / 1000));
      ++picked[x.item];
    }
  }
  // Every item is reachable, about equally often (40 picks each on average).
  CHECK(*std::min_element(picked.begin(), picked.end()) > 10);
  CHECK(*std::max_element(picked.begin(), picked.end()) < 80);
  // A pool no larger than the window is scored whole (propensity 2/1000 -> 2/100).
  auto q = MakePolicy("random", {}, o.feature_dim, 4);
  REQUIRE(q.ok());
  ExplorationPool small(o, std::move(*q));
  for (ItemIndex i = 0; i < 100; ++i) small.OnItem(i, SparseFeatures(), 0);
  out.clear();
  small.SelectSlots({}, 2, {}, 0, 1, &s, &out);
  CHECK(out[0].propensity == Approx(2.0 / 100));
}

TEST_CASE("Pool persistence round-trips and replays to the same bytes", "[bandits]") {
  for (const char* policy : {"thompson", "linucb", "egreedy", "random"}) {
    INFO(policy);
    auto a = NewPool(policy);
    auto b = NewPool(policy);
    Drive(*a, 5, 3000);
    Drive(*b, 5, 3000);
    const std::string bytes = Snapshot(*a);
    CHECK(bytes == Snapshot(*b));  // deterministic

    auto c = NewPool(policy);
    REQUIRE(Restore(*c, bytes).ok());
    CHECK(Snapshot(*c) == bytes);  // round trip
    // The restored pool behaves exactly like the original from here on.
    Drive(*a, 6, 500);
    Drive(*c, 6, 500);
    CHECK(Snapshot(*c) == Snapshot(*a));
  }
}

TEST_CASE("A cold item's record holds its arm only once a reward has moved it", "[bandits]") {
  // Interactions dirty an item on every event; its record must not carry LinUCB's matrices
  // until a reward has changed them.
  auto pool = NewPool("linucb", 100);
  SparseFeatures f;
  pool->hasher().Add("genre:a", 1.0f, &f);
  pool->OnItem(3, f, 0);
  pool->OnInteraction(3, 1);
  auto record = [&] {
    std::string row;
    ByteWriter w(&row);
    pool->SaveItem(3, &w);
    return row;
  };
  const size_t prior = record().size();
  CHECK(prior < 64);
  const std::vector<float> e = {0.5f, -0.5f, 0.1f, 0.2f};
  CHECK(pool->OnReward({e}, 3, 1.0f, 2));
  const std::string learned = record();
  CHECK(learned.size() > prior + 100);  // the arm: its matrices
  auto back = NewPool("linucb", 100);
  std::string globals;
  ByteWriter gw(&globals);
  pool->SaveGlobals(&gw);
  ByteReader gr(globals);
  REQUIRE(back->LoadGlobals(&gr).ok());
  ByteReader r(learned);
  REQUIRE(back->LoadItem(3, &r).ok());
  CHECK(r.done());
  std::string again;
  ByteWriter aw(&again);
  back->SaveItem(3, &aw);
  CHECK(again == learned);
}

TEST_CASE("A cold item's record with a bad arm flag or a cut arm is refused", "[bandits]") {
  auto pool = NewPool("linucb", 100);
  SparseFeatures f;
  pool->hasher().Add("genre:a", 1.0f, &f);
  pool->OnItem(3, f, 0);
  const std::vector<float> e = {0.5f, -0.5f, 0.1f, 0.2f};
  REQUIRE(pool->OnReward({e}, 3, 1.0f, 1));
  std::string record, globals;
  ByteWriter w(&record);
  pool->SaveItem(3, &w);
  ByteWriter gw(&globals);
  pool->SaveGlobals(&gw);
  // The flag byte sits before the arm, whose size is the record's growth over an unlearned one.
  auto prior = NewPool("linucb", 100);
  prior->OnItem(3, f, 0);
  std::string unlearned;
  ByteWriter uw(&unlearned);
  prior->SaveItem(3, &uw);
  const size_t flag = unlearned.size() - 1;
  auto load = [&](const std::string& bytes) {
    auto back = NewPool("linucb", 100);
    ByteReader gr(globals);
    REQUIRE(back->LoadGlobals(&gr).ok());
    ByteReader r(bytes);
    return back->LoadItem(3, &r);
  };
  REQUIRE(load(record).ok());
  std::string bad = record;
  bad[flag] = 7;
  CHECK(load(bad).message().find("bad exploration pool item record") != std::string::npos);
  CHECK_FALSE(load(record.substr(0, flag)).ok());               // no flag
  CHECK_FALSE(load(record.substr(0, record.size() - 9)).ok());  // a cut arm
}

TEST_CASE("Pool refuses state saved with another shape", "[bandits]") {
  auto a = NewPool("linucb");
  Drive(*a, 1, 200);
  const std::string bytes = Snapshot(*a);
  auto t = NewPool("thompson");
  ByteReader r(bytes);
  CHECK_FALSE(t->LoadGlobals(&r).ok());
  ByteReader r2(std::string_view(bytes).substr(0, 20));
  auto l = NewPool("linucb");
  CHECK_FALSE(l->LoadGlobals(&r2).ok());
}

}  // namespace streamrec::bandits
