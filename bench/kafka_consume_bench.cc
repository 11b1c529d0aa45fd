// Consumer throughput of KafkaSource against the embedded broker, for a few librdkafka tunings,
// next to kcat reading the same topic. A plain timing program (end-to-end seconds, not a
// micro-benchmark): produces N small JSON events (lz4, within the mock's ~5 MiB per partition),
// then for each tuning a fresh consumer group reads all of them with PollBatch().
//
//   kafka_consume_bench [messages=1000000] [partitions=16] [batch=2000] [rounds=1]
//
// The clock starts at the first message (the group join, a fixed 3 s on the mock, is excluded)
// and stops at the last. The mock broker runs in this process and competes for the CPU.
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "stream/kafka_broker.h"
#include "stream/kafka_sink.h"
#include "stream/kafka_source.h"

namespace streamrec::stream {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void Check(const Status& st, const char* what) {
  if (!st.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, st.ToString().c_str());
    std::exit(1);
  }
}

class StartAtBeginning : public RebalanceListener {
 public:
  Status OnPartitionsAssigned(std::vector<PartitionStart>*) override { return Status::Ok(); }
  void OnPartitionsRevoked(const std::vector<TopicPartition>&, bool) override {}
};

// (low, high) watermarks of every partition, asked of the broker.
std::vector<std::pair<int64_t, int64_t>> Watermarks(const std::string& brokers,
                                                    const std::string& topic, int partitions) {
  char errstr[256];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", brokers.c_str(), errstr, sizeof(errstr));
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
  std::vector<std::pair<int64_t, int64_t>> marks;
  for (int p = 0; p < partitions; ++p) {
    int64_t low = -1, high = -1;
    rd_kafka_query_watermark_offsets(rk, topic.c_str(), p, &low, &high, 5000);
    marks.emplace_back(low, high);
  }
  rd_kafka_destroy(rk);
  return marks;
}

int64_t Produce(const KafkaOptions& base, int64_t messages) {
  KafkaOptions options = base;
  options.compression_codec = "lz4";
  options.linger_ms = 50;
  options.producer_queue_max_messages = 1000000;
  options.producer_queue_max_kbytes = 1 << 20;
  options.producer_properties["batch.num.messages"] = "10000";
  options.producer_properties["batch.size"] = "4000000";
  Result<std::unique_ptr<KafkaSink>> sink = KafkaSink::Create(options);
  Check(sink.status(), "sink");
  char payload[256];
  char key[32];
  int64_t bytes = 0;
  const auto start = Clock::now();
  for (int64_t i = 0; i < messages; ++i) {
    const int n = std::snprintf(
        payload, sizeof(payload),
        R"({"type":"click","user":"u%lld","item":"m%lld","ts":%lld,"session":"s%lld","rec_id":"r%09lld"})",
        static_cast<long long>(i % 50000), static_cast<long long>(i * 7919 % 100000),
        static_cast<long long>(978300000 + i), static_cast<long long>(i % 9973),
        static_cast<long long>(i));
    std::snprintf(key, sizeof(key), "u%lld", static_cast<long long>(i % 50000));
    bytes += n;
    Check((*sink)->Produce(options.topic, key, std::string_view(payload, n), 10000), "produce");
  }
  Check((*sink)->Flush(60000), "flush");
  const double secs = SecondsSince(start);
  std::printf("produced %lld messages (avg %.0f B payload) in %.2f s: %.0f msg/s; delivered %lld\n",
              static_cast<long long>(messages), static_cast<double>(bytes) / messages, secs,
              messages / secs, static_cast<long long>((*sink)->counters().delivered));
  return bytes;
}

struct Tuning {
  const char* name;
  std::map<std::string, std::string> properties;  // on top of KafkaOptions defaults
};

// Returns messages/s.
double Consume(const KafkaOptions& base, const Tuning& tuning, int64_t messages, int batch_max,
               int64_t payload_bytes, int round) {
  KafkaOptions options = base;
  options.group_id = "bench-" + std::to_string(round);
  for (const auto& [k, v] : tuning.properties) options.consumer_properties[k] = v;
  StartAtBeginning listener;
  Result<std::unique_ptr<KafkaSource>> source = KafkaSource::Create(options, &listener);
  Check(source.status(), "source");
  std::vector<Message> batch;
  batch.reserve(static_cast<size_t>(batch_max));
  int64_t seen = 0;
  int64_t polls = 0;
  Clock::time_point first;
  const auto give_up = Clock::now() + std::chrono::seconds(120);
  while (seen < messages && Clock::now() < give_up) {
    Check((*source)->PollBatch(batch_max, 100, &batch), "poll");
    if (batch.empty()) continue;
    if (seen == 0) first = Clock::now();
    seen += static_cast<int64_t>(batch.size());
    ++polls;
  }
  const double secs = SecondsSince(first);
  batch.clear();
  Check((*source)->Close(), "close");
  std::printf("  %-44s %8.0f msg/s  %6.1f MB/s  %.2f s  avg batch %5.0f%s\n", tuning.name,
              seen / secs, payload_bytes / secs / 1e6, secs,
              static_cast<double>(seen) / static_cast<double>(polls),
              seen == messages ? "" : "  (INCOMPLETE)");
  return seen == messages ? seen / secs : 0;
}

