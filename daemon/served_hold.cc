#include "daemon/served_hold.h"

#include <algorithm>
#include <utility>

namespace streamrec::daemon {

ServedHold::ServedHold(uint32_t max_held, JoinFn join)
    : max_held_(max_held), join_(std::move(join)) {}

void ServedHold::Assign(int32_t partition, std::optional<int64_t> stored, int64_t low,
                        int64_t high) {
  if (stored.has_value()) {
    next_[partition] = *stored;
    first_[partition] = -1;  // stored before: always stored
  }
  assigned_.push_back({partition, low, high});
}

void ServedHold::Revoke(int32_t partition) {
  next_.erase(partition);
  first_.erase(partition);
  std::erase_if(assigned_, [&](const Partition& p) { return p.partition == partition; });
  std::erase_if(held_, [&](const HeldServed& h) { return h.partition == partition; });
  Count();
}

void ServedHold::Consumed(int32_t partition, int64_t offset) {
  next_[partition] = offset + 1;
  first_.try_emplace(partition, offset);
}

void ServedHold::SawServingTime(int32_t partition, int64_t ts_micros) {
  for (Partition& p : assigned_) {
    if (p.partition == partition) p.newest = std::max(p.newest, ts_micros);
  }
}

void ServedHold::Hold(HeldServed record) {
  held_.push_back(std::move(record));
  Count();
}

uint64_t ServedHold::Release(int64_t now_micros) {
  uint64_t forced = 0;
  while (!held_.empty()) {
    const HeldServed& h = held_.front();
    const bool over = held_.size() > max_held_;
    if (h.ts_micros > now_micros && !over) break;
    if (h.ts_micros > now_micros) ++forced;
    join_(h);
    held_.pop_front();
  }
  Count();
  return forced;
}

int64_t ServedHold::Cap(bool assigned, const WatermarksFn& watermarks) const {
  // Before the first assignment nothing is known: no window closes. (An assignment without
  // served partitions, e.g. a topic that does not exist, has nothing to wait for.)
  int64_t cap =
      assigned ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
  for (const Partition& p : assigned_) {
    // The fetcher's cached watermarks, else those asked at assignment (so that an empty topic
    // counts as caught up at once, not after the first fetch, whenever that comes).
    int64_t low = p.low, high = p.high;
    const bool known = watermarks(p.partition, &low, &high) || high >= 0;
    auto it = next_.find(p.partition);
    const bool caught_up = known && (it != next_.end() ? it->second : low) >= high;
    if (!caught_up) cap = std::min(cap, p.newest);
  }
  return cap;
}

std::map<int32_t, int64_t> ServedHold::OffsetsToStore() const {
  std::map<int32_t, int64_t> out = next_;
  std::map<int32_t, bool> seen;
  for (const HeldServed& h : held_) {
    if (seen.emplace(h.partition, true).second) out[h.partition] = h.offset;
  }
  std::erase_if(out, [&](const auto& po) {
    auto it = first_.find(po.first);
    return it != first_.end() && po.second <= it->second;
  });
  return out;
}

}  // namespace streamrec::daemon
