// ApplyLane: batches are applied in the order handed over, Flush waits for all of them, the
// producer never runs more than the lane's depth ahead, and destruction applies what was handed
// over but not the batch being filled. Run under TSan by scripts/tsan.sh.
#include "daemon/apply_lane.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace streamrec::daemon {
namespace {

struct Ints {
  std::vector<int> v;
  bool empty() const { return v.empty(); }
  void clear() { v.clear(); }
};

// A gate the lane waits at (while closed) before applying each batch.
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  bool open = true;
  void Wait() {
    std::unique_lock l(mu);
    cv.wait(l, [&] { return open; });
  }
  void Set(bool o) {
    {
      std::lock_guard l(mu);
      open = o;
    }
    cv.notify_all();
  }
};

}  // namespace

TEST_CASE("ApplyLane: batches are applied in order, and Flush waits for all of them",
          "[apply_lane]") {
  std::vector<int> applied;  // the lane's; read by the producer only after Flush
  std::atomic<int> batches{0};
  ApplyLane<Ints> lane(
      [&](Ints& b) {
        applied.insert(applied.end(), b.v.begin(), b.v.end());
        ++batches;
      },
      "test-lane");
  int next = 0;
  for (int round = 0; round < 200; ++round) {
    for (int k = 0; k < round % 7; ++k) lane.filling().v.push_back(next++);
    lane.HandOff();  // an empty batch is not handed over
  }
  lane.Flush();
  REQUIRE(applied.size() == static_cast<size_t>(next));
  for (int i = 0; i < next; ++i) REQUIRE(applied[static_cast<size_t>(i)] == i);
  CHECK(batches.load() < 200);  // the empty ones were skipped
  // Flush with nothing new returns at once, and the lane keeps working afterwards.
  lane.Flush();
  lane.filling().v.push_back(next);
  lane.Flush();
  CHECK(applied.back() == next);
}

TEST_CASE("ApplyLane: the producer waits once every batch is in flight", "[apply_lane]") {
  Gate gate;
  gate.Set(false);
  std::atomic<int> applied{0};
  ApplyLane<Ints> lane(
      [&](Ints& b) {
        gate.Wait();
        applied += static_cast<int>(b.v.size());
      },
      "test-lane");
  std::atomic<int> handed{0};
  std::thread producer([&] {
    for (int i = 0; i < 5; ++i) {
      lane.filling().v.push_back(i);
      lane.HandOff();
      ++handed;
    }
    lane.Flush();
  });
  // Three batches: one held by the gated lane, one waiting, one being filled; the third
  // HandOff finds no free batch until the lane finishes one.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(handed.load() == 2);
  CHECK(applied.load() == 0);
  gate.Set(true);
  producer.join();
  CHECK(handed.load() == 5);
  CHECK(applied.load() == 5);
}

TEST_CASE("ApplyLane: destruction applies what was handed over, not the batch being filled",
          "[apply_lane]") {
  Gate gate;
  gate.Set(false);
  std::vector<int> applied;
  {
    ApplyLane<Ints> lane(
        [&](Ints& b) {
          gate.Wait();
          applied.insert(applied.end(), b.v.begin(), b.v.end());
        },
        "test-lane");
    lane.filling().v = {1, 2};
    lane.HandOff();
    lane.filling().v = {3};
    lane.HandOff();
    lane.filling().v = {4};  // never handed over
    gate.Set(true);
  }
  CHECK(applied == std::vector<int>{1, 2, 3});
}

}  // namespace streamrec::daemon
