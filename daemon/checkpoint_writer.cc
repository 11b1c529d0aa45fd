#include "daemon/checkpoint_writer.h"

#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <utility>

namespace streamrec::daemon {

CheckpointWriter::CheckpointWriter(state::StateStore* store, std::function<Status()> before_write,
                                   int nice)
    : store_(store),
      before_write_(std::move(before_write)),
      nice_(nice),
      thread_([this] { Run(); }) {}

CheckpointWriter::~CheckpointWriter() {
  {
    std::unique_lock l(mu_);
    cv_.wait(l, [this] { return !submitted_; });
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void CheckpointWriter::Submit(state::WriteBatch* batch) {
  {
    std::lock_guard l(mu_);
    std::swap(batch_, *batch);
    submitted_ = true;
    done_ = false;
  }
  batch->Clear();
  busy_ = true;
  cv_.notify_all();
}

bool CheckpointWriter::TryCollect(Status* status, state::WriteBatch* batch) {
  std::lock_guard l(mu_);
  if (!done_) return false;
  *status = std::move(status_);
  std::swap(*batch, batch_);
  done_ = false;
  busy_ = false;
  return true;
}

void CheckpointWriter::Collect(Status* status, state::WriteBatch* batch) {
  {
    std::unique_lock l(mu_);
    cv_.wait(l, [this] { return done_; });
  }
  TryCollect(status, batch);
}

void CheckpointWriter::Run() {
  pthread_setname_np(pthread_self(), "checkpoint");
  // Linux: a thread's nice value is per thread (PRIO_PROCESS of its tid). Best effort.
  if (nice_ > 0) setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), nice_);
  std::unique_lock l(mu_);
  while (true) {
    cv_.wait(l, [this] { return submitted_ || stop_; });
    if (!submitted_) return;  // stop_ with nothing left to write
    // The batch is the writer's until done_: the consumer does not touch batch_ meanwhile.
    l.unlock();
    Status st = before_write_ ? before_write_() : Status::Ok();
    if (st.ok()) st = store_->Write(batch_);
    l.lock();
    status_ = std::move(st);
    submitted_ = false;
    done_ = true;
    cv_.notify_all();
  }
}

}  // namespace streamrec::daemon
