// ServedHold alone: records held until the time given reaches them, in order; max_held; the
// served offsets a checkpoint stores; revocation; the cap on the reward join's watermark.
#include "daemon/served_hold.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <map>
#include <vector>

namespace streamrec::daemon {
namespace {

constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

struct Hold {
  std::vector<int64_t> joined;  // offsets, in the order joined
  ServedHold hold;

  explicit Hold(uint32_t max_held = 100)
      : hold(max_held, [this](const HeldServed& h) { joined.push_back(h.offset); }) {}

  // Consumes and holds a record of `partition` at `offset`, served at `ts`.
  void Add(int32_t partition, int64_t offset, int64_t ts) {
    hold.Consumed(partition, offset);
    hold.SawServingTime(partition, ts);
    hold.Hold({partition, offset, ts, "u", "r", {{"i", 0, 0.5}}});
  }
};

ServedHold::WatermarksFn NoWatermarks() {
  return [](int32_t, int64_t*, int64_t*) { return false; };
}

}  // namespace

TEST_CASE("ServedHold: records join in order once the time reaches them", "[served_hold]") {
  Hold h;
  h.hold.Assign(0, std::nullopt, -1, -1);
  h.hold.Assign(1, std::nullopt, -1, -1);
  CHECK(h.hold.JoinsNow(10, 10));
  h.Add(0, 0, 30);
  h.Add(1, 0, 10);  // earlier, but behind the first: joins after it
  h.Add(0, 1, 40);
  CHECK_FALSE(h.hold.JoinsNow(5, 100));  // something is held: no overtaking
  CHECK(h.hold.held() == 3);

  CHECK(h.hold.Release(29) == 0);
  CHECK(h.joined.empty());
  CHECK(h.hold.Release(30) == 0);
  CHECK(h.joined == std::vector<int64_t>{0, 0});
  CHECK(h.hold.held() == 1);
  CHECK(h.hold.Release(1000) == 0);
  CHECK(h.joined == std::vector<int64_t>{0, 0, 1});
  CHECK(h.hold.empty());
  CHECK(h.hold.held() == 0);
}

TEST_CASE("ServedHold: beyond max_held the oldest joins before its time", "[served_hold]") {
  Hold h(/*max_held=*/2);
  h.hold.Assign(0, std::nullopt, -1, -1);
  h.Add(0, 0, 100);
  h.Add(0, 1, 200);
  CHECK(h.hold.Release(0) == 0);
  h.Add(0, 2, 300);
  h.Add(0, 3, 400);
  CHECK(h.hold.Release(0) == 2);
  CHECK(h.joined == std::vector<int64_t>{0, 1});
  CHECK(h.hold.size() == 2);
  CHECK(h.hold.Release(300) == 0);  // in time: not counted as forced
  CHECK(h.joined == std::vector<int64_t>{0, 1, 2});
}

TEST_CASE("ServedHold: the offset stored is the first held record's, else the next consumed",
          "[served_hold]") {
  Hold h;
  h.hold.Assign(0, /*stored=*/0, -1, -1);
  h.hold.Assign(1, /*stored=*/0, -1, -1);
  CHECK(h.hold.OffsetsToStore() == std::map<int32_t, int64_t>{{0, 0}, {1, 0}});
  h.hold.Consumed(0, 0);
  h.hold.Consumed(0, 1);
  h.Add(0, 2, 50);
  h.hold.Consumed(1, 0);
  h.Add(1, 1, 60);
  h.Add(0, 3, 70);
  h.hold.Consumed(0, 4);
  CHECK(h.hold.OffsetsToStore() == std::map<int32_t, int64_t>{{0, 2}, {1, 1}});
  h.hold.Release(55);
  CHECK(h.hold.OffsetsToStore() == std::map<int32_t, int64_t>{{0, 3}, {1, 1}});
  h.hold.Release(70);
  CHECK(h.hold.OffsetsToStore() == std::map<int32_t, int64_t>{{0, 5}, {1, 2}});
}

TEST_CASE("ServedHold: a partition never stored gets an offset once it moves past the first",
          "[served_hold]") {
  Hold h;
  h.hold.Assign(0, std::nullopt, -1, -1);  // a fresh store: consumed from the beginning...
  CHECK(h.hold.OffsetsToStore().empty());
  h.Add(0, 7, 50);  // ...whose first record is held: nothing to store yet
  CHECK(h.hold.OffsetsToStore().empty());
  h.hold.Release(50);
  CHECK(h.hold.OffsetsToStore() == std::map<int32_t, int64_t>{{0, 8}});

  Hold s;
  s.hold.Assign(0, /*stored=*/7, -1, -1);  // stored: always stored, even at its first record
  s.Add(0, 7, 50);
  CHECK(s.hold.OffsetsToStore() == std::map<int32_t, int64_t>{{0, 7}});
}

TEST_CASE("ServedHold: a revoked partition's records and progress go", "[served_hold]") {
  Hold h;
  h.hold.Assign(0, std::nullopt, -1, -1);
  h.hold.Assign(1, /*stored=*/3, -1, -1);
  h.Add(0, 0, 100);
  h.hold.Consumed(1, 3);
  h.Add(1, 4, 110);
  h.Add(0, 1, 120);
  h.hold.Revoke(0);
  CHECK(h.hold.held() == 1);
  CHECK(h.hold.OffsetsToStore() == std::map<int32_t, int64_t>{{1, 4}});
  CHECK(h.hold.Cap(true, NoWatermarks()) == 110);  // partition 0 no longer counts
  h.hold.Release(kMax);
  CHECK(h.joined == std::vector<int64_t>{4});  // partition 0's were never joined
}

TEST_CASE("ServedHold: the slowest unread served partition caps the join's watermark",
          "[served_hold]") {
  Hold h;
  CHECK(h.hold.Cap(/*assigned=*/false, NoWatermarks()) == kMin);  // nothing known yet
  CHECK(h.hold.Cap(/*assigned=*/true, NoWatermarks()) == kMax);   // no served partition

  h.hold.Assign(0, std::nullopt, /*low=*/0, /*high=*/10);
  h.hold.Assign(1, std::nullopt, /*low=*/-1, /*high=*/-1);  // not known at assignment
  CHECK(h.hold.Cap(true, NoWatermarks()) == kMin);          // nothing consumed yet
  h.hold.Consumed(0, 0);
  h.hold.SawServingTime(0, 500);
  h.hold.Consumed(1, 0);
  h.hold.SawServingTime(1, 300);
  CHECK(h.hold.Cap(true, NoWatermarks()) == 300);
  h.hold.SawServingTime(1, 900);
  CHECK(h.hold.Cap(true, NoWatermarks()) == 500);

  // Partition 0 read to its high watermark (from assignment): it no longer holds the cap.
  for (int64_t o = 1; o < 10; ++o) h.hold.Consumed(0, o);
  CHECK(h.hold.Cap(true, NoWatermarks()) == 900);
  // Partition 1's watermarks, once the fetcher knows them: caught up too.
  auto fetched = [](int32_t partition, int64_t* low, int64_t* high) {
    if (partition != 1) return false;
    *low = 0;
    *high = 1;
    return true;
  };
  CHECK(h.hold.Cap(true, fetched) == kMax);
  // An empty partition counts as caught up from its low watermark.
  h.hold.Assign(2, std::nullopt, /*low=*/4, /*high=*/4);
  CHECK(h.hold.Cap(true, fetched) == kMax);
}

}  // namespace streamrec::daemon
