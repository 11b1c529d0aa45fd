// RateLimiter: token buckets keyed by client (its address), for what one client may make the
// daemon do: POST /v1/events requests, new ids introduced. A fixed table of buckets, so memory
// stays bounded whatever the number of clients; clients whose keys hash to the same slot share
// a bucket (4096 slots: rare with the tens of producers a deployment has, and only ever
// stricter).
//
// Thread safety: thread-safe (one mutex; taken once per request, not per event).
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string_view>
#include <vector>

namespace streamrec::daemon {

class RateLimiter {
 public:
  // `rate_per_s` tokens a second refill each bucket, up to `burst`; a new client starts full.
  RateLimiter(double rate_per_s, double burst, size_t slots = 4096)
      : rate_per_s_(rate_per_s), burst_(burst), buckets_(std::max<size_t>(1, slots)) {}

  // Takes `cost` tokens from `client`'s bucket at time `now_s` (any monotonic seconds). When
  // it holds fewer, takes nothing, returns false and sets *retry_after_s (if given) to the
  // seconds until it will hold `cost` (infinity-free: cost is capped at burst).
  bool TryTake(std::string_view client, double cost, double now_s,
               double* retry_after_s = nullptr) {
    cost = std::min(cost, burst_);
    Bucket& b = buckets_[std::hash<std::string_view>()(client) % buckets_.size()];
    std::lock_guard l(mu_);
    if (!b.used) {
      b.used = true;
      b.tokens = burst_;
      b.last_s = now_s;
    }
    b.tokens = std::min(burst_, b.tokens + std::max(0.0, now_s - b.last_s) * rate_per_s_);
    b.last_s = std::max(b.last_s, now_s);
    if (b.tokens >= cost) {
      b.tokens -= cost;
      return true;
    }
    if (retry_after_s != nullptr) {
      *retry_after_s = rate_per_s_ > 0 ? (cost - b.tokens) / rate_per_s_ : 3600.0;
    }
    return false;
  }

 private:
  struct Bucket {
    bool used = false;
    double tokens = 0;
    double last_s = 0;
  };
  const double rate_per_s_;
  const double burst_;
  std::mutex mu_;
  std::vector<Bucket> buckets_;  // GUARDED_BY(mu_)
};

}  // namespace streamrec::daemon
