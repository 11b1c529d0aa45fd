// The consuming side of stream/: MessageSource (the interface the daemon's loop polls) and
// KafkaSource, a librdkafka high-level consumer in a consumer group whose start offsets come
// from the caller (RocksDB), not from Kafka (docs/DESIGN.md, "State and delivery semantics").
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "stream/kafka_message.h"
#include "stream/kafka_options.h"

struct rd_kafka_s;                       // rd_kafka_t
struct rd_kafka_topic_partition_list_s;  // rd_kafka_topic_partition_list_t

namespace streamrec::stream {

struct KafkaSourceCallbacks;

// One assigned partition and the offset consumption starts from. The listener overwrites
// start_offset with the next offset to apply (from its own store) or leaves kOffsetBeginning.
struct PartitionStart {
  std::string topic;
  int32_t partition = 0;
  int64_t start_offset = kOffsetBeginning;
};

struct TopicPartition {
  std::string topic;
  int32_t partition = 0;
};

// Told about rebalances. Both methods run on the polling thread, inside PollBatch() or
// Close(), never concurrently with the code that handles a batch: when they run, every message
// returned by an earlier PollBatch() has been handed to the caller, and messages of the
// revoked partitions that were fetched but not yet returned are dropped (their offsets will be
// consumed again by the next owner, from its stored offsets).
class RebalanceListener {
 public:
  virtual ~RebalanceListener() = default;
  // Partitions were assigned (eager protocol: the complete new assignment). Set each
  // start_offset: an absolute offset, kOffsetBeginning (a fresh store), kOffsetEnd, or
  // kOffsetCommitted. A non-OK status is fatal: nothing is assigned and every later
  // PollBatch() returns that status, so the daemon stops instead of skipping partitions.
  virtual Status OnPartitionsAssigned(std::vector<PartitionStart>* partitions) = 0;
  // The partitions are about to be taken away (rebalance, Close(), or lost when `lost`: the
  // session timed out and another member may own them already). Checkpoint here: after
  // return they are unassigned.
  virtual void OnPartitionsRevoked(const std::vector<TopicPartition>& partitions, bool lost) = 0;
};

// Where the consumer stands on one assigned partition, for the lag metric.
struct PartitionLag {
  int32_t partition = 0;
  // Next offset PollBatch() will return (last returned + 1), or the start offset given on
  // assignment; kOffsetUnknown if that was logical and nothing has arrived yet.
  int64_t next_offset = kOffsetUnknown;
  // Log end offset as last seen by a fetch (cached, no broker round trip); -1 if not yet known.
  int64_t high_watermark = -1;
  // high_watermark - next_offset, or -1 when either is unknown.
  int64_t lag = -1;
};

// Monotonic counters. Written by the polling thread, readable from any thread.
struct SourceCounters {
  int64_t messages = 0;           // returned by PollBatch()
  int64_t payload_bytes = 0;      // sum of payload sizes returned
  int64_t consumer_errors = 0;    // informational errors (broker down, ...): logged, continued
  int64_t commit_failures = 0;    // failed async CommitOffsets() (lag visibility only)
  int64_t assignments = 0;        // rebalances that assigned partitions
  int64_t revocations = 0;        // rebalances that revoked (incl. Close())
  int64_t dropped_on_revoke = 0;  // fetched, not returned, dropped because revoked
};

// What the daemon's consumer loop polls. Implementations: KafkaSource; fakes in tests.
// Thread-safety: thread-compatible; one thread (the polling thread) makes every call.
class MessageSource {
 public:
  virtual ~MessageSource() = default;

  // Clears *out, then appends up to max_messages messages in partition order (within one
  // partition offsets increase). Blocks up to timeout_ms for the first message, then takes what
  // is already fetched without waiting more. Serves rebalances (RebalanceListener) and error
  // callbacks. OK with an empty *out on timeout; non-OK only for fatal errors (a fatal client
  // error, a failed OnPartitionsAssigned, or after Close()).
  virtual Status PollBatch(int max_messages, int timeout_ms, std::vector<Message>* out) = 0;

  // Asynchronously commits partition -> next offset (last applied + 1) of a consumed `topic`
  // to the group in Kafka, so that lag shows in Kafka tooling. Start offsets never come from
  // these commits unless a listener asks for kOffsetCommitted. Failures are counted.
  virtual Status CommitOffsets(const std::string& topic,
                               const std::map<int32_t, int64_t>& next_offsets) = 0;

