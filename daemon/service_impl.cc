#include "daemon/service_impl.h"

#include <chrono>
#include <cstdio>
#include <random>
#include <unordered_set>
#include <utility>

#include "common/json.h"
#include "common/rng.h"
#include "stream/event_codec.h"
#include "stream/served_codec.h"

namespace streamrec::daemon {
namespace {

double NowSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

DaemonService::DaemonService(const Config& config, ModelState* model, EventApplier* applier,
                             stream::KafkaSink* producer, stream::KafkaSink* ingest,
                             MetricsRegistry* metrics, std::function<std::string()> info,
                             std::function<Status()> ready)
    : config_(config),
      model_(model),
      applier_(applier),
      producer_(producer),
      ingest_(ingest),
      new_ids_(config.ingest.new_ids_per_s, std::max(1.0, 10 * config.ingest.new_ids_per_s)),
      info_(std::move(info)),
      ready_(std::move(ready)),
      instance_(Mix64(std::random_device{}()) ^ static_cast<uint64_t>(NowSeconds() * 1e6)),
      probe_(*metrics) {}

std::string DaemonService::NextRecId() {
  char buf[40];
  std::snprintf(buf, sizeof buf, "r%08x%08llx", static_cast<unsigned>(instance_ >> 32),
                static_cast<unsigned long long>(next_rec_.fetch_add(1, std::memory_order_relaxed)));
  return buf;
}

Result<Recommendation> DaemonService::Recommend(const RecommendRequest& request) {
  Recommendation rec;
  rec.user = request.user;
  rec.rec_id = NextRecId();
  const uint32_t explore =
      request.explore >= 0 ? static_cast<uint32_t>(request.explore) : config_.bandit.explore;
  model_->Recommend(request.user, request.session, request.k, request.exclude_seen, &rec.items,
                    explore, Mix64(std::hash<std::string>()(rec.rec_id)));
  probe_.OnServed();
  // Log what was served, best effort: a full producer queue drops the log line, not the answer.
  thread_local std::vector<stream::ServedItem> items;
  thread_local std::string payload;
  items.clear();
  payload.clear();
  for (size_t i = 0; i < rec.items.size(); ++i) {
    const ScoredId& s = rec.items[i];
    items.push_back({s.item, static_cast<uint32_t>(i), s.score, s.source, s.propensity});
  }
  stream::ServedView view;
  view.rec_id = rec.rec_id;
  view.user = rec.user;
  view.session = request.session;
  view.ts_seconds = NowSeconds();
  view.items = items;
  stream::EncodeServed(view, &payload);
  const std::string& key = rec.user.empty() ? request.session : rec.user;
  if (!producer_->Produce(config_.kafka.served_topic, key, payload).ok())
    probe_.OnServedLogDropped();
  return rec;
}

Result<std::vector<ScoredId>> DaemonService::Similar(const std::string& item, uint32_t k) {
  std::vector<ScoredId> out;
  STREAMREC_RETURN_IF_ERROR(model_->Similar(item, k, &out));
  return out;
}

Result<std::vector<ScoredId>> DaemonService::Next(const std::string& item, uint32_t k) {
  std::vector<ScoredId> out;
  STREAMREC_RETURN_IF_ERROR(model_->Next(item, k, &out));
  return out;
}

std::vector<ScoredId> DaemonService::Popular(uint32_t k) {
  std::vector<ScoredId> out;
  model_->Popular(k, &out);
  return out;
}

Result<PredictResult> DaemonService::Predict(const std::string& user, const std::string& item) {
  return model_->Predict(user, item);
}

Result<PostEventsResult> DaemonService::PostEvents(std::string_view body, std::string_view client) {
  thread_local stream::EventDecoder decoder(config_.decoder);
  thread_local std::vector<std::string_view> events;
  events.clear();
  const size_t first = body.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && body[first] == '[') {
    // No recursive parse of the body: a deep array must not exhaust the stack. Each event is
    // decoded (with its own depth bound) below.
    if (Status st = SplitJsonArray(body, &events, config_.decoder.max_depth + 1); !st.ok()) {
      return Status::InvalidArgument("body starts with '[' but is not a JSON array of events: " +
                                     st.message());
    }
  } else {
    while (!body.empty()) {
      const size_t nl = body.find('\n');
      std::string_view line = body.substr(0, nl);
      body.remove_prefix(nl == std::string_view::npos ? body.size() : nl + 1);
      if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
      events.push_back(line);
    }
  }

