// KafkaSink and the dead-letter format: JSON validity for any bytes, the round trip through
// the embedded broker, the bounded queue.
#include <catch2/catch.hpp>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/stream/kafka_test_support.h"

namespace streamrec::stream {
namespace {

using testing::AtLeast;
using testing::ConsumeUntil;
using testing::OffsetStore;
using testing::Record;
using testing::StartCluster;
using testing::StoreListener;

std::string DecodeBase64(const std::string& in) {
  static const std::string kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    const size_t v = kAlphabet.find(c);
    REQUIRE(v != std::string::npos);
    acc = acc << 6 | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>(acc >> bits & 0xFF));
    }
  }
  return out;
}

// Reads the dead-letter topic from the start as consumer group `group` until it has `n`
// records (or 15 s pass).
std::vector<Record> ReadDeadLetters(const KafkaOptions& cluster_options, const std::string& group,
                                    size_t n) {
  KafkaOptions options = cluster_options;
  options.topic = options.dlq_topic;
  options.group_id = group;
  OffsetStore store;
  StoreListener listener("dlq", &store);
  Result<std::unique_ptr<KafkaSource>> source = KafkaSource::Create(options, &listener);
  REQUIRE(source.ok());
  std::vector<Record> records = ConsumeUntil(source->get(), &listener, AtLeast(n), 15000);
  REQUIRE((*source)->Close().ok());
  return records;
}

// The bytes a dead letter stands for: payload_base64 if present, else payload.
std::string OriginalBytes(const nlohmann::json& j) {
  if (j.contains("payload_base64")) return DecodeBase64(j["payload_base64"].get<std::string>());
  return j["payload"].get<std::string>();
}

