// RecommendService: what the HTTP routes call. Beast-free and JSON-free on the way in: the
// router parses and validates query parameters, calls one method, and renders the result. The
// daemon's implementation scores the live model; tests use a small fake.
//
// Thread safety: every method may be called concurrently from any number of HTTP threads.
//
// Errors: InvalidArgument -> 400, NotFound -> 404, Unavailable -> 503, anything else -> 500.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace streamrec::daemon {

struct RecommendRequest {
  // External user id; an unknown user gets the popularity fallback, never an error.
  std::string user;
  // Items wanted, 1..1000 (the router enforces the bounds).
  uint32_t k = 10;
  // Optional explicit session id: its items are blended in (session model). Empty = the
  // user's live implicit session, if any. `user` may be empty when `session` is not.
  std::string session;
  // Leave out items the user has interacted with.
  bool exclude_seen = true;
  // Exploration slots; -1 = the configured default.
  int32_t explore = -1;
};

struct ScoredId {
  std::string item;
  float score = 0.0f;
  // "bpr", "mf", "session", "explore:thompson", "explore:linucb", "popular".
  std::string source;
  // Explored items: the probability the policy chose this item with; < 0 otherwise.
  double propensity = -1.0;
};

struct Recommendation {
  std::string user;
  // Unique id of this answer; clients echo it in click events (rec_id) for attribution.
  std::string rec_id;
  std::vector<ScoredId> items;
};

struct PredictResult {
  float rating = 0.0f;
  // False when user or item is unknown and the prediction falls back to means.
  bool known = false;
};

// Outcome of POST /v1/events.
struct PostEventsResult {
  // Rejections listed in `rejected`; the rest are only counted, so that a large body of bad
  // lines cannot make an answer many times its own size.
  static constexpr size_t kMaxListedRejections = 100;

  size_t accepted = 0;  // produced to the events topic and acknowledged by Kafka
  // The first kMaxListedRejections rejected events: 0-based position in the body and reason.
  std::vector<std::pair<size_t, std::string>> rejected;
  size_t rejected_count = 0;  // all rejected events
  // Valid events Kafka did not acknowledge (broker unreachable, timeout): the post fails (503)
  // and the client should send them again. `delivery_error` says why.
  size_t failed = 0;
  std::string delivery_error;

  void Reject(size_t index, std::string reason) {
    if (rejected.size() < kMaxListedRejections) rejected.emplace_back(index, std::move(reason));
    ++rejected_count;
  }
};

class RecommendService {
 public:
  virtual ~RecommendService() = default;

  virtual Result<Recommendation> Recommend(const RecommendRequest& request) = 0;
  // Items most similar to `item` (NotFound for an unknown item).
  virtual Result<std::vector<ScoredId>> Similar(const std::string& item, uint32_t k) = 0;
  // "People who viewed `item` viewed next": the session model's next items after `item`
  // (NotFound for an unknown item; Unavailable when no session model is configured).
  virtual Result<std::vector<ScoredId>> Next(const std::string& item, uint32_t k) = 0;
  // Trending items (decayed popularity).
  virtual std::vector<ScoredId> Popular(uint32_t k) = 0;
  // Predicted rating of (user, item).
  virtual Result<PredictResult> Predict(const std::string& user, const std::string& item) = 0;
  // `body` is a JSON array of events or NDJSON; valid events are produced to the events topic
  // (keyed by user) and waited for until Kafka acknowledges them; invalid ones are reported
  // back, not produced. `client` (the peer's address) keys the per-client limit on new ids.
  // May block up to the ingest delivery timeout.
  virtual Result<PostEventsResult> PostEvents(std::string_view body, std::string_view client) = 0;
  // Produces a forget_user event for `user` (applied in order, like any event).
  virtual Status ForgetUser(const std::string& user) = 0;
  // Writes a checkpoint now (admin).
  virtual Status Checkpoint() = 0;
  // JSON object for GET /v1/info: version, broker bootstrap, topics, partitions and offsets,
  // model sizes, config summary.
  virtual std::string InfoJson() = 0;
  // Ok once the state is restored and the consumer has its assignment, and while checkpoints
  // succeed; else Unavailable saying why (GET /readyz answers 503 with it).
  virtual Status Readiness() = 0;
};

}  // namespace streamrec::daemon
