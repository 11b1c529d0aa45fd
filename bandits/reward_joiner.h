// RewardJoiner: turns what was served (the `served` topic) and what users clicked into exactly
// one reward per served (rec_id, item): 1 when the user clicked the item within the attribution
// window after it was served, 0 when the window closed without such a click.
//
// Matching rule (a function of the events, not of their arrival order): served s gets reward 1
// iff some click c has c.user == s.user, c.item == s.item, s.ts <= c.ts <= s.ts + window, and
// (c.rec_id is absent or equals s.rec_id). A reward 1 is emitted as soon as both sides have
// arrived (either order); a reward 0 when event time passes the window's end.
//
// Event time: the watermark is (newest ts seen, or given to Advance) - lateness_s. A served
// record is closed (reward 0) when the watermark passes s.ts + window; a click is forgotten when
// it passes c.ts + window. Contract for order independence: events arrive at most lateness_s
// behind the newest one. Served records whose window had closed on arrival are dropped and
// counted (late_served); a duplicate served (same rec_id and item while still open) is ignored.
//
// Memory is bounded: at most max_served open served records and max_clicks buffered clicks
// (tables grow up to that, then are reused without allocating). Past the bound the oldest served is
// closed early (reward 0, counted as evicted) and the oldest click forgotten. Save/Load persist the
// open state.
//
// Thread safety: not thread-safe (one consumer thread owns it).
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <absl/container/flat_hash_map.h>

#include "common/coding.h"
#include "common/rng.h"
#include "common/status.h"
#include "common/types.h"

namespace streamrec::bandits {

struct JoinerOptions {
  // Attribution window after an impression, seconds.
  int64_t window_s = 600;
  // Allowed disorder of the event streams, seconds (see the watermark above).
  int64_t lateness_s = 60;
  // Bounds on open served records and buffered clicks.
  uint32_t max_served = 1 << 20;
  uint32_t max_clicks = 1 << 18;
  // Whether served records move event time. A caller that joins only served records event
  // time has already reached (the daemon) turns it off, so that a served record with a bogus
  // future ts cannot close every window.
  bool served_moves_clock = true;
};

// 64-bit id of a rec_id string (stable FNV-1a + mix); 0 is reserved for "no rec_id".
uint64_t RecIdHash(std::string_view rec_id);

// One explored item as served.
struct ServedRecord {
  uint64_t rec_id = 0;  // RecIdHash of the response's rec_id
  UserIndex user = 0;
  ItemIndex item = 0;
  uint32_t position = 0;
  double propensity = 1.0;
  int64_t ts_micros = 0;
};

struct ClickRecord {
  UserIndex user = 0;
  ItemIndex item = 0;
  uint64_t rec_id = 0;  // 0 when the click carries no rec_id
  int64_t ts_micros = 0;
};

struct Reward {
  ServedRecord served;
  float reward = 0.0f;
};

struct JoinerStats {
  uint64_t rewards_one = 0, rewards_zero = 0;
  uint64_t late_served = 0, late_clicks = 0, duplicate_served = 0;
  uint64_t evicted_served = 0, evicted_clicks = 0;
};

class RewardJoiner {
 public:
  explicit RewardJoiner(const JoinerOptions& options);

  // Each appends the rewards the event settles to *out (never allocating once out has room).
  void OnServed(const ServedRecord& s, std::vector<Reward>* out);
  void OnClick(const ClickRecord& c, std::vector<Reward>* out);
  // Moves event time forward without an event (e.g. a wall-clock tick on an idle stream).
  void Advance(int64_t now_micros, std::vector<Reward>* out);
  // Holds the watermark at or below cap_micros - lateness_s whatever the newest time seen: a
  // caller joining two streams caps it with the slower stream's progress (the classic
  // two-input watermark), so that one stream consumed ahead of the other closes no window
  // early. INT64_MAX (the default) = no cap. Not saved: the caller sets it again after Load.
  void SetWatermarkCap(int64_t cap_micros, std::vector<Reward>* out);
  // Closes every open served record (reward 0 unless clicked), e.g. at the end of a replay.
  void Flush(std::vector<Reward>* out);

  size_t open_served() const { return served_live_; }
  size_t buffered_clicks() const { return clicks_live_; }
  const JoinerStats& stats() const { return stats_; }
  int64_t watermark_micros() const;

  // The open state (served, clicks, newest time, counters), in a canonical order.
  void Save(ByteWriter* w) const;
  Status Load(ByteReader* r);

