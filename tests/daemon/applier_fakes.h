// Fakes for the EventApplier's collaborators, so its tests need no broker: a DeadLetterSink
// that records what it is sent and refuses or fails on demand, a MessageSource that records
// commits and answers watermarks from a table, and ApplierHarness, an applier over them, a
// real ModelState and a MemStore (which fails writes on demand).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "common/clock.h"
#include "common/metrics.h"
#include "daemon/config.h"
#include "daemon/dead_letter_sink.h"
#include "daemon/event_applier.h"
#include "daemon/model_state.h"
#include "state/mem_store.h"
#include "stream/kafka_source.h"

namespace streamrec::daemon {

class FakeDeadLetterSink final : public DeadLetterSink {
 public:
  struct Letter {
    std::string topic;
    int32_t partition = 0;
    int64_t offset = 0;
    std::string payload, reason;
  };

  Status Send(const stream::Message& original, std::string_view reason) override {
    std::lock_guard l(mu_);
    if (refuse_ != 0) {
      if (refuse_ > 0) --refuse_;
      return Status::Unavailable("fake: local queue full");
    }
    sent_.push_back({std::string(original.topic()), original.partition(), original.offset(),
                     std::string(original.payload()), std::string(reason)});
    return Status::Ok();
  }
  Status FlushSent(int /*timeout_ms*/) override {
    std::lock_guard l(mu_);
    if (fail_flush_) return Status::Unavailable("fake: 1 dead letter still undelivered");
    delivered_ = sent_.size();
    return Status::Ok();
  }

  // The next `n` Sends are refused; n < 0: every one until refuse_sends(0).
  void refuse_sends(int64_t n) {
    std::lock_guard l(mu_);
    refuse_ = n;
  }
  // While set, FlushSent fails (the broker is down).
  void fail_flushes(bool fail) {
    std::lock_guard l(mu_);
    fail_flush_ = fail;
  }
  std::vector<Letter> sent() const {
    std::lock_guard l(mu_);
    return sent_;
  }
  // Letters a successful FlushSent covered.
  size_t delivered() const {
    std::lock_guard l(mu_);
    return delivered_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<Letter> sent_;
  size_t delivered_ = 0;
  int64_t refuse_ = 0;
  bool fail_flush_ = false;
};

class FakeSource final : public stream::MessageSource {
 public:
  using Offsets = std::map<int32_t, int64_t>;

  Status PollBatch(int /*max_messages*/, int /*timeout_ms*/,
                   std::vector<stream::Message>* out) override {
    out->clear();
    return Status::Ok();
  }
  Status CommitOffsets(const std::string& topic, const Offsets& next_offsets) override {
    commits.emplace_back(topic, next_offsets);
    return Status::Ok();
  }
  bool Watermarks(const std::string& topic, int32_t partition, int64_t* low,
                  int64_t* high) const override {
    auto it = watermarks.find({topic, partition});
    if (it == watermarks.end()) return false;
    *low = it->second.first;
    *high = it->second.second;
    return true;
  }
  bool QueryWatermarks(const std::string& topic, int32_t partition, int64_t* low, int64_t* high,
                       int /*timeout_ms*/) override {
    ++queries;
    return Watermarks(topic, partition, low, high);
  }
  Status Close() override { return Status::Ok(); }

  // The last commit of `topic`; empty when there was none.
  Offsets LastCommit(const std::string& topic) const {
    for (auto it = commits.rbegin(); it != commits.rend(); ++it) {
      if (it->first == topic) return it->second;
    }
    return {};
  }

  // (topic, partition) -> (low, high), as both Watermarks and QueryWatermarks answer.
  std::map<std::pair<std::string, int32_t>, std::pair<int64_t, int64_t>> watermarks;
  std::vector<std::pair<std::string, Offsets>> commits;  // in order
  int queries = 0;                                       // QueryWatermarks calls
};

struct ApplierHarness {
  Config config;
  state::MemStore store;
  MetricsRegistry metrics;
  SystemClock clock;
  FakeDeadLetterSink dead_letters;
  FakeSource source;
  std::unique_ptr<ModelState> model;
  std::unique_ptr<EventApplier> applier;

  explicit ApplierHarness(Config c) : config(std::move(c)) {
    auto m = ModelState::Create(config);
    REQUIRE(m.ok());
    model = std::move(*m);
    applier = std::make_unique<EventApplier>(config, model.get(), &store, &dead_letters, &metrics,
                                             &clock);
    applier->set_source(&source);
  }

  // The value of the sample `series` (a name, with its labels if any) in /metrics.
  double Metric(const std::string& series) const {
    const std::string text = metrics.RenderPrometheus();
    const std::string key = "\n" + series + " ";
    const auto at = text.find(key);
    REQUIRE(at != std::string::npos);
    return std::stod(text.substr(at + key.size()));
  }
  state::OffsetMap StoredOffsets() const {
    state::OffsetMap out;
    REQUIRE(store.ReadOffsets(&out).ok());
    return out;
  }
};

}  // namespace streamrec::daemon
