// CheckpointWriter: batches written in order on the writer thread, outcomes collected once,
// failed writes handed back whole. Runs under TSan (scripts/tsan.sh).
#include "daemon/checkpoint_writer.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <string>

#include "state/mem_store.h"

namespace streamrec::daemon {
namespace {

state::WriteBatch Batch(const std::string& key, const std::string& value) {
  state::WriteBatch b;
  b.Put(state::Family::kUsers, key, value);
  return b;
}

std::string Get(const state::MemStore& store, const std::string& key) {
  std::string v;
  return store.Get(state::Family::kUsers, key, &v).ok() ? v : "<absent>";
}

}  // namespace

TEST_CASE("CheckpointWriter: writes each batch, in order, on its own thread", "[checkpoint]") {
  state::MemStore store;
  std::atomic<int> before{0};
  CheckpointWriter writer(&store, [&] {
    ++before;
    return Status::Ok();
  });
  CHECK_FALSE(writer.busy());
  for (int i = 0; i < 50; ++i) {
    state::WriteBatch b = Batch("k", std::to_string(i));
    writer.Submit(&b);
    CHECK(b.empty());
    CHECK(writer.busy());
    Status st = Status::Unavailable("not collected");
    state::WriteBatch back;
    if (i % 2 == 0) {
      writer.Collect(&st, &back);
    } else {
      while (!writer.TryCollect(&st, &back)) {
      }
    }
    CHECK(st.ok());
    CHECK_FALSE(writer.busy());
    CHECK(Get(store, "k") == std::to_string(i));
  }
  CHECK(before == 50);
  CHECK(store.successful_writes() == 50);
}

TEST_CASE("CheckpointWriter: a failed write comes back whole, nothing applied", "[checkpoint]") {
  state::MemStore store;
  bool fail_before = false;
  CheckpointWriter writer(&store, [&] {
    return fail_before ? Status::Unavailable("dead letters not delivered") : Status::Ok();
  });
  state::WriteBatch b = Batch("a", "1");
  store.fail_next_write(Status::IOError("disk full"));
  writer.Submit(&b);
  Status st;
  state::WriteBatch back;
  writer.Collect(&st, &back);
  CHECK(st.code() == Status::IOError("").code());
  REQUIRE(back.count() == 1);
  CHECK(back.op(0).key == "a");
  CHECK(Get(store, "a") == "<absent>");

  // A failing pre-write step (the dead-letter flush) keeps the store untouched too.
  fail_before = true;
  writer.Submit(&back);
  writer.Collect(&st, &back);
  CHECK(st.code() == Status::Unavailable("").code());
  CHECK(back.count() == 1);
  CHECK(store.successful_writes() == 0);

  fail_before = false;
  writer.Submit(&back);
  writer.Collect(&st, &back);
  CHECK(st.ok());
  CHECK(Get(store, "a") == "1");
}

TEST_CASE("CheckpointWriter: destruction waits for the write in flight", "[checkpoint]") {
  state::MemStore store;
  {
    CheckpointWriter writer(&store, nullptr);
    state::WriteBatch b = Batch("x", "y");
    writer.Submit(&b);
  }
  CHECK(Get(store, "x") == "y");
}

}  // namespace streamrec::daemon
