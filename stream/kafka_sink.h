// The producing side of stream/: KafkaSink (dead letters to events.dlq, what was served to
// `served`, POST /v1/events to `events`) and the dead-letter record format.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "common/status.h"
#include "stream/kafka_message.h"
#include "stream/kafka_options.h"

struct rd_kafka_s;  // rd_kafka_t

namespace streamrec::stream {

// Payloads longer than this are cut in dead-letter records (the record says so), so that a
// rejected oversized event cannot make its dead letter exceed the broker's message size limit.
inline constexpr size_t kDeadLetterMaxPayloadBytes = 256 * 1024;

// The dead-letter record produced to `events.dlq` for an event that failed validation: one
// JSON object,
//   {"reason":"...","topic":"events","partition":3,"offset":1234,
//    "payload":"<the original bytes as a JSON string>",
//    "payload_bytes":57,                                  // original size
//    "payload_base64":"...",                              // only if not valid UTF-8
//    "payload_truncated":true}                            // only if cut at max_payload_bytes
// "payload" is always valid JSON and valid UTF-8: valid UTF-8 sequences are kept (with JSON
// escapes for '"', '\\' and control characters), and every byte that is not part of a valid
// UTF-8 sequence becomes the escape \u00XX (U+0000..U+00FF, i.e. Latin-1: readable but
// ambiguous). When that happens "payload_base64" carries the exact original bytes, so a record
// can always be replayed byte for byte: use payload_base64 if present, else payload. `reason`
// and `topic` are escaped the same way. Never fails.
std::string MakeDeadLetter(std::string_view payload, std::string_view reason,
                           std::string_view topic, int32_t partition, int64_t offset,
                           size_t max_payload_bytes = kDeadLetterMaxPayloadBytes);

// Monotonic counters; readable from any thread.
struct SinkCounters {
  int64_t produced = 0;    // accepted into the local queue
  int64_t delivered = 0;   // acknowledged by the broker
  int64_t failed = 0;      // delivery failed (timeout, too large, ...) or purged on close
  int64_t queue_full = 0;  // Produce() calls refused because the local queue was full
};

// The delivery reports of a group of messages (one POST /v1/events): produce each with
// KafkaSink::Produce(..., group), then KafkaSink::AwaitDelivery(group). Thread-safe: the
// reports arrive on whichever thread serves them.
class DeliveryGroup {
 public:
  // Messages produced and not reported yet.
  int64_t pending() const { return pending_.load(std::memory_order_acquire); }
  // Messages the broker did not acknowledge (timed out, refused), and the first error.
  int64_t failed() const { return failed_.load(std::memory_order_acquire); }
  std::string first_error() const;

 private:
  friend class KafkaSink;
  friend struct KafkaSinkCallbacks;
  void Report(const char* error);  // nullptr: delivered

  std::atomic<int64_t> pending_{0};
  std::atomic<int64_t> failed_{0};
  mutable std::mutex mu_;
  std::string first_error_;  // GUARDED_BY(mu_)
};

// A librdkafka producer (KafkaOptions: brokers, compression, linger, bounded queue).
// Delivery is asynchronous: Produce() only enqueues; delivery reports are counted when
// Poll(), Produce() or Flush() serve them.
//
// Thread-safety: thread-safe; any thread may call any method concurrently (the HTTP threads
// produce events while the polling thread produces dead letters).
class KafkaSink {
 public:
  static Result<std::unique_ptr<KafkaSink>> Create(const KafkaOptions& options);
  // Waits up to options.producer_close_flush_ms for queued messages, then drops the rest
  // (counted as failed, logged). REQUIRES: no call in progress.
  ~KafkaSink();
  KafkaSink(const KafkaSink&) = delete;
  KafkaSink& operator=(const KafkaSink&) = delete;

  // Enqueues one message (bytes are copied); an empty key means no key (the partition is then
  // chosen at random). When the local queue is full: with block_ms == 0 returns Unavailable
  // at once (counted in queue_full); with block_ms > 0 serves delivery reports and retries
  // for up to block_ms first. Other failures (unknown topic in the local metadata, message
  // larger than message.max.bytes) return InvalidArgument.
  Status Produce(std::string_view topic, std::string_view key, std::string_view payload,
                 int block_ms = 0);
  // The same, counting the message's delivery report in *group (which must outlive the
  // report: call AwaitDelivery before destroying it).
  Status Produce(std::string_view topic, std::string_view key, std::string_view payload,
                 int block_ms, DeliveryGroup* group);
  // Serves delivery reports until every message of *group has been reported: acknowledged by
  // the broker, or failed when message_timeout_ms passed without that. REQUIRES:
  // options.message_timeout_ms > 0 (else a broker that is gone makes it wait for good).
  void AwaitDelivery(const DeliveryGroup& group);

  // Produces MakeDeadLetter(original, reason) to options.dlq_topic with the original key.
  // Waits up to block_ms for queue space (a dead letter should not be dropped lightly).
  Status ProduceDeadLetter(const Message& original, std::string_view reason, int block_ms = 1000);

  // Serves delivery reports, waiting up to timeout_ms for one. Returns how many were served.
  int Poll(int timeout_ms);

  // Waits until every queued message is delivered or failed. Unavailable if some are still
  // queued after timeout_ms (e.g. the broker is down); they stay queued and are retried until
  // message.timeout.ms.
  Status Flush(int timeout_ms);

  // Waits until every dead letter produced before the call is delivered (what a checkpoint
  // needs before it moves past their offsets). A dead letter that times out or loses its
  // connection is queued again rather than dropped; only a permanent error (e.g. too large)
  // counts it as failed. Unlike Flush() it leaves the other
  // messages lingering: rd_kafka_flush() turns linger off for the whole producer while it
  // waits, and under load the served log then goes out one or two records per request.
  // Unavailable if some are still undelivered after timeout_ms.
  Status FlushDeadLetters(int timeout_ms);

  // Messages queued or in flight, not yet reported.
  int64_t in_flight() const;
  SinkCounters counters() const;
  // Dead letters queued again after a timeout or a lost connection.
  int64_t dead_letters_retried() const { return dead_letters_retried_.load(); }

 private:
  friend struct KafkaSinkCallbacks;
  explicit KafkaSink(const KafkaOptions& options);
  // Produce() with librdkafka's per-message opaque (dead letters are tagged to be counted).
  Status ProduceTagged(std::string_view topic, std::string_view key, std::string_view payload,
                       int block_ms, void* tag);

  const KafkaOptions options_;
  rd_kafka_s* rk_ = nullptr;  // owned
  std::atomic<int64_t> produced_{0}, delivered_{0}, failed_{0}, queue_full_{0};
  // Dead letters accepted into the queue, those reported (delivered or failed for good), and
  // those queued again after a timeout or a lost connection.
  std::atomic<int64_t> dead_letters_{0}, dead_letters_done_{0}, dead_letters_retried_{0};
};

}  // namespace streamrec::stream
