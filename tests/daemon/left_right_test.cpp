// LeftRight: readers never see a side being written (no torn copy), never go back in time, and
// the writer is never blocked by readers of the active side. Run under TSan by scripts/tsan.sh.
#include "daemon/left_right.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <thread>
#include <vector>

namespace streamrec::daemon {
namespace {

TEST_CASE("LeftRight: readers see whole versions, in order, while the writer flips",
          "[left_right]") {
  LeftRight<std::vector<uint64_t>> lr;
  for (int side = 0; side < 2; ++side) {
    lr.Write([](std::vector<uint64_t>& v, int) { v.assign(512, 0); });
  }
  std::atomic<bool> done{false};
  std::atomic<uint64_t> torn{0}, backwards{0}, reads{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      uint64_t last = 0;
      while (!done.load()) {
        const auto side = lr.Read();
        const uint64_t v = (*side)[0];
        for (uint64_t x : *side) torn.fetch_add(x != v ? 1 : 0, std::memory_order_relaxed);
        if (v < last) backwards.fetch_add(1);
        last = v;
        reads.fetch_add(1);
      }
    });
  }
  // Each write fills a side with its version: a reader seeing two values saw a torn side. At
  // least 3000 versions, and on until the readers have read 3000 times meanwhile.
  uint64_t version = 0;
  while (++version <= 3000 || reads.load() < 3000) {
    lr.Write([&](std::vector<uint64_t>& v, int) {
      for (uint64_t& x : v) x = version;
    });
  }
  done = true;
  for (auto& r : readers) r.join();
  CHECK(torn.load() == 0);
  CHECK(backwards.load() == 0);
  CHECK((*lr.Read())[0] == version - 1);
}

TEST_CASE("LeftRight: a reader holding the active side does not block a write", "[left_right]") {
  LeftRight<int> lr;
  lr.Write([](int& v, int) { v = 1; });  // side 0 written, active
  const auto held = lr.Read();
  CHECK(*held == 1);
  lr.Write([](int& v, int) { v = 2; });  // writes side 1 while side 0 is held
  CHECK(*lr.Read() == 2);
  CHECK(*held == 1);
}

}  // namespace
}  // namespace streamrec::daemon
