#include "state/mem_store.h"

#include <catch2/catch.hpp>
#include <string>

#include "state/keys.h"
#include "state/write_batch.h"

namespace streamrec::state {
namespace {

// A checkpoint-like batch: one row and the offset it reflects.
WriteBatch Checkpoint(uint32_t n) {
  WriteBatch b;
  b.Put(Family::kUsers, IndexKey(n), "row " + std::to_string(n));
  b.SetOffset("events", 0, n);
  return b;
}

int64_t StoredOffset(const MemStore& s) {
  OffsetMap offsets;
  REQUIRE(s.ReadOffsets(&offsets).ok());
  auto it = offsets.find({"events", 0});
  return it == offsets.end() ? -1 : it->second;
}

}  // namespace

TEST_CASE("state: MemStore fail_next_write fails one Write and applies nothing", "[state][mem]") {
  MemStore s;
  REQUIRE(s.Write(Checkpoint(1)).ok());
  s.fail_next_write(Status::IOError("disk full"));

  Status st = s.Write(Checkpoint(2));
  CHECK(st.code() == Status::Code::kIOError);
  CHECK(st.message() == "disk full");
  std::string value;
  CHECK(s.Get(Family::kUsers, IndexKey(2), &value).IsNotFound());
  CHECK(StoredOffset(s) == 1);
  CHECK(s.successful_writes() == 1);

  REQUIRE(s.Write(Checkpoint(2)).ok());  // only the next one failed
  CHECK(StoredOffset(s) == 2);
  CHECK(s.successful_writes() == 2);
}

TEST_CASE("state: MemStore fail_writes_after fails every Write after n until cleared",
          "[state][mem]") {
  MemStore s;
  s.fail_writes_after(2);
  CHECK(s.Write(Checkpoint(1)).ok());
  CHECK(s.Write(Checkpoint(2)).ok());
  for (uint32_t n = 3; n < 6; ++n) CHECK(s.Write(Checkpoint(n)).code() == Status::Code::kIOError);
  CHECK(StoredOffset(s) == 2);
  std::string value;
  CHECK(s.Get(Family::kUsers, IndexKey(3), &value).IsNotFound());

  s.clear_failures();
  CHECK(s.Write(Checkpoint(3)).ok());
  CHECK(StoredOffset(s) == 3);

  s.fail_writes_after(0, Status::Unavailable("no space"));
  CHECK(s.Write(Checkpoint(4)).code() == Status::Code::kUnavailable);
  CHECK(StoredOffset(s) == 3);
}

TEST_CASE("state: MemStore has no on-disk checkpoint", "[state][mem]") {
  MemStore s;
  CHECK(s.Checkpoint("/tmp/never").code() == Status::Code::kFailedPrecondition);
  CHECK(s.Flush().ok());
}

}  // namespace streamrec::state
