// The consumer thread's whole per-event path without the network: generated events (the same
// stream `streamrec gen` writes for bench/serve_bench.sh) are handed to the daemon's
// EventApplier as Kafka messages of 8 partitions, which decodes, applies them to the
// ModelState under its lock and checkpoints into RocksDB on disk (dead letters go to an
// in-process broker) exactly as `streamrec serve` does. Events/s here is the ceiling of the
// daemon's ingest; bench/serve_bench.sh measures it through a broker.
//
//   build/bench/apply_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/metrics.h"
#include "common/rng.h"
#include "daemon/config.h"
#include "daemon/dead_letter_sink.h"
#include "daemon/event_applier.h"
#include "daemon/model_state.h"
#include "state/options.h"
#include "state/rocksdb_store.h"
#include "stream/kafka_broker.h"
#include "stream/kafka_sink.h"
#include "tools/gen.h"

namespace streamrec {
namespace {

constexpr int kPartitions = 8;

// The generated stream, as Kafka would deliver it: partition by user, offsets per partition.
struct Stream {
  std::string bytes;
  std::vector<stream::Message> messages;
};

const Stream& Events(uint32_t users, uint32_t items, uint64_t events) {
  static Stream s;
  if (!s.messages.empty()) return s;
  tools::GenOptions g;
  g.users = users;
  g.items = items;
  g.events = events;
  g.seed = 1;
  tools::EventGenerator gen(g);
  std::vector<std::pair<size_t, size_t>> spans;
  size_t begin = 0;
  while (gen.Next(&s.bytes)) {
    spans.emplace_back(begin, s.bytes.size() - begin - 1);  // without '\n'
    begin = s.bytes.size();
  }
  int64_t next_offset[kPartitions] = {};
  for (const auto& [off, len] : spans) {
    const std::string_view payload(s.bytes.data() + off, len);
    const auto u = payload.find("\"user\":\"");
    const std::string_view key = u == std::string_view::npos
                                     ? std::string_view()
                                     : payload.substr(u + 8, payload.find('"', u + 8) - u - 8);
    const auto p = static_cast<int32_t>(Mix64(std::hash<std::string_view>{}(key)) % kPartitions);
    s.messages.push_back(stream::Message::View("events", p, next_offset[p]++, key, payload));
  }
  return s;
}

void BM_ApplyStream(benchmark::State& state) {
  const auto& s = Events(100'000, 20'000, 1'000'000);
  auto broker = stream::KafkaBroker::Start();
  if (!broker.ok()) return state.SkipWithError(broker.status().ToString().c_str());
  daemon::Config config;
  config.kafka.brokers = (*broker)->bootstrap_servers();
  // Arg 0: no session model (the cost of sessions is the difference), 1: the default (fpmc).
  if (state.range(0) == 0) config.session.model = "none";
  auto sink = stream::KafkaSink::Create(config.kafka);
  if (!sink.ok()) return state.SkipWithError(sink.status().ToString().c_str());
  daemon::KafkaDeadLetterSink dead_letters(sink->get());
  const std::string dir = std::filesystem::temp_directory_path() / "streamrec-apply-bench";
  SystemClock clock;
  for (auto _ : state) {
    state.PauseTiming();
    std::filesystem::remove_all(dir);
    std::unique_ptr<state::StateStore> store;
    state::StateOptions so;
    so.config_fingerprint = config.Fingerprint();
    if (Status st = state::RocksDBStore::Open(so, dir, &store); !st.ok()) {
      return state.SkipWithError(st.ToString().c_str());
    }
    auto model = daemon::ModelState::Create(config);
    MetricsRegistry metrics;
    daemon::EventApplier applier(config, model->get(), store.get(), &dead_letters, &metrics,
                                 &clock);
    std::vector<stream::Message> batch;
    state.ResumeTiming();
    for (size_t i = 0; i < s.messages.size();) {
      const size_t end = std::min(s.messages.size(), i + config.kafka.batch_max_messages);
      batch.clear();
      for (; i < end; ++i) {
        const auto& m = s.messages[i];
        batch.push_back(
            stream::Message::View(m.topic(), m.partition(), m.offset(), m.key(), m.payload()));
      }
      applier.Handle(batch);
      if (Status st = applier.MaybeCheckpoint(); !st.ok()) {
        return state.SkipWithError(st.ToString().c_str());
      }
    }
    if (Status st = applier.MaybeCheckpoint(/*force=*/true); !st.ok()) {
      return state.SkipWithError(st.ToString().c_str());
    }
  }
  std::filesystem::remove_all(dir);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * s.messages.size()));
}
BENCHMARK(BM_ApplyStream)
    ->ArgName("sessions")
    ->Arg(0)
    ->Arg(1)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(2)
    ->UseRealTime();

}  // namespace
}  // namespace streamrec
