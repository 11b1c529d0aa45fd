#include "daemon/application_probe.h"

#include <string>
#include <utility>

#include "daemon/event_applier.h"
#include "daemon/model_state.h"

namespace streamrec::daemon {

ApplicationProbe::ApplicationProbe(MetricsRegistry& metrics) : metrics_(metrics) {
  recommend_lock_wait_ = &metrics_.AddHistogram(
      "streamrec_recommend_lock_wait_seconds",
      "Time a /v1/recommend request waited for the model lock (0 when it was free)",
      LatencyBucketsSeconds());
  const std::string hold_help =
      "Time an apply lane holds its lock per run of apply_batch ops (long runs: the lane was "
      "preempted while holding it, and requests waited)";
  bpr_lane_hold_ = &metrics_.AddHistogram("streamrec_lane_lock_hold_seconds", hold_help,
                                          LatencyBucketsSeconds(), {{"lane", "bpr"}});
  session_lane_hold_ = &metrics_.AddHistogram("streamrec_lane_lock_hold_seconds", hold_help,
                                              LatencyBucketsSeconds(), {{"lane", "session"}});
}

void ApplicationProbe::WatchModel(const ModelState& model) {
  const ModelState* m = &model;
  metrics_.AddGaugeFn("streamrec_model_users", "Users with state", {},
                      [m] { return static_cast<double>(m->Sizes().users); });
  metrics_.AddGaugeFn("streamrec_model_items", "Items in the catalog", {},
                      [m] { return static_cast<double>(m->Sizes().items); });
  metrics_.AddGaugeFn("streamrec_model_interactions", "Distinct user-item interactions", {},
                      [m] { return static_cast<double>(m->Sizes().interactions); });
  metrics_.AddGaugeFn("streamrec_sessions_live",
                      "Live sessions (explicit and per-user implicit) in the session tracker", {},
                      [m] { return static_cast<double>(m->Sizes().sessions); });
}

void ApplicationProbe::WatchExploration(const ModelState& model, const EventApplier& applier) {
  const ModelState* m = &model;
  // Read at scrape time under the model's shared lock (one read of all counters a scrape).
  for (const auto& [value, field] :
       {std::pair{"1", &ExplorationStats::rewards_one}, {"0", &ExplorationStats::rewards_zero}}) {
    metrics_.AddCounterFn(
        "streamrec_bandit_rewards_total",
        "Rewards joined from served and clicks (1 click within the window)", {{"value", value}},
        [m, field = field] { return static_cast<double>(m->BanditStats().*field); });
  }
  metrics_.AddGaugeFn("streamrec_bandit_pool_size", "Cold items in the exploration pool", {},
                      [m] { return static_cast<double>(m->BanditStats().pool_size); });
  metrics_.AddCounterFn("streamrec_bandit_graduated_total",
                        "Items that left the exploration pool warm", {},
                        [m] { return static_cast<double>(m->BanditStats().graduated); });
  const EventApplier* a = &applier;
  metrics_.AddGaugeFn("streamrec_bandit_served_held",
                      "Served records consumed ahead of event time, waiting for it", {},
                      [a] { return static_cast<double>(a->served_held()); });
  metrics_.AddGaugeFn("streamrec_bandit_open_impressions",
                      "Explored impressions waiting for a click or the window's end", {},
                      [m] { return static_cast<double>(m->BanditStats().open_impressions); });
}

void ApplicationProbe::OnPartitionLag(int32_t partition, const std::function<double()>& lag) {
  if (!lag_partitions_.insert(partition).second) return;
  metrics_.AddGaugeFn("streamrec_consumer_lag", "Messages behind the log end, per partition",
                      {{"partition", std::to_string(partition)}}, lag);
}

}  // namespace streamrec::daemon
