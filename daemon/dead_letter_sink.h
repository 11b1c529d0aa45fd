// DeadLetterSink: where the EventApplier sends the events it refuses (with the reason), and
// how a checkpoint makes sure they were delivered before it stores offsets past them.
// KafkaDeadLetterSink produces them to the dead-letter topic through a stream::KafkaSink
// (stream/kafka_sink.h gives the record's format); tests use a fake.
//
// Thread safety: Send is called by the consumer thread and FlushSent by the checkpoint
// writer's thread, concurrently; implementations must allow that.
#pragma once

#include <string_view>

#include "common/status.h"
#include "stream/kafka_message.h"

namespace streamrec::stream {
class KafkaSink;
}  // namespace streamrec::stream

namespace streamrec::daemon {

class DeadLetterSink {
 public:
  virtual ~DeadLetterSink() = default;

  // Queues the dead letter of `original` (its topic, partition, offset, key and bytes) with
  // `reason`. Non-OK when it cannot be taken now (a full queue behind a down broker): nothing
  // was queued, and the caller may try again.
  virtual Status Send(const stream::Message& original, std::string_view reason) = 0;
  // Waits up to timeout_ms until every dead letter sent before the call is delivered.
  // Unavailable when some are not: their offsets must not be stored yet.
  virtual Status FlushSent(int timeout_ms) = 0;
};

// Dead letters to KafkaOptions::dlq_topic of the sink's options (KafkaSink::ProduceDeadLetter,
// waiting up to a second for queue space; FlushSent is KafkaSink::FlushDeadLetters).
class KafkaDeadLetterSink final : public DeadLetterSink {
 public:
  // `sink` is borrowed and must outlive this object.
  explicit KafkaDeadLetterSink(stream::KafkaSink* sink) : sink_(sink) {}

  Status Send(const stream::Message& original, std::string_view reason) override;
  Status FlushSent(int timeout_ms) override;

 private:
  stream::KafkaSink* const sink_;
};

}  // namespace streamrec::daemon