TEST_CASE("kafka_sink: dead letters are valid JSON and keep the original bytes", "[kafka]") {
  struct Case {
    std::string name;
    std::string payload;
    bool valid_utf8;
  };
  const std::vector<Case> cases = {
      {"json", R"({"type":"rating","user":"u1","value":"x"})", true},
      {"controls and quotes", std::string("a\"b\\c\n\r\t\x01\x1f\x7f") + std::string(1, '\0'),
       true},
      {"multibyte", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf", true},
      {"empty", "", true},
      {"lone 0xff",
       "ab\xff"
       "cd",
       false},
      {"continuation byte alone", "\x80", false},
      {"overlong slash", "\xc0\xaf", false},
      {"overlong 3-byte", "\xe0\x80\xaf", false},
      {"surrogate", "\xed\xa0\x80", false},
      {"above U+10FFFF", "\xf4\x90\x80\x80", false},
      {"truncated sequence at end", "ok\xe2\x82", false},
      {"truncated sequence inside",
       "\xe2\x82"
       "abc",
       false},
      {"binary", std::string("\x00\xff\xfe\x10\x80\x9f", 6), false},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    const std::string letter = MakeDeadLetter(c.payload, "bad \"json\"\n", "events", 3, 1234);
    nlohmann::json j;
    REQUIRE_NOTHROW(j = nlohmann::json::parse(letter));  // strict: rejects invalid UTF-8
    REQUIRE(j["reason"] == "bad \"json\"\n");
    REQUIRE(j["topic"] == "events");
    REQUIRE(j["partition"] == 3);
    REQUIRE(j["offset"] == 1234);
    REQUIRE(j["payload_bytes"] == c.payload.size());
    REQUIRE(j.contains("payload_base64") == !c.valid_utf8);
    REQUIRE_FALSE(j.contains("payload_truncated"));
    if (c.valid_utf8) REQUIRE(j["payload"].get<std::string>() == c.payload);
    REQUIRE(OriginalBytes(j) == c.payload);
  }

  // Bytes that are not UTF-8 read as \u00XX in "payload".
  nlohmann::json j = nlohmann::json::parse(MakeDeadLetter("a\xff", "r", "t", 0, 0));
  REQUIRE(j["payload"] == "a\xc3\xbf");  // U+00FF
}

TEST_CASE("kafka_sink: oversized payloads are truncated in the dead letter", "[kafka]") {
  const std::string big(1000, 'x');
  nlohmann::json j = nlohmann::json::parse(MakeDeadLetter(big, "oversized", "events", 0, 7, 100));
  REQUIRE(j["payload"].get<std::string>() == big.substr(0, 100));
  REQUIRE(j["payload_bytes"] == 1000);
  REQUIRE(j["payload_truncated"] == true);

  // A cut through a multi-byte character leaves escaped bytes and an exact base64 copy.
  const std::string euros = "\xe2\x82\xac\xe2\x82\xac";
  j = nlohmann::json::parse(MakeDeadLetter(euros, "oversized", "events", 0, 7, 4));
  REQUIRE(DecodeBase64(j["payload_base64"].get<std::string>()) == euros.substr(0, 4));
}

TEST_CASE("kafka_sink: a dead letter round-trips through the broker with its key", "[kafka]") {
  auto cluster = StartCluster(2);
  Result<std::unique_ptr<KafkaSink>> sink = KafkaSink::Create(cluster.options);
  REQUIRE(sink.ok());
  const std::string bad_payload = "{\"type\":\"rating\",\"user\":\"u\xff\"";
  Message original = Message::View("events", 5, 42, "u42", bad_payload, 1700000000000);
  REQUIRE((*sink)->ProduceDeadLetter(original, "invalid JSON: unterminated object").ok());
  REQUIRE((*sink)->ProduceDeadLetter(Message::View("events", 1, 7, "", "ok"), "no key").ok());
  REQUIRE((*sink)->Flush(10000).ok());
  REQUIRE((*sink)->counters().delivered == 2);

  std::vector<Record> records = ReadDeadLetters(cluster.options, "dlq-reader", 2);
  REQUIRE(records.size() == 2);

  bool saw_keyed = false;
  for (const Record& r : records) {
    REQUIRE(r.topic == "events.dlq");
    nlohmann::json j = nlohmann::json::parse(r.payload);
    if (r.key == "u42") {
      saw_keyed = true;
      REQUIRE(j["reason"] == "invalid JSON: unterminated object");
      REQUIRE(j["topic"] == "events");
      REQUIRE(j["partition"] == 5);
      REQUIRE(j["offset"] == 42);
      REQUIRE(OriginalBytes(j) == bad_payload);
    } else {
      REQUIRE(r.key.empty());
      REQUIRE(j["payload"] == "ok");
    }
  }
  REQUIRE(saw_keyed);
}

TEST_CASE("kafka_sink: a full local queue is refused at once, not blocked on", "[kafka]") {
  auto cluster = StartCluster(1);
  KafkaOptions options = cluster.options;
  options.producer_queue_max_messages = 10;
  options.producer_close_flush_ms = 100;
  Result<std::unique_ptr<KafkaSink>> sink = KafkaSink::Create(options);
  REQUIRE(sink.ok());
  REQUIRE(cluster.broker->SetBrokerDown(1).ok());
  for (int i = 0; i < 10; ++i) REQUIRE((*sink)->Produce("events", "k", "v").ok());
  const auto start = std::chrono::steady_clock::now();
  REQUIRE((*sink)->Produce("events", "k", "v").code() == Status::Code::kUnavailable);
  REQUIRE((*sink)->Produce("events", "k", "v", /*block_ms=*/50).code() ==
          Status::Code::kUnavailable);
  REQUIRE(std::chrono::steady_clock::now() - start < std::chrono::seconds(1));
  REQUIRE((*sink)->counters().queue_full == 2);
  REQUIRE((*sink)->counters().produced == 10);

  // Back up: the queued ten are delivered.
  REQUIRE(cluster.broker->SetBrokerUp(1).ok());
  REQUIRE((*sink)->Flush(10000).ok());
  REQUIRE((*sink)->counters().delivered == 10);
}

TEST_CASE("kafka_sink: FlushDeadLetters waits for dead letters only, and leaves linger on",
          "[kafka]") {
  auto cluster = StartCluster(1);
  KafkaOptions options = cluster.options;
  options.linger_ms = 1500;
  Result<std::unique_ptr<KafkaSink>> sink = KafkaSink::Create(options);
  REQUIRE(sink.ok());
  // No dead letter yet: returns at once, and the lingering record stays queued (Flush() would
  // have sent it).
  REQUIRE((*sink)->Produce("served", "u1", "{}").ok());
  auto start = std::chrono::steady_clock::now();
  REQUIRE((*sink)->FlushDeadLetters(10000).ok());
  REQUIRE(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(500));
  REQUIRE((*sink)->in_flight() == 1);

  // A dead letter: waited for until the broker has it.
  REQUIRE((*sink)->ProduceDeadLetter(Message::View("events", 0, 3, "u1", "x"), "bad").ok());
  REQUIRE((*sink)->FlushDeadLetters(10000).ok());
  REQUIRE((*sink)->counters().delivered >= 1);

  // Broker down: Unavailable after the timeout, Ok once it is back.
  REQUIRE(cluster.broker->SetBrokerDown(1).ok());
  REQUIRE((*sink)->ProduceDeadLetter(Message::View("events", 0, 4, "u1", "y"), "bad").ok());
  REQUIRE((*sink)->FlushDeadLetters(200).code() == Status::Code::kUnavailable);
  REQUIRE(cluster.broker->SetBrokerUp(1).ok());
  REQUIRE((*sink)->FlushDeadLetters(20000).ok());
  REQUIRE((*sink)->Flush(10000).ok());
  REQUIRE((*sink)->counters().delivered == 3);
}

TEST_CASE("kafka_sink: a dead letter that times out while the broker is away is sent again",
          "[kafka]") {
  auto cluster = StartCluster(1);
  KafkaOptions options = cluster.options;
  options.message_timeout_ms = 300;
  options.linger_ms = 5;
  Result<std::unique_ptr<KafkaSink>> sink = KafkaSink::Create(options);
  REQUIRE(sink.ok());
  REQUIRE(cluster.broker->SetBrokerDown(1).ok());
  REQUIRE((*sink)->ProduceDeadLetter(Message::View("events", 0, 9, "u9", "{bad"), "bad").ok());
  // Past message.timeout.ms the delivery fails; it is queued again, not counted as done.
  const auto start = std::chrono::steady_clock::now();
  while ((*sink)->dead_letters_retried() == 0 &&
         std::chrono::steady_clock::now() - start < std::chrono::seconds(10)) {
    (*sink)->Poll(50);
  }
  REQUIRE((*sink)->dead_letters_retried() >= 1);
  REQUIRE((*sink)->FlushDeadLetters(100).code() == Status::Code::kUnavailable);
  REQUIRE((*sink)->counters().failed == 0);
  // Back up: it arrives, once.
  REQUIRE(cluster.broker->SetBrokerUp(1).ok());
  REQUIRE((*sink)->FlushDeadLetters(20000).ok());
  REQUIRE((*sink)->counters().delivered == 1);

  std::vector<Record> records = ReadDeadLetters(cluster.options, "dlq-retry-reader", 1);
  REQUIRE(records.size() == 1);
  CHECK(records[0].key == "u9");
  CHECK(nlohmann::json::parse(records[0].payload)["offset"] == 9);
}

}  // namespace
}  // namespace streamrec::stream
