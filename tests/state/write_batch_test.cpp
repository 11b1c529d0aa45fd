#include "state/write_batch.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "state/keys.h"

namespace streamrec::state {

TEST_CASE("state: WriteBatch keeps operations in order with their bytes", "[state][write_batch]") {
  WriteBatch batch;
  CHECK(batch.empty());
  batch.Put(Family::kUsers, IndexKey(3), std::string("row\0three", 9));
  batch.Delete(Family::kItems, IndexKey(4));
  batch.DeleteRange(Family::kHistories, PairKey(1, 0), PairKey(2, 0));
  batch.SetOffset("events", 2, 1234);
  batch.Put(Family::kMeta, "empty", "");

  REQUIRE(batch.count() == 5);
  CHECK(batch.data_bytes() == 4 + 9 + 4 + 8 + 8 + (6 + 5 + 8) + 5);

  std::vector<BatchOp> ops(batch.begin(), batch.end());
  REQUIRE(ops.size() == 5);
  CHECK(ops[0].type == OpType::kPut);
  CHECK(ops[0].family == Family::kUsers);
  CHECK(ops[0].key == IndexKey(3));
  CHECK(ops[0].value == std::string_view("row\0three", 9));
  CHECK(ops[1].type == OpType::kDelete);
  CHECK(ops[1].family == Family::kItems);
  CHECK(ops[1].value.empty());
  CHECK(ops[2].type == OpType::kDeleteRange);
  CHECK(ops[2].key == PairKey(1, 0));
  CHECK(ops[2].value == PairKey(2, 0));
  CHECK(ops[3].type == OpType::kPut);
  CHECK(ops[3].family == Family::kOffsets);
  CHECK(ops[3].key == OffsetKey("events", 2));
  CHECK(ops[3].value == OffsetValue(1234));
  CHECK(ops[4].key == "empty");
  CHECK(ops[4].value.empty());
  CHECK(batch.Validate().ok());
}

TEST_CASE("state: WriteBatch Clear empties it and Append copies in order", "[state][write_batch]") {
  WriteBatch a, b;
  a.Put(Family::kModel, "k1", "v1");
  b.Put(Family::kModel, "k2", "v2");
  b.SetOffset("t", 0, 9);
  a.Append(b);
  REQUIRE(a.count() == 3);
  CHECK(a.op(1).key == "k2");
  CHECK(a.op(1).value == "v2");
  CHECK(a.op(2).value == OffsetValue(9));
  CHECK(a.data_bytes() == 4 + b.data_bytes());

  a.Clear();
  CHECK(a.empty());
  CHECK(a.count() == 0);
  CHECK(a.data_bytes() == 0);
  a.Put(Family::kIds, "x", "y");
  CHECK(a.op(0).key == "x");
}

TEST_CASE("state: WriteBatch Validate rejects a reversed DeleteRange", "[state][write_batch]") {
  WriteBatch batch;
  batch.Put(Family::kUsers, IndexKey(1), "v");
  batch.DeleteRange(Family::kUsers, IndexKey(5), IndexKey(5));  // empty range: fine
  CHECK(batch.Validate().ok());
  batch.DeleteRange(Family::kUsers, IndexKey(9), IndexKey(2));
  Status st = batch.Validate();
  CHECK(st.code() == Status::Code::kInvalidArgument);
  CHECK_THAT(st.message(), Catch::Contains("operation 2") && Catch::Contains("users"));
}

TEST_CASE("state: WriteBatch of 100k rows fills one buffer", "[state][write_batch]") {
  WriteBatch batch;
  const std::string value(256, 'v');
  for (uint32_t i = 0; i < 100'000; ++i) batch.Put(Family::kItems, IndexKey(i), value);
  CHECK(batch.count() == 100'000);
  CHECK(batch.data_bytes() == 100'000 * (4 + 256));
  CHECK(batch.op(99'999).key == IndexKey(99'999));
}

}  // namespace streamrec::state
