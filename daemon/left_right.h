// LeftRight<T>: two copies of a T (sides), one of them active. Readers read the active side
// without blocking; the single writer brings the inactive side up to date and flips it active
// (the left-right pattern). A reader never waits for the writer; the writer waits only for
// readers still on the side it is about to write, i.e. readers that began before its previous
// flip — with writes spaced by one consumer batch, usually none.
//
// Thread safety: Read() from any number of threads; Write() from one thread at a time.
// Correctness rests on sequentially consistent atomics: a reader announces itself on a side,
// then re-checks that the side is still active; the writer flips, then waits for the other
// side's announced readers to leave before writing it.
#pragma once

#include <atomic>
#include <cstdint>
#include <utility>

namespace streamrec::daemon {

template <typename T>
class LeftRight {
 public:
  // A reader's hold on one side; the side is not written while a Guard on it lives.
  class Guard {
   public:
    Guard(Guard&& o) noexcept : side_(std::exchange(o.side_, nullptr)), count_(o.count_) {}
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;
    Guard& operator=(Guard&&) = delete;
    ~Guard() {
      if (side_ != nullptr) Leave(count_);
    }
    const T& operator*() const { return *side_; }
    const T* operator->() const { return side_; }

   private:
    friend class LeftRight;
    Guard(const T* side, std::atomic<uint32_t>* count) : side_(side), count_(count) {}
    const T* side_;
    std::atomic<uint32_t>* count_;
  };

  LeftRight() = default;
  LeftRight(const LeftRight&) = delete;
  LeftRight& operator=(const LeftRight&) = delete;

  Guard Read() const {
    for (;;) {
      const int a = active_.load();
      readers_[a].n.fetch_add(1);
      if (active_.load() == a) return Guard(&sides_[a].value, &readers_[a].n);
      Leave(&readers_[a].n);  // flipped meanwhile: the side may be being written
    }
  }

  // Writer: waits until no reader is on the inactive side, calls write(side, index) on it
  // (index 0 or 1, stable per side, for the writer's own bookkeeping), then makes it active.
  template <typename F>
  void Write(F&& write) {
    const int b = 1 - active_.load();
    // Sleeps (futex) until the side's last reader leaves; spinning with sched_yield would hand
    // the CPU away for whole time slices on a busy machine.
    for (uint32_t n = readers_[b].n.load(); n != 0; n = readers_[b].n.load()) {
      readers_[b].n.wait(n);
    }
    write(sides_[b].value, b);
    active_.store(b);
  }

 private:
  // A reader leaves a side; the last one wakes a writer waiting for it (the notify is a load
  // of the waiter count, no system call, when none waits).
  static void Leave(std::atomic<uint32_t>* count) {
    if (count->fetch_sub(1) == 1) count->notify_one();
  }

  // Each side and each counter on its own cache lines: readers' counter traffic must not
  // bounce the lines the other side's readers read.
  struct alignas(64) Side {
    T value;
  };
  struct alignas(64) Counter {
    mutable std::atomic<uint32_t> n{0};
  };
  Side sides_[2];
  mutable Counter readers_[2];
  std::atomic<int> active_{0};
};

}  // namespace streamrec::daemon
