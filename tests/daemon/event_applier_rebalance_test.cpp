// EventApplier as the RebalanceListener, and its hold of served records, without a broker:
// assigned partitions start from the offsets in the store, revoked ones are checkpointed
// before they go (lost ones are not), and served records wait until event time reaches them,
// with the served topic's stored offset at the first one held.
#include <catch2/catch.hpp>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "daemon/event_applier.h"
#include "state/write_batch.h"
#include "stream/served_codec.h"
#include "tests/daemon/applier_fakes.h"

namespace streamrec::daemon {
namespace {

constexpr int64_t kT0 = 1'700'000'000;  // seconds

std::string Click(const std::string& user, const std::string& item, int64_t ts) {
  return R"({"type":"click","user":")" + user + R"(","item":")" + item + R"(","ts":)" +
         std::to_string(ts) + "}";
}

// A served record of `user` whose one explored item is `item`.
std::string Served(const std::string& rec_id, const std::string& user, const std::string& item,
                   int64_t ts) {
  const stream::ServedItem items[] = {{item, 0, 1.0f, "explore:linucb", 0.25}};
  stream::ServedView v;
  v.rec_id = rec_id;
  v.user = user;
  v.ts_seconds = static_cast<double>(ts);
  v.items = items;
  std::string out;
  stream::EncodeServed(v, &out);
  return out;
}

std::vector<stream::PartitionStart> Starts(
    const std::vector<std::pair<std::string, int32_t>>& tps) {
  std::vector<stream::PartitionStart> out;
  for (const auto& [topic, partition] : tps) out.push_back({topic, partition});
  return out;
}

struct Harness : ApplierHarness {
  // Payloads outlive the Messages that view them.
  std::vector<std::unique_ptr<std::string>> payloads;

  explicit Harness(Config c = Config()) : ApplierHarness(std::move(c)) {}

