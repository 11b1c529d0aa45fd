// ServedHold: the served topic's side of the reward join, apart from Kafka and the model.
// Records of `served` (what /v1/recommend showed, with the explored items) may be consumed
// ahead of the event stream; a record joins only once event time has reached its serving
// time, so that the clicks before it cannot count. Until then it waits here, and the offset
// stored for its partition stays at or before it, so a restart consumes it again. Beyond
// max_held records the oldest joins anyway (memory stays bounded).
//
// It also tracks how far each assigned served partition has been consumed (its next offset,
// its newest serving time, its watermarks), which caps the join's watermark (Cap): windows
// close only behind both streams.
//
// Invariants: records join in the order they were held (a FIFO over every partition); a
// partition's offset to store is the offset of its first held record, else the next one
// consumed, and never one before the first offset consumed when nothing was stored for it.
//
// Thread safety: one thread (the consumer) calls everything, except held(), which any thread
// may read. The join callback runs on that thread, inside Release.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "daemon/write_path.h"

namespace streamrec::daemon {

// A served record waiting for event time: where it came from, when it was served (micros),
// and what the join needs.
struct HeldServed {
  int32_t partition = 0;
  int64_t offset = 0;
  int64_t ts_micros = 0;
  std::string user, rec_id;
  std::vector<ServedExplore> explored;
};

class ServedHold {
 public:
  // Hands one record to the reward join.
  using JoinFn = std::function<void(const HeldServed&)>;
  // The cached (low, high) watermarks of a served partition: true when known, and then the
  // outputs are set; false leaves them as they were.
  using WatermarksFn = std::function<bool(int32_t partition, int64_t* low, int64_t* high)>;

  // `max_held`: records held at most (bandit.max_held); `join` is called for every record
  // released.
  ServedHold(uint32_t max_held, JoinFn join);
  ServedHold(const ServedHold&) = delete;
  ServedHold& operator=(const ServedHold&) = delete;

  // ---- Assignment -----------------------------------------------------------------------
  // A served partition was assigned. `stored`: the offset the store holds for it (consumption
  // starts there), nullopt when it never was checkpointed. `low`/`high`: its watermarks as
  // asked of the broker, -1 when unknown.
  void Assign(int32_t partition, std::optional<int64_t> stored, int64_t low, int64_t high);
  // A served partition was revoked: its progress goes, and so do its held records, unjoined
  // (its next owner consumes them from the stored offset, which is at or before them).
  void Revoke(int32_t partition);

  // ---- Consumption ------------------------------------------------------------------------
  // A record of `partition` at `offset` was consumed, valid or not.
  void Consumed(int32_t partition, int64_t offset);
  // A valid record of `partition` was served at ts_micros (its partition's progress).
  void SawServingTime(int32_t partition, int64_t ts_micros);
  // Whether a record served at ts_micros may join at once, without being held: nothing is
  // held (records join in order) and event time has reached it.
  bool JoinsNow(int64_t ts_micros, int64_t event_time_micros) const {
    return held_.empty() && ts_micros <= event_time_micros;
  }
  // Holds `record` until Release reaches it.
  void Hold(HeldServed record);
  // Joins, in order, every held record served at or before now_micros, and then the oldest
  // ones while more than max_held are held. Returns how many of those joined before their time
  // (because of max_held).
  uint64_t Release(int64_t now_micros);

  // ---- Progress ---------------------------------------------------------------------------
  // The cap on the reward join's watermark (micros): the newest serving time consumed of the
  // slowest assigned served partition, where a partition read to its high watermark (from
  // `watermarks`, else those given to Assign) does not count. No limit (int64 max) when every
  // one is caught up or none is assigned while `assigned` (the member has an assignment); no
  // window closes (int64 min) before the first assignment.
  int64_t Cap(bool assigned, const WatermarksFn& watermarks) const;
  // The served offsets a checkpoint stores: per partition, the offset of its first held
  // record, else the next one consumed; none for a partition without a stored offset until
  // that moves past the first offset consumed (so when a checkpoint happens to run does not
  // change what the store holds).
  std::map<int32_t, int64_t> OffsetsToStore() const;

  bool empty() const { return held_.empty(); }
  size_t size() const { return held_.size(); }
  // Records held, for metrics (any thread).
  uint64_t held() const { return held_count_.load(std::memory_order_relaxed); }

 private:
  struct Partition {
    int32_t partition = 0;
    int64_t low = -1, high = -1;                           // as given to Assign
    int64_t newest = std::numeric_limits<int64_t>::min();  // newest serving time consumed
  };
  void Count() { held_count_.store(held_.size(), std::memory_order_relaxed); }

  const size_t max_held_;
  const JoinFn join_;
  std::deque<HeldServed> held_;
  std::atomic<uint64_t> held_count_{0};  // held_.size(), for other threads
  std::map<int32_t, int64_t> next_;      // served partition -> next offset consumed
  // Partitions without a stored offset -> the first offset consumed (-1: stored, no limit).
  std::map<int32_t, int64_t> first_;
  std::vector<Partition> assigned_;  // in order of assignment
};

}  // namespace streamrec::daemon
