#include "stream/kafka_sink.h"

#include "common/json.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <chrono>

#include "stream/kafka_conf.h"

namespace streamrec::stream {

using internal::Log;

// ---------------------------------------------------------------------------------------------
// Dead letters

namespace {

// Length of the valid UTF-8 sequence (RFC 3629: no overlongs, no surrogates, <= U+10FFFF)
// starting at s[i], or 0 if the byte there does not start one.

void AppendBase64(std::string_view bytes, std::string* out) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t i = 0;
  const auto at = [&](size_t k) {
    return static_cast<uint32_t>(static_cast<unsigned char>(bytes[k]));
  };
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = at(i) << 16 | at(i + 1) << 8 | at(i + 2);
    out->push_back(kAlphabet[v >> 18 & 63]);
    out->push_back(kAlphabet[v >> 12 & 63]);
    out->push_back(kAlphabet[v >> 6 & 63]);
    out->push_back(kAlphabet[v & 63]);
  }
  if (const size_t rest = bytes.size() - i; rest > 0) {
    const uint32_t v = at(i) << 16 | (rest == 2 ? at(i + 1) << 8 : 0);
    out->push_back(kAlphabet[v >> 18 & 63]);
    out->push_back(kAlphabet[v >> 12 & 63]);
    out->push_back(rest == 2 ? kAlphabet[v >> 6 & 63] : '=');
    out->push_back('=');
  }
}

}  // namespace

std::string MakeDeadLetter(std::string_view payload, std::string_view reason,
                           std::string_view topic, int32_t partition, int64_t offset,
                           size_t max_payload_bytes) {
  const size_t original_size = payload.size();
  const bool truncated = payload.size() > max_payload_bytes;
  if (truncated) payload = payload.substr(0, max_payload_bytes);

  std::string out;
  out.reserve(payload.size() + reason.size() + topic.size() + 128);
  out.append("{\"reason\":");
  AppendJsonString(reason, &out, InvalidUtf8::kEscapeBytes);
  out.append(",\"topic\":");
  AppendJsonString(topic, &out, InvalidUtf8::kEscapeBytes);
  out.append(",\"partition\":");
  out.append(std::to_string(partition));
  out.append(",\"offset\":");
  out.append(std::to_string(offset));
  out.append(",\"payload\":\"");
  const bool valid_utf8 = AppendJsonEscaped(payload, &out, InvalidUtf8::kEscapeBytes);
  out.append("\",\"payload_bytes\":");
  out.append(std::to_string(original_size));
  if (!valid_utf8) {
    out.append(",\"payload_base64\":\"");
    AppendBase64(payload, &out);
    out.push_back('"');
  }
  if (truncated) out.append(",\"payload_truncated\":true");
  out.push_back('}');
  return out;
}

// ---------------------------------------------------------------------------------------------
// KafkaSink

namespace {
// The per-message opaque of dead letters (only its address matters).
char dead_letter_tag;
}  // namespace

struct KafkaSinkCallbacks {
  // Served by rd_kafka_poll()/rd_kafka_flush() on whichever thread calls them.
  static void Delivery(rd_kafka_t* rk, const rd_kafka_message_t* m, void* opaque) {
    auto* self = static_cast<KafkaSink*>(opaque);
    if (m->_private == &dead_letter_tag) {
      // A dead letter is never given up on while the broker is only away: the checkpoint that
      // moves past its event waits for it (FlushDeadLetters), so dropping it would lose the
      // event. Timed out or cut off: queue the same bytes again (still in flight).
      if ((m->err == RD_KAFKA_RESP_ERR__MSG_TIMED_OUT || m->err == RD_KAFKA_RESP_ERR__TRANSPORT) &&
          rd_kafka_producev(
              rk, RD_KAFKA_V_RKT(m->rkt), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
              RD_KAFKA_V_KEY(m->key, m->key_len), RD_KAFKA_V_VALUE(m->payload, m->len),
              RD_KAFKA_V_OPAQUE(&dead_letter_tag), RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        self->dead_letters_retried_.fetch_add(1, std::memory_order_relaxed);
        Log("delivery", "dead letter to %s not delivered (%s): queued again",
            rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err));
        return;
      }
      self->dead_letters_done_.fetch_add(1, std::memory_order_release);
    }
    if (m->_private != nullptr && m->_private != &dead_letter_tag) {
      static_cast<DeliveryGroup*>(m->_private)
          ->Report(m->err == RD_KAFKA_RESP_ERR_NO_ERROR ? nullptr : rd_kafka_err2str(m->err));
    }
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      self->delivered_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    self->failed_.fetch_add(1, std::memory_order_relaxed);
    Log("delivery", "delivery to %s failed: %s", rd_kafka_topic_name(m->rkt),
        rd_kafka_err2str(m->err));
  }
  static void Error(rd_kafka_t* rk, int err, const char* reason, void* /*opaque*/) {
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
      char fatal_reason[512];
      rd_kafka_fatal_error(rk, fatal_reason, sizeof(fatal_reason));
      Log("producer_fatal", "fatal producer error: %s", fatal_reason);
      return;
    }
    Log("producer_error", "producer error %s: %s",
        rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err)), reason);
  }
};

KafkaSink::KafkaSink(const KafkaOptions& options) : options_(options) {}

