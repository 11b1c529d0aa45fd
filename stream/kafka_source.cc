#include "stream/kafka_source.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <chrono>

#include "stream/kafka_conf.h"

namespace streamrec::stream {

static_assert(kOffsetBeginning == RD_KAFKA_OFFSET_BEGINNING);
static_assert(kOffsetEnd == RD_KAFKA_OFFSET_END);
static_assert(kOffsetCommitted == RD_KAFKA_OFFSET_STORED);
static_assert(kOffsetUnknown == RD_KAFKA_OFFSET_INVALID);

using internal::Log;

// ---------------------------------------------------------------------------------------------
// Message

Message Message::Adopt(rd_kafka_message_t* handle) {
  Message m;
  m.handle_ = handle;
  m.topic_ = rd_kafka_topic_name(handle->rkt);
  m.partition_ = handle->partition;
  m.offset_ = handle->offset;
  if (handle->key != nullptr) {
    m.key_ = std::string_view(static_cast<const char*>(handle->key), handle->key_len);
  }
  if (handle->payload != nullptr) {
    m.payload_ = std::string_view(static_cast<const char*>(handle->payload), handle->len);
  }
  m.timestamp_ms_ = rd_kafka_message_timestamp(handle, nullptr);
  return m;
}

void Message::Release() {
  rd_kafka_message_destroy(handle_);
  handle_ = nullptr;
}

// ---------------------------------------------------------------------------------------------
// librdkafka's C callbacks. All are served by rd_kafka_consumer_poll() or
// rd_kafka_consumer_close(), i.e. on the polling thread (the main queue is redirected to the
// consumer queue in Create()).

struct KafkaSourceCallbacks {
  static void Rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                        rd_kafka_topic_partition_list_t* parts, void* opaque) {
    auto* self = static_cast<KafkaSource*>(opaque);
    switch (err) {
      case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
        self->OnAssign(parts);
        break;
      case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
        self->OnRevoke(parts);
        break;
      default:
        // A failed rebalance: librdkafka asks us to resynchronize by clearing the assignment.
        Log("rebalance", "rebalance failed: %s; clearing the assignment", rd_kafka_err2str(err));
        rd_kafka_assign(rk, nullptr);
        self->assigned_.clear();
        break;
    }
  }
  static void Error(rd_kafka_t* /*rk*/, int err, const char* reason, void* opaque) {
    static_cast<KafkaSource*>(opaque)->OnError(err, reason);
  }
  static void Commit(rd_kafka_t* /*rk*/, rd_kafka_resp_err_t err,
                     rd_kafka_topic_partition_list_t* offsets, void* opaque) {
    static_cast<KafkaSource*>(opaque)->OnCommit(err, offsets);
  }
};