  // The low and high watermark offsets of one partition of a consumed topic, as the last fetch
  // saw them (cached: no broker round trip). False while unknown (before the first fetch).
  virtual bool Watermarks(const std::string& topic, int32_t partition, int64_t* low,
                          int64_t* high) const = 0;
  // The same, asked of the broker now (blocks up to timeout_ms); false on error or timeout.
  // May be called from a RebalanceListener callback.
  virtual bool QueryWatermarks(const std::string& topic, int32_t partition, int64_t* low,
                               int64_t* high, int timeout_ms) = 0;

  // Leaves the group: revokes the assignment (calling the listener), commits nothing, and
  // stops fetching. Idempotent. Call before destruction; the destructor calls it otherwise.
  // Bounded by KafkaOptions::consumer_close_timeout_ms: when the group does not answer in
  // time, the listener still sees the revocation and the result is Unavailable.
  virtual Status Close() = 0;
};

// A librdkafka consumer-group member (KafkaOptions: brokers, topic and extra_topics, group_id,
// tuning; Lag() covers `topic`) with
// enable.auto.commit=false and enable.auto.offset.store=false: the caller owns offsets.
// Eager rebalance protocol (range assignor): on assignment the listener chooses the start
// offset of every partition, then rd_kafka_assign(); on revocation the listener runs first,
// then the assignment is cleared.
//
// Thread-safety: as MessageSource: all methods on one thread, except counters(), which any
// thread may call at any time while the object lives.
class KafkaSource final : public MessageSource {
 public:
  // Creates the consumer and subscribes to options.topic. `listener` is borrowed and must
  // outlive the KafkaSource. InvalidArgument for a bad librdkafka property.
  static Result<std::unique_ptr<KafkaSource>> Create(const KafkaOptions& options,
                                                     RebalanceListener* listener);
  ~KafkaSource() override;
  KafkaSource(const KafkaSource&) = delete;
  KafkaSource& operator=(const KafkaSource&) = delete;

  Status PollBatch(int max_messages, int timeout_ms, std::vector<Message>* out) override;
  Status CommitOffsets(const std::string& topic,
                       const std::map<int32_t, int64_t>& next_offsets) override;
  Status Close() override;
  bool Watermarks(const std::string& topic, int32_t partition, int64_t* low,
                  int64_t* high) const override;
  bool QueryWatermarks(const std::string& topic, int32_t partition, int64_t* low, int64_t* high,
                       int timeout_ms) override;

  // Pauses (true) or resumes (false) fetching of every assigned partition, and of those
  // assigned while paused. While paused, PollBatch() still serves rebalances and keeps the
  // member in its group (max.poll.interval.ms) but returns no messages; resumed, consumption
  // continues after the last message returned. Polling thread only.
  Status SetPaused(bool paused);

  // Lag per assigned partition of options.topic, from cached watermarks (cheap: no broker
  // round trip). Polling thread only; call every few seconds and export as a gauge.
  std::vector<PartitionLag> Lag() const;
  // Partitions currently assigned to this member. Polling thread only.
  std::vector<int32_t> assignment() const;
  // Snapshot of the counters; any thread.
  SourceCounters counters() const;

 private:
  friend struct KafkaSourceCallbacks;  // librdkafka's C callbacks (kafka_source.cc)

  KafkaSource(const KafkaOptions& options, RebalanceListener* listener);
  void OnAssign(rd_kafka_topic_partition_list_s* parts);
  void OnRevoke(rd_kafka_topic_partition_list_s* parts);
  void OnError(int err, const char* reason);
  void OnCommit(int err, rd_kafka_topic_partition_list_s* offsets);

  const KafkaOptions options_;
  RebalanceListener* const listener_;
  rd_kafka_s* rk_ = nullptr;  // owned; destroyed by ~KafkaSource after Close()
  bool closed_ = false;
  bool close_gave_up_ = false;  // Close() timed out: destroy without librdkafka's own close
  Status fatal_;                // sticky: returned by every PollBatch() once set
  bool paused_ = false;         // SetPaused(true) is in force

  // Polling-thread state.
  std::vector<Message>* pending_ = nullptr;  // PollBatch()'s output while it runs
  std::vector<int32_t> assigned_;            // partitions of options_.topic
  std::vector<int64_t> next_offset_;         // by partition; kOffsetUnknown if unknown

  // Counters: single writer (polling thread), relaxed atomics so other threads can read.
  struct AtomicCounters {
    std::atomic<int64_t> messages{0}, payload_bytes{0}, consumer_errors{0}, commit_failures{0},
        assignments{0}, revocations{0}, dropped_on_revoke{0};
  };
  AtomicCounters counters_;
};

}  // namespace streamrec::stream
