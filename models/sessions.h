// SessionTracker: the recent items of each live session, for the session models. A pure data
// structure: time is passed in (seconds), nothing reads a clock.
//
// Sessions are keyed by a uint64 the caller chooses (the daemon maps explicit session ids and
// per-user implicit sessions to keys). Add appends an item; a key whose previous event is more
// than gap_s older starts a fresh session. Each session keeps its last max_len items, oldest
// first, contiguous (Recent is a span). Memory is bounded: Expire drops sessions idle longer
// than ttl_s, and starting a session beyond max_sessions evicts the least recently active one.
//
// Layout: slots in flat arrays (2 * max_len items each, so appending past max_len is an
// amortized memmove and Recent stays contiguous), an absl::flat_hash_set key -> slot index, and
// an intrusive list of slots by last activity (least recent first) for eviction and expiry. The
// hot path (Add on an existing session) allocates nothing; new sessions grow the arrays with
// amortized doubling up to max_sessions.
//
// Thread safety: const methods may run concurrently with each other; the rest need exclusive
// access. A span from Recent is valid until the next non-const call.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/coding.h"
#include "common/huge_alloc.h"
#include "common/index_set.h"
#include "common/status.h"
#include "common/types.h"
#include "models/params.h"

namespace streamrec::models {

struct SessionTrackerOptions {
  // Items kept per session (the models read at most their own max_len of them).
  uint32_t max_len = 20;
  // A key's next event this long (seconds) after its previous one starts a fresh session.
  int64_t gap_s = 1800;
  // Expire drops sessions idle longer than this (seconds).
  int64_t ttl_s = 3600;
  // Live sessions at most; a new session beyond it evicts the least recently active one.
  uint32_t max_sessions = 1'000'000;
};

class SessionTracker {
 public:
  explicit SessionTracker(const SessionTrackerOptions& options = {});

  // Appends `item` to the session of `key` at time ts_s; returns true when this started a fresh
  // session (new key, or the gap since the key's previous event exceeded gap_s).
  bool Add(uint64_t key, ItemIndex item, int64_t ts_s);
  // The session's last max_len items, oldest first; empty for an unknown key.
  std::span<const ItemIndex> Recent(uint64_t key) const;
  // As Recent, but empty when an event at now_s would start a fresh session: what a model
  // should see as `recent` before Add(key, item, now_s).
  std::span<const ItemIndex> RecentAt(uint64_t key, int64_t now_s) const;
  // RecentAt(key, ts_s) then Add(key, item, ts_s) with one lookup of the key: `before` is called
  // with the recent items (valid during the call only; it must not modify the tracker), then
  // the item is appended. Returns what Add returns.
  template <typename Before>
  bool AddAfter(uint64_t key, ItemIndex item, int64_t ts_s, Before&& before) {
    const uint32_t s = Lookup(key);
    const bool gap = s != kNil && ts_s - slots_[s].last_ts > options_.gap_s;
    if (s == kNil || gap) {
      before(std::span<const ItemIndex>());
    } else {
      before(std::span<const ItemIndex>(Items(s) + slots_[s].begin, slots_[s].len));
    }
    return AddAt(s, key, item, ts_s);
  }
  // Time of the key's last event, or -1 for an unknown key.
  int64_t LastSeen(uint64_t key) const;
  // Removes the session of `key`; false when there was none.
  bool Erase(uint64_t key);
  // Removes sessions whose last event is older than now_s - ttl_s; returns how many. Walks from
  // the least recently active, so with out-of-order timestamps a stale session behind a fresher
  // one waits until that one expires (or is evicted).
  size_t Expire(int64_t now_s);
  size_t size() const { return live_; }
  const SessionTrackerOptions& options() const { return options_; }

  // One session's record (last event time and items); empty for an unknown key.
  void SaveSession(uint64_t key, ByteWriter* w) const;
  // Replaces (or creates) the session of `key` from a SaveSession record.
  Status LoadSession(uint64_t key, ByteReader* r);
  // Appends the keys changed (Add; a load is not a change) and erased (expired, evicted, Erase)
  // since the last call, each sorted and once; a key erased and then re-created is only "changed".
  void TakeDirty(std::vector<uint64_t>* changed, std::vector<uint64_t>* erased);

 private:
  static constexpr uint32_t kNil = 0xffffffffu;
  struct Slot {
    uint64_t key;
    int64_t last_ts;
    uint32_t begin, len;  // items at items_[slot * 2 * max_len + begin ...]
    uint32_t prev, next;  // activity list; kNil at the ends
    bool dirty;
  };

  using Slots = std::vector<Slot, HugeAllocator<Slot>>;
  static uint64_t KeyAt(const Slots& slots, uint32_t slot) { return slots[slot].key; }

  uint32_t Lookup(uint64_t key) const;
  // Add, given s = Lookup(key).
  bool AddAt(uint32_t s, uint64_t key, ItemIndex item, int64_t ts_s);
  uint32_t NewSlot(uint64_t key);
  void FreeSlot(uint32_t slot);
  void Unlink(uint32_t slot);
  void LinkTail(uint32_t slot);
  void MarkDirty(uint32_t slot);
  // Rebuilds the activity list in last_ts order (after loads, which append in key order).
  void SortActivity();
  ItemIndex* Items(uint32_t slot) {
    return items_.data() + static_cast<size_t>(slot) * 2 * options_.max_len;
  }
  const ItemIndex* Items(uint32_t slot) const {
    return items_.data() + static_cast<size_t>(slot) * 2 * options_.max_len;
  }

  SessionTrackerOptions options_;
  // The three arrays a session event touches at random, on huge pages when large (1M sessions
  // of max_len 5: 40 MB of items).
  Slots slots_;
  std::vector<ItemIndex, HugeAllocator<ItemIndex>> items_;
  std::vector<uint32_t> free_;  // reusable slots
  // Key -> slot (common/index_set.h): 8 bytes a session, the key itself in its slot.
  IndexSet<Slots, uint64_t, &SessionTracker::KeyAt> table_;
  uint32_t head_ = kNil, tail_ = kNil;  // least / most recently active
  size_t live_ = 0;
  bool unsorted_ = false;         // a load appended out of activity order
  std::vector<uint64_t> dirty_;   // keys of slots whose dirty flag went up
  std::vector<uint64_t> erased_;  // keys erased since the last TakeDirty
};

}  // namespace streamrec::models
