// FakeRecommendService: a RecommendService whose answers are computed from its inputs, so the
// router and server tests can tell a right answer from a plausible one.
//
//   Recommend: k items "<user>-i<n>" with score k-n and source "bpr" (session-only requests
//              get "session"); the last `explore` items have source "explore:thompson";
//              exclude_seen=false appends "+seen" to the rec_id. User "unavailable" -> Unavailable,
//              user "throw" -> throws std::runtime_error.
//   Similar:   k items "<item>~<n>"; item "missing" -> NotFound.
//   Next:      k items "<item>>n<n>" with source "session"; item "missing" -> NotFound, item
//              "nomodel" -> Unavailable.
//   Popular:   k items "pop<n>" with score 1/(n+1).
//   Predict:   rating = len(user) + len(item) / 10, known unless item == "cold".
//   PostEvents: counts '{' characters; an event containing "bad" is rejected with reason
//              "bad event", one containing "undeliverable" counts as not acknowledged by
//              Kafka. Body "unavailable" -> Unavailable.
//   ForgetUser/Checkpoint: recorded; user "missing" -> NotFound.
//
// Thread safety: all methods may be called concurrently (atomics and a mutex).
#pragma once

#include <atomic>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "daemon/recommend_service.h"

namespace streamrec::daemon::testing {

class FakeRecommendService final : public RecommendService {
 public:
  Result<Recommendation> Recommend(const RecommendRequest& request) override {
    recommend_calls.fetch_add(1);
    if (request.user == "unavailable") return Status::Unavailable("model not loaded");
    if (request.user == "throw") throw std::runtime_error("boom");
    {
      std::lock_guard<std::mutex> lock(mu);
      last_request = request;
    }
    Recommendation rec;
    rec.user = request.user;
    rec.rec_id = "r-" + request.user + "-" + std::to_string(request.k);
    if (!request.exclude_seen) rec.rec_id += "+seen";
    const uint32_t explore = request.explore < 0 ? 0 : static_cast<uint32_t>(request.explore);
    const std::string base = request.user.empty() ? request.session : request.user;
    for (uint32_t n = 0; n < request.k; ++n) {
      ScoredId item;
      item.item = base + "-i" + std::to_string(n);
      item.score = static_cast<float>(request.k - n);
      if (n + explore >= request.k) {
        item.source = "explore:thompson";
      } else {
        item.source = request.user.empty() ? "session" : "bpr";
      }
      rec.items.push_back(std::move(item));
    }
    return rec;
  }

  Result<std::vector<ScoredId>> Similar(const std::string& item, uint32_t k) override {
    if (item == "missing") return Status::NotFound("unknown item 'missing'");
    std::vector<ScoredId> out;
    for (uint32_t n = 0; n < k; ++n) {
      out.push_back({item + "~" + std::to_string(n), 1.0f - 0.01f * static_cast<float>(n), "bpr"});
    }
    return out;
  }

  Result<std::vector<ScoredId>> Next(const std::string& item, uint32_t k) override {
    if (item == "missing") return Status::NotFound("unknown item 'missing'");
    if (item == "nomodel") return Status::Unavailable("no session model configured");
    std::vector<ScoredId> out;
    for (uint32_t n = 0; n < k; ++n) {
      out.push_back(
          {item + ">n" + std::to_string(n), 1.0f - 0.01f * static_cast<float>(n), "session"});
    }
    return out;
  }

  std::vector<ScoredId> Popular(uint32_t k) override {
    std::vector<ScoredId> out;
    for (uint32_t n = 0; n < k; ++n) {
      out.push_back({"pop" + std::to_string(n), 1.0f / static_cast<float>(n + 1), "popular"});
    }
    return out;
  }

  Result<PredictResult> Predict(const std::string& user, const std::string& item) override {
    PredictResult r;
    r.rating = static_cast<float>(user.size()) + static_cast<float>(item.size()) / 10.0f;
    r.known = item != "cold";
    return r;
  }

  Result<PostEventsResult> PostEvents(std::string_view body, std::string_view client) override {
    {
      std::lock_guard<std::mutex> lock(mu);
      last_client = std::string(client);
    }
    if (body == "unavailable") return Status::Unavailable("events topic unreachable");
    PostEventsResult result;
    size_t index = 0;
    size_t pos = 0;
    while ((pos = body.find('{', pos)) != std::string_view::npos) {
      const size_t end = body.find('}', pos);
      const std::string_view event = body.substr(pos, end - pos);
      if (event.find("bad") != std::string_view::npos) {
        result.Reject(index, "bad event");
      } else if (event.find("undeliverable") != std::string_view::npos) {
        ++result.failed;
        result.delivery_error = "Local: Message timed out";
      } else {
        ++result.accepted;
      }
      ++index;
      pos = end == std::string_view::npos ? body.size() : end;
    }
    return result;
  }

  Status ForgetUser(const std::string& user) override {
    if (user == "missing") return Status::NotFound("unknown user");
    std::lock_guard<std::mutex> lock(mu);
    forgotten.push_back(user);
    return Status::Ok();
  }

  Status Checkpoint() override {
    checkpoints.fetch_add(1);
    return Status::Ok();
  }

  std::string InfoJson() override {
    return R"({"version":"test","model":{"users":3,"items":42},"partitions":[{"id":0,"offset":7}]})";
  }

  Status Readiness() override {
    return ready.load() ? Status::Ok() : Status::Unavailable("restoring state");
  }

  std::atomic<bool> ready{true};
  std::atomic<int> checkpoints{0};
  std::atomic<int> recommend_calls{0};
  std::mutex mu;
  RecommendRequest last_request;       // GUARDED_BY(mu)
  std::vector<std::string> forgotten;  // GUARDED_BY(mu)
  std::string last_client;             // GUARDED_BY(mu): of the last PostEvents
};

}  // namespace streamrec::daemon::testing
