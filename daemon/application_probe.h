// ApplicationProbe: the metrics `streamrec serve` registers around the live model: its sizes
// and the exploration's counts (read at scrape time), the model's lock timings, the consumer's
// lag per partition. It registers them with the MetricsRegistry (names and help texts live in
// application_probe.cc); Application hands it what they read and never sees a metric name.
//
// Thread safety: the Watch* calls and OnPartitionLag are made from one thread at a time
// (Start, then the consumer thread); the histograms are lock-free and used from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <set>

#include "common/metrics.h"

namespace streamrec::daemon {

class EventApplier;
class ModelState;

class ApplicationProbe {
 public:
  // Registers the lock-timing histograms with `metrics`, which must outlive the probe and
  // everything that records into the histograms.
  explicit ApplicationProbe(MetricsRegistry& metrics);
  ApplicationProbe(const ApplicationProbe&) = delete;
  ApplicationProbe& operator=(const ApplicationProbe&) = delete;

  // Registers the model's size gauges (users, items, interactions, live sessions), read at
  // scrape time; `model` must outlive every later scrape.
  void WatchModel(const ModelState& model);
  // Registers the exploration's rewards, pool, graduations and open impressions (`model`) and
  // the served records held (`applier`), read at scrape time; both must outlive every later
  // scrape. Only with exploration on.
  void WatchExploration(const ModelState& model, const EventApplier& applier);
  // Registers streamrec_consumer_lag{partition} the first time `partition` is seen; `lag`
  // reads it at scrape time (-1 when the partition is not assigned) and must stay callable.
  void OnPartitionLag(int32_t partition, const std::function<double()>& lag);

  // How long a /v1/recommend request waited for the model lock (Ranker).
  Histogram* recommend_lock_wait() const { return recommend_lock_wait_; }
  // How long the BPR and the session apply lanes held their lock per run (WritePath).
  Histogram* bpr_lane_hold() const { return bpr_lane_hold_; }
  Histogram* session_lane_hold() const { return session_lane_hold_; }

 private:
  MetricsRegistry& metrics_;
  // Owned by the registry.
  Histogram* recommend_lock_wait_;
  Histogram* bpr_lane_hold_;
  Histogram* session_lane_hold_;
  std::set<int32_t> lag_partitions_;  // partitions with a lag gauge
};

}  // namespace streamrec::daemon
