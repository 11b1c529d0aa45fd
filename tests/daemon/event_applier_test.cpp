// EventApplier, checkpoints and dead letters: checkpoints run on the writer thread while events
// are applied; a failed checkpoint write loses nothing (the store ends up identical to that of
// a run in which every write succeeded), says why while it fails, and recovers by itself; dead
// letters are delivered before the offsets past them are stored. No broker: the dead letters
// go to a fake sink.
#include "daemon/event_applier.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "common/rng.h"
#include "state/mem_store.h"
#include "state/write_batch.h"
#include "tests/daemon/applier_fakes.h"

namespace streamrec::daemon {
namespace {

// Clicks and ratings of 300 users over 80 items; every 97th message is malformed.
std::vector<std::string> MakeStream(size_t n, uint64_t seed = 7) {
  Rng rng(seed);
  std::vector<std::string> s;
  for (size_t i = 0; i < n; ++i) {
    if (i % 97 == 50) {
      s.push_back("{\"type\":\"click\",\"user\":");
      continue;
    }
    const bool rating = rng.Uniform(3) == 0;
    std::string e = rating ? "{\"type\":\"rating\",\"value\":4" : "{\"type\":\"click\"";
    e += ",\"user\":\"u" + std::to_string(rng.Uniform(300)) + "\",\"item\":\"i" +
         std::to_string(rng.Uniform(80)) + "\",\"ts\":" + std::to_string(1700000000 + i) + "}";
    s.push_back(std::move(e));
  }
  return s;
}

using Dump = std::vector<std::map<std::string, std::string>>;

Dump DumpStore(const state::MemStore& store) {
  Dump d(state::kNumFamilies);
  for (size_t f = 0; f < state::kNumFamilies; ++f) {
    REQUIRE(store
                .ForEach(static_cast<state::Family>(f), "",
                         [&](std::string_view k, std::string_view v) {
                           d[f].emplace(std::string(k), std::string(v));
                           return true;
                         })
                .ok());
  }
  return d;
}

void CheckSameStore(const state::MemStore& a, const state::MemStore& b) {
  const Dump da = DumpStore(a);
  const Dump db = DumpStore(b);
  for (size_t f = 0; f < state::kNumFamilies; ++f) {
    INFO("family " << f);
    CHECK(da[f].size() == db[f].size());
    CHECK(da[f] == db[f]);
  }
}

Config BaseConfig() {
  Config config;
  config.checkpoint_events = 700;  // due by count: written in the background between batches
  config.checkpoint_interval_ms = 3'600'000;
  return config;
}

struct Run : ApplierHarness {
  int64_t offsets[3] = {};

  Run() : ApplierHarness(BaseConfig()) {}

  // Hands `stream[from, to)` to the applier as one polled batch over 3 partitions.
  void HandleRange(const std::vector<std::string>& stream, size_t from, size_t to) {
    std::vector<stream::Message> batch;
    for (size_t i = from; i < to; ++i) {
      const auto p = static_cast<int32_t>(i % 3);
      batch.push_back(stream::Message::View("events", p, offsets[p]++, "", stream[i]));
    }
    applier->Handle(batch);
  }

