// Exploration in the daemon's live model (ModelState + Exploration) without Kafka: catalog items
// with features are explored at once, explored slots carry source and propensity, served
// records and clicks join into exactly one reward each (whichever arrives first), the window's
// end gives 0, and everything survives checkpoint -> restore.
#include "daemon/exploration.h"

#include <catch2/catch.hpp>
#include <mutex>
#include <set>
#include <string>

#include "daemon/model_state.h"
#include "state/keys.h"
#include "state/mem_store.h"
#include "state/write_batch.h"

namespace streamrec::daemon {
namespace {

constexpr int64_t kT0 = 1'700'000'000;

struct Feed {
  explicit Feed(ModelState* model) : m(model) {}
  ModelState* m;
  stream::EventDecoder decoder;
  uint64_t n = 0;
  void operator()(const std::string& json) {
    stream::EventView e;
    INFO(json);
    REQUIRE(decoder.Decode(json, &e).ok());
    {
      WriteLock l(m->lock());
      m->Apply(e, e.ts_seconds, ++n);
    }
    m->Publish();  // without the lock, as the EventApplier does
  }
};

std::string Click(const std::string& user, const std::string& item, int64_t ts,
                  const std::string& rec_id = "") {
  return "{\"type\":\"click\",\"user\":\"" + user + "\",\"item\":\"" + item +
         "\",\"ts\":" + std::to_string(ts) +
         (rec_id.empty() ? "" : ",\"rec_id\":\"" + rec_id + "\"") + "}";
}

std::string ItemEvent(const std::string& item, const std::string& genre, int64_t ts) {
  return "{\"type\":\"item\",\"item\":\"" + item + "\",\"features\":{\"genre:" + genre +
         "\":1},\"ts\":" + std::to_string(ts) + "}";
}

Config BanditConfigOf(const std::string& policy) {
  Config c;
  c.bandit.policy = policy;
  c.bandit.cold_threshold = 5;
  c.bandit.window_s = 100;
  c.bandit.lateness_s = 0;
  return c;
}

std::unique_ptr<ModelState> Make(const Config& c) {
  auto m = ModelState::Create(c);
  REQUIRE(m.ok());
  return std::move(*m);
}

// 20 warm items (m0..m19, 10 clicks each) and 5 cold catalog items (c0..c4) with features.
void Warm(Feed& feed) {
  int64_t t = kT0;
  for (int u = 0; u < 20; ++u) {
    for (int i = 0; i < 10; ++i)
      feed(Click("u" + std::to_string(u), "m" + std::to_string((u + i) % 20), t++));
  }
  for (int i = 0; i < 5; ++i) feed(ItemEvent("c" + std::to_string(i), i % 2 ? "a" : "b", t++));
}

void Served(ModelState& m, const std::string& user, const std::string& rec, const std::string& item,
            int64_t ts) {
  const ServedExplore x{item, 9, 0.5};
  {
    std::unique_lock l(m.lock());
    m.ApplyServed(user, rec, std::span<const ServedExplore>(&x, 1), ts * 1'000'000);
  }
  m.Publish();  // the lane has joined it
}

}  // namespace

TEST_CASE("Exploration: cold catalog items fill the explore slots, with source and propensity",
          "[exploration]") {
  for (const std::string policy : {"linucb", "thompson", "egreedy", "random"}) {
    INFO(policy);
    auto m = Make(BanditConfigOf(policy));
    Feed feed{m.get()};
    Warm(feed);
    const ExplorationStats st = m->BanditStats();
    CHECK(st.pool_size == 5);  // warm items graduated at 5 interactions; c0..c4 are cold
    CHECK(st.graduated == 20);
    std::vector<ScoredId> out;
    m->Recommend("u3", "", 10, true, &out, /*explore=*/2, /*seed=*/7);
    REQUIRE(out.size() == 10);
    for (size_t i = 0; i < 8; ++i) {
      CHECK(out[i].source != "explore:" + policy);
      CHECK(out[i].propensity < 0);
    }
    for (size_t i = 8; i < 10; ++i) {
      CHECK(out[i].source == "explore:" + policy);
      CHECK(out[i].item[0] == 'c');
      CHECK(out[i].propensity > 0);
      CHECK(out[i].propensity <= 1);
    }
    CHECK(out[8].item != out[9].item);
    // explore = 0, or a policy of "none": no slots.
    m->Recommend("u3", "", 10, true, &out, 0, 7);
    for (const ScoredId& s : out) CHECK(s.source.rfind("explore:", 0) != 0);
    // Every slot exploring: the pool items the ranking did not list, each once, after the
    // ranked items that keep their places.
    m->Recommend("u3", "", 10, true, &out, 10, 7);
    CHECK(out.size() == 10);
    std::set<std::string> items;
    size_t explored = 0;
    for (const ScoredId& s : out) {
      CHECK(items.insert(s.item).second);
      if (s.source == "explore:" + policy) {
        ++explored;
      } else {
        CHECK(explored == 0);
      }
    }
    CHECK(explored >= 1);
    CHECK(explored <= 5);
    // The same seed draws the same slots.
    std::vector<ScoredId> again;
    m->Recommend("u3", "", 10, true, &out, 2, 99);
    m->Recommend("u3", "", 10, true, &again, 2, 99);
    CHECK(out[9].item == again[9].item);
  }
  Config off = BanditConfigOf("none");
  auto m = Make(off);
  Feed feed{m.get()};
  Warm(feed);
  std::vector<ScoredId> out;
  m->Recommend("u3", "", 10, true, &out, 2, 7);
  for (const ScoredId& s : out) CHECK(s.source.rfind("explore:", 0) != 0);
  CHECK(m->BanditStats().pool_size == 0);
  CHECK(m->bandit_policy() == "none");
}

TEST_CASE("Exploration: served x click joins once, in either order, and the window's end gives 0",
          "[exploration]") {
  auto m = Make(BanditConfigOf("thompson"));
  Feed feed{m.get()};
  Warm(feed);
  const int64_t t = kT0 + 1000;
  feed(Click("u1", "m1", t));  // event time: t
  // 1. Served, then clicked (with the rec_id): reward 1 at the click.
  Served(*m, "u1", "r1", "c0", t);
  feed(Click("u1", "c0", t + 10, "r1"));
  CHECK(m->BanditStats().rewards_one == 1);
  // 2. Clicked, then the served record arrives (a click without rec_id): reward 1 at once.
  feed(Click("u2", "c1", t + 20));
  Served(*m, "u2", "r2", "c1", t + 15);
  CHECK(m->BanditStats().rewards_one == 2);
  // 3. A click naming another rec_id, or before the impression, or by another user: no match.
  Served(*m, "u3", "r3", "c2", t + 30);
  feed(Click("u3", "c2", t + 31, "other"));
  feed(Click("u4", "c2", t + 32));
  CHECK(m->BanditStats().rewards_one == 2);
  // r1 and r2 are rewarded but stay open until their windows end, so that a consumed-again
  // copy of either is known as a duplicate and not settled twice.
  CHECK(m->BanditStats().open_impressions == 3);
  // 4. A second click on a rewarded impression does not count twice.
  feed(Click("u1", "c0", t + 40, "r1"));
  CHECK(m->BanditStats().rewards_one == 2);
  // Event time passes r3's window (100 s): reward 0, once.
  feed(Click("u9", "m2", t + 200));
  CHECK(m->BanditStats().rewards_zero == 1);
  CHECK(m->BanditStats().open_impressions == 0);
  feed(Click("u9", "m3", t + 400));
  CHECK(m->BanditStats().rewards_zero == 1);
  CHECK(m->BanditStats().rewards_one == 2);
  // A served record with a bogus far-future time does not move event time: other windows
  // keep working (it waits in the joiner until evicted or event time gets there).
  Served(*m, "u5", "rfar", "c3", t + 1'000'000'000);
  Served(*m, "u6", "r6", "c4", t + 410);
  feed(Click("u6", "c4", t + 420, "r6"));
  CHECK(m->BanditStats().rewards_one == 3);
  CHECK(m->BanditStats().rewards_zero == 1);
  CHECK(m->BanditStats().open_impressions == 2);
}

TEST_CASE("Exploration: the click that graduates an explored item is still its reward",
          "[exploration]") {
  auto m = Make(BanditConfigOf("thompson"));  // cold_threshold 5
  Feed feed{m.get()};
  Warm(feed);
  const int64_t t = kT0 + 1000;
  for (int i = 0; i < 4; ++i) feed(Click("v" + std::to_string(i), "c0", t + i));  // 4 of 5
  Served(*m, "u1", "r1", "c0", t + 10);
  feed(Click("u1", "c0", t + 11, "r1"));  // the 5th interaction: c0 graduates
  CHECK(m->BanditStats().rewards_one == 1);
  CHECK(m->BanditStats().graduated == 21);
}

TEST_CASE("Exploration: pool, posteriors and open impressions survive checkpoint -> restore",
          "[exploration]") {
  for (const std::string policy : {"linucb", "thompson"}) {
    INFO(policy);
    const Config c = BanditConfigOf(policy);
    auto live = Make(c);
    Feed feed{live.get()};
    state::MemStore store;
    auto checkpoint = [&] {
      state::WriteBatch batch;
      live->AppendCheckpoint(&batch);
      REQUIRE(store.Write(batch).ok());
    };
    Warm(feed);
    checkpoint();
    const int64_t t = kT0 + 1000;
    feed(Click("u1", "m1", t));
    for (int r = 0; r < 30; ++r) {
      const std::string rec = "r" + std::to_string(r);
      const std::string item = "c" + std::to_string(r % 5);
      Served(*live, "u" + std::to_string(r % 20), rec, item, t + r);
      if (r % 3 == 0) feed(Click("u" + std::to_string(r % 20), item, t + r + 1, rec));
      if (r == 12) checkpoint();
    }
    checkpoint();
    auto restored = Make(c);
    REQUIRE(restored->Restore(store).ok());
    const ExplorationStats a = live->BanditStats(), b = restored->BanditStats();
    CHECK(a.pool_size == b.pool_size);
    CHECK(a.rewards_one == b.rewards_one);
    CHECK(a.rewards_zero == b.rewards_zero);
    CHECK(a.open_impressions == b.open_impressions);
    CHECK(a.open_impressions > 0);
    std::vector<ScoredId> x, y;
    for (uint64_t seed = 0; seed < 20; ++seed) {
      live->Recommend("u4", "", 10, true, &x, 1, seed);
      restored->Recommend("u4", "", 10, true, &y, 1, seed);
      REQUIRE(x.size() == y.size());
      CHECK(x.back().item == y.back().item);
      CHECK(x.back().score == y.back().score);
    }
    // Both close the same windows from here on.
    Feed feed2{restored.get()};
    feed(Click("u9", "m2", t + 1000));
    feed2(Click("u9", "m2", t + 1000));
    CHECK(live->BanditStats().rewards_zero == restored->BanditStats().rewards_zero);
    CHECK(live->BanditStats().rewards_zero > 0);
    CHECK(live->BanditStats().open_impressions == 0);
  }
}

TEST_CASE("Exploration: a corrupt bandit record is refused at restore, never crashes",
          "[exploration]") {
  const Config c = BanditConfigOf("linucb");
  auto live = Make(c);
  Feed feed{live.get()};
  Warm(feed);
  state::WriteBatch good;
  live->AppendCheckpoint(&good);
  for (const auto& [family, key] :
       {std::pair{state::Family::kBandits, state::IndexKey(21)},
        {state::Family::kBandits, state::IndexKey(999999)},
        {state::Family::kModel, std::string("bandit.pool")},
        {state::Family::kModel, std::string("bandit.joiner")},
        // Joiner records: unknown kind, cut key, garbage record.
        {state::Family::kModel, std::string("bandit.joiner/x") + state::U64Key(0)},
        {state::Family::kModel, std::string("bandit.joiner/s")},
        {state::Family::kModel, std::string("bandit.joiner/s") + state::U64Key(0)}}) {
    state::MemStore store;
    REQUIRE(store.Write(good).ok());
    state::WriteBatch bad;
    bad.Put(family, key, "\x07garbage");
    REQUIRE(store.Write(bad).ok());
    auto restored = Make(c);
    INFO(key);
    CHECK(!restored->Restore(store).ok());
  }
}

}  // namespace streamrec::daemon
