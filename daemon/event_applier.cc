#include "daemon/event_applier.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <mutex>
#include <optional>
#include <string>

#include "common/rng.h"
#include "state/write_batch.h"

namespace streamrec::daemon {
namespace {
double SecondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

EventApplier::EventApplier(const Config& config, ModelState* model, state::StateStore* store,
                           DeadLetterSink* dead_letters, MetricsRegistry* metrics,
                           const Clock* clock)
    : config_(config),
      model_(model),
      store_(store),
      dead_letters_(dead_letters),
      clock_(clock),
      probe_(metrics),
      decoder_(config.decoder),
      explore_on_(config.bandit.enabled()),
      hold_(config.bandit.max_held,
            // Runs inside ReleaseHeld, under the write lock (which the analysis cannot see
            // through the callback).
            [model](const HeldServed& h) ABSL_NO_THREAD_SAFETY_ANALYSIS {
              model->ApplyServed(h.user, h.rec_id, h.explored, h.ts_micros);
            }),
      served_cap_(std::numeric_limits<int64_t>::min()),
      last_checkpoint_us_(clock->NowMicros()),
      // Dead letters of the offsets a checkpoint moves past must be delivered before it.
      writer_(
          store,
          [dead_letters] {
            Status st = dead_letters->FlushSent(10'000);
            if (!st.ok()) return Status::Unavailable("dead letters not delivered: " + st.message());
            return st;
          },
          config.background_nice) {
  if (explore_on_) {
    // Until the served topic's progress is known, no attribution window closes.
    WriteLock lock(model_->lock());
    model_->SetServedProgress(served_cap_);
  }
}

void EventApplier::Handle(std::vector<stream::Message>& batch) {
  for (size_t begin = 0; begin < batch.size(); begin += config_.apply_batch) {
    ApplyRun(batch, begin, std::min(batch.size(), begin + config_.apply_batch));
  }
  model_->HandOff(/*all=*/true);  // the lanes work on this poll's events while we poll
  Publish(/*force=*/false);
}

void EventApplier::Publish(bool force) {
  // Each publish copies the rows changed since the side was last written, at random places in
  // tables larger than the caches (perf at 20k events/s, 100k items: 20% of the consumer when
  // every 50 ms batch was published). Every 250 ms, rows changed several times are copied once
  // and the copies run in longer ascending sweeps; an idle consumer publishes at once. Sampled
  // negatives change rows all over the catalog, so at 100k items a publish re-quantizes most
  // of both item tables (~20 ms: half the consumer's CPU under 20k events/s, competing with the
  // HTTP threads); the interval therefore stretches to 25 times the last publish's duration,
  // which keeps publishing under ~4% of a core. Recommendations lag the stream by at most
  // the interval (250 ms at 20k items, ~0.5 s at 100k).
  constexpr auto kPublishInterval = std::chrono::milliseconds(250);
  constexpr int kPublishCostFactor = 25;
  if (!unpublished_) return;
  const auto now = std::chrono::steady_clock::now();
  if (!force && now - last_publish_ < std::max<std::chrono::steady_clock::duration>(
                                          kPublishInterval, kPublishCostFactor * publish_cost_)) {
    return;
  }
  model_->Publish();
  last_publish_ = now;
  publish_cost_ = std::chrono::steady_clock::now() - now;
  unpublished_ = false;
  for (int t = 0; t < kNumEventTypes; ++t) {
    if (uncounted_[t] == 0) continue;
    probe_.OnApplied(static_cast<EventType>(t), uncounted_[t]);
    uncounted_[t] = 0;
  }
}

void EventApplier::ApplyRun(std::vector<stream::Message>& batch, size_t begin, size_t end) {
  probe_.OnApplyLockHeld(ApplyLocked(batch, begin, end));
  model_->HandOff(/*all=*/false);
  // Dead letters, outside the lock. Never a silent drop: retry until the producer takes it
  // (the producer is flushed before the checkpoint that moves past this offset, so a crash
  // re-produces rather than loses it). Only a stop abandons it, and then no checkpoint is
  // written again in this process: the offset is consumed again after the restart.
  for (const auto& [index, reason] : rejected_) {
    while (!dead_letters_->Send(batch[index], reason).ok()) {
      probe_.OnDeadLetterRefused();
      if (stop_ != nullptr && stop_->load(std::memory_order_relaxed)) {
        dlq_abandoned_ = true;
        break;
      }
    }
    probe_.OnDeadLettered();
  }
  rejected_.clear();
}

double EventApplier::ApplyLocked(std::vector<stream::Message>& batch, size_t begin, size_t end) {
  WriteLock lock(model_->lock());
  const auto t0 = std::chrono::steady_clock::now();
  const int64_t now_us = clock_->NowMicros();  // bounds event time (ModelState::Admit)
  for (size_t k = begin; k < end; ++k) {
    const stream::Message& m = batch[k];
    if (explore_on_ && m.topic() == config_.kafka.served_topic) {
      if (Status st = TakeServed(m); !st.ok()) rejected_.emplace_back(k, st.message());
      hold_.Consumed(m.partition(), m.offset());
      ++since_checkpoint_;
      continue;
    }
    stream::EventView e;
    Status st = decoder_.Decode(m.payload(), &e);
    // A producer-set Kafka timestamp is not validated like `ts`: bounded the same way.
    const double ts = !st.ok()           ? 0.0
                      : e.ts_seconds > 0 ? e.ts_seconds
                      : m.timestamp_ms() > 0
                          ? std::min(static_cast<double>(m.timestamp_ms()) / 1000.0,
                                     config_.decoder.max_ts_seconds)
                          : 0.0;
    if (st.ok()) st = model_->Admit(e, ts, now_us);
    if (st.ok()) {
      // Held served records this event's time reaches join first: the event (a click on one,
      // or the time that closes its window) then finds them.
      if (!hold_.empty()) ReleaseHeld(static_cast<int64_t>(ts * 1e6));
      model_->Apply(e, ts,
                    SeedFor(config_.seed, static_cast<uint64_t>(m.partition()),
                            static_cast<uint64_t>(m.offset())));
      ++uncounted_[static_cast<int>(e.type)];
      unpublished_ = true;
    } else {
      rejected_.emplace_back(k, st.message());
    }
    next_offsets_[m.partition()] = m.offset() + 1;
    ++since_checkpoint_;
  }
  return SecondsSince(t0);
}

Status EventApplier::TakeServed(const stream::Message& m) {
  stream::ServedView v;
  STREAMREC_RETURN_IF_ERROR(served_decoder_.Decode(m.payload(), &v));
  probe_.OnServedConsumed();
  const int64_t ts_micros = static_cast<int64_t>(v.ts_seconds * 1e6);  // bounded by the decoder
  hold_.SawServingTime(m.partition(), ts_micros);
  explored_.clear();
  for (const stream::ServedItem& it : v.items) {
    if (it.propensity >= 0.0 && it.source.starts_with("explore:")) {
      explored_.push_back({std::string(it.item), it.pos, it.propensity});
    }
  }
  if (explored_.empty() || v.user.empty()) return Status::Ok();  // nothing to join
  if (hold_.JoinsNow(ts_micros, model_->event_time_micros())) {
    model_->ApplyServed(v.user, v.rec_id, explored_, ts_micros);
    return Status::Ok();
  }
  hold_.Hold({m.partition(), m.offset(), ts_micros, std::string(v.user), std::string(v.rec_id),
              std::move(explored_)});
  explored_ = {};
  ReleaseHeld(model_->event_time_micros());  // only when over the cap
  return Status::Ok();
}

void EventApplier::ReleaseHeld(int64_t now) {
  probe_.OnServedForced(hold_.Release(std::max(now, model_->event_time_micros())));
}

void EventApplier::UpdateServedProgress() {
  if (!explore_on_ || source_ == nullptr) return;
  const int64_t cap = hold_.Cap(assigned(), [this](int32_t partition, int64_t* low, int64_t* high) {
    return source_->Watermarks(config_.kafka.served_topic, partition, low, high);
  });
  if (cap == served_cap_) return;
  served_cap_ = cap;
  WriteLock lock(model_->lock());
  model_->SetServedProgress(cap);
}

Status EventApplier::MaybeCheckpoint(bool force) {
  const bool requested = request_pending_.exchange(false, std::memory_order_acq_rel);
  Status st;
  if (force) Publish(/*force=*/true);  // a final or test checkpoint counts everything applied
  if (force || requested) {
    st = CheckpointNow();
  } else {
    st = FinishCheckpoint(/*wait=*/false);
    const int64_t now = clock_->NowMicros();
    const bool due = since_checkpoint_ >= config_.checkpoint_events ||
                     (since_checkpoint_ > 0 &&
                      now - last_checkpoint_us_ >= config_.checkpoint_interval_ms * 1000);
    if (due && !writer_.busy()) {
      if (Status started = StartCheckpoint(); !started.ok()) st = started;
    }
  }
  if (requested) {
    std::lock_guard l(request_mu_);
    completed_ = requested_;
    last_request_status_ = st;
    request_cv_.notify_all();
  }
  return st;
}

Status EventApplier::CheckpointNow() {
  Status before = FinishCheckpoint(/*wait=*/true);
  STREAMREC_RETURN_IF_ERROR(StartCheckpoint());
  Status st = FinishCheckpoint(/*wait=*/true);
  // The earlier failure is repaired when this one succeeds (its batch was merged in).
  return st.ok() ? st : before.ok() ? st : before;
}

Status EventApplier::StartCheckpoint() {
  if (dlq_abandoned_) {
    return Status::Unavailable(
        "no checkpoint: a dead letter was abandoned at stop; its offset "
        "will be consumed again after the restart");
  }
  inflight_start_ = std::chrono::steady_clock::now();
  if (!retry_.empty()) {
    building_.Append(retry_);  // later puts of the same keys win
    retry_.Clear();
  }
  model_->AppendCheckpoint(&building_);
  for (const auto& [partition, next] : next_offsets_) {
    building_.SetOffset(config_.kafka.topic, partition, next);
  }
  inflight_offsets_ = next_offsets_;
  inflight_served_ = hold_.OffsetsToStore();
  for (const auto& [partition, next] : inflight_served_) {
    building_.SetOffset(config_.kafka.served_topic, partition, next);
  }
  writer_.Submit(&building_);
  since_checkpoint_ = 0;
  last_checkpoint_us_ = clock_->NowMicros();
  return Status::Ok();
}

Status EventApplier::FinishCheckpoint(bool wait) {
  if (!writer_.busy()) return Status::Ok();
  Status st;
  if (wait) {
    writer_.Collect(&st, &collected_);
  } else if (!writer_.TryCollect(&st, &collected_)) {
    return Status::Ok();
  }
  if (!st.ok()) {
    probe_.OnCheckpointFailed();
    std::swap(retry_, collected_);
    {
      std::lock_guard l(error_mu_);
      checkpoint_error_ = st.message();
    }
    checkpoint_failing_.store(true, std::memory_order_release);
    return st;
  }
  checkpoint_failing_.store(false, std::memory_order_release);
  collected_.Clear();
  // Keep the larger buffers for the next batch: no regrowth (and page faults) per checkpoint.
  if (building_.empty() && collected_.capacity_bytes() > building_.capacity_bytes()) {
    std::swap(building_, collected_);
  }
  probe_.OnCheckpointWritten(SecondsSince(inflight_start_));
  // After the state is durable: tell Kafka, so lag is visible. Failure only delays that.
  if (source_ != nullptr && !inflight_offsets_.empty()) {
    source_->CommitOffsets(config_.kafka.topic, inflight_offsets_).IgnoreError();
  }
  if (source_ != nullptr && !inflight_served_.empty()) {
    source_->CommitOffsets(config_.kafka.served_topic, inflight_served_).IgnoreError();
  }
  return Status::Ok();
}

std::string EventApplier::checkpoint_error() const {
  std::lock_guard l(error_mu_);
  return checkpoint_error_;
}

Status EventApplier::RequestCheckpoint(int timeout_ms) {
  std::unique_lock l(request_mu_);
  const uint64_t ticket = ++requested_;
  request_pending_.store(true, std::memory_order_release);
  if (!request_cv_.wait_for(l, std::chrono::milliseconds(timeout_ms),
                            [&] { return completed_ >= ticket; })) {
    return Status::Unavailable("checkpoint did not complete within " + std::to_string(timeout_ms) +
                               " ms");
  }
  return last_request_status_;
}

Status EventApplier::OnPartitionsAssigned(std::vector<stream::PartitionStart>* partitions) {
  state::OffsetMap stored;
  STREAMREC_RETURN_IF_ERROR(store_->ReadOffsets(&stored));
  using Clock = std::chrono::steady_clock;
  auto deadline = Clock::now() + std::chrono::seconds(2);
  for (stream::PartitionStart& p : *partitions) {
    const bool events = p.topic == config_.kafka.topic;
    if (!events && !(explore_on_ && p.topic == config_.kafka.served_topic)) continue;
    auto it = stored.find({p.topic, p.partition});
    // Offsets in RocksDB are the truth; a partition never checkpointed starts at the beginning.
    p.start_offset = it != stored.end() ? it->second : stream::kOffsetBeginning;
    if (events) {
      if (it != stored.end()) next_offsets_[p.partition] = it->second;
      continue;
    }
    // One broker round trip a partition, inside the rebalance callback: bounded by one overall
    // deadline (after it, or after a failure, the fetcher's watermarks will do).
    int64_t low = -1, high = -1;
    const int left_ms = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
    if (source_ == nullptr || left_ms <= 0 ||
        !source_->QueryWatermarks(p.topic, p.partition, &low, &high, left_ms)) {
      low = high = -1;
      deadline = Clock::now();
    }
    hold_.Assign(p.partition,
                 it != stored.end() ? std::optional<int64_t>(it->second) : std::nullopt, low, high);
  }
  has_assignment_.store(true, std::memory_order_release);
  UpdateServedProgress();  // before the first event of this assignment
  return Status::Ok();
}

void EventApplier::OnPartitionsRevoked(const std::vector<stream::TopicPartition>& partitions,
                                       bool lost) {
  // Checkpoint what was applied from them while they are still ours. If they were lost,
  // another member may own them already; the store keeps this instance's truth either way.
  if (!lost) CheckpointNow().IgnoreError();
  for (const auto& tp : partitions) {
    if (tp.topic == config_.kafka.topic) {
      next_offsets_.erase(tp.partition);
    } else {
      hold_.Revoke(tp.partition);  // its held records are consumed again by the next owner
    }
  }
  if (next_offsets_.empty()) has_assignment_.store(false, std::memory_order_release);
}

}  // namespace streamrec::daemon