Result<std::unique_ptr<KafkaSink>> KafkaSink::Create(const KafkaOptions& options) {
  Result<internal::ConfPtr> conf = internal::MakeConf(options, internal::ClientRole::kProducer);
  if (!conf.ok()) return conf.status();
  std::unique_ptr<KafkaSink> sink(new KafkaSink(options));
  rd_kafka_conf_set_opaque(conf->get(), sink.get());
  rd_kafka_conf_set_dr_msg_cb(conf->get(), &KafkaSinkCallbacks::Delivery);
  rd_kafka_conf_set_error_cb(conf->get(), &KafkaSinkCallbacks::Error);
  char errstr[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf->get(), errstr, sizeof(errstr));
  if (rk == nullptr) return Status::InvalidArgument(std::string("producer: ") + errstr);
  conf->release();  // rd_kafka_new() took it
  sink->rk_ = rk;
  return sink;
}

KafkaSink::~KafkaSink() {
  if (rk_ == nullptr) return;
  if (rd_kafka_flush(rk_, options_.producer_close_flush_ms) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    // Fail what is left so that the delivery callback counts it, rather than lose it silently.
    rd_kafka_purge(rk_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_poll(rk_, 0);
    Log("close", "producer closed with undelivered messages (%lld failed in total)",
        static_cast<long long>(failed_.load()));
  }
  rd_kafka_destroy(rk_);
}

Status KafkaSink::Produce(std::string_view topic, std::string_view key, std::string_view payload,
                          int block_ms) {
  return ProduceTagged(topic, key, payload, block_ms, nullptr);
}

Status KafkaSink::ProduceTagged(std::string_view topic, std::string_view key,
                                std::string_view payload, int block_ms, void* tag) {
  const std::string topic_name(topic);  // librdkafka wants a NUL-terminated name
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(block_ms);
  for (;;) {
    // The casts drop const only for librdkafka's C signature: with RD_KAFKA_MSG_F_COPY it
    // copies key and payload before returning and never writes to them.
    rd_kafka_resp_err_t err = rd_kafka_producev(
        rk_, RD_KAFKA_V_TOPIC(topic_name.c_str()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_KEY(key.empty() ? nullptr : const_cast<char*>(key.data()), key.size()),
        RD_KAFKA_V_VALUE(const_cast<char*>(payload.data()), payload.size()), RD_KAFKA_V_OPAQUE(tag),
        RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      produced_.fetch_add(1, std::memory_order_relaxed);
      if (tag == &dead_letter_tag) dead_letters_.fetch_add(1, std::memory_order_relaxed);
      rd_kafka_poll(rk_, 0);  // serve delivery reports as we go
      return Status::Ok();
    }
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      return Status::InvalidArgument("produce to " + topic_name + ": " + rd_kafka_err2str(err));
    }
    if (block_ms <= 0 || std::chrono::steady_clock::now() >= deadline) {
      queue_full_.fetch_add(1, std::memory_order_relaxed);
      return Status::Unavailable("produce to " + topic_name + ": local queue full");
    }
    rd_kafka_poll(rk_, 10);  // make room: deliveries free queue slots
  }
}

Status KafkaSink::Produce(std::string_view topic, std::string_view key, std::string_view payload,
                          int block_ms, DeliveryGroup* group) {
  group->pending_.fetch_add(1, std::memory_order_relaxed);
  Status st = ProduceTagged(topic, key, payload, block_ms, group);
  if (!st.ok()) group->pending_.fetch_sub(1, std::memory_order_release);
  return st;
}

void KafkaSink::AwaitDelivery(const DeliveryGroup& group) {
  while (group.pending() > 0) rd_kafka_poll(rk_, 10);
}

std::string DeliveryGroup::first_error() const {
  std::lock_guard l(mu_);
  return first_error_;
}

void DeliveryGroup::Report(const char* error) {
  if (error != nullptr) {
    {
      std::lock_guard l(mu_);
      if (first_error_.empty()) first_error_ = error;
    }
    failed_.fetch_add(1, std::memory_order_relaxed);
  }
  pending_.fetch_sub(1, std::memory_order_release);  // last: the group may go away after it
}

Status KafkaSink::ProduceDeadLetter(const Message& original, std::string_view reason,
                                    int block_ms) {
  return ProduceTagged(options_.dlq_topic, original.key(),
                       MakeDeadLetter(original.payload(), reason, original.topic(),
                                      original.partition(), original.offset()),
                       block_ms, &dead_letter_tag);
}

Status KafkaSink::FlushDeadLetters(int timeout_ms) {
  const int64_t target = dead_letters_.load(std::memory_order_relaxed);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (dead_letters_done_.load(std::memory_order_acquire) < target) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return Status::Unavailable("flush: " + std::to_string(target - dead_letters_done_.load()) +
                                 " dead letters still undelivered after " +
                                 std::to_string(timeout_ms) + " ms");
    }
    rd_kafka_poll(rk_, 10);  // serves the delivery reports
  }
  return Status::Ok();
}

int KafkaSink::Poll(int timeout_ms) { return rd_kafka_poll(rk_, timeout_ms); }

Status KafkaSink::Flush(int timeout_ms) {
  if (rd_kafka_flush(rk_, timeout_ms) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Status::Unavailable("flush: " + std::to_string(rd_kafka_outq_len(rk_)) +
                               " messages still queued after " + std::to_string(timeout_ms) +
                               " ms");
  }
  return Status::Ok();
}

int64_t KafkaSink::in_flight() const { return rd_kafka_outq_len(rk_); }

SinkCounters KafkaSink::counters() const {
  SinkCounters c;
  c.produced = produced_.load(std::memory_order_relaxed);
  c.delivered = delivered_.load(std::memory_order_relaxed);
  c.failed = failed_.load(std::memory_order_relaxed);
  c.queue_full = queue_full_.load(std::memory_order_relaxed);
  return c;
}

}  // namespace streamrec::stream
