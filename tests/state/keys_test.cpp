#include "state/keys.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <vector>

namespace streamrec::state {

TEST_CASE("state: IndexKey is 4 bytes big-endian and sorts numerically", "[state][keys]") {
  CHECK(IndexKey(0x01020304) == std::string("\x01\x02\x03\x04", 4));
  const std::vector<uint32_t> sorted = {0,     1,          255,        256,        65535,
                                        65536, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff};
  for (size_t i = 1; i < sorted.size(); ++i) {
    CHECK(IndexKey(sorted[i - 1]) < IndexKey(sorted[i]));
  }
  for (uint32_t v : sorted) {
    uint32_t back = 0;
    REQUIRE(ParseIndexKey(IndexKey(v), &back));
    CHECK(back == v);
  }
  std::string appended = "x";
  AppendIndexKey(7, &appended);
  CHECK(appended == std::string("x\0\0\0\x07", 5));
  uint32_t ignored = 0;
  CHECK_FALSE(ParseIndexKey("abc", &ignored));
  CHECK_FALSE(ParseIndexKey("abcde", &ignored));
}

TEST_CASE("state: PairKey sorts by first then second under the prefix IndexKey(first)",
          "[state][keys]") {
  CHECK(PairKey(1, 0xffffffff) < PairKey(2, 0));
  CHECK(PairKey(2, 3) < PairKey(2, 256));
  CHECK(PairKey(9, 4).starts_with(IndexKey(9)));
  uint32_t a = 0, b = 0;
  REQUIRE(ParsePairKey(PairKey(0x80000001, 42), &a, &b));
  CHECK(a == 0x80000001);
  CHECK(b == 42);
  CHECK_FALSE(ParsePairKey(IndexKey(1), &a, &b));
}

TEST_CASE("state: a row part key round-trips, sorts by index then part, refuses other shapes",
          "[state][keys]") {
  std::string a, b, c;
  AppendRowPartKey(1, 200, &a);
  AppendRowPartKey(2, 0, &b);
  AppendRowPartKey(2, 1, &c);
  CHECK(a < b);
  CHECK(b < c);
  CHECK(c.starts_with(IndexKey(2)));
  uint32_t index = 0;
  uint8_t part = 0;
  REQUIRE(ParseRowPartKey(a, &index, &part));
  CHECK(index == 1);
  CHECK(part == 200);
  for (const std::string& bad : {IndexKey(7), PairKey(1, 2), std::string(), std::string("x")}) {
    CHECK_FALSE(ParseRowPartKey(bad, &index, &part));
  }
}

TEST_CASE("state: U64Key round-trips and sorts numerically", "[state][keys]") {
  CHECK(U64Key(0xffffffffULL) < U64Key(0x100000000ULL));
  uint64_t v = 0;
  REQUIRE(ParseU64Key(U64Key(0x0123456789abcdefULL), &v));
  CHECK(v == 0x0123456789abcdefULL);
  CHECK_FALSE(ParseU64Key("short", &v));
}

TEST_CASE("state: OffsetKey round-trips and groups a topic's partitions in order",
          "[state][keys]") {
  for (int32_t p : {0, 1, 7, 1000, -1, 2147483647}) {
    std::string topic;
    int32_t back = 0;
    REQUIRE(ParseOffsetKey(OffsetKey("events", p), &topic, &back));
    CHECK(topic == "events");
    CHECK(back == p);
  }
  CHECK(OffsetKey("events", -1) < OffsetKey("events", 0));
  CHECK(OffsetKey("events", 2) < OffsetKey("events", 10));
  // Partitions of "events" are contiguous: "events.dlq" sorts after all of them.
  CHECK(OffsetKey("events", 2147483647) < OffsetKey("events.dlq", 0));
  CHECK(OffsetKey("events", 3).starts_with(OffsetTopicPrefix("events")));
  CHECK_FALSE(OffsetKey("events.dlq", 3).starts_with(OffsetTopicPrefix("events")));
  std::string topic;
  int32_t p = 0;
  CHECK_FALSE(ParseOffsetKey("tiny", &topic, &p));
  CHECK_FALSE(ParseOffsetKey(std::string("eventsX\0\0\0\0", 11), &topic, &p));
  REQUIRE(ParseOffsetKey(OffsetKey("", 5), &topic, &p));
  CHECK(topic.empty());
  CHECK(p == 5);
}

TEST_CASE("state: OffsetValue round-trips including large and negative offsets", "[state][keys]") {
  for (int64_t v : {int64_t{0}, int64_t{1}, int64_t{1} << 40, int64_t{-1001}}) {
    int64_t back = 0;
    REQUIRE(ParseOffsetValue(OffsetValue(v), &back));
    CHECK(back == v);
  }
  int64_t ignored = 0;
  CHECK_FALSE(ParseOffsetValue("1234567", &ignored));
}

}  // namespace streamrec::state
