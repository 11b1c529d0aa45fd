// RewardJoiner: one reward per served (rec_id, item) whatever the order of served and click
// events within the lateness bound; windows, rec_id matching, bounds and persistence.
#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "bandits/reward_joiner.h"
#include "common/rng.h"

namespace streamrec::bandits {
namespace {

constexpr int64_t kS = 1'000'000;  // one second in micros

struct Event {
  bool served;
  ServedRecord s;
  ClickRecord c;
  int64_t ts() const { return served ? s.ts_micros : c.ts_micros; }
};

using RewardKey = std::tuple<uint64_t, ItemIndex>;

// Rewards by (rec_id, item): each must appear exactly once.
std::map<RewardKey, float> Collect(const std::vector<Reward>& rewards) {
  std::map<RewardKey, float> m;
  for (const Reward& r : rewards) {
    auto [it, inserted] = m.emplace(RewardKey{r.served.rec_id, r.served.item}, r.reward);
    CHECK(inserted);
  }
  return m;
}

// Feeds the same click to both joiners, flushes both, and checks they settle identically.
void CheckSettleAlike(RewardJoiner& j, RewardJoiner& k, const ClickRecord& click) {
  std::vector<Reward> a, b;
  j.OnClick(click, &a);
  k.OnClick(click, &b);
  j.Flush(&a);
  k.Flush(&b);
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].served.rec_id == b[i].served.rec_id);
    CHECK(a[i].reward == b[i].reward);
  }
}

}  // namespace

TEST_CASE("A click within the window rewards 1, none rewards 0 at the window's end", "[bandits]") {
  JoinerOptions o;
  o.window_s = 10;
  o.lateness_s = 0;
  RewardJoiner j(o);
  std::vector<Reward> out;
  j.OnServed({RecIdHash("r1"), 1, 100, 0, 0.5, 0}, &out);
  j.OnServed({RecIdHash("r1"), 1, 101, 1, 0.5, 0}, &out);
  j.OnServed({RecIdHash("r2"), 2, 100, 0, 0.5, 0}, &out);
  j.OnClick({1, 100, 0, 5 * kS}, &out);
  REQUIRE(out.size() == 1);
  CHECK(out[0].reward == 1.0f);
  CHECK(out[0].served.item == 100);
  CHECK(out[0].served.propensity == 0.5);
  j.OnClick({2, 100, 0, 11 * kS}, &out);  // too late for user 2's window [0, 10]
  REQUIRE(out.size() == 3);
  for (size_t i = 1; i < 3; ++i) CHECK(out[i].reward == 0.0f);
  CHECK(j.open_served() == 0);
  CHECK(j.stats().rewards_one == 1);
  CHECK(j.stats().rewards_zero == 2);
}

TEST_CASE("A click's rec_id must match the served one", "[bandits]") {
  JoinerOptions o;
  o.window_s = 10;
  RewardJoiner j(o);
  std::vector<Reward> out;
  j.OnClick({1, 100, RecIdHash("other"), 2 * kS}, &out);
  j.OnServed({RecIdHash("r1"), 1, 100, 0, 1.0, 1 * kS}, &out);
  CHECK(out.empty());
  j.OnClick({1, 100, RecIdHash("r1"), 3 * kS}, &out);
  REQUIRE(out.size() == 1);
  CHECK(out[0].reward == 1.0f);
  j.OnClick({1, 100, 0, 4 * kS}, &out);                         // second click: still one reward
  j.OnServed({RecIdHash("r1"), 1, 100, 0, 1.0, 1 * kS}, &out);  // duplicate served
  j.Flush(&out);
  CHECK(out.size() == 1);
  CHECK(j.stats().duplicate_served == 1);
}