  void Handle(const std::vector<std::tuple<std::string, int32_t, int64_t, std::string>>& msgs) {
    std::vector<stream::Message> batch;
    for (const auto& [topic, partition, offset, payload] : msgs) {
      payloads.push_back(std::make_unique<std::string>(payload));
      batch.push_back(stream::Message::View(topic == "events" ? "events" : "served", partition,
                                            offset, "", *payloads.back()));
    }
    applier->Handle(batch);
  }
  uint64_t OpenImpressions() {
    model->Flush();
    return model->BanditStats().open_impressions;
  }
};

}  // namespace

TEST_CASE("EventApplier: assigned partitions start from the offsets in the store",
          "[event_applier][rebalance]") {
  Harness h;
  state::WriteBatch stored;
  stored.SetOffset("events", 0, 5);
  stored.SetOffset("events", 2, 9);
  stored.SetOffset("served", 0, 3);
  REQUIRE(h.store.Write(stored).ok());
  h.source.watermarks[{"served", 0}] = {0, 3};

  auto parts = Starts(
      {{"events", 0}, {"events", 1}, {"events", 2}, {"served", 0}, {"served", 1}, {"other", 0}});
  parts[5].start_offset = stream::kOffsetEnd;  // not ours: left alone
  CHECK_FALSE(h.applier->assigned());
  REQUIRE(h.applier->OnPartitionsAssigned(&parts).ok());
  CHECK(parts[0].start_offset == 5);
  CHECK(parts[1].start_offset == stream::kOffsetBeginning);
  CHECK(parts[2].start_offset == 9);
  CHECK(parts[3].start_offset == 3);
  CHECK(parts[4].start_offset == stream::kOffsetBeginning);
  CHECK(parts[5].start_offset == stream::kOffsetEnd);
  CHECK(h.applier->assigned());
  CHECK(h.applier->next_offsets() == std::map<int32_t, int64_t>{{0, 5}, {2, 9}});
  CHECK(h.source.queries == 2);  // the served partitions' watermarks

  // Consumption continues from there; the next checkpoint keeps what was not consumed.
  h.Handle({{"events", 0, 5, Click("u1", "i1", kT0)}, {"events", 1, 0, Click("u2", "i1", kT0)}});
  REQUIRE(h.applier->MaybeCheckpoint(/*force=*/true).ok());
  const state::OffsetMap expected = {
      {{"events", 0}, 6}, {{"events", 1}, 1}, {{"events", 2}, 9}, {{"served", 0}, 3}};
  CHECK(h.StoredOffsets() == expected);
}

TEST_CASE("EventApplier: assignment fails when the store's offsets cannot be read",
          "[event_applier][rebalance]") {
  Harness h;
  state::WriteBatch bad;
  bad.Put(state::Family::kOffsets, "not an offset key", "x");
  REQUIRE(h.store.Write(bad).ok());
  auto parts = Starts({{"events", 0}});
  CHECK_FALSE(h.applier->OnPartitionsAssigned(&parts).ok());
  CHECK_FALSE(h.applier->assigned());
}

TEST_CASE("EventApplier: revoked partitions are checkpointed before they go",
          "[event_applier][rebalance]") {
  Harness h;
  auto parts = Starts({{"events", 0}, {"events", 1}});
  REQUIRE(h.applier->OnPartitionsAssigned(&parts).ok());
  h.Handle({{"events", 0, 0, Click("u1", "i1", kT0)},
            {"events", 1, 0, Click("u2", "i2", kT0)},
            {"events", 1, 1, Click("u3", "i2", kT0 + 1)}});
  CHECK(h.store.successful_writes() == 0);

  h.applier->OnPartitionsRevoked({{"events", 1}}, /*lost=*/false);
  CHECK(h.store.successful_writes() == 1);
  const state::OffsetMap expected = {{{"events", 0}, 1}, {{"events", 1}, 2}};
  CHECK(h.StoredOffsets() == expected);
  // The rows the revoked partition's events changed are in the same write.
  auto restored = ModelState::Create(h.config);
  REQUIRE(restored.ok());
  REQUIRE((*restored)->Restore(h.store).ok());
  CHECK((*restored)->Sizes().users == 3);
  CHECK((*restored)->Sizes().interactions == 3);
  CHECK(h.source.LastCommit("events") == FakeSource::Offsets{{0, 1}, {1, 2}});
  CHECK(h.applier->next_offsets() == std::map<int32_t, int64_t>{{0, 1}});
  CHECK(h.applier->assigned());

  h.applier->OnPartitionsRevoked({{"events", 0}}, /*lost=*/false);
  CHECK_FALSE(h.applier->assigned());
  CHECK(h.applier->next_offsets().empty());
}

TEST_CASE("EventApplier: lost partitions are not checkpointed, the store stays the truth",
          "[event_applier][rebalance]") {
  Harness h;
  auto parts = Starts({{"events", 0}, {"served", 0}});
  REQUIRE(h.applier->OnPartitionsAssigned(&parts).ok());
  h.Handle({{"events", 0, 0, Click("u1", "i1", kT0)}});
  REQUIRE(h.applier->MaybeCheckpoint(/*force=*/true).ok());
  const size_t writes = h.store.successful_writes();
  h.Handle({{"events", 0, 1, Click("u1", "i2", kT0 + 1)},
            {"served", 0, 0, Served("r1", "u1", "i1", kT0 + 500)}});
  CHECK(h.applier->served_held() == 1);

  h.applier->OnPartitionsRevoked({{"events", 0}, {"served", 0}}, /*lost=*/true);
  CHECK(h.store.successful_writes() == writes);
  CHECK_FALSE(h.applier->assigned());
  CHECK(h.applier->next_offsets().empty());
  CHECK(h.applier->served_held() == 0);  // its next owner joins it

  // Assigned again: from the store, so the event after the checkpoint is consumed again.
  parts = Starts({{"events", 0}, {"served", 0}});
  REQUIRE(h.applier->OnPartitionsAssigned(&parts).ok());
  CHECK(parts[0].start_offset == 1);
  CHECK(parts[1].start_offset == stream::kOffsetBeginning);
}

TEST_CASE("EventApplier: served records wait until event time reaches them",
          "[event_applier][hold]") {
  Harness h;
  h.source.watermarks[{"served", 0}] = {0, 100};  // far from caught up
  auto parts = Starts({{"events", 0}, {"served", 0}});
  REQUIRE(h.applier->OnPartitionsAssigned(&parts).ok());
  h.Handle({{"events", 0, 0, Click("u1", "i1", kT0)}});
  CHECK(h.OpenImpressions() == 0);

  // The first is behind event time and joins at once; the others are ahead of it.
  h.Handle({{"served", 0, 0, Served("r0", "u1", "i1", kT0 - 10)},
            {"served", 0, 1, Served("r1", "u1", "i1", kT0 + 100)},
            {"served", 0, 2, Served("r2", "u1", "i1", kT0 + 200)}});
  CHECK(h.applier->served_held() == 2);
  CHECK(h.OpenImpressions() == 1);
  CHECK(h.Metric("streamrec_served_records_consumed_total") == 3);
  REQUIRE(h.applier->MaybeCheckpoint(/*force=*/true).ok());
  // The served offset stored is the first held record's: a restart consumes it again.
  CHECK(h.StoredOffsets().at({"served", 0}) == 1);

  // Event time reaches the first held one only.
  h.Handle({{"events", 0, 1, Click("u2", "i1", kT0 + 150)}});
  CHECK(h.applier->served_held() == 1);
  CHECK(h.OpenImpressions() == 2);
  REQUIRE(h.applier->MaybeCheckpoint(/*force=*/true).ok());
  CHECK(h.StoredOffsets().at({"served", 0}) == 2);

  h.Handle({{"events", 0, 2, Click("u2", "i1", kT0 + 300)}});
  CHECK(h.applier->served_held() == 0);
  CHECK(h.OpenImpressions() == 3);
  REQUIRE(h.applier->MaybeCheckpoint(/*force=*/true).ok());
  CHECK(h.StoredOffsets().at({"served", 0}) == 3);
  CHECK(h.Metric("streamrec_served_held_overflow_total") == 0);
}

TEST_CASE("EventApplier: beyond bandit.max_held the oldest served record joins early",
          "[event_applier][hold]") {
  Config config;
  config.bandit.max_held = 2;
  Harness h(config);
  auto parts = Starts({{"events", 0}, {"served", 0}});
  REQUIRE(h.applier->OnPartitionsAssigned(&parts).ok());
  h.Handle({{"events", 0, 0, Click("u1", "i1", kT0)}});
  h.Handle({{"served", 0, 0, Served("r0", "u1", "i1", kT0 + 100)},
            {"served", 0, 1, Served("r1", "u1", "i1", kT0 + 200)},
            {"served", 0, 2, Served("r2", "u1", "i1", kT0 + 300)}});
  CHECK(h.applier->served_held() == 2);
  CHECK(h.OpenImpressions() == 1);
  CHECK(h.Metric("streamrec_served_held_overflow_total") == 1);
  REQUIRE(h.applier->MaybeCheckpoint(/*force=*/true).ok());
  CHECK(h.StoredOffsets().at({"served", 0}) == 1);
}

}  // namespace streamrec::daemon
