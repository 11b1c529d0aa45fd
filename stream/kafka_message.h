// Message: one consumed Kafka record, handed out without copying its bytes.
#pragma once

#include <cstdint>
#include <string_view>
#include <utility>

struct rd_kafka_message_s;  // librdkafka's rd_kafka_message_t; rdkafka.h stays out of headers.

namespace streamrec::stream {

// Logical start offsets a RebalanceListener may give instead of an absolute offset.
inline constexpr int64_t kOffsetBeginning = -2;     // the oldest message still in the log
inline constexpr int64_t kOffsetEnd = -1;           // only messages produced from now on
inline constexpr int64_t kOffsetCommitted = -1000;  // the group's committed offset in Kafka
inline constexpr int64_t kOffsetUnknown = -1001;

// A consumed record: topic, partition, offset, key, payload, timestamp. Move-only. When it
// comes from KafkaSource it owns the librdkafka message and its views point into librdkafka's
// buffer (no copy); they stay valid until the Message is destroyed or assigned to.
//
// REQUIRES: every Message from a KafkaSource is destroyed before that KafkaSource is
// destroyed (librdkafka's rd_kafka_destroy() waits for outstanding messages).
// Thread-safety: a Message may be read from several threads at once; it is not synchronized
// otherwise (like any value).
class Message {
 public:
  Message() = default;
  ~Message() {
    if (handle_ != nullptr) Release();
  }
  Message(Message&& other) noexcept { *this = std::move(other); }
  Message& operator=(Message&& other) noexcept {
    if (this != &other) {
      if (handle_ != nullptr) Release();
      handle_ = std::exchange(other.handle_, nullptr);
      topic_ = other.topic_;
      key_ = other.key_;
      payload_ = other.payload_;
      partition_ = other.partition_;
      offset_ = other.offset_;
      timestamp_ms_ = other.timestamp_ms_;
    }
    return *this;
  }
  Message(const Message&) = delete;
  Message& operator=(const Message&) = delete;

  // A Message over caller-owned bytes (test fakes, replay from files). Nothing is copied: the
  // bytes behind topic, key and payload must outlive the Message.
  static Message View(std::string_view topic, int32_t partition, int64_t offset,
                      std::string_view key, std::string_view payload, int64_t timestamp_ms = -1) {
    Message m;
    m.topic_ = topic;
    m.partition_ = partition;
    m.offset_ = offset;
    m.key_ = key;
    m.payload_ = payload;
    m.timestamp_ms_ = timestamp_ms;
    return m;
  }

  std::string_view topic() const { return topic_; }
  int32_t partition() const { return partition_; }
  int64_t offset() const { return offset_; }
  // Empty when the record has no key.
  std::string_view key() const { return key_; }
  std::string_view payload() const { return payload_; }
  // Producer (CreateTime) or broker (LogAppendTime) timestamp in ms since the epoch; -1 if none.
  int64_t timestamp_ms() const { return timestamp_ms_; }

 private:
  friend class KafkaSource;
  // Takes ownership of a consumed librdkafka message without error (defined in kafka_source.cc).
  static Message Adopt(rd_kafka_message_s* handle);
  void Release();

  rd_kafka_message_s* handle_ = nullptr;  // owned; null for View()s
  std::string_view topic_;
  std::string_view key_;
  std::string_view payload_;
  int32_t partition_ = -1;
  int64_t offset_ = kOffsetUnknown;
  int64_t timestamp_ms_ = -1;
};

}  // namespace streamrec::stream
