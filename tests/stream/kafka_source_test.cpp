// KafkaSource against the embedded broker over TCP: exactly-once consumption, start offsets from
// the listener, rebalances between two members, broker outages.
#include <catch2/catch.hpp>

#include <atomic>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "tests/stream/kafka_test_support.h"

namespace streamrec::stream {
namespace {

using testing::AtLeast;
using testing::ConsumeUntil;
using testing::OffsetStore;
using testing::ProduceN;
using testing::Record;
using testing::StartCluster;
using testing::StoreListener;

std::unique_ptr<KafkaSource> MakeSource(const KafkaOptions& options, RebalanceListener* l) {
  Result<std::unique_ptr<KafkaSource>> source = KafkaSource::Create(options, l);
  REQUIRE(source.ok());
  return std::move(source).value();
}

// Per partition: offsets must be exactly first..first+n-1, each once.
void RequireContiguous(const std::vector<Record>& records,
                       const std::map<int32_t, int64_t>& first_offset = {}) {
  std::map<int32_t, std::vector<int64_t>> by_partition;
  for (const Record& r : records) by_partition[r.partition].push_back(r.offset);
  for (const auto& [p, offsets] : by_partition) {
    int64_t expect = first_offset.count(p) ? first_offset.at(p) : 0;
    for (int64_t o : offsets) {
      INFO("partition " << p);
      REQUIRE(o == expect);
      ++expect;
    }
  }
}

TEST_CASE("kafka_source: consumes every keyed message exactly once", "[kafka]") {
  auto cluster = StartCluster(8);
  constexpr int kMessages = 3000;
  ProduceN(cluster.options, kMessages);

  OffsetStore store;
  StoreListener listener("A", &store);
  auto source = MakeSource(cluster.options, &listener);
  std::vector<Record> records = ConsumeUntil(source.get(), &listener, AtLeast(kMessages), 15000);
  REQUIRE(records.size() == kMessages);

  // Nothing more arrives.
  std::vector<Record> more = ConsumeUntil(
      source.get(), &listener, [](const auto&) { return false; }, 300);
  REQUIRE(more.empty());

  RequireContiguous(records);
  std::set<std::string> payloads;
  std::map<std::string, int32_t> partition_of_key;
  std::set<int32_t> partitions;
  for (const Record& r : records) {
    payloads.insert(r.payload);
    partitions.insert(r.partition);
    REQUIRE(r.topic == "events");
    // One key, one partition.
    auto [it, inserted] = partition_of_key.try_emplace(r.key, r.partition);
    REQUIRE(it->second == r.partition);
  }
  REQUIRE(payloads.size() == kMessages);
  REQUIRE(partitions.size() == 8);
  REQUIRE(partition_of_key.size() == 50);

  REQUIRE(source->assignment().size() == 8);
  const std::vector<PartitionLag> lags = source->Lag();
  REQUIRE(lags.size() == 8);
  int64_t total_next = 0;
  for (const PartitionLag& lag : lags) {
    REQUIRE(lag.lag == 0);
    REQUIRE(lag.high_watermark == lag.next_offset);
    total_next += lag.next_offset;
  }
  REQUIRE(total_next == kMessages);

  // Commits are for lag visibility only; they must at least be accepted.
  std::map<int32_t, int64_t> next;
  for (const PartitionLag& lag : lags) next[lag.partition] = lag.next_offset;
  REQUIRE(source->CommitOffsets("events", next).ok());

  const SourceCounters c = source->counters();
  REQUIRE(c.messages == kMessages);
  REQUIRE(c.assignments == 1);
  REQUIRE(source->Close().ok());
  REQUIRE(listener.revoked_calls == 1);  // Close() revokes through the listener
  REQUIRE(source->counters().commit_failures == 0);
  std::vector<Message> batch;
  REQUIRE(source->PollBatch(10, 0, &batch).code() == Status::Code::kFailedPrecondition);
}

TEST_CASE("kafka_source: start offsets chosen by the listener are honored", "[kafka]") {
  auto cluster = StartCluster(4);
  ProduceN(cluster.options, 400);

  std::map<int32_t, int64_t> end_offset = testing::EndOffsets(cluster.options.brokers, "events", 4);
  for (const auto& [p, end] : end_offset) REQUIRE(end >= 20);

  OffsetStore store;
  store.Checkpoint({{0, 10}, {2, end_offset[2]}});  // "RocksDB" has offsets for 0 and 2
  StoreListener listener("B", &store);
  listener.start_overrides[3] = kOffsetEnd;  // and 3 starts at the end
  cluster.options.group_id = "resumer";
  auto source = MakeSource(cluster.options, &listener);
  const size_t expected = static_cast<size_t>(end_offset[0] - 10 + end_offset[1]);
  std::vector<Record> records = ConsumeUntil(source.get(), &listener, AtLeast(expected), 15000);
  REQUIRE(records.size() == expected);
  for (const Record& r : records) REQUIRE((r.partition == 0 || r.partition == 1));
  RequireContiguous(records, {{0, 10}, {1, 0}});

  // New messages: partitions 2 and 3 deliver only those. kOffsetEnd means the end when
  // librdkafka resolves it (asynchronously), so partition 3 may miss some of the new ones, but
  // never delivers an old one; partitions 0..2 deliver every new one.
  ProduceN(cluster.options, 200, "new", 50, 400);
  const std::map<int32_t, int64_t> new_end =
      testing::EndOffsets(cluster.options.brokers, "events", 4);
  size_t expect_fresh = 0;
  for (int32_t p = 0; p < 3; ++p)
    expect_fresh += static_cast<size_t>(new_end.at(p) - end_offset[p]);
  auto fresh_in_0_to_2 = [expect_fresh](const std::vector<Record>& records) {
    return static_cast<size_t>(std::count_if(records.begin(), records.end(), [](const Record& r) {
             return r.partition < 3;
           })) >= expect_fresh;
  };
  std::vector<Record> fresh = ConsumeUntil(source.get(), &listener, fresh_in_0_to_2, 15000);
  std::vector<Record> extra = ConsumeUntil(
      source.get(), &listener, [](const auto&) { return false; }, 300);
  fresh.insert(fresh.end(), extra.begin(), extra.end());
  size_t fresh_0_to_2 = 0;
  for (const Record& r : fresh) {
    REQUIRE(r.payload.rfind("new", 0) == 0);
    if (r.partition < 3) ++fresh_0_to_2;
    if (r.partition >= 2) REQUIRE(r.offset >= end_offset[r.partition]);
  }
  REQUIRE(fresh_0_to_2 == expect_fresh);
  std::vector<Record> low, p3;
  for (const Record& r : fresh) (r.partition < 3 ? low : p3).push_back(r);
  RequireContiguous(low, {{0, end_offset[0]}, {1, end_offset[1]}, {2, end_offset[2]}});
  if (!p3.empty()) RequireContiguous(p3, {{3, p3.front().offset}});
  REQUIRE(source->Close().ok());
}

// Two members of one group on two threads, sharing the "store" (the daemon's RocksDB stand-in):
// the second one joining triggers an eager rebalance; together they apply every message once.
TEST_CASE("kafka_source: two members split partitions, revoke comes first, each message once",
          "[kafka]") {
  auto cluster = StartCluster(8);
  ProduceN(cluster.options, 2000, "p1-");

  OffsetStore store;
  std::mutex mu;
  std::map<std::pair<int32_t, int64_t>, int> applied;  // (partition, offset) -> times
  std::atomic<bool> stop{false};
  std::atomic<int> total{0};
  std::atomic<int> recorded{0};

  // Catch2 assertions are not thread-safe: the threads record failures, the test checks them.
  std::vector<std::string> failures;
  auto run = [&](const std::string& name, std::vector<int32_t>* final_assignment, int* revokes) {
    auto fail = [&](const std::string& what) {
      std::lock_guard<std::mutex> lock(mu);
      failures.push_back(name + ": " + what);
    };
    StoreListener listener(name, &store);
    Result<std::unique_ptr<KafkaSource>> source = KafkaSource::Create(cluster.options, &listener);
    if (!source.ok()) return fail(source.status().ToString());
    std::vector<Message> batch;
    while (!stop.load()) {
      if (Status st = (*source)->PollBatch(50, 50, &batch); !st.ok()) return fail(st.ToString());
      {
        std::lock_guard<std::mutex> lock(mu);
        for (const Message& m : batch) applied[{m.partition(), m.offset()}]++;
      }
      total += static_cast<int>(batch.size());
      listener.Applied(batch);
      listener.Checkpoint();
      // Slow the first member down so that the rebalance happens while it consumes.
      if (!batch.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    batch.clear();
    *final_assignment = (*source)->assignment();
    // Neither member leaves before both have recorded their assignment: the first Close
    // triggers a rebalance that revokes the other's partitions.
    ++recorded;
    for (int i = 0; i < 5000 && recorded.load() < 2; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (Status st = (*source)->Close(); !st.ok()) fail(st.ToString());
    *revokes = listener.revoked_calls;
  };

  std::vector<int32_t> a_parts, b_parts;
  int a_revokes = 0, b_revokes = 0;
  std::thread a([&] { run("A", &a_parts, &a_revokes); });
  // Start B once A is consuming.
  for (int i = 0; i < 200 && total.load() < 200; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::thread b([&] { run("B", &b_parts, &b_revokes); });
  struct StopAndJoin {  // joins even when an assertion below throws
    std::atomic<bool>& stop;
    std::thread& a;
    std::thread& b;
    ~StopAndJoin() {
      stop = true;
      if (a.joinable()) a.join();
      if (b.joinable()) b.join();
    }
  } guard{stop, a, b};

  // Wait until both own partitions: the last two events are the assignments of A and B.
  auto both_assigned = [&] {
    int a_size = 0, b_size = 0;
    for (const std::string& e : store.Events()) {
      const int n = static_cast<int>(std::count(e.begin(), e.end(), ' ')) - 1;
      if (e.rfind("A assign", 0) == 0) a_size = n;
      if (e.rfind("B assign", 0) == 0) b_size = n;
      if (e.rfind("A revoke", 0) == 0) a_size = 0;
    }
    return a_size == 4 && b_size == 4;
  };
  for (int i = 0; i < 300 && !both_assigned(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const bool split = both_assigned();
  if (split) {
    ProduceN(cluster.options, 2000, "p2-", 50, 2000);
    for (int i = 0; i < 300 && total.load() < 4000; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // duplicates would show now
  }
  stop = true;
  a.join();
  b.join();

  INFO("events: " << Catch::Detail::stringify(store.Events()));
  REQUIRE(split);
  INFO("failures: " << Catch::Detail::stringify(failures));
  REQUIRE(failures.empty());
  REQUIRE(total.load() == 4000);
  REQUIRE(applied.size() == 4000);
  for (const auto& [tp, times] : applied) REQUIRE(times == 1);

  // Disjoint halves at the end, and A's revoke precedes the assignment that split the topic.
  REQUIRE(a_parts.size() == 4);
  REQUIRE(b_parts.size() == 4);
  std::set<int32_t> all(a_parts.begin(), a_parts.end());
  all.insert(b_parts.begin(), b_parts.end());
  REQUIRE(all.size() == 8);
  const std::vector<std::string> events = store.Events();
  REQUIRE(events.size() >= 4);
  REQUIRE(events[0] == "A assign 0 1 2 3 4 5 6 7");
  REQUIRE(events[1] == "A revoke 0 1 2 3 4 5 6 7");
  // Replaying the listener calls, a partition is only ever assigned when nobody holds it: the
  // previous owner's revoke listener (its checkpoint) always ran first. (The mock sometimes
  // needs more than one rebalance to settle, so the exact sequence varies.)
  std::map<int32_t, std::string> owner;
  for (const std::string& e : events) {
    std::istringstream in(e);
    std::string member, what;
    in >> member >> what;
    for (int32_t p; in >> p;) {
      INFO(e << ", partition " << p);
      if (what == "assign") {
        REQUIRE(owner.count(p) == 0);
        owner[p] = member;
      } else {
        REQUIRE(owner[p] == member);
        owner.erase(p);
      }
    }
  }
  REQUIRE(owner.empty());   // both closed
  REQUIRE(a_revokes >= 2);  // the rebalance and Close()
  REQUIRE(b_revokes >= 1);
}

TEST_CASE("kafka_source: broker down - polling continues, nothing lost after it is back",
          "[kafka]") {
  auto cluster = StartCluster(4);
  ProduceN(cluster.options, 100, "before");

  OffsetStore store;
  StoreListener listener("A", &store);
  auto source = MakeSource(cluster.options, &listener);
  std::vector<Record> records = ConsumeUntil(source.get(), &listener, AtLeast(100), 15000);
  REQUIRE(records.size() == 100);

  Result<std::unique_ptr<KafkaSink>> sink = KafkaSink::Create(cluster.options);
  REQUIRE(sink.ok());
  REQUIRE(cluster.broker->SetBrokerDown(1).ok());
  // Producing only queues; flushing cannot finish; polling returns on time with nothing.
  for (int i = 0; i < 100; ++i) {
    REQUIRE((*sink)->Produce("events", testing::Cat("k", i), testing::Cat("during", i)).ok());
  }
  REQUIRE((*sink)->Flush(200).code() == Status::Code::kUnavailable);
  const auto start = std::chrono::steady_clock::now();
  std::vector<Message> batch;
  for (int i = 0; i < 10; ++i) {
    REQUIRE(source->PollBatch(100, 100, &batch).ok());
    REQUIRE(batch.empty());
  }
  REQUIRE(std::chrono::steady_clock::now() - start < std::chrono::seconds(3));
  REQUIRE((*sink)->in_flight() >= 100);

  REQUIRE(cluster.broker->SetBrokerUp(1).ok());
  REQUIRE((*sink)->Flush(15000).ok());
  REQUIRE((*sink)->counters().delivered == 100);
  REQUIRE((*sink)->counters().failed == 0);

  std::vector<Record> after = ConsumeUntil(source.get(), &listener, AtLeast(100), 15000);
  std::vector<Record> extra = ConsumeUntil(
      source.get(), &listener, [](const auto&) { return false; }, 300);
  after.insert(after.end(), extra.begin(), extra.end());
  REQUIRE(after.size() == 100);
  std::set<std::string> payloads;
  for (const Record& r : after) payloads.insert(r.payload);
  REQUIRE(payloads.size() == 100);
  REQUIRE(payloads.count("during0") == 1);
  records.insert(records.end(), after.begin(), after.end());
  RequireContiguous(records);
  REQUIRE(source->Close().ok());
}

TEST_CASE("kafka_source: Close() with the group unresponsive revokes and returns within its bound",
          "[kafka]") {
  auto cluster = StartCluster(2);
  ProduceN(cluster.options, 20, "m");
  OffsetStore store;
  StoreListener listener("A", &store);
  KafkaOptions options = cluster.options;
  options.consumer_close_timeout_ms = 1000;
  auto source = MakeSource(options, &listener);
  REQUIRE(ConsumeUntil(source.get(), &listener, AtLeast(20), 15000).size() == 20);
  REQUIRE(listener.revoked_calls == 0);

  // Every answer now takes 20 s: librdkafka's own close waits for the group's (the daemon
  // hung 40 minutes in it once, stopped while its broker was gone).
  REQUIRE(cluster.broker->SetBrokerRtt(1, 20000).ok());
  const auto start = std::chrono::steady_clock::now();
  const Status closed = source->Close();
  const auto close_took = std::chrono::steady_clock::now() - start;
  source.reset();
  const auto took = std::chrono::steady_clock::now() - start;
  INFO(
      closed.ToString() << " after "
                        << std::chrono::duration_cast<std::chrono::milliseconds>(close_took).count()
                        << " ms, destroyed after "
                        << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                        << " ms");
  REQUIRE(close_took < std::chrono::milliseconds(2500));
  // Destroying waits only for requests already in flight, bounded by their own timeout.
  REQUIRE(took < std::chrono::milliseconds(9000));
  REQUIRE(listener.revoked_calls == 1);  // the listener checkpoints on it, as on any close
  REQUIRE(store.Get().size() == 2);
}

TEST_CASE("kafka_source: bad configuration is an error, not an exception", "[kafka]") {
  OffsetStore store;
  StoreListener listener("A", &store);
  KafkaOptions options;
  options.brokers = "127.0.0.1:1";
  options.properties["no.such.property"] = "1";
  Result<std::unique_ptr<KafkaSource>> source = KafkaSource::Create(options, &listener);
  REQUIRE(source.status().code() == Status::Code::kInvalidArgument);

  options.properties.clear();
  options.consumer_properties["partition.assignment.strategy"] = "cooperative-sticky";
  source = KafkaSource::Create(options, &listener);
  REQUIRE(source.status().code() == Status::Code::kInvalidArgument);
  REQUIRE(source.status().message().find("eager") != std::string::npos);
}

}  // namespace
}  // namespace streamrec::stream