  // Feeds `stream` in polled batches of 250; `before_checkpoint(i)` runs before the i-th
  // batch's checkpoint step.
  template <typename Hook>
  void Feed(const std::vector<std::string>& stream, Hook before_checkpoint) {
    for (size_t i = 0, b = 0; i < stream.size(); i += 250, ++b) {
      HandleRange(stream, i, std::min(stream.size(), i + 250));
      before_checkpoint(b);
      applier->MaybeCheckpoint().IgnoreError();
    }
    // An injected failure may still be pending (the write in flight when it was injected had
    // passed the store's check): the final write then fails and the retry must repair it.
    Status st = applier->MaybeCheckpoint(/*force=*/true);
    if (!st.ok()) st = applier->MaybeCheckpoint(/*force=*/true);
    REQUIRE(st.ok());
  }
};

}  // namespace

TEST_CASE("EventApplier: failed checkpoint writes are retried and lose nothing",
          "[event_applier]") {
  const auto stream = MakeStream(6000);

  Run clean;
  clean.Feed(stream, [](size_t) {});

  Run faulty;
  faulty.Feed(stream, [&](size_t b) {
    // Several checkpoints in a row fail, then one more later.
    if (b == 3 || b == 4 || b == 5 || b == 14) {
      faulty.store.fail_next_write(Status::IOError("injected: disk full"));
    }
  });

  // The injected failures did happen (and none in the clean run).
  CHECK(faulty.Metric("streamrec_checkpoint_failures_total") >= 1);
  CHECK(clean.Metric("streamrec_checkpoint_failures_total") == 0);
  CHECK(faulty.applier->events_applied() == clean.applier->events_applied());
  CHECK(clean.applier->events_invalid() == 6000 / 97 + 1);
  CHECK(faulty.applier->events_invalid() == clean.applier->events_invalid());
  CHECK(faulty.applier->events_applied() == 6000 - (6000 / 97 + 1));
  CHECK_FALSE(faulty.applier->checkpoint_failing());
  CheckSameStore(clean.store, faulty.store);
  // And the model restored from the faulty store is the live one.
  auto restored = ModelState::Create(faulty.config);
  REQUIRE(restored.ok());
  REQUIRE((*restored)->Restore(faulty.store).ok());
  CHECK((*restored)->Sizes().events_applied == faulty.model->Sizes().events_applied);
  CHECK((*restored)->Sizes().interactions == faulty.model->Sizes().interactions);
}

TEST_CASE("EventApplier: a failing checkpoint says why, commits nothing, and recovers",
          "[event_applier]") {
  const auto stream = MakeStream(600);
  // The same events and checkpoints, without the failure.
  Run clean;
  clean.HandleRange(stream, 0, 300);
  REQUIRE(clean.applier->MaybeCheckpoint(/*force=*/true).ok());
  clean.HandleRange(stream, 300, 600);
  REQUIRE(clean.applier->MaybeCheckpoint(/*force=*/true).ok());

  Run r;
  r.HandleRange(stream, 0, 300);
  r.store.fail_next_write(Status::IOError("injected: disk full"));
  const Status failed = r.applier->MaybeCheckpoint(/*force=*/true);
  CHECK(failed.code() == Status::Code::kIOError);
  CHECK(r.applier->checkpoint_failing());
  CHECK(r.applier->checkpoint_error().find("disk full") != std::string::npos);
  CHECK(r.Metric("streamrec_checkpoint_failures_total") == 1);
  CHECK(r.Metric("streamrec_checkpoints_total") == 0);
  CHECK(r.StoredOffsets().empty());  // nothing of the batch was written
  CHECK(r.source.commits.empty());   // and Kafka is told nothing

  // The next checkpoint carries the failed batch's rows along with its own.
  r.HandleRange(stream, 300, 600);
  REQUIRE(r.applier->MaybeCheckpoint(/*force=*/true).ok());
  CHECK_FALSE(r.applier->checkpoint_failing());
  CHECK(r.Metric("streamrec_checkpoints_total") == 1);
  const state::OffsetMap expected = {
      {{"events", 0}, 200}, {{"events", 1}, 200}, {{"events", 2}, 200}};
  CHECK(r.StoredOffsets() == expected);
  CHECK(r.source.LastCommit("events") == FakeSource::Offsets{{0, 200}, {1, 200}, {2, 200}});
  CheckSameStore(clean.store, r.store);
}

TEST_CASE("EventApplier: a checkpoint after several failed ones holds all of them",
          "[event_applier]") {
  const auto stream = MakeStream(900);
  Run clean;
  for (size_t i = 0; i < 900; i += 300) clean.HandleRange(stream, i, i + 300);
  REQUIRE(clean.applier->MaybeCheckpoint(/*force=*/true).ok());

  Run r;
  r.store.fail_writes_after(0, Status::IOError("injected: read-only file system"));
  for (size_t i = 0; i < 900; i += 300) {
    r.HandleRange(stream, i, i + 300);
    CHECK_FALSE(r.applier->MaybeCheckpoint(/*force=*/true).ok());
    CHECK(r.applier->checkpoint_failing());
  }
  CHECK(r.Metric("streamrec_checkpoint_failures_total") == 3);
  CHECK(r.store.successful_writes() == 0);
  r.store.clear_failures();
  REQUIRE(r.applier->MaybeCheckpoint(/*force=*/true).ok());
  CHECK_FALSE(r.applier->checkpoint_failing());
  CHECK(r.store.successful_writes() == 1);
  CheckSameStore(clean.store, r.store);
}

TEST_CASE("EventApplier: invalid events go to the dead-letter sink with their reason",
          "[event_applier]") {
  Run r;
  std::vector<std::string> stream = {
      R"({"type":"click","user":"u1","item":"i1","ts":1700000000})",
      R"({"type":"click","user":)",
      R"({"type":"rating","user":"u1","item":"i2","value":99,"ts":1700000001})",
      R"({"type":"click","user":"u2","item":"i1","ts":1700000002})",
  };
  r.HandleRange(stream, 0, stream.size());
  const auto sent = r.dead_letters.sent();
  REQUIRE(sent.size() == 2);
  CHECK(sent[0].topic == "events");
  CHECK(sent[0].partition == 1);
  CHECK(sent[0].offset == 0);
  CHECK(sent[0].payload == stream[1]);
  CHECK_FALSE(sent[0].reason.empty());
  CHECK(sent[1].partition == 2);
  CHECK(sent[1].payload == stream[2]);
  CHECK(r.applier->events_invalid() == 2);
  r.applier->Publish(/*force=*/true);
  CHECK(r.applier->events_applied() == 2);
  CHECK(r.Metric("streamrec_events_by_type_total{type=\"click\"}") == 2);
}

TEST_CASE("EventApplier: dead letters are delivered before the offsets past them are stored",
          "[event_applier]") {
  Run r;
  std::vector<std::string> stream = {R"({"type":"click","user":"u1","item":"i1","ts":1700000000})",
                                     R"(not json)"};
  r.HandleRange(stream, 0, stream.size());
  r.dead_letters.fail_flushes(true);
  const Status st = r.applier->MaybeCheckpoint(/*force=*/true);
  CHECK(st.code() == Status::Code::kUnavailable);
  CHECK(st.message().find("dead letters not delivered") != std::string::npos);
  CHECK(r.applier->checkpoint_failing());
  CHECK(r.store.successful_writes() == 0);
  CHECK(r.dead_letters.delivered() == 0);

  r.dead_letters.fail_flushes(false);
  REQUIRE(r.applier->MaybeCheckpoint(/*force=*/true).ok());
  CHECK_FALSE(r.applier->checkpoint_failing());
  CHECK(r.dead_letters.delivered() == 1);
  const state::OffsetMap expected = {{{"events", 0}, 1}, {{"events", 1}, 1}};
  CHECK(r.StoredOffsets() == expected);
}

TEST_CASE("EventApplier: a refused dead letter is retried, and abandoned at stop",
          "[event_applier]") {
  Run r;
  std::atomic<bool> stop{false};
  r.applier->set_stop_flag(&stop);
  std::vector<std::string> stream = {R"(not json)", R"(not json either)"};
  r.dead_letters.refuse_sends(3);
  r.HandleRange(stream, 0, 1);
  CHECK(r.dead_letters.sent().size() == 1);  // taken at the fourth try
  CHECK(r.Metric("streamrec_dlq_produce_failures_total") == 3);
  CHECK(r.applier->events_invalid() == 1);
  REQUIRE(r.applier->MaybeCheckpoint(/*force=*/true).ok());
  const size_t writes = r.store.successful_writes();

  // Stopping, and the sink refuses for good: the dead letter is given up, and so is every
  // checkpoint after it (its offset must be consumed again after the restart).
  stop.store(true);
  r.dead_letters.refuse_sends(-1);
  r.HandleRange(stream, 1, 2);
  CHECK(r.dead_letters.sent().size() == 1);
  const Status st = r.applier->MaybeCheckpoint(/*force=*/true);
  CHECK(st.code() == Status::Code::kUnavailable);
  CHECK(st.message().find("abandoned") != std::string::npos);
  CHECK(r.store.successful_writes() == writes);
  CHECK(r.StoredOffsets() == state::OffsetMap{{{"events", 0}, 1}});
}

TEST_CASE("EventApplier: RequestCheckpoint from another thread waits for the write",
          "[event_applier]") {
  Run r;
  const auto stream = MakeStream(30);
  r.HandleRange(stream, 0, stream.size());
  Status requested = Status::Unavailable("not run");
  std::thread t([&] { requested = r.applier->RequestCheckpoint(10'000); });
  // The consumer thread's loop: checkpoints when asked.
  while (r.store.successful_writes() == 0) {
    r.applier->MaybeCheckpoint().IgnoreError();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  t.join();
  CHECK(requested.ok());
  CHECK(r.StoredOffsets().size() == 3);
}

}  // namespace streamrec::daemon
