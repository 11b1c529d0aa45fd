// SessionTracker: gap cut, max_len window, TTL expiry, max_sessions eviction, persistence and
// dirty tracking.
#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <vector>

#include "common/rng.h"
#include "models/sessions.h"

namespace streamrec::models {
namespace {

std::vector<ItemIndex> Items(std::span<const ItemIndex> s) { return {s.begin(), s.end()}; }

}  // namespace

TEST_CASE("SessionTracker appends and cuts a session after the gap", "[sessions]") {
  SessionTrackerOptions o;
  o.gap_s = 100;
  SessionTracker t(o);
  CHECK(t.Add(7, 1, 1000));
  CHECK_FALSE(t.Add(7, 2, 1050));
  CHECK_FALSE(t.Add(7, 3, 1150));  // 100 s after the previous event: still the same session
  CHECK(Items(t.Recent(7)) == std::vector<ItemIndex>{1, 2, 3});
  CHECK(Items(t.RecentAt(7, 1200)) == std::vector<ItemIndex>{1, 2, 3});
  CHECK(t.RecentAt(7, 1251).empty());  // an event now would start afresh
  CHECK(t.Add(7, 4, 1251));
  CHECK(Items(t.Recent(7)) == std::vector<ItemIndex>{4});
  CHECK(t.Recent(8).empty());
  CHECK(t.LastSeen(7) == 1251);
  CHECK(t.LastSeen(8) == -1);
}

TEST_CASE("SessionTracker keeps the last max_len items, oldest first", "[sessions]") {
  SessionTrackerOptions o;
  o.max_len = 3;
  SessionTracker t(o);
  for (ItemIndex i = 0; i < 10; ++i) {
    t.Add(1, i, 100 + i);
    const auto r = Items(t.Recent(1));
    std::vector<ItemIndex> want;
    for (ItemIndex k = i >= 2 ? i - 2 : 0; k <= i; ++k) want.push_back(k);
    REQUIRE(r == want);
  }
}

TEST_CASE("SessionTracker expires idle sessions and caps their number", "[sessions]") {
  SessionTrackerOptions o;
  o.ttl_s = 60;
  o.max_sessions = 3;
  SessionTracker t(o);
  t.Add(1, 10, 0);
  t.Add(2, 20, 10);
  t.Add(3, 30, 20);
  t.Add(1, 11, 30);  // key 1 active again: key 2 is now the least recently active
  t.Add(4, 40, 40);  // over the cap: evicts key 2
  CHECK(t.size() == 3);
  CHECK(t.Recent(2).empty());
  CHECK(Items(t.Recent(1)) == std::vector<ItemIndex>{10, 11});
  CHECK(t.Expire(85) == 1);  // key 3 (last at 20) idle > 60 s
  CHECK(t.Recent(3).empty());
  CHECK(t.size() == 2);
  CHECK(t.Expire(1000) == 2);
  CHECK(t.size() == 0);
  // Many keys through a small cap: the key index stays consistent.
  for (uint64_t k = 0; k < 1000; ++k) t.Add(k * 7919, static_cast<ItemIndex>(k), 2000 + k);
  CHECK(t.size() == 3);
  for (uint64_t k = 997; k < 1000; ++k) CHECK(t.Recent(k * 7919).size() == 1);
  CHECK(t.Erase(999 * 7919));
  CHECK_FALSE(t.Erase(999 * 7919));
  CHECK(t.size() == 2);
}

TEST_CASE("SessionTracker finds every live key through growth, erases and evictions",
          "[sessions]") {
  // Random adds and erases over 5000 keys (spread over the 64-bit space) against a reference;
  // the cap evicts the least recently active, which with rising times is the oldest last event.
  SessionTrackerOptions o;
  o.gap_s = o.ttl_s = 1'000'000'000;
  o.max_sessions = 1500;
  SessionTracker t(o);
  std::map<uint64_t, std::pair<int64_t, ItemIndex>> live;  // key -> last time, last item
  Rng rng(3);
  auto key_of = [](uint32_t k) { return uint64_t{k} * 0x9e3779b97f4a7c15ULL; };
  for (int64_t ts = 1; ts <= 60'000; ++ts) {
    const uint64_t key = key_of(rng.Uniform(5000));
    if (rng.Uniform(8) == 0) {
      CHECK(t.Erase(key) == (live.erase(key) == 1));
      continue;
    }
    const auto item = static_cast<ItemIndex>(rng.Uniform(1000));
    CHECK(t.Add(key, item, ts) == !live.contains(key));
    live[key] = {ts, item};
    if (live.size() > o.max_sessions) {
      auto oldest = live.begin();
      for (auto it = live.begin(); it != live.end(); ++it) {
        if (it->second.first < oldest->second.first) oldest = it;
      }
      live.erase(oldest);
    }
    if (ts % 5000 == 0) {
      REQUIRE(t.size() == live.size());
      for (uint32_t k = 0; k < 5000; ++k) {
        const auto it = live.find(key_of(k));
        const auto recent = t.Recent(key_of(k));
        if (it == live.end()) {
          CHECK(recent.empty());
        } else {
          REQUIRE(!recent.empty());
          CHECK(recent.back() == it->second.second);
          CHECK(t.LastSeen(key_of(k)) == it->second.first);
        }
      }
    }
  }
}

TEST_CASE("SessionTracker saves and loads sessions, and TakeDirty reports changes", "[sessions]") {
  SessionTrackerOptions o;
  o.max_sessions = 2;
  SessionTracker t(o);
  t.Add(5, 1, 100);
  t.Add(5, 2, 110);
  t.Add(6, 3, 120);
  std::vector<uint64_t> changed, erased;
  t.TakeDirty(&changed, &erased);
  CHECK(changed == std::vector<uint64_t>{5, 6});
  CHECK(erased.empty());

  std::string b5, b6, none;
  ByteWriter w5(&b5), w6(&b6), wn(&none);
  t.SaveSession(5, &w5);
  t.SaveSession(6, &w6);
  t.SaveSession(99, &wn);
  CHECK(none.empty());
  SessionTracker u(o);
  ByteReader r5(b5), r6(b6);
  REQUIRE(u.LoadSession(6, &r6).ok());
  REQUIRE(u.LoadSession(5, &r5).ok());
  CHECK(Items(u.Recent(5)) == std::vector<ItemIndex>{1, 2});
  CHECK(Items(u.Recent(6)) == std::vector<ItemIndex>{3});
  CHECK(u.LastSeen(5) == 110);
  // Loads append in key order; eviction still picks the least recently active (key 5).
  u.Add(7, 4, 130);
  CHECK(u.Recent(5).empty());
  CHECK(u.Recent(6).size() == 1);
  ByteReader bad(std::string_view(b5).substr(0, 9));
  CHECK_FALSE(u.LoadSession(8, &bad).ok());

  changed.clear();
  t.Add(6, 4, 130);
  t.Add(7, 5, 140);  // evicts 5
  t.Erase(6);
  t.Add(6, 9, 150);  // re-created: changed, not erased
  t.TakeDirty(&changed, &erased);
  CHECK(changed == std::vector<uint64_t>{6, 7});
  CHECK(erased == std::vector<uint64_t>{5});
}

}  // namespace streamrec::models
