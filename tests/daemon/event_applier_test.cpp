// EventApplier: checkpoints run on the writer thread while events are applied, and a failed
// checkpoint write loses nothing: the store ends up identical to that of a run in which every
// write succeeded. Dead letters go to the embedded broker (real Kafka protocol over TCP).
#include "daemon/event_applier.h"

#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <vector>

#include "common/rng.h"
#include "state/mem_store.h"
#include "stream/kafka_broker.h"
#include "stream/kafka_sink.h"

namespace streamrec::daemon {
namespace {

// Clicks and ratings of 300 users over 80 items; every 97th message is malformed.
std::vector<std::string> MakeStream(size_t n) {
  Rng rng(7);
  std::vector<std::string> s;
  for (size_t i = 0; i < n; ++i) {
    if (i % 97 == 50) {
      s.push_back("{\"type\":\"click\",\"user\":");
      continue;
    }
    const bool rating = rng.Uniform(3) == 0;
    std::string e = rating ? "{\"type\":\"rating\",\"value\":4" : "{\"type\":\"click\"";
    e += ",\"user\":\"u" + std::to_string(rng.Uniform(300)) + "\",\"item\":\"i" +
         std::to_string(rng.Uniform(80)) + "\",\"ts\":" + std::to_string(1700000000 + i) + "}";
    s.push_back(std::move(e));
  }
  return s;
}

using Dump = std::vector<std::map<std::string, std::string>>;

Dump DumpStore(const state::MemStore& store) {
  Dump d(state::kNumFamilies);
  for (size_t f = 0; f < state::kNumFamilies; ++f) {
    REQUIRE(store
                .ForEach(static_cast<state::Family>(f), "",
                         [&](std::string_view k, std::string_view v) {
                           d[f].emplace(std::string(k), std::string(v));
                           return true;
                         })
                .ok());
  }
  return d;
}

struct Run {
  Config config;
  state::MemStore store;
  MetricsRegistry metrics;
  SystemClock clock;
  std::unique_ptr<ModelState> model;
  std::unique_ptr<EventApplier> applier;

  Run(const std::string& brokers, stream::KafkaSink* sink) {
    config.kafka.brokers = brokers;
    config.checkpoint_events = 700;  // due by count: written in the background between batches
    config.checkpoint_interval_ms = 3'600'000;
    auto m = ModelState::Create(config);
    REQUIRE(m.ok());
    model = std::move(*m);
    applier = std::make_unique<EventApplier>(config, model.get(), &store, sink, &metrics, &clock);
  }

  // Feeds `stream` in polled batches of 250 over 3 partitions; `before_checkpoint(i)` runs
  // before the i-th batch's checkpoint step.
  template <typename Hook>
  void Feed(const std::vector<std::string>& stream, Hook before_checkpoint) {
    std::vector<stream::Message> batch;
    int64_t offsets[3] = {};
    for (size_t i = 0, b = 0; i < stream.size(); ++b) {
      batch.clear();
      for (size_t end = std::min(stream.size(), i + 250); i < end; ++i) {
        const auto p = static_cast<int32_t>(i % 3);
        batch.push_back(stream::Message::View("events", p, offsets[p]++, "", stream[i]));
      }
      applier->Handle(batch);
      before_checkpoint(b);
      applier->MaybeCheckpoint().IgnoreError();
    }
    // An injected failure may still be pending (the write in flight when it was injected had
    // passed the store's check): the final write then fails and the retry must repair it.
    Status st = applier->MaybeCheckpoint(/*force=*/true);
    if (!st.ok()) st = applier->MaybeCheckpoint(/*force=*/true);
    REQUIRE(st.ok());
  }
};

}  // namespace

TEST_CASE("EventApplier: failed checkpoint writes are retried and lose nothing",
          "[event_applier]") {
  auto broker = stream::KafkaBroker::Start();
  REQUIRE(broker.ok());
  REQUIRE((*broker)->CreateTopic("events.dlq", 1).ok());
  Config base;
  base.kafka.brokers = (*broker)->bootstrap_servers();
  auto sink = stream::KafkaSink::Create(base.kafka);
  REQUIRE(sink.ok());
  const auto stream = MakeStream(6000);

  Run clean(base.kafka.brokers, sink->get());
  clean.Feed(stream, [](size_t) {});

  Run faulty(base.kafka.brokers, sink->get());
  faulty.Feed(stream, [&](size_t b) {
    // Several checkpoints in a row fail, then one more later.
    if (b == 3 || b == 4 || b == 5 || b == 14) {
      faulty.store.fail_next_write(Status::IOError("injected: disk full"));
    }
  });

  // The injected failures did happen (and none in the clean run).
  auto failures = [](const Run& r) {
    const std::string text = r.metrics.RenderPrometheus();
    const std::string key = "\nstreamrec_checkpoint_failures_total ";
    const auto at = text.find(key);
    REQUIRE(at != std::string::npos);
    return std::stoi(text.substr(at + key.size()));
  };
  CHECK(failures(faulty) >= 1);
  CHECK(failures(clean) == 0);
  CHECK(faulty.applier->events_applied() == clean.applier->events_applied());
  CHECK(clean.applier->events_invalid() == 6000 / 97 + 1);
  CHECK(faulty.applier->events_invalid() == clean.applier->events_invalid());
  CHECK(faulty.applier->events_applied() == 6000 - (6000 / 97 + 1));
  const Dump a = DumpStore(clean.store);
  const Dump b = DumpStore(faulty.store);
  for (size_t f = 0; f < state::kNumFamilies; ++f) {
    INFO("family " << f);
    CHECK(a[f].size() == b[f].size());
    CHECK(a[f] == b[f]);
  }
  // And the model restored from the faulty store is the live one.
  auto restored = ModelState::Create(base);
  REQUIRE(restored.ok());
  REQUIRE((*restored)->Restore(faulty.store).ok());
  CHECK((*restored)->Sizes().events_applied == faulty.model->Sizes().events_applied);
  CHECK((*restored)->Sizes().interactions == faulty.model->Sizes().interactions);
}

}  // namespace streamrec::daemon
