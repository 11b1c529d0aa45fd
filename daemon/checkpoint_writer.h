// CheckpointWriter: writes checkpoint batches to the state store on a thread of its own, so
// the consumer thread keeps applying events while RocksDB inserts the batch and syncs its log
// (an fdatasync of tens to hundreds of milliseconds per checkpoint on ordinary disks).
//
// At most one batch is in flight. The consumer builds a batch (a consistent snapshot of the
// rows and offsets at an event boundary), Submits it, and later Collects the outcome; only
// then may it tell Kafka the offsets or submit the next batch. So checkpoints stay in order
// and each is atomic, as if written inline: exactly-once is unchanged.
//
// Thread safety: Submit, TryCollect, Collect and busy() are for one thread (the consumer);
// the writer thread only runs `before_write` and StateStore::Write.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "common/status.h"
#include "state/store.h"
#include "state/write_batch.h"

namespace streamrec::daemon {

class CheckpointWriter {
 public:
  // `store` must outlive the writer. `before_write` runs on the writer thread before each
  // write; when it fails the batch is not written and its status is the outcome (the daemon
  // flushes its dead letters there: they must be delivered before their offsets are stored).
  // `nice` (1-19, 0 = unchanged) lowers the writer thread's CPU priority.
  CheckpointWriter(state::StateStore* store, std::function<Status()> before_write, int nice = 0);
  // Waits for the batch in flight, then stops the thread.
  ~CheckpointWriter();
  CheckpointWriter(const CheckpointWriter&) = delete;
  CheckpointWriter& operator=(const CheckpointWriter&) = delete;

  // Starts writing `*batch` (taken; *batch is left empty). REQUIRES: !busy().
  void Submit(state::WriteBatch* batch);
  // True from Submit until the outcome is collected.
  bool busy() const { return busy_; }
  // When the write in flight has finished: its status to *status, the batch back to *batch
  // (a failed batch is merged into the next one), and true. False while it still runs.
  bool TryCollect(Status* status, state::WriteBatch* batch);
  // Waits for the write in flight; then as TryCollect. REQUIRES: busy().
  void Collect(Status* status, state::WriteBatch* batch);

 private:
  void Run();

  state::StateStore* const store_;
  const std::function<Status()> before_write_;
  const int nice_;
  bool busy_ = false;  // consumer thread only

  std::mutex mu_;
  std::condition_variable cv_;
  state::WriteBatch batch_;  // GUARDED_BY(mu_)
  bool submitted_ = false;   // GUARDED_BY(mu_): batch_ waits for the writer
  bool done_ = false;        // GUARDED_BY(mu_): batch_ is written; status_ holds the outcome
  bool stop_ = false;        // GUARDED_BY(mu_)
  Status status_;            // GUARDED_BY(mu_)
  std::thread thread_;       // last: starts after the members above exist
};

}  // namespace streamrec::daemon