  PostEventsResult result;
  stream::DeliveryGroup group;
  const int64_t now_us = static_cast<int64_t>(NowSeconds() * 1e6);
  std::unordered_set<std::string> new_ids;  // ids of this body the model does not know (copies: the
                                            // decoder reuses its buffers)
  size_t produced = 0;
  int block_ms = 1000;  // waits for room in the producer's queue; after one miss, no more
  for (size_t i = 0; i < events.size(); ++i) {
    stream::EventView e;
    Status st = decoder.Decode(events[i], &e);
    if (st.ok() && e.type == EventType::kForgetUser) {
      st = Status::InvalidArgument("forget_user is admin-only: DELETE /v1/users/ID");
    }
    if (st.ok() && e.ts_seconds > 0) {
      st = stream::CheckEventTime(e.ts_seconds, now_us, 0, config_.limits.max_future_s);
    }
    if (st.ok()) st = TakeNewIds(e, client, &new_ids);
    if (st.ok()) {
      const std::string_view key = e.type == EventType::kItem ? e.item : e.user;
      st = ingest_->Produce(config_.kafka.topic, key, events[i], block_ms, &group);
      if (st.ok()) {
        ++produced;
        continue;
      }
      if (st.code() == Status::Code::kUnavailable) {  // the local queue, not the event
        block_ms = 0;
        ++result.failed;
        if (result.delivery_error.empty()) result.delivery_error = st.message();
        continue;
      }
    }
    result.Reject(i, st.message());
  }
  // 2xx only for what Kafka acknowledged: wait for every report (bounded by the ingest
  // producer's message timeout).
  ingest_->AwaitDelivery(group);
  const auto failed = static_cast<size_t>(group.failed());
  result.accepted = produced - failed;
  result.failed += failed;
  if (failed > 0 && result.delivery_error.empty()) result.delivery_error = group.first_error();
  probe_.OnEventsPosted(result.accepted, result.failed);
  return result;
}

Status DaemonService::TakeNewIds(const stream::EventView& e, std::string_view client,
                                 std::unordered_set<std::string>* seen) {
  double cost = 0;
  for (const auto& [id, is_user] : {std::pair{e.user, true}, {e.item, false}}) {
    if (id.empty() || seen->contains(std::string(id))) continue;
    if (is_user ? model_->KnowsUser(id) : model_->KnowsItem(id)) continue;
    cost += 1;
  }
  if (cost == 0) return Status::Ok();
  if (!new_ids_.TryTake(client, cost, NowSeconds())) {
    return Status::InvalidArgument("too many new ids from this client: at most " +
                                   std::to_string(config_.ingest.new_ids_per_s) +
                                   " new users and items a second (ingest.new_ids_per_s)");
  }
  if (!e.user.empty()) seen->emplace(e.user);
  if (!e.item.empty()) seen->emplace(e.item);
  return Status::Ok();
}

Status DaemonService::ForgetUser(const std::string& user) {
  std::string json = "{\"type\":\"forget_user\",\"user\":";
  AppendJsonString(user, &json);
  json += ",\"ts\":" + std::to_string(static_cast<int64_t>(NowSeconds())) + "}";
  stream::DeliveryGroup group;
  Status st = ingest_->Produce(config_.kafka.topic, user, json, /*block_ms=*/1000, &group);
  if (st.ok()) {
    ingest_->AwaitDelivery(group);
    if (group.failed() > 0) st = Status::Unavailable(group.first_error());
  }
  if (!st.ok()) {
    return Status::Unavailable("could not produce to '" + config_.kafka.topic +
                               "': " + st.message());
  }
  return Status::Ok();
}

Status DaemonService::Checkpoint() { return applier_->RequestCheckpoint(30'000); }

}  // namespace streamrec::daemon
