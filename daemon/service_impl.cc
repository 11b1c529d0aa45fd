#include "daemon/service_impl.h"

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>

#include "common/rng.h"
#include "daemon/http_message.h"
#include "stream/event_codec.h"
#include "stream/served_codec.h"

namespace streamrec::daemon {
namespace {

double NowSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

DaemonService::DaemonService(const Config& config, ModelState* model, EventApplier* applier,
                             stream::KafkaSink* producer, MetricsRegistry* metrics,
                             std::function<std::string()> info, std::function<bool()> ready)
    : config_(config),
      model_(model),
      applier_(applier),
      producer_(producer),
      info_(std::move(info)),
      ready_(std::move(ready)),
      instance_(Mix64(std::random_device{}()) ^ static_cast<uint64_t>(NowSeconds() * 1e6)) {
  served_ = &metrics->AddCounter("streamrec_served_total", "Recommendation lists served");
  served_dropped_ = &metrics->AddCounter(
      "streamrec_served_log_dropped_total",
      "Served lists not logged to the served topic because the producer queue was full");
  posted_ = &metrics->AddCounter("streamrec_http_events_posted_total",
                                 "Events accepted by POST /v1/events and produced to the topic");
}

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
  served_->Inc();
  // Log what was served, best effort: a full producer queue drops the log line, not the answer.
  thread_local std::vector<ServedItem> items;
  thread_local std::string payload;
  items.clear();
  payload.clear();
  for (size_t i = 0; i < rec.items.size(); ++i) {
    const ScoredId& s = rec.items[i];
    items.push_back({s.item, static_cast<uint32_t>(i), s.score, s.source, s.propensity});
  }
  ServedView view;
  view.rec_id = rec.rec_id;
  view.user = rec.user;
  view.session = request.session;
  view.ts_seconds = NowSeconds();
  view.items = items;
  EncodeServed(view, &payload);
  const std::string& key = rec.user.empty() ? request.session : rec.user;
  if (!producer_->Produce(config_.kafka.served_topic, key, payload).ok()) served_dropped_->Inc();
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

Status DaemonService::ProduceEvent(std::string_view json) {
  thread_local EventDecoder decoder(config_.decoder);
  EventView e;
  STREAMREC_RETURN_IF_ERROR(decoder.Decode(json, &e));
  const std::string_view key = e.type == EventType::kItem ? e.item : e.user;
  Status st = producer_->Produce(config_.kafka.topic, key, json, /*block_ms=*/1000);
  if (!st.ok())
    return Status::Unavailable("could not produce to '" + config_.kafka.topic +
                               "': " + st.message());
  posted_->Inc();
  return Status::Ok();
}

Result<PostEventsResult> DaemonService::PostEvents(std::string_view body) {
  PostEventsResult result;
  auto one = [&](size_t index, std::string_view json) -> Status {
    Status st = ProduceEvent(json);
    if (st.code() == Status::Code::kUnavailable) return st;  // the broker, not the event
    if (st.ok()) {
      ++result.accepted;
    } else {
      result.rejected.emplace_back(index, st.message());
    }
    return Status::Ok();
  };
  const size_t first = body.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && body[first] == '[') {
    nlohmann::json array = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (array.is_discarded() || !array.is_array()) {
      return Status::InvalidArgument("body starts with '[' but is not a JSON array");
    }
    for (size_t i = 0; i < array.size(); ++i) STREAMREC_RETURN_IF_ERROR(one(i, array[i].dump()));
  } else {
    size_t index = 0;
    while (!body.empty()) {
      const size_t nl = body.find('\n');
      std::string_view line = body.substr(0, nl);
      body.remove_prefix(nl == std::string_view::npos ? body.size() : nl + 1);
      if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
      STREAMREC_RETURN_IF_ERROR(one(index++, line));
    }
  }
  return result;
}

Status DaemonService::ForgetUser(const std::string& user) {
  std::string json = "{\"type\":\"forget_user\",\"user\":";
  AppendJsonString(user, &json);
  json += ",\"ts\":" + std::to_string(static_cast<int64_t>(NowSeconds())) + "}";
  return ProduceEvent(json);
}

Status DaemonService::Checkpoint() { return applier_->RequestCheckpoint(30'000); }

}  // namespace streamrec::daemon
