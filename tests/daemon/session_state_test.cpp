// Sessions in the daemon without Kafka: SessionState's keys, gap cut and event-time expiry, and
// ModelState's session-aware serving (/v1/recommend?session=, /v1/next), persistence,
// forget_user and determinism. LABELS unit, TSan-clean (no librdkafka).
#include "daemon/session_state.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <mutex>

#include "common/rng.h"
#include "daemon/model_state.h"
#include "state/keys.h"
#include "state/mem_store.h"
#include "state/write_batch.h"
#include "tools/gen.h"

namespace streamrec::daemon {
namespace {

using state::Family;

// Every (family, key) -> value of a store.
std::map<std::pair<int, std::string>, std::string> Contents(const state::StateReader& store) {
  std::map<std::pair<int, std::string>, std::string> out;
  for (size_t f = 0; f < state::kNumFamilies; ++f) {
    REQUIRE(store
                .ForEach(static_cast<Family>(f), "",
                         [&](std::string_view k, std::string_view v) {
                           out[{static_cast<int>(f), std::string(k)}] = std::string(v);
                           return true;
                         })
                .ok());
  }
  return out;
}

size_t CountSessions(const state::StateReader& store) {
  size_t n = 0;
  REQUIRE(store
              .ForEach(Family::kSessions, "",
                       [&](std::string_view, std::string_view) {
                         ++n;
                         return true;
                       })
              .ok());
  return n;
}

void Checkpoint(ModelState& m, state::MemStore* store) {
  state::WriteBatch batch;
  m.AppendCheckpoint(&batch);
  REQUIRE(store->Write(batch).ok());
}

void Checkpoint(SessionState& s, state::MemStore* store) {
  state::WriteBatch batch;
  s.AppendSessions(&batch);
  REQUIRE(store->Write(batch).ok());
}

std::vector<ItemIndex> Vec(std::span<const ItemIndex> s) { return {s.begin(), s.end()}; }

// Planted order: 20 chains (m[3c] -> m[3c+1] -> m[3c+2]); users u0..u99, even users walk chains
// 0..9, odd ones chains 10..19. Sessions 1000 s apart; every other one has an explicit id, the
// rest are the user's implicit session (the gap cuts them: a user's next session is far later).
std::vector<std::string> PlantedStream(size_t sessions, uint64_t seed) {
  Rng rng(seed);
  std::vector<std::string> out;
  int64_t ts = 1'700'000'000;
  for (size_t n = 0; n < sessions; ++n) {
    const uint32_t u = rng.Uniform(100);
    const uint32_t chain = (u % 2) * 10 + rng.Uniform(10);
    const std::string session = n % 2 == 0 ? ",\"session\":\"s" + std::to_string(n) + "\"" : "";
    for (uint32_t step = 0; step < 3; ++step) {
      out.push_back("{\"type\":\"click\",\"user\":\"u" + std::to_string(u) + "\",\"item\":\"m" +
                    std::to_string(chain * 3 + step) + "\",\"ts\":" + std::to_string(ts + step) +
                    session + "}");
    }
    ts += 1000;
  }
  return out;
}

void Apply(ModelState& m, const std::vector<std::string>& json, size_t begin, size_t end,
           uint64_t offset0 = 0) {
  stream::EventDecoder decoder;
  stream::EventView e;
  std::unique_lock l(m.lock());
  for (size_t i = begin; i < end; ++i) {
    REQUIRE(decoder.Decode(json[i], &e).ok());
    m.Apply(e, e.ts_seconds, SeedFor(1, 0, offset0 + i));
  }
  m.Publish();  // as the EventApplier does after each batch
}

void Apply(ModelState& m, const std::string& json, uint64_t seed = 7) {
  Apply(m, {json}, 0, 1, seed);
}

std::unique_ptr<ModelState> Make(const Config& config = Config()) {
  auto m = ModelState::Create(config);
  REQUIRE(m.ok());
  return std::move(*m);
}

std::vector<std::string> Names(const std::vector<ScoredId>& v) {
  std::vector<std::string> out;
  for (const auto& s : v) out.push_back(s.item);
  return out;
}

// The stream, then the queries' own sessions: anonymous-looking explicit session "q" and user
// u1's implicit session (u1 walks chains 10..19 only), each holding just m0 (chain 0's head).
std::unique_ptr<ModelState> Trained(const Config& config = Config()) {
  auto m = Make(config);
  const auto json = PlantedStream(3000, 11);
  Apply(*m, json, 0, json.size());
  // Later than the gap after the stream's last session: both start fresh.
  const std::string ts = std::to_string(1'700'000'000 + 3000 * 1000 + 5000);
  Apply(*m,
        "{\"type\":\"click\",\"user\":\"u7\",\"item\":\"m0\",\"session\":\"q\",\"ts\":" + ts + "}");
  Apply(*m, "{\"type\":\"click\",\"user\":\"u1\",\"item\":\"m0\",\"ts\":" + ts + "}");
  return m;
}

}  // namespace

TEST_CASE("SessionState: gap cut, keys, and expiry by event time leave the store",
          "[session_state]") {
  SessionConfig config;
  config.gap_s = 100;
  config.ttl_s = 1000;
  auto s = SessionState::Create(config);
  REQUIRE(s.ok());
  SessionState& ss = **s;
  state::MemStore store;
  auto event = [&](UserIndex u, std::string_view session, ItemIndex i, int64_t ts) {
    ss.AdvanceTime(ts);
    ss.Observe(u, session, i, 1);
  };
  event(3, "", 10, 1000);
  event(3, "", 11, 1050);
  event(3, "x", 12, 1060);  // explicit: its own key space, even for the same user
  CHECK(Vec(ss.ImplicitRecent(3)) == std::vector<ItemIndex>{10, 11});
  CHECK(Vec(ss.ExplicitRecent("x")) == std::vector<ItemIndex>{12});
  CHECK(ss.ExplicitRecent("y").empty());
  CHECK(ss.live() == 2);
  Checkpoint(ss, &store);
  CHECK(CountSessions(store) == 2);

  // The gap cuts: the next event starts a fresh session.
  event(3, "", 13, 1200);
  CHECK(Vec(ss.ImplicitRecent(3)) == std::vector<ItemIndex>{13});
  // By now "x" (last event 1060) is past the gap: not live for serving, still in memory.
  CHECK(ss.ExplicitRecent("x").empty());

  // Event time (not the wall clock) expires: another key's event at 2100 drops "x" (idle since
  // 1060 > ttl 1000) but keeps user 3 (1200).
  event(4, "", 20, 2100);
  CHECK(ss.live() == 2);
  CHECK(ss.now_s() == 2100);
  Checkpoint(ss, &store);
  CHECK(CountSessions(store) == 2);
  std::string v;
  CHECK(store.Get(Family::kSessions, "sx", &v).IsNotFound());
  // A late event (older ts) does not move the clock back; its session is stamped with now.
  event(5, "", 21, 1500);
  CHECK(ss.now_s() == 2100);
  // Everything idle expires once event time moves on; the store follows at the checkpoint.
  event(6, "", 22, 5000);
  CHECK(ss.live() == 1);
  Checkpoint(ss, &store);
  CHECK(CountSessions(store) == 1);

  // Restore: same sessions, same clock; an explicit id seen again after expiry is a new session.
  auto back = SessionState::Create(config);
  REQUIRE(back.ok());
  REQUIRE((*back)->Restore(store, 1000).ok());
  CHECK((*back)->now_s() == 5000);
  CHECK((*back)->live() == 1);
  CHECK(Vec((*back)->ImplicitRecent(6)) == std::vector<ItemIndex>{22});
  (*back)->AdvanceTime(5010);
  (*back)->Observe(6, "x", 30, 1);
  CHECK(Vec((*back)->ExplicitRecent("x")) == std::vector<ItemIndex>{30});
}

TEST_CASE("SessionState: max_sessions evicts, and evicted sessions leave the store",
          "[session_state]") {
  SessionConfig config;
  config.max_sessions = 3;
  auto s = SessionState::Create(config);
  REQUIRE(s.ok());
  state::MemStore store;
  for (int n = 0; n < 10; ++n) {
    (*s)->AdvanceTime(100 + n);
    (*s)->Observe(static_cast<UserIndex>(n), n % 2 ? "" : "e" + std::to_string(n),
                  static_cast<ItemIndex>(n), 1);
    if (n % 3 == 0) Checkpoint(**s, &store);
  }
  Checkpoint(**s, &store);
  CHECK((*s)->live() == 3);
  CHECK(CountSessions(store) == 3);
}

TEST_CASE("SessionState: explicit ids stay mapped through eviction and index reuse",
          "[session_state]") {
  // 600 ids (some longer than a short string) through 64 live sessions: ids are dropped by
  // eviction, their indices freed at checkpoints and reused by other ids, again and again.
  SessionConfig config;
  config.gap_s = config.ttl_s = 1'000'000'000;
  config.max_sessions = 64;
  auto s = SessionState::Create(config);
  REQUIRE(s.ok());
  SessionState& ss = **s;
  state::MemStore store;
  std::vector<std::string> ids;
  for (int n = 0; n < 600; ++n) {
    ids.push_back((n % 3 ? "id" : "a-long-session-identifier-") + std::to_string(n));
  }
  // The reference: the last event time and item of each id; the live ones are the 64 latest.
  std::map<std::string, std::pair<int64_t, ItemIndex>> last;
  auto live_ids = [&] {
    std::vector<std::pair<int64_t, std::string>> by_time;
    for (const auto& [id, v] : last) by_time.emplace_back(v.first, id);
    std::sort(by_time.rbegin(), by_time.rend());
    by_time.resize(std::min<size_t>(by_time.size(), 64));
    std::map<std::string, ItemIndex> out;
    for (const auto& [t, id] : by_time) out[id] = last[id].second;
    return out;
  };
  auto check = [&](const SessionState& state) {
    const auto live = live_ids();
    for (const std::string& id : ids) {
      const auto recent = state.ExplicitRecent(id);
      const auto it = live.find(id);
      if (it == live.end()) {
        CHECK(recent.empty());
      } else {
        REQUIRE(!recent.empty());
        CHECK(recent.back() == it->second);
      }
    }
  };
  Rng rng(7);
  int64_t ts = 1000;
  for (int n = 0; n < 20'000; ++n) {
    // Mostly a recent id (continuing a live session), sometimes any id (evicting one).
    const size_t pick = rng.Uniform(4)
                            ? (static_cast<size_t>(n) / 50 + rng.Uniform(40)) % ids.size()
                            : rng.Uniform(static_cast<uint32_t>(ids.size()));
    const auto item = static_cast<ItemIndex>(rng.Uniform(100));
    ss.AdvanceTime(++ts);
    ss.Observe(0, ids[pick], item, 1);
    last[ids[pick]] = {ts, item};
    if (n % 97 == 0) Checkpoint(ss, &store);
    if (n % 1000 == 0) check(ss);
  }
  Checkpoint(ss, &store);
  check(ss);
  CHECK(ss.live() == 64);
  // The store holds exactly the live sessions, under their ids.
  std::vector<std::string> stored;
  REQUIRE(store
              .ForEach(Family::kSessions, "",
                       [&](std::string_view k, std::string_view) {
                         stored.emplace_back(k);
                         return true;
                       })
              .ok());
  std::vector<std::string> want;
  for (const auto& [id, item] : live_ids()) want.push_back("s" + id);
  std::sort(stored.begin(), stored.end());
  CHECK(stored == want);
  // A restore maps the same ids.
  auto back = SessionState::Create(config);
  REQUIRE(back.ok());
  REQUIRE((*back)->Restore(store, 100).ok());
  check(**back);
}

TEST_CASE("ModelState: a planted order A->B->C ranks B first after A, with and without user",
          "[session_state]") {
  auto m = Trained();
  std::vector<ScoredId> rec;
  // Anonymous: the explicit session alone.
  m->Recommend("", "q", 5, true, &rec);
  REQUIRE(rec.size() == 5);
  CHECK(rec[0].item == "m1");
  CHECK(rec[0].source == "session");
  // The user's live implicit session, blended with BPR (u1 never saw chain 0).
  m->Recommend("u1", "", 5, true, &rec);
  REQUIRE(rec.size() == 5);
  CHECK(rec[0].item == "m1");
  CHECK(rec[0].source == "session");
  // A user and an explicit session.
  m->Recommend("u3", "q", 5, true, &rec);
  CHECK(rec[0].item == "m1");
  // Unknown session, unknown user: popularity.
  m->Recommend("", "nope", 5, true, &rec);
  REQUIRE(rec.size() == 5);
  CHECK(rec[0].source == "popular");
  // Known user without a live session: BPR only.
  m->Recommend("u2", "", 5, true, &rec);
  CHECK(rec[0].source == "bpr");
  // Next: after B comes C.
  REQUIRE(m->Next("m1", 3, &rec).ok());
  CHECK(rec[0].item == "m2");
  CHECK(rec[0].source == "session");
  REQUIRE(m->Next("m30", 3, &rec).ok());
  CHECK(rec[0].item == "m31");
  CHECK(m->Next("no-such", 3, &rec).IsNotFound());
  CHECK(m->Sizes().sessions > 0);
}

TEST_CASE("ModelState: without a session model, sessions are off and /v1/next is unavailable",
          "[session_state]") {
  Config config;
  config.session.model = "none";
  auto m = Make(config);
  const auto json = PlantedStream(200, 3);
  Apply(*m, json, 0, json.size());
  std::vector<ScoredId> rec;
  CHECK(m->Next("m1", 3, &rec).code() == Status::Code::kUnavailable);
  m->Recommend("", "s0", 5, true, &rec);
  CHECK(rec[0].source == "popular");
  CHECK(m->Sizes().sessions == 0);
  CHECK(m->session_model_name() == "none");
}

TEST_CASE("ModelState: checkpoint -> restore gives the same session answers", "[session_state]") {
  const auto json = PlantedStream(1500, 5);
  auto live = Make();
  state::MemStore store;
  for (auto [begin, end] :
       {std::pair<size_t, size_t>{0, 1000}, {1000, 3000}, {3000, json.size()}}) {
    Apply(*live, json, begin, end);
    Checkpoint(*live, &store);
  }
  auto restored = Make();
  REQUIRE(restored->Restore(store).ok());
  CHECK(restored->Sizes().sessions == live->Sizes().sessions);
  std::vector<ScoredId> a, b;
  // The last explicit session (s1498) is live; earlier ones are past the gap (popular).
  for (size_t n = 1480; n < 1500; n += 2) {
    const std::string s = "s" + std::to_string(n);
    live->Recommend("", s, 10, true, &a);
    restored->Recommend("", s, 10, true, &b);
    if (n == 1498) CHECK(a[0].source == "session");
    CHECK(Names(a) == Names(b));
    for (size_t i = 0; i < a.size(); ++i) CHECK(a[i].score == b[i].score);
  }
  for (const char* user : {"u0", "u1", "u50", "u99"}) {
    live->Recommend(user, "", 10, true, &a);
    restored->Recommend(user, "", 10, true, &b);
    CHECK(Names(a) == Names(b));
    for (size_t i = 0; i < a.size(); ++i) CHECK(a[i].source == b[i].source);
  }
  live->Next("m4", 10, &a).IgnoreError();
  restored->Next("m4", 10, &b).IgnoreError();
  CHECK(Names(a) == Names(b));
  // Both continue identically (the clock and the sessions came back).
  const auto more = PlantedStream(100, 6);
  std::vector<std::string> later;
  for (const std::string& j : more) {
    // Shift to after the first stream, continuing the same explicit ids' numbering apart.
    std::string x = j;
    const size_t p = x.find("\"ts\":17");
    x.replace(p + 5, 2, "18");
    later.push_back(x);
  }
  Apply(*live, later, 0, later.size(), 1u << 20);
  Apply(*restored, later, 0, later.size(), 1u << 20);
  state::MemStore sa, sb;
  Checkpoint(*live, &sa);
  Checkpoint(*restored, &sb);
  CHECK(CountSessions(sa) == CountSessions(sb));
  live->Recommend("u4", "", 10, true, &a);
  restored->Recommend("u4", "", 10, true, &b);
  CHECK(Names(a) == Names(b));
}

TEST_CASE("ModelState: forget_user erases the user's implicit session", "[session_state]") {
  auto m = Trained();
  state::MemStore store;
  Checkpoint(*m, &store);
  std::vector<ScoredId> rec;
  m->Recommend("u1", "", 5, true, &rec);
  REQUIRE(rec[0].source == "session");
  std::string v;
  const uint32_t u1_index = [&] {
    // u1's implicit session is in the store under "u" + its index; find it by content.
    uint32_t found = UINT32_MAX;
    REQUIRE(store
                .ForEach(Family::kIds, "u",
                         [&](std::string_view k, std::string_view name) {
                           if (name == "u1") state::ParseIndexKey(k.substr(1), &found);
                           return true;
                         })
                .ok());
    return found;
  }();
  REQUIRE(store.Get(Family::kSessions, "u" + state::IndexKey(u1_index), &v).ok());
  const std::string ts = std::to_string(1'700'000'000 + 3000 * 1000 + 5009);
  Apply(*m, "{\"type\":\"forget_user\",\"user\":\"u1\",\"ts\":" + ts + "}");
  m->Recommend("u1", "", 5, true, &rec);
  CHECK(rec[0].source == "popular");
  Checkpoint(*m, &store);
  CHECK(store.Get(Family::kSessions, "u" + state::IndexKey(u1_index), &v).IsNotFound());
  // The session model's user row was rewritten too (reset), and a restore agrees.
  auto back = Make();
  REQUIRE(back->Restore(store).ok());
  back->Recommend("u1", "", 5, true, &rec);
  CHECK(rec[0].source == "popular");
}

TEST_CASE("ModelState: the same stream gives the same store, whatever the checkpoint points",
          "[session_state]") {
  Config config;
  config.session.max_sessions = 50;  // evictions too
  const auto json = PlantedStream(800, 9);
  auto a = Make(config), b = Make(config);
  state::MemStore sa, sb;
  for (size_t i = 0; i < json.size(); i += 300) {
    Apply(*a, json, i, std::min(json.size(), i + 300));
    Checkpoint(*a, &sa);
  }
  for (size_t i = 0; i < json.size(); i += 77) {
    Apply(*b, json, i, std::min(json.size(), i + 77));
    Checkpoint(*b, &sb);
  }
  const auto ca = Contents(sa), cb = Contents(sb);
  CHECK(ca.size() == cb.size());
  CHECK(ca == cb);
  CHECK(CountSessions(sa) == 50);
}

TEST_CASE("ModelState: how events reach the lanes does not change the state", "[session_state]") {
  // Every kind of op: sessions (explicit and implicit), ratings, catalog items with features,
  // forgotten users, served records and the served topic's progress (exploration on).
  Config config;
  config.bandit.policy = "linucb";
  config.bandit.cold_threshold = 3;
  config.bandit.window_s = 500;
  std::vector<std::string> json = PlantedStream(400, 13);
  for (size_t i = 0; i < json.size(); i += 37) {
    json.insert(json.begin() + static_cast<ptrdiff_t>(i),
                "{\"type\":\"item\",\"item\":\"c" + std::to_string(i) +
                    "\",\"features\":{\"genre:g" + std::to_string(i % 3) +
                    "\":1},\"ts\":" + std::to_string(1'700'000'000 + i) + "}");
  }
  for (size_t i = 50; i < json.size(); i += 101) {
    json.insert(json.begin() + static_cast<ptrdiff_t>(i),
                "{\"type\":\"rating\",\"user\":\"u3\",\"item\":\"m4\",\"value\":4}");
    json.insert(json.begin() + static_cast<ptrdiff_t>(i),
                "{\"type\":\"forget_user\",\"user\":\"u" + std::to_string(i % 100) + "\"}");
  }
  // a: every event handed to the lanes on its own, a served record for each tenth; b: the
  // same, all handed over at once by the checkpoint's Flush.
  auto run = [&](bool each) {
    auto m = Make(config);
    stream::EventDecoder decoder;
    stream::EventView e;
    for (size_t i = 0; i < json.size(); ++i) {
      REQUIRE(decoder.Decode(json[i], &e).ok());
      {
        std::unique_lock l(m->lock());
        m->Apply(e, e.ts_seconds, SeedFor(1, 0, i));
        if (i % 10 == 0) {
          const ServedExplore x{"c" + std::to_string(i / 37 * 37), 9, 0.25};
          m->ApplyServed("u" + std::to_string(i % 100), "r" + std::to_string(i),
                         std::span<const ServedExplore>(&x, 1),
                         (1'700'000'000 + static_cast<int64_t>(i)) * 1'000'000);
          m->SetServedProgress((1'700'000'000 + static_cast<int64_t>(i)) * 1'000'000);
        }
      }
      if (each) m->HandOff(/*all=*/true);
    }
    state::MemStore store;
    Checkpoint(*m, &store);
    return Contents(store);
  };
  const auto a = run(true), b = run(false);
  CHECK(a.size() == b.size());
  CHECK(a == b);
  // Exploration took part: its records are in the store.
  CHECK(std::count_if(a.begin(), a.end(), [](const auto& kv) {
          return kv.first.first == static_cast<int>(Family::kBandits);
        }) > 0);
}

// Held-out check of the blend (hidden: run with `daemon_tests "[.blend]"`): a generated stream
// (sessions with planted successors, users with cluster preferences; `streamrec gen`), the first
// 90% applied, then every later click that continues a session is predicted (HR@10 of
// /v1/recommend?user=&session=, seen items kept) before it is applied. Prints HR@10 for weights
// 0 (BPR only) .. 1 (session only) under both normalizations.
TEST_CASE("ModelState: held-out HR@10 of the session/BPR blend", "[.blend]") {
  tools::GenOptions g;
  g.users = 2000;
  g.items = 3000;
  g.events = 150000;
  g.rating_fraction = 0.0;
  g.seed = 5;
  tools::EventGenerator gen(g);
  std::vector<std::string> lines;
  std::string line;
  while (gen.Next(&line)) {
    line.pop_back();  // '\n'
    lines.push_back(line);
    line.clear();
  }
  const size_t split = lines.size() * 9 / 10;
  for (const char* blend : {"z", "rank"}) {
    for (double weight : {0.0, 0.3, 0.5, 0.7, 0.85, 1.0}) {
      Config config;
      config.session.blend = blend;
      config.session.weight = weight;
      auto m = Make(config);
      Apply(*m, lines, 0, split);
      stream::EventDecoder decoder;
      stream::EventView e;
      std::vector<ScoredId> rec;
      size_t queries = 0, hits = 0;
      for (size_t i = split; i < lines.size(); ++i) {
        REQUIRE(decoder.Decode(lines[i], &e).ok());
        if (e.type != EventType::kItem && !e.session.empty()) {
          m->Recommend(e.user, e.session, 10, /*exclude_seen=*/false, &rec);
          if (!rec.empty() && rec[0].source != "popular") {
            ++queries;
            for (const auto& r : rec) hits += r.item == e.item;
          }
        }
        {
          WriteLock l(m->lock());
          m->Apply(e, e.ts_seconds, SeedFor(1, 0, i));
        }
        m->Publish();
      }
      std::printf("blend=%-4s weight=%.2f  HR@10=%.4f  (%zu queries)\n", blend, weight,
                  static_cast<double>(hits) / static_cast<double>(std::max<size_t>(queries, 1)),
                  queries);
    }
  }
}

}  // namespace streamrec::daemon