TEST_CASE("Rewards are joined exactly once whatever the order of served and clicks", "[bandits]") {
  // Served records and clicks over 200 s with a 30 s window; the expected reward of each
  // served follows from the matching rule alone.
  Rng rng(7);
  std::vector<Event> events;
  std::map<RewardKey, float> expected;
  const int64_t window = 30;
  for (int r = 0; r < 300; ++r) {
    ServedRecord s{
        RecIdHash("rec" + std::to_string(r)),       rng.Uniform(20), rng.Uniform(15), 0, 0.1,
        static_cast<int64_t>(rng.Uniform(200)) * kS};
    events.push_back({true, s, {}});
    expected[{s.rec_id, s.item}] = 0.0f;
  }
  for (int c = 0; c < 400; ++c) {
    ClickRecord k{rng.Uniform(20), rng.Uniform(15), 0, static_cast<int64_t>(rng.Uniform(240)) * kS};
    if (rng.Uniform(4) == 0) k.rec_id = RecIdHash("rec" + std::to_string(rng.Uniform(300)));
    events.push_back({false, {}, k});
  }
  for (const Event& e : events) {
    if (!e.served) continue;
    for (const Event& c : events) {
      if (c.served) continue;
      if (c.c.user == e.s.user && c.c.item == e.s.item && c.c.ts_micros >= e.s.ts_micros &&
          c.c.ts_micros <= e.s.ts_micros + window * kS &&
          (c.c.rec_id == 0 || c.c.rec_id == e.s.rec_id)) {
        expected[{e.s.rec_id, e.s.item}] = 1.0f;
      }
    }
  }
  REQUIRE(std::count_if(expected.begin(), expected.end(), [](auto& kv) { return kv.second; }) > 10);
  // Orders: time order, reverse, and shuffles displaced by at most the lateness.
  for (int trial = 0; trial < 6; ++trial) {
    std::vector<Event> order = events;
    const int64_t lateness = trial == 1 ? 1000 : 20;
    std::stable_sort(order.begin(), order.end(),
                     [](const Event& a, const Event& b) { return a.ts() < b.ts(); });
    if (trial == 1) std::reverse(order.begin(), order.end());
    if (trial >= 2) {
      // Sort by ts + a random delay below the lateness: arrival disorder bounded by it.
      Rng shuffle(trial);
      std::vector<std::pair<int64_t, size_t>> keyed;
      for (size_t i = 0; i < order.size(); ++i) {
        keyed.push_back({order[i].ts() + static_cast<int64_t>(shuffle.Uniform(lateness)) * kS, i});
      }
      std::sort(keyed.begin(), keyed.end());
      std::vector<Event> shuffled;
      for (auto& [k, i] : keyed) shuffled.push_back(order[i]);
      order = shuffled;
    }
    JoinerOptions o;
    o.window_s = window;
    o.lateness_s = lateness;
    RewardJoiner j(o);
    std::vector<Reward> out;
    for (const Event& e : order) {
      if (e.served) {
        j.OnServed(e.s, &out);
      } else {
        j.OnClick(e.c, &out);
      }
    }
    j.Advance(10'000 * kS, &out);
    INFO("trial " << trial);
    CHECK(j.stats().late_served == 0);
    CHECK(Collect(out) == expected);
    CHECK(j.open_served() == 0);
    CHECK(j.buffered_clicks() == 0);
  }
}

TEST_CASE("Joiner memory is bounded and its state persists", "[bandits]") {
  JoinerOptions o;
  o.window_s = 100;
  o.max_served = 50;
  o.max_clicks = 20;
  RewardJoiner j(o);
  std::vector<Reward> out;
  for (uint32_t i = 0; i < 80; ++i) j.OnServed({i + 1, i, i, 0, 1.0, i * kS}, &out);
  CHECK(j.open_served() == 50);
  CHECK(j.stats().evicted_served == 30);
  CHECK(out.size() == 30);  // evicted early with reward 0
  for (uint32_t i = 0; i < 30; ++i) j.OnClick({1000 + i, i, 0, 90 * kS}, &out);
  CHECK(j.buffered_clicks() == 20);
  j.OnClick({70, 70, 0, 90 * kS}, &out);  // clicks served item 70
  CHECK(out.back().reward == 1.0f);

  std::string bytes;
  ByteWriter w(&bytes);
  j.Save(&w);
  RewardJoiner k(o);
  ByteReader r(bytes);
  REQUIRE(k.Load(&r).ok());
  std::string again;
  ByteWriter w2(&again);
  k.Save(&w2);
  CHECK(again == bytes);
  // Both settle the rest identically.
  CheckSettleAlike(j, k, {71, 71, 0, 95 * kS});
}

TEST_CASE("One user served the same item again and again: each record settles once", "[bandits]") {
  // A client polling for one user gets the same explored item in most answers: the (user,
  // item) chain holds every open record. Evictions take its oldest, expiry its oldest too,
  // re-consumed records must still be found, and a click rewards only its own rec_id.
  JoinerOptions o;
  o.window_s = 1000;
  o.max_served = 5000;
  RewardJoiner j(o);
  std::vector<Reward> out;
  constexpr uint32_t kN = 20000;
  for (uint32_t i = 0; i < kN; ++i) j.OnServed({100 + i, 1, 7, 0, 1.0, i * 1000}, &out);
  CHECK(j.open_served() == 5000);
  CHECK(j.stats().evicted_served == kN - 5000);
  // The newest 1000 again (a restart re-reads the served log): all duplicates.
  for (uint32_t i = kN - 1000; i < kN; ++i) j.OnServed({100 + i, 1, 7, 0, 1.0, i * 1000}, &out);
  CHECK(j.stats().duplicate_served == 1000);
  CHECK(j.open_served() == 5000);
  // A click naming one open record's rec_id rewards that one only.
  j.OnClick({1, 7, 100 + kN - 10, (kN - 5) * 1000}, &out);
  CHECK(out.back().reward == 1.0f);
  CHECK(out.back().served.rec_id == 100 + kN - 10);
  // Save and load keep the chain; then everything left settles, each rec_id exactly once.
  std::string bytes;
  ByteWriter w(&bytes);
  j.Save(&w);
  RewardJoiner k(o);
  ByteReader r(bytes);
  REQUIRE(k.Load(&r).ok());
  k.OnServed({100 + kN - 1, 1, 7, 0, 1.0, (kN - 1) * 1000}, &out);
  CHECK(k.stats().duplicate_served == 1001);
  k.Flush(&out);
  const std::map<RewardKey, float> rewards = Collect(out);
  CHECK(rewards.size() == kN);
  float ones = 0;
  for (const auto& [key, reward] : rewards) ones += reward;
  CHECK(ones == 1.0f);
}

TEST_CASE("Incremental joiner persistence restores the same open state", "[bandits]") {
  // A store of one record per open entry, kept by SaveChanges() across many checkpoints of
  // random traffic (evictions, expiry, rewards, duplicates), restores a joiner whose full Save()
  // equals the live one's, and which settles the rest identically.
  using Kind = RewardJoiner::RecordKind;
  struct MapSink final : RewardJoiner::ChangeSink {
    std::map<std::pair<char, uint64_t>, std::string> records;
    size_t puts = 0, deletes = 0;
    void Put(Kind kind, uint64_t seq, std::string_view record) override {
      records[{static_cast<char>(kind), seq}] = std::string(record);
      ++puts;
    }
    void Delete(Kind kind, uint64_t seq) override {
      CHECK(records.erase({static_cast<char>(kind), seq}) == 1);  // only what was put
      ++deletes;
    }
  } store;
  JoinerOptions o;
  o.window_s = 60;
  o.lateness_s = 5;
  o.max_served = 300;
  o.max_clicks = 100;
  RewardJoiner j(o);
  std::vector<Reward> out;
  Rng rng(11);
  std::string header;
  int64_t t = 0;
  for (int checkpoint = 0; checkpoint < 40; ++checkpoint) {
    for (int n = 0; n < 50; ++n) {
      t += rng.Uniform(400'000);
      const auto user = rng.Uniform(20), item = rng.Uniform(30);
      const uint64_t rec = 1 + rng.Uniform(500);
      if (rng.Uniform(3) != 0) {
        j.OnServed({rec, user, item, 0, 1.0, t - rng.Uniform(3) * kS}, &out);
      } else {
        j.OnClick({user, item, rng.Uniform(2) == 0 ? 0 : rec, t}, &out);
      }
    }
    j.SaveChanges(&store);
    header.clear();
    ByteWriter w(&header);
    j.SaveHeader(&w);
  }
  CHECK(store.deletes > 0);
  CHECK(store.records.size() == j.open_served() + j.buffered_clicks());

  RewardJoiner k(o);
  ByteReader hr(header);
  REQUIRE(k.LoadHeader(&hr).ok());
  for (const auto& [key, record] : store.records) {
    ByteReader r(record);
    REQUIRE(k.LoadRecord(static_cast<Kind>(key.first), key.second, &r).ok());
  }
  std::string a, b;
  ByteWriter wa(&a), wb(&b);
  j.Save(&wa);
  k.Save(&wb);
  CHECK(a == b);
  // Nothing restored is written again; and both settle the rest identically.
  MapSink again;
  k.SaveChanges(&again);
  CHECK(again.puts + again.deletes == 0);
  CheckSettleAlike(j, k, {3, 4, 0, t});
  // A record of an unknown sequence, or a truncated one, is refused.
  RewardJoiner bad(o);
  ByteReader hr2(header);
  REQUIRE(bad.LoadHeader(&hr2).ok());
  ByteReader empty(std::string_view{});
  CHECK(bad.LoadRecord(Kind::kServed, 0, &empty).code() == Status::Code::kCorruption);
  ByteReader any(store.records.begin()->second);
  CHECK(bad.LoadRecord(Kind::kServed, ~0ull, &any).code() == Status::Code::kCorruption);
}

}  // namespace streamrec::bandits
