// DaemonService: the RecommendService of `streamrec serve`. Scores the live ModelState,
// produces what it served to the `served` topic (the bandits' feedback loop) and posted events
// to the events topic (Kafka stays the log of record).
//
// Thread safety: all methods may be called concurrently (ModelState locks; KafkaSink is
// thread-safe; the info snapshot has its own mutex).
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <unordered_set>

#include "common/metrics.h"
#include "daemon/config.h"
#include "daemon/event_applier.h"
#include "daemon/model_state.h"
#include "daemon/rate_limiter.h"
#include "daemon/recommend_service.h"
#include "daemon/service_probe.h"
#include "stream/kafka_sink.h"

namespace streamrec::daemon {

class DaemonService final : public RecommendService {
 public:
  // Borrowed pointers outlive the service. `info` renders the JSON of /v1/info; `ready` says
  // whether state is restored and partitions are assigned.
  // `producer` logs what was served; `ingest` produces posted events and waits for Kafka's
  // acknowledgements (its message timeout bounds how long a post waits).
  DaemonService(const Config& config, ModelState* model, EventApplier* applier,
                stream::KafkaSink* producer, stream::KafkaSink* ingest, MetricsRegistry* metrics,
                std::function<std::string()> info, std::function<Status()> ready);

  Result<Recommendation> Recommend(const RecommendRequest& request) override;
  Result<std::vector<ScoredId>> Similar(const std::string& item, uint32_t k) override;
  Result<std::vector<ScoredId>> Next(const std::string& item, uint32_t k) override;
  std::vector<ScoredId> Popular(uint32_t k) override;
  Result<PredictResult> Predict(const std::string& user, const std::string& item) override;
  Result<PostEventsResult> PostEvents(std::string_view body, std::string_view client) override;
  Status ForgetUser(const std::string& user) override;
  Status Checkpoint() override;
  std::string InfoJson() override { return info_(); }
  Status Readiness() override { return ready_(); }

 private:
  // Takes the event's ids that the model does not know (and *seen does not hold yet) from
  // the client's new-id budget; InvalidArgument when it is spent. Adds them to *seen.
  Status TakeNewIds(const stream::EventView& e, std::string_view client,
                    std::unordered_set<std::string>* seen);
  std::string NextRecId();

  const Config& config_;
  ModelState* const model_;
  EventApplier* const applier_;
  stream::KafkaSink* const producer_;
  stream::KafkaSink* const ingest_;
  RateLimiter new_ids_;  // per client: new users and items a second
  std::function<std::string()> info_;
  std::function<Status()> ready_;
  const uint64_t instance_;
  std::atomic<uint64_t> next_rec_{0};
  ServiceProbe probe_;
};

}  // namespace streamrec::daemon