namespace {

// Adds n to a counter that only the polling thread writes (no read-modify-write needed).
void Bump(std::atomic<int64_t>& counter, int64_t n = 1) {
  counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// KafkaSource

KafkaSource::KafkaSource(const KafkaOptions& options, RebalanceListener* listener)
    : options_(options), listener_(listener) {}

Result<std::unique_ptr<KafkaSource>> KafkaSource::Create(const KafkaOptions& options,
                                                         RebalanceListener* listener) {
  if (listener == nullptr) return Status::InvalidArgument("KafkaSource needs a listener");
  if (options.topic.empty()) return Status::InvalidArgument("KafkaSource needs a topic");
  Result<internal::ConfPtr> conf = internal::MakeConf(options, internal::ClientRole::kConsumer);
  if (!conf.ok()) return conf.status();

  std::unique_ptr<KafkaSource> source(new KafkaSource(options, listener));
  rd_kafka_conf_set_opaque(conf->get(), source.get());
  rd_kafka_conf_set_rebalance_cb(conf->get(), &KafkaSourceCallbacks::Rebalance);
  rd_kafka_conf_set_error_cb(conf->get(), &KafkaSourceCallbacks::Error);
  rd_kafka_conf_set_offset_commit_cb(conf->get(), &KafkaSourceCallbacks::Commit);

  char errstr[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf->get(), errstr, sizeof(errstr));
  if (rk == nullptr) return Status::InvalidArgument(std::string("consumer: ") + errstr);
  conf->release();  // rd_kafka_new() took it
  source->rk_ = rk;

  // Serve error/commit callbacks from rd_kafka_consumer_poll(), on the polling thread.
  rd_kafka_poll_set_consumer(rk);

  internal::PartitionListPtr topics(
      rd_kafka_topic_partition_list_new(1 + static_cast<int>(options.extra_topics.size())));
  rd_kafka_topic_partition_list_add(topics.get(), options.topic.c_str(), RD_KAFKA_PARTITION_UA);
  for (const std::string& t : options.extra_topics) {
    rd_kafka_topic_partition_list_add(topics.get(), t.c_str(), RD_KAFKA_PARTITION_UA);
  }
  if (rd_kafka_resp_err_t err = rd_kafka_subscribe(rk, topics.get()); err != 0) {
    return Status::InvalidArgument("subscribe to " + options.topic + ": " + rd_kafka_err2str(err));
  }
  return source;
}

KafkaSource::~KafkaSource() {
  if (rk_ == nullptr) return;
  Close().IgnoreError();  // already logged
  // After a close that gave up, a plain destroy would close again and wait as long. Without
  // the close, librdkafka 2.0.2 still waits (busy, on its main thread) for the requests in
  // flight to time out: bounded, and only at shutdown.
  rd_kafka_destroy_flags(rk_, close_gave_up_ ? RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE : 0);
}

Status KafkaSource::PollBatch(int max_messages, int timeout_ms, std::vector<Message>* out) {
  out->clear();
  if (closed_) return Status::FailedPrecondition("KafkaSource is closed");
  if (!fatal_.ok()) return fatal_;
  if (max_messages <= 0) return Status::InvalidArgument("max_messages must be positive");

  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(std::max(timeout_ms, 0));
  pending_ = out;  // lets OnRevoke() drop fetched-but-unreturned messages
  while (static_cast<int>(out->size()) < max_messages) {
    int wait_ms = 0;
    if (out->empty()) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      wait_ms = static_cast<int>(std::max<int64_t>(left.count(), 0));
    }
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk_, wait_ms);
    if (m == nullptr) {
      if (wait_ms == 0) break;  // nothing more fetched yet, or the deadline passed
      continue;                 // woke up early (a callback was served); wait out the rest
    }
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      // Consumer errors are informational (librdkafka recovers by itself); partition EOF is
      // not an error at all.
      if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        Bump(counters_.consumer_errors);
        Log("consumer_message_error", "consume error on %s [%d]: %s",
            m->rkt != nullptr ? rd_kafka_topic_name(m->rkt) : "-", m->partition,
            rd_kafka_message_errstr(m));
      }
      rd_kafka_message_destroy(m);
      if (!fatal_.ok()) break;
      continue;
    }
    out->push_back(Message::Adopt(m));
  }
  pending_ = nullptr;

  if (!fatal_.ok()) {
    out->clear();
    return fatal_;
  }
  int64_t bytes = 0;
  for (const Message& m : *out) {
    bytes += static_cast<int64_t>(m.payload().size());
    const auto p = static_cast<size_t>(m.partition());
    if (p < next_offset_.size() && m.topic() == options_.topic) next_offset_[p] = m.offset() + 1;
  }
  Bump(counters_.messages, static_cast<int64_t>(out->size()));
  Bump(counters_.payload_bytes, bytes);
  return Status::Ok();
}

void KafkaSource::OnAssign(rd_kafka_topic_partition_list_t* parts) {
  std::vector<PartitionStart> starts;
  starts.reserve(static_cast<size_t>(parts->cnt));
  for (int i = 0; i < parts->cnt; ++i) {
    starts.push_back({parts->elems[i].topic, parts->elems[i].partition, kOffsetBeginning});
  }
  Status st = listener_->OnPartitionsAssigned(&starts);
  if (st.ok() && starts.size() != static_cast<size_t>(parts->cnt)) {
    st = Status::InvalidArgument("OnPartitionsAssigned must not add or remove partitions");
  }
  if (!st.ok()) {
    Log("assign", "not consuming: the assignment listener failed: %s", st.ToString().c_str());
    fatal_ = st;
    rd_kafka_assign(rk_, nullptr);
    return;
  }

  assigned_.clear();
  std::fill(next_offset_.begin(), next_offset_.end(), kOffsetUnknown);
  for (int i = 0; i < parts->cnt; ++i) {
    rd_kafka_topic_partition_t& tp = parts->elems[i];
    tp.offset = starts[static_cast<size_t>(i)].start_offset;
    if (options_.topic != tp.topic) continue;
    assigned_.push_back(tp.partition);
    if (static_cast<size_t>(tp.partition) >= next_offset_.size()) {
      next_offset_.resize(static_cast<size_t>(tp.partition) + 1, kOffsetUnknown);
    }
    next_offset_[static_cast<size_t>(tp.partition)] = tp.offset >= 0 ? tp.offset : kOffsetUnknown;
  }
  std::sort(assigned_.begin(), assigned_.end());

  if (rd_kafka_resp_err_t err = rd_kafka_assign(rk_, parts); err != 0) {
    fatal_ = Status::IOError(std::string("assign: ") + rd_kafka_err2str(err));
    Log("assign", "%s", fatal_.ToString().c_str());
    assigned_.clear();
    return;
  }
  if (paused_) rd_kafka_pause_partitions(rk_, parts);
  Bump(counters_.assignments);
}