  // Incremental persistence, for a store that keeps one record per open entry: the header
  // (newest time, sequence, counters: a few dozen bytes) plus a record per open served record
  // or buffered click, keyed by (kind, seq). SaveChanges() hands the sink what changed since
  // its last call: records opened or rewarded (Put) and records closed (Delete; only those a
  // previous call had put). A checkpoint then costs what changed, not the open state's size.
  // To restore: LoadHeader(), then LoadRecord() for every stored record, in seq order.
  enum class RecordKind : char { kServed = 's', kClick = 'c' };
  class ChangeSink {
   public:
    virtual ~ChangeSink() = default;
    virtual void Put(RecordKind kind, uint64_t seq, std::string_view record) = 0;
    virtual void Delete(RecordKind kind, uint64_t seq) = 0;
  };
  void SaveChanges(ChangeSink* sink);
  void SaveHeader(ByteWriter* w) const;
  Status LoadHeader(ByteReader* r);
  Status LoadRecord(RecordKind kind, uint64_t seq, ByteReader* r);

 private:
  struct Served {
    ServedRecord rec;
    uint64_t seq = 0;
    bool rewarded = false;
    bool live = false;
    bool dirty = false;           // to put at the next SaveChanges
    bool persisted = false;       // put by a SaveChanges (its close must delete it)
    uint32_t next = 0, prev = 0;  // chain of the same (user, item), newest first
  };
  struct Click {
    ClickRecord rec;
    uint64_t seq = 0;
    bool live = false;
    bool dirty = false;
    bool persisted = false;
    uint32_t next = 0, prev = 0;
  };
  struct HeapEntry {
    int64_t expire;
    uint64_t seq;
    uint32_t index;
  };
  // 64-bit key -> entry index. The joiner reserves each table for its bound at construction,
  // so no rehash pauses the consumer (under the model's write lock) once traffic is up.
  // Reserving writes only the control bytes (one per slot); slots are written as entries arrive.
  using Index = absl::flat_hash_map<uint64_t, uint32_t>;
  // The entry `key` maps to, or kNoIndex.
  static uint32_t Find(const Index& index, uint64_t key) {
    const auto it = index.find(key);
    return it == index.end() ? kNoIndex : it->second;
  }
  static uint64_t Key(UserIndex u, ItemIndex i) { return (static_cast<uint64_t>(u) << 32) | i; }
  // Key of one served record in served_ids_ (rec_id is already a hash).
  static uint64_t IdKey(uint64_t rec_id, ItemIndex i) { return rec_id ^ Mix64(i); }

  void Observe(int64_t ts_micros);
  void Expire(std::vector<Reward>* out);
  void InsertServed(const ServedRecord& s, bool rewarded, uint64_t seq);
  void InsertClick(const ClickRecord& c, uint64_t seq);
  void CloseServed(uint32_t index, std::vector<Reward>* out);
  void DropClick(uint32_t index);
  // Change tracking for SaveChanges.
  template <typename Entry>
  void MarkDirty(std::vector<Entry>& slab, std::vector<uint32_t>* dirty, uint32_t index);
  template <typename Entry>
  void Forget(Entry& e, RecordKind kind);
  // The entry just inserted (the last in *dirty) came from the store: nothing to write.
  template <typename Entry>
  void MarkStored(std::vector<Entry>& slab, std::vector<uint32_t>* dirty);
  template <typename Entry, typename PutRecord>
  void PutDirty(std::vector<Entry>& slab, std::vector<uint32_t>* dirty, RecordKind kind,
                PutRecord put_record, ChangeSink* sink);
  static void PutServedRecord(const Served& e, ByteWriter* w);
  static bool GetServedRecord(ByteReader* r, ServedRecord* s, bool* rewarded);
  static void PutClickRecord(const Click& e, ByteWriter* w);
  static bool GetClickRecord(ByteReader* r, ClickRecord* c);

  JoinerOptions options_;
  int64_t window_micros_;
  int64_t newest_micros_;
  int64_t cap_micros_ = std::numeric_limits<int64_t>::max();
  uint64_t seq_ = 0;
  std::vector<Served> served_;
  std::vector<uint32_t> served_free_;
  std::vector<HeapEntry> served_heap_;
  Index served_index_;
  // (rec_id, item) -> entry: finds a re-consumed served record in O(1), however many times the
  // same user was served the same item (chains can grow to the window's whole traffic).
  Index served_ids_;
  size_t served_live_ = 0;
  std::vector<Click> clicks_;
  std::vector<uint32_t> clicks_free_;
  std::vector<HeapEntry> clicks_heap_;
  Index clicks_index_;
  size_t clicks_live_ = 0;
  JoinerStats stats_;
  // Since the last SaveChanges: entries to put (indices; an entry whose dirty flag is clear
  // by then was written or closed already) and persisted records closed.
  std::vector<uint32_t> served_dirty_, clicks_dirty_;
  std::vector<std::pair<RecordKind, uint64_t>> closed_;
  std::string record_;  // SaveChanges' scratch
};

}  // namespace streamrec::bandits