// Returns messages/s, start-up included.
double Kcat(const std::string& brokers, const std::string& topic, int64_t messages) {
  if (std::system("command -v kcat >/dev/null 2>&1") != 0) {
    std::printf("  kcat: not on PATH, skipped\n");
    return 0;
  }
  const std::string cmd = "kcat -C -b " + brokers + " -t " + topic + " -e -q -o beginning | wc -l";
  const auto start = Clock::now();
  FILE* p = popen(cmd.c_str(), "r");
  long long lines = 0;
  if (p == nullptr || std::fscanf(p, "%lld", &lines) != 1) lines = -1;
  if (p != nullptr) pclose(p);
  const double secs = SecondsSince(start);
  std::printf("  %-44s %8.0f msg/s  (%lld lines in %.2f s, incl. start-up)%s\n",
              "kcat -C -e -q | wc -l", static_cast<double>(lines) / secs, lines, secs,
              lines == messages ? "" : "  (INCOMPLETE)");
  return lines == messages ? static_cast<double>(lines) / secs : 0;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

int Main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress, also when redirected
  const int64_t messages = argc > 1 ? std::atoll(argv[1]) : 1000000;
  const int partitions = argc > 2 ? std::atoi(argv[2]) : 16;
  const int batch_max = argc > 3 ? std::atoi(argv[3]) : 2000;
  const int rounds = argc > 4 ? std::atoi(argv[4]) : 1;

  Result<std::unique_ptr<KafkaBroker>> broker = KafkaBroker::Start();
  Check(broker.status(), "broker");
  const std::string topic = "bench";
  Check((*broker)->CreateTopic(topic, partitions), "topic");
  KafkaOptions options;
  options.brokers = (*broker)->bootstrap_servers();
  options.topic = topic;
  options.client_id = "kafka-consume-bench";

  const int64_t bytes = Produce(options, messages);
  int64_t kept = 0;
  for (const auto& [low, high] : Watermarks(options.brokers, topic, partitions)) {
    if (low != 0)
      std::printf("WARNING: the mock dropped old messages (log start %lld)\n",
                  static_cast<long long>(low));
    kept += high - low;
  }
  std::printf("broker holds %lld messages in %d partitions; PollBatch(max %d, 100 ms)\n",
              static_cast<long long>(kept), partitions, batch_max);

  const std::vector<Tuning> tunings = {
      {"librdkafka 2.0.2 defaults",
       {{"queued.min.messages", "100000"},
        {"max.partition.fetch.bytes", "1048576"},
        {"fetch.wait.max.ms", "500"}}},
      {"KafkaOptions defaults (qmm 1M, 4 MiB, 100 ms)", {}},
      {"queued.min.messages=1000", {{"queued.min.messages", "1000"}}},
      {"queued.min.messages=10000", {{"queued.min.messages", "10000"}}},
      {"queued.min.messages=100000", {{"queued.min.messages", "100000"}}},
      {"max.partition.fetch.bytes=256KiB", {{"max.partition.fetch.bytes", "262144"}}},
      {"fetch.wait.max.ms=500", {{"fetch.wait.max.ms", "500"}}},
  };
  std::vector<std::vector<double>> rates(tunings.size() + 1);
  int round = 0;
  for (int r = 0; r < rounds; ++r) {
    std::printf("round %d\n", r + 1);
    for (size_t t = 0; t < tunings.size(); ++t) {
      rates[t].push_back(Consume(options, tunings[t], kept, batch_max, bytes, round++));
    }
    rates.back().push_back(Kcat(options.brokers, topic, kept));
  }
  std::printf("median of %d round(s), messages/s:\n", rounds);
  for (size_t t = 0; t < tunings.size(); ++t) {
    std::printf("  %-44s %8.0f\n", tunings[t].name, Median(rates[t]));
  }
  std::printf("  %-44s %8.0f\n", "kcat (start-up included)", Median(rates.back()));
  return 0;
}

}  // namespace
}  // namespace streamrec::stream

int main(int argc, char** argv) { return streamrec::stream::Main(argc, argv); }