Status KafkaSource::SetPaused(bool paused) {
  paused_ = paused;
  rd_kafka_topic_partition_list_t* parts = nullptr;
  if (rd_kafka_resp_err_t err = rd_kafka_assignment(rk_, &parts); err != 0) {
    return Status::IOError(std::string("assignment: ") + rd_kafka_err2str(err));
  }
  const rd_kafka_resp_err_t err =
      paused ? rd_kafka_pause_partitions(rk_, parts) : rd_kafka_resume_partitions(rk_, parts);
  rd_kafka_topic_partition_list_destroy(parts);
  if (err != 0) {
    return Status::IOError(std::string(paused ? "pause: " : "resume: ") + rd_kafka_err2str(err));
  }
  return Status::Ok();
}

void KafkaSource::OnRevoke(rd_kafka_topic_partition_list_t* parts) {
  std::vector<TopicPartition> revoked;
  revoked.reserve(static_cast<size_t>(parts->cnt));
  for (int i = 0; i < parts->cnt; ++i) {
    revoked.push_back({parts->elems[i].topic, parts->elems[i].partition});
  }
  // Messages of revoked partitions fetched during this PollBatch() never reach the caller:
  // the next owner starts from the caller's checkpoint, which does not include them.
  if (pending_ != nullptr) {
    auto is_revoked = [&revoked](const Message& m) {
      return std::any_of(revoked.begin(), revoked.end(), [&m](const TopicPartition& tp) {
        return tp.partition == m.partition() && tp.topic == m.topic();
      });
    };
    auto first = std::remove_if(pending_->begin(), pending_->end(), is_revoked);
    Bump(counters_.dropped_on_revoke, pending_->end() - first);
    pending_->erase(first, pending_->end());
  }
  listener_->OnPartitionsRevoked(revoked, rd_kafka_assignment_lost(rk_) != 0);
  rd_kafka_assign(rk_, nullptr);
  assigned_.clear();
  std::fill(next_offset_.begin(), next_offset_.end(), kOffsetUnknown);
  Bump(counters_.revocations);
}

void KafkaSource::OnError(int err, const char* reason) {
  if (err == RD_KAFKA_RESP_ERR__FATAL) {
    char fatal_reason[512];
    rd_kafka_resp_err_t fatal_err = rd_kafka_fatal_error(rk_, fatal_reason, sizeof(fatal_reason));
    fatal_ = Status::IOError(std::string("fatal consumer error ") + rd_kafka_err2name(fatal_err) +
                             ": " + fatal_reason);
    Log("consumer_fatal", "%s", fatal_.ToString().c_str());
    return;
  }
  Bump(counters_.consumer_errors);
  Log("consumer_error", "consumer error %s: %s",
      rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err)), reason);
}

void KafkaSource::OnCommit(int err, rd_kafka_topic_partition_list_t* offsets) {
  if (err == RD_KAFKA_RESP_ERR__NO_OFFSET) return;  // nothing to commit: not an error
  bool failed = err != RD_KAFKA_RESP_ERR_NO_ERROR;
  for (int i = 0; offsets != nullptr && i < offsets->cnt; ++i) {
    failed = failed || offsets->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR;
  }
  if (!failed) return;
  Bump(counters_.commit_failures);
  Log("commit", "offset commit failed: %s",
      rd_kafka_err2str(static_cast<rd_kafka_resp_err_t>(err)));
}

Status KafkaSource::CommitOffsets(const std::string& topic,
                                  const std::map<int32_t, int64_t>& next_offsets) {
  if (closed_) return Status::FailedPrecondition("KafkaSource is closed");
  if (next_offsets.empty()) return Status::Ok();
  internal::PartitionListPtr list(
      rd_kafka_topic_partition_list_new(static_cast<int>(next_offsets.size())));
  for (const auto& [partition, offset] : next_offsets) {
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition)->offset = offset;
  }
  if (rd_kafka_resp_err_t err = rd_kafka_commit(rk_, list.get(), /*async=*/1); err != 0) {
    Bump(counters_.commit_failures);
    return Status::Unavailable(std::string("commit: ") + rd_kafka_err2str(err));
  }
  return Status::Ok();
}

