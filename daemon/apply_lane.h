// ApplyLane: a second writer thread of the model. The consumer thread (the producer) fills a
// batch of records and hands it over; the lane thread runs `apply` on each batch, in the order
// they were handed over, while the producer goes on with the next. ModelState uses one to update
// its heavier models on their own thread (model_state.h): a pipeline of two stages, so ingest is
// no longer bound by one core's time per event.
//
// Batches are recycled (kDepth of them, allocated once), so a warmed-up lane allocates nothing.
// When every batch is in flight, HandOff waits: the producer never runs ahead by more than
// kDepth batches.
//
// Thread safety: filling(), HandOff() and Flush() are for the producer thread alone. Flush()
// returns once everything handed over has been applied: the lane's writes then happen before
// whatever the producer does next (the handover's mutex orders them), so the producer may read
// (and, until its next HandOff, write) what the lane owns without a data race.
#pragma once

#include <pthread.h>

#include <array>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace streamrec::daemon {

// Batch: default-constructible, with empty() and clear().
template <typename Batch>
class ApplyLane {
 public:
  // `apply` runs on the lane thread, once per batch handed over; `name` names the thread (as
  // ps, top -H and perf show it; at most 15 characters).
  ApplyLane(std::function<void(Batch&)> apply, const char* name) : apply_(std::move(apply)) {
    for (Batch& b : batches_) free_.push_back(&b);
    filling_ = free_.back();
    free_.pop_back();
    thread_ = std::thread([this, name] {
      pthread_setname_np(pthread_self(), name);
      Run();
    });
  }
  // Applies what was handed over (not the batch being filled), then stops the thread.
  ~ApplyLane() {
    {
      std::lock_guard l(mu_);
      stop_ = true;
    }
    work_cv_.notify_one();
    thread_.join();
  }
  ApplyLane(const ApplyLane&) = delete;
  ApplyLane& operator=(const ApplyLane&) = delete;

  // The batch the producer appends to.
  Batch& filling() { return *filling_; }
  // Hands the filling batch over (nothing when it is empty) and takes a free one, waiting
  // while all are in flight.
  void HandOff() {
    if (filling_->empty()) return;
    std::unique_lock l(mu_);
    ready_[(ready_head_ + ready_count_++) % kDepth] = filling_;
    work_cv_.notify_one();
    done_cv_.wait(l, [&] { return !free_.empty(); });
    filling_ = free_.back();
    free_.pop_back();
  }
  // Hands the filling batch over and waits until the lane has applied everything.
  void Flush() {
    HandOff();
    std::unique_lock l(mu_);
    done_cv_.wait(l, [&] { return ready_count_ == 0 && !busy_; });
  }

 private:
  static constexpr size_t kDepth = 3;

  void Run() {
    std::unique_lock l(mu_);
    for (;;) {
      work_cv_.wait(l, [&] { return stop_ || ready_count_ > 0; });
      if (ready_count_ == 0) return;  // stopped, and nothing left
      Batch* b = ready_[ready_head_];
      ready_head_ = (ready_head_ + 1) % kDepth;
      --ready_count_;
      busy_ = true;
      l.unlock();
      apply_(*b);
      b->clear();
      l.lock();
      free_.push_back(b);
      busy_ = false;
      done_cv_.notify_one();
    }
  }

  const std::function<void(Batch&)> apply_;
  std::array<Batch, kDepth> batches_;
  Batch* filling_ = nullptr;  // producer only

  std::mutex mu_;
  std::condition_variable work_cv_;     // the lane waits for a batch
  std::condition_variable done_cv_;     // the producer waits for a free batch, or for idle
  std::array<Batch*, kDepth> ready_{};  // GUARDED_BY(mu_): handed over, a ring in order
  size_t ready_head_ = 0;               // GUARDED_BY(mu_)
  size_t ready_count_ = 0;              // GUARDED_BY(mu_)
  std::vector<Batch*> free_;            // GUARDED_BY(mu_)
  bool busy_ = false;                   // GUARDED_BY(mu_): the lane is applying a batch
  bool stop_ = false;                   // GUARDED_BY(mu_)
  std::thread thread_;                  // last: starts once everything above exists
};

}  // namespace streamrec::daemon
