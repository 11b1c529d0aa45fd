// The StateStore contract, run against both implementations: MemStore and a real RocksDBStore
// in a temporary directory.
#include <atomic>
#include <catch2/catch.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "state/keys.h"
#include "state/mem_store.h"
#include "state/rocksdb_store.h"
#include "state/store.h"
#include "state/write_batch.h"
#include "tests/support/test_data.h"

namespace streamrec::state {
namespace {

struct MemBackend {
  std::unique_ptr<StateStore> store = std::make_unique<MemStore>();
};

struct RocksBackend {
  testing::TempDir dir;
  std::unique_ptr<StateStore> store;
  RocksBackend() {
    StateOptions options;
    options.sync_writes = false;  // the contract, not durability, is tested here
    options.config_fingerprint = "dim=8";
    Status st = RocksDBStore::Open(options, dir.path() + "/db", &store);
    if (!st.ok()) FAIL(st.ToString());
  }
};

// Reads `key`, or "<NotFound>" / "<error: ...>".
std::string Read(const StateReader& s, Family f, std::string_view key) {
  std::string value;
  Status st = s.Get(f, key, &value);
  if (st.IsNotFound()) return "<NotFound>";
  if (!st.ok()) return "<error: " + st.ToString() + ">";
  return value;
}

std::vector<std::string> Keys(const StateReader& s, Family f, std::string_view prefix = {}) {
  std::vector<std::string> keys;
  Status st = s.ForEach(f, prefix, [&](std::string_view k, std::string_view) {
    keys.emplace_back(k);
    return true;
  });
  REQUIRE(st.ok());
  return keys;
}

}  // namespace

TEMPLATE_TEST_CASE("state: StateStore put get overwrite and delete", "[state][contract]",
                   MemBackend, RocksBackend) {
  TestType backend;
  StateStore& s = *backend.store;

  std::string value = "untouched";
  Status st = s.Get(Family::kUsers, IndexKey(1), &value);
  CHECK(st.IsNotFound());
  CHECK(value == "untouched");

  WriteBatch b;
  b.Put(Family::kUsers, IndexKey(1), "one");
  b.Put(Family::kItems, IndexKey(1), "item one");  // same key, other family
  b.Put(Family::kIds, std::string("bin\0key", 7), std::string("\0\xff\x01", 3));
  b.Put(Family::kModel, "empty", "");
  REQUIRE(s.Write(b).ok());
  CHECK(Read(s, Family::kUsers, IndexKey(1)) == "one");
  CHECK(Read(s, Family::kItems, IndexKey(1)) == "item one");
  CHECK(Read(s, Family::kIds, std::string("bin\0key", 7)) == std::string("\0\xff\x01", 3));
  CHECK(Read(s, Family::kModel, "empty").empty());
  CHECK(Read(s, Family::kSessions, IndexKey(1)) == "<NotFound>");

  b.Clear();
  b.Put(Family::kUsers, IndexKey(1), "uno");
  b.Delete(Family::kItems, IndexKey(1));
  b.Delete(Family::kItems, IndexKey(99));  // absent: not an error
  REQUIRE(s.Write(b).ok());
  CHECK(Read(s, Family::kUsers, IndexKey(1)) == "uno");
  CHECK(Read(s, Family::kItems, IndexKey(1)) == "<NotFound>");

  // Later operations on a key within one batch win.
  b.Clear();
  b.Put(Family::kBandits, "arm", "a");
  b.Delete(Family::kBandits, "arm");
  b.Put(Family::kBandits, "arm", "c");
  b.Put(Family::kBandits, "gone", "x");
  b.Delete(Family::kBandits, "gone");
  REQUIRE(s.Write(b).ok());
  CHECK(Read(s, Family::kBandits, "arm") == "c");
  CHECK(Read(s, Family::kBandits, "gone") == "<NotFound>");

  // An empty batch is a no-op.
  b.Clear();
  CHECK(s.Write(b).ok());
}

TEMPLATE_TEST_CASE("state: StateStore applies nothing of an invalid batch", "[state][contract]",
                   MemBackend, RocksBackend) {
  TestType backend;
  StateStore& s = *backend.store;
  WriteBatch b;
  b.Put(Family::kUsers, IndexKey(1), "before");
  REQUIRE(s.Write(b).ok());

  b.Clear();
  b.Put(Family::kUsers, IndexKey(1), "after");
  b.SetOffset("events", 0, 10);
  b.DeleteRange(Family::kItems, IndexKey(9), IndexKey(1));  // begin > end
  Status st = s.Write(b);
  CHECK(st.code() == Status::Code::kInvalidArgument);
  CHECK(Read(s, Family::kUsers, IndexKey(1)) == "before");
  OffsetMap offsets;
  REQUIRE(s.ReadOffsets(&offsets).ok());
  CHECK(offsets.empty());
}

TEMPLATE_TEST_CASE("state: StateStore offsets round-trip", "[state][contract]", MemBackend,
                   RocksBackend) {
  TestType backend;
  StateStore& s = *backend.store;
  OffsetMap offsets = {{{"stale", 1}, 5}};
  REQUIRE(s.ReadOffsets(&offsets).ok());
  CHECK(offsets.empty());  // fresh store: consume from the beginning

  WriteBatch b;
  b.SetOffset("events", 0, 100);
  b.SetOffset("events", 10, 7);
  b.SetOffset("events", 2, int64_t{1} << 40);
  b.SetOffset("served", 0, 3);
  REQUIRE(s.Write(b).ok());
  b.Clear();
  b.SetOffset("events", 0, 150);  // the next checkpoint moves partition 0 on
  REQUIRE(s.Write(b).ok());

  REQUIRE(s.ReadOffsets(&offsets).ok());
  const OffsetMap want = {{{"events", 0}, 150},
                          {{"events", 2}, int64_t{1} << 40},
                          {{"events", 10}, 7},
                          {{"served", 0}, 3}};
  CHECK(offsets == want);
  CHECK(Keys(s, Family::kOffsets, OffsetTopicPrefix("served")).size() == 1);

  // A malformed entry is Corruption, and *out is left alone.
  b.Clear();
  b.Put(Family::kOffsets, OffsetKey("events", 3), "short");
  REQUIRE(s.Write(b).ok());
  Status st = s.ReadOffsets(&offsets);
  CHECK(st.code() == Status::Code::kCorruption);
  CHECK(offsets == want);
}

TEMPLATE_TEST_CASE("state: StateStore ForEach visits a prefix in numeric order",
                   "[state][contract]", MemBackend, RocksBackend) {
  TestType backend;
  StateStore& s = *backend.store;
  const std::vector<uint32_t> indices = {65536, 3,          0xffffffff, 256,       0,
                                         255,   0x80000000, 1,          0x7fffffff};
  WriteBatch b;
  for (uint32_t i : indices) b.Put(Family::kUsers, IndexKey(i), std::to_string(i));
  // Histories of users 7 and 0xffffffff (the all-0xff prefix has no successor key).
  for (uint32_t item : {300u, 2u, 0xffffffffu, 40u}) {
    b.Put(Family::kHistories, PairKey(7, item), "");
    b.Put(Family::kHistories, PairKey(0xffffffff, item), "");
  }
  b.Put(Family::kHistories, PairKey(6, 1), "");
  b.Put(Family::kHistories, PairKey(8, 0), "");
  REQUIRE(s.Write(b).ok());

  std::vector<uint32_t> seen;
  Status st = s.ForEach(Family::kUsers, {}, [&](std::string_view k, std::string_view v) {
    uint32_t i = 0;
    REQUIRE(ParseIndexKey(k, &i));
    CHECK(v == std::to_string(i));
    seen.push_back(i);
    return true;
  });
  REQUIRE(st.ok());
  CHECK(seen ==
        std::vector<uint32_t>{0, 1, 3, 255, 256, 65536, 0x7fffffff, 0x80000000, 0xffffffff});

  for (uint32_t user : {7u, 0xffffffffu}) {
    std::vector<uint32_t> items;
    for (const std::string& k : Keys(s, Family::kHistories, IndexKey(user))) {
      uint32_t u = 0, item = 0;
      REQUIRE(ParsePairKey(k, &u, &item));
      CHECK(u == user);
      items.push_back(item);
    }
    CHECK(items == std::vector<uint32_t>{2, 40, 300, 0xffffffff});
  }
  CHECK(Keys(s, Family::kHistories, IndexKey(5)).empty());
  CHECK(Keys(s, Family::kSessions).empty());

  // Returning false stops the scan.
  int calls = 0;
  REQUIRE(s.ForEach(Family::kUsers, {}, [&](std::string_view, std::string_view) {
             return ++calls < 3;
           }).ok());
  CHECK(calls == 3);
}

TEMPLATE_TEST_CASE("state: StateStore DeleteRange removes begin up to end", "[state][contract]",
                   MemBackend, RocksBackend) {
  TestType backend;
  StateStore& s = *backend.store;
  WriteBatch b;
  for (uint32_t i = 0; i < 30; ++i) b.Put(Family::kItems, IndexKey(i), "x");
  REQUIRE(s.Write(b).ok());
  b.Clear();
  b.DeleteRange(Family::kItems, IndexKey(10), IndexKey(20));
  REQUIRE(s.Write(b).ok());
  const auto keys = Keys(s, Family::kItems);
  CHECK(keys.size() == 20);
  CHECK(Read(s, Family::kItems, IndexKey(9)) == "x");
  CHECK(Read(s, Family::kItems, IndexKey(10)) == "<NotFound>");
  CHECK(Read(s, Family::kItems, IndexKey(19)) == "<NotFound>");
  CHECK(Read(s, Family::kItems, IndexKey(20)) == "x");
}

TEMPLATE_TEST_CASE("state: StateStore scans and snapshots are isolated from later writes",
                   "[state][contract]", MemBackend, RocksBackend) {
  TestType backend;
  StateStore& s = *backend.store;
  WriteBatch b;
  for (uint32_t i = 0; i < 10; ++i) b.Put(Family::kUsers, IndexKey(i), "old");
  b.SetOffset("events", 0, 10);
  REQUIRE(s.Write(b).ok());

  std::unique_ptr<StateReader> snap = s.Snapshot();
  REQUIRE(snap != nullptr);

  // A Write during a scan is not seen by that scan.
  int visited = 0;
  Status st = s.ForEach(Family::kUsers, {}, [&](std::string_view, std::string_view v) {
    CHECK(v == "old");
    if (++visited == 1) {
      WriteBatch during;
      for (uint32_t i = 0; i < 20; ++i) during.Put(Family::kUsers, IndexKey(i), "new");
      during.SetOffset("events", 0, 20);
      REQUIRE(s.Write(during).ok());
    }
    return true;
  });
  REQUIRE(st.ok());
  CHECK(visited == 10);

  CHECK(Keys(s, Family::kUsers).size() == 20);
  CHECK(Read(s, Family::kUsers, IndexKey(3)) == "new");
  // The snapshot still sees the state of its creation, in every family.
  CHECK(Keys(*snap, Family::kUsers).size() == 10);
  CHECK(Read(*snap, Family::kUsers, IndexKey(3)) == "old");
  OffsetMap offsets;
  REQUIRE(snap->ReadOffsets(&offsets).ok());
  CHECK(offsets[{"events", 0}] == 10);
  REQUIRE(s.ReadOffsets(&offsets).ok());
  CHECK(offsets[{"events", 0}] == 20);
}

TEMPLATE_TEST_CASE("state: StateStore readers never see half a Write", "[state][contract]",
                   MemBackend, RocksBackend) {
  TestType backend;
  StateStore& s = *backend.store;
  constexpr int kWrites = 300;
  std::atomic<bool> done{false};
  std::atomic<int> bad{0}, checks{0};

  // Every batch sets a counter row and the offset to the same n: a reader's snapshot must
  // always find them equal.
  auto reader = [&] {
    while (!done.load()) {
      std::unique_ptr<StateReader> snap = s.Snapshot();
      std::string row;
      OffsetMap offsets;
      Status st = snap->Get(Family::kModel, "counter", &row);
      if (st.IsNotFound()) continue;
      if (!st.ok() || !snap->ReadOffsets(&offsets).ok() ||
          std::to_string(offsets[{"events", 0}]) != row) {
        ++bad;
      }
      ++checks;
    }
  };
  std::thread r1(reader), r2(reader);
  WriteBatch b;
  // At least kWrites, and on until the readers have checked a few snapshots (a fast store
  // can finish kWrites before the reader threads are scheduled).
  for (int n = 1; n <= kWrites || (checks.load() < 50 && n < 1'000'000); ++n) {
    b.Clear();
    b.Put(Family::kUsers, IndexKey(static_cast<uint32_t>(n)), std::string(64, 'r'));
    b.Put(Family::kModel, "counter", std::to_string(n));
    b.SetOffset("events", 0, n);
    REQUIRE(s.Write(b).ok());
  }
  done = true;
  r1.join();
  r2.join();
  CHECK(bad.load() == 0);
  CHECK(checks.load() >= 50);
}

TEMPLATE_TEST_CASE("state: StateStore stats count keys per family", "[state][contract]", MemBackend,
                   RocksBackend) {
  TestType backend;
  StateStore& s = *backend.store;
  WriteBatch b;
  for (uint32_t i = 0; i < 100; ++i) b.Put(Family::kItems, IndexKey(i), std::string(32, 'i'));
  b.SetOffset("events", 0, 1);
  REQUIRE(s.Write(b).ok());
  REQUIRE(s.Flush().ok());
  StoreStats stats;
  REQUIRE(s.GetStats(&stats).ok());
  // RocksDB's count is an estimate; it is exact for freshly written, distinct keys.
  CHECK(stats.keys[static_cast<size_t>(Family::kItems)] == 100);
  CHECK(stats.keys[static_cast<size_t>(Family::kOffsets)] == 1);
  CHECK(stats.keys[static_cast<size_t>(Family::kUsers)] == 0);
  CHECK(stats.sst_bytes + stats.memtable_bytes > 100 * 32);
}

TEMPLATE_TEST_CASE("state: StateStore refuses calls after Close", "[state][contract]", MemBackend,
                   RocksBackend) {
  TestType backend;
  StateStore& s = *backend.store;
  WriteBatch b;
  b.Put(Family::kUsers, IndexKey(1), "v");
  REQUIRE(s.Write(b).ok());
  REQUIRE(s.Close().ok());
  CHECK(s.Close().ok());  // idempotent
  std::string value;
  CHECK(s.Get(Family::kUsers, IndexKey(1), &value).code() == Status::Code::kFailedPrecondition);
  CHECK(s.Write(b).code() == Status::Code::kFailedPrecondition);
  CHECK(s.ForEach(Family::kUsers, {}, [](std::string_view, std::string_view) {
           return true;
         }).code() == Status::Code::kFailedPrecondition);
  StoreStats stats;
  CHECK(s.GetStats(&stats).code() == Status::Code::kFailedPrecondition);
  std::unique_ptr<StateReader> snap = s.Snapshot();
  REQUIRE(snap != nullptr);
  CHECK(snap->Get(Family::kUsers, IndexKey(1), &value).code() == Status::Code::kFailedPrecondition);
}

}  // namespace streamrec::state