Status KafkaSource::Close() {
  if (closed_) return Status::Ok();
  closed_ = true;
  // Revokes the assignment through the rebalance callback (the listener checkpoints), then
  // leaves the group. librdkafka's blocking close waits for the coordinator without a bound
  // (a daemon stopped while its broker was gone hung in it for 40 minutes), so the close runs
  // in the background and this thread serves its events until it ends or the bound passes.
  rd_kafka_queue_t* queue = rd_kafka_queue_new(rk_);
  std::string failed;  // the close could not even start
  if (rd_kafka_error_t* error = rd_kafka_consumer_close_queue(rk_, queue)) {
    failed = rd_kafka_error_string(error);
    rd_kafka_error_destroy(error);
    close_gave_up_ = true;
  }
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(options_.consumer_close_timeout_ms);
  while (!close_gave_up_ && rd_kafka_consumer_closed(rk_) == 0) {
    if (std::chrono::steady_clock::now() >= deadline) {
      close_gave_up_ = true;
      break;
    }
    rd_kafka_event_t* event = rd_kafka_queue_poll(queue, 50);
    if (event == nullptr) continue;
    if (rd_kafka_event_type(event) == RD_KAFKA_EVENT_REBALANCE) {
      KafkaSourceCallbacks::Rebalance(rk_, rd_kafka_event_error(event),
                                      rd_kafka_event_topic_partition_list(event), this);
    }
    rd_kafka_event_destroy(event);
  }
  rd_kafka_queue_destroy(queue);
  if (close_gave_up_ && !assigned_.empty()) {  // the listener still sees its revocation
    rd_kafka_topic_partition_list_t* parts = nullptr;
    if (rd_kafka_assignment(rk_, &parts) == 0 && parts != nullptr) {
      internal::PartitionListPtr owned(parts);
      OnRevoke(parts);
    }
  }
  if (!failed.empty()) {
    Log("close", "consumer close: %s", failed.c_str());
    return Status::IOError("consumer close: " + failed);
  }
  if (close_gave_up_) {
    Log("close", "consumer close: the group did not answer within %d ms; leaving without it",
        options_.consumer_close_timeout_ms);
    return Status::Unavailable("consumer close: the group did not answer in time");
  }
  return Status::Ok();
}

std::vector<PartitionLag> KafkaSource::Lag() const {
  std::vector<PartitionLag> lags;
  lags.reserve(assigned_.size());
  for (int32_t p : assigned_) {
    PartitionLag lag;
    lag.partition = p;
    lag.next_offset = next_offset_[static_cast<size_t>(p)];
    int64_t low = RD_KAFKA_OFFSET_INVALID;
    int64_t high = RD_KAFKA_OFFSET_INVALID;
    if (rd_kafka_get_watermark_offsets(rk_, options_.topic.c_str(), p, &low, &high) == 0 &&
        high >= 0) {
      lag.high_watermark = high;
    }
    if (lag.high_watermark >= 0 && lag.next_offset >= 0) {
      lag.lag = std::max<int64_t>(lag.high_watermark - lag.next_offset, 0);
    }
    lags.push_back(lag);
  }
  return lags;
}

bool KafkaSource::Watermarks(const std::string& topic, int32_t partition, int64_t* low,
                             int64_t* high) const {
  int64_t lo = RD_KAFKA_OFFSET_INVALID;
  int64_t hi = RD_KAFKA_OFFSET_INVALID;
  if (rd_kafka_get_watermark_offsets(rk_, topic.c_str(), partition, &lo, &hi) != 0 || hi < 0 ||
      lo < 0) {
    return false;
  }
  *low = lo;
  *high = hi;
  return true;
}

bool KafkaSource::QueryWatermarks(const std::string& topic, int32_t partition, int64_t* low,
                                  int64_t* high, int timeout_ms) {
  int64_t lo = 0, hi = 0;
  if (rd_kafka_query_watermark_offsets(rk_, topic.c_str(), partition, &lo, &hi, timeout_ms) != 0) {
    return false;
  }
  *low = lo;
  *high = hi;
  return true;
}

std::vector<int32_t> KafkaSource::assignment() const { return assigned_; }

SourceCounters KafkaSource::counters() const {
  SourceCounters c;
  c.messages = counters_.messages.load(std::memory_order_relaxed);
  c.payload_bytes = counters_.payload_bytes.load(std::memory_order_relaxed);
  c.consumer_errors = counters_.consumer_errors.load(std::memory_order_relaxed);
  c.commit_failures = counters_.commit_failures.load(std::memory_order_relaxed);
  c.assignments = counters_.assignments.load(std::memory_order_relaxed);
  c.revocations = counters_.revocations.load(std::memory_order_relaxed);
  c.dropped_on_revoke = counters_.dropped_on_revoke.load(std::memory_order_relaxed);
  return c;
}

}  // namespace streamrec::stream
