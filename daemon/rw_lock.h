// RwLock: the model's reader-writer lock. Readers (HTTP threads, each holding it for tens of
// microseconds to gather a request's inputs) pass a writer that waits, so a request does not
// queue behind the event applier's next run; but a writer that has waited `max_writer_wait`
// closes a gate that new readers queue at, so a steady stream of overlapping readers cannot
// starve it. Measured under ingest at 100k items (bench/serve_bench.sh): with a
// writer-preferring lock a request waited for the writer's run whenever the writer was queued,
// and the share of requests over 5 ms was about twice as large. The bound is well above one
// reader's hold (tens of microseconds, a few ms when its thread is preempted): a bound of 2 ms
// closed the gate behind preempted readers often enough to cost ~1 ms of p99.
//
// Meets the SharedMutex requirements. Hold it with WriteLock and ReadLock (below): they carry
// Clang's thread-safety attributes (Abseil's ABSL_* macros), so `clang++ -Wthread-safety`
// checks every member ABSL_GUARDED_BY one; std::unique_lock and std::shared_lock are not
// annotated.
#pragma once

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <shared_mutex>

#include <absl/base/thread_annotations.h>

namespace streamrec::daemon {

class ABSL_LOCKABLE RwLock {
 public:
  explicit RwLock(std::chrono::microseconds max_writer_wait = std::chrono::milliseconds(10))
      : max_writer_wait_(max_writer_wait) {
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_READER_NP);
    pthread_rwlock_init(&lock_, &attr);
    pthread_rwlockattr_destroy(&attr);
  }
  ~RwLock() { pthread_rwlock_destroy(&lock_); }
  RwLock(const RwLock&) = delete;
  RwLock& operator=(const RwLock&) = delete;

  void lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() {
    // CLOCK_REALTIME: the timed wait sanitizers intercept (a clock step only moves the bound).
    timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    const auto wait = std::chrono::duration_cast<std::chrono::nanoseconds>(max_writer_wait_);
    const long long ns = deadline.tv_nsec + wait.count();
    deadline.tv_sec += static_cast<time_t>(ns / 1'000'000'000);
    deadline.tv_nsec = static_cast<long>(ns % 1'000'000'000);
    if (pthread_rwlock_timedwrlock(&lock_, &deadline) == 0) return;
    // Waited long enough: new readers now queue at the gate, the ones inside drain.
    gate_.lock();
    gated_.store(true, std::memory_order_release);
    pthread_rwlock_wrlock(&lock_);
    gated_.store(false, std::memory_order_release);
    gate_.unlock();
  }
  bool try_lock() ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(true) {
    return pthread_rwlock_trywrlock(&lock_) == 0;
  }
  void unlock() ABSL_UNLOCK_FUNCTION() { pthread_rwlock_unlock(&lock_); }

  void lock_shared() ABSL_SHARED_LOCK_FUNCTION() {
    if (gated_.load(std::memory_order_acquire)) {
      // A starved writer holds the gate until it has the lock: wait for it to pass.
      std::shared_lock pass(gate_);
    }
    pthread_rwlock_rdlock(&lock_);
  }
  bool try_lock_shared() ABSL_SHARED_TRYLOCK_FUNCTION(true) {
    return pthread_rwlock_tryrdlock(&lock_) == 0;
  }
  void unlock_shared() ABSL_UNLOCK_FUNCTION() { pthread_rwlock_unlock(&lock_); }

 private:
  pthread_rwlock_t lock_;
  std::shared_mutex gate_;
  std::atomic<bool> gated_{false};
  const std::chrono::microseconds max_writer_wait_;
};

// Holds an RwLock exclusively for its lifetime.
class ABSL_SCOPED_LOCKABLE WriteLock {
 public:
  explicit WriteLock(RwLock& lock) ABSL_EXCLUSIVE_LOCK_FUNCTION(lock) : lock_(lock) {
    lock_.lock();
  }
  ~WriteLock() ABSL_UNLOCK_FUNCTION() { lock_.unlock(); }
  WriteLock(const WriteLock&) = delete;
  WriteLock& operator=(const WriteLock&) = delete;

 private:
  RwLock& lock_;
};

// Holds an RwLock shared; Unlock and Lock let a reader leave it for a while in between.
class ABSL_SCOPED_LOCKABLE ReadLock {
 public:
  // When `waited` is set, each acquisition adds the seconds it waited to *waited (a clock read
  // only when the lock was not free).
  explicit ReadLock(RwLock& lock, double* waited = nullptr) ABSL_SHARED_LOCK_FUNCTION(lock)
      : lock_(lock), waited_(waited) {
    Lock();
  }
  ~ReadLock() ABSL_UNLOCK_FUNCTION() {
    if (held_) lock_.unlock_shared();
  }
  ReadLock(const ReadLock&) = delete;
  ReadLock& operator=(const ReadLock&) = delete;

  void Lock() ABSL_SHARED_LOCK_FUNCTION() {
    held_ = true;
    if (waited_ == nullptr || lock_.try_lock_shared()) {
      if (waited_ == nullptr) lock_.lock_shared();
      return;
    }
    const auto t0 = std::chrono::steady_clock::now();
    lock_.lock_shared();
    *waited_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  void Unlock() ABSL_UNLOCK_FUNCTION() {
    held_ = false;
    lock_.unlock_shared();
  }

 private:
  RwLock& lock_;
  double* const waited_;
  bool held_ = false;
};

}  // namespace streamrec::daemon
