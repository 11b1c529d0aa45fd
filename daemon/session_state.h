// SessionState: the daemon's live sessions and its session model (models/session_model.h), as
// ModelState uses them. It maps sessions to SessionTracker keys, keeps the event-time clock that
// expires them, feeds the model one transition per event, and moves sessions to and from the
// kSessions family.
//
// Keys: an event with a `session` field belongs to that explicit session; an event without one
// to its user's implicit session, which an inactivity gap cuts. The two live in disjoint key
// spaces: implicit = the user index (< 2^32), explicit = kExplicitBit | a dense index interned
// from the session id (indices of dropped sessions are reused, so memory follows the live
// sessions, not every session ever seen). In the store the spaces are prefixes: "u" + 4-byte user
// index, "s" + the session id itself; the value is SessionTracker::SaveSession's record. Keying
// the store by the id (not the in-memory index) makes its contents a function of the applied
// stream alone, whenever checkpoints happen.
//
// Time: sessions live on event time: now = the largest event timestamp applied (persisted), so a
// replay of the same stream drops the same sessions at the same events. Session activity is
// stamped with now, not with the event's own (possibly late) timestamp: the tracker's activity
// order then always equals last-event-time order, live or restored (which sorts by time), so
// expiry after a restart matches the uninterrupted run. (Sessions with equal times are ordered by
// arrival live but by key after a restore; that only matters for which of them the
// max_sessions cap evicts first.) A bogus far-future timestamp expires every session: there is
// no wall clock to compare with.
//
// Thread safety: none of its own; ModelState calls the non-const methods on its session lane
// under that lane's lock (or, for AppendCheckpoint and Restore, on the consumer thread while the
// lane is idle) and the const ones under the lane's lock shared.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/huge_alloc.h"
#include "common/index_set.h"
#include "common/status.h"
#include "common/types.h"
#include "daemon/config.h"
#include "models/session_model.h"
#include "models/sessions.h"
#include "state/store.h"
#include "state/write_batch.h"

namespace streamrec::daemon {

class SessionState {
 public:
  // Sentinel of "no such session".
  static constexpr uint64_t kNoKey = ~uint64_t{0};
  // High bit of the keys of explicit sessions.
  static constexpr uint64_t kExplicitBit = uint64_t{1} << 63;

  // Null model when config.model is "none"; InvalidArgument for bad parameters.
  static Result<std::unique_ptr<SessionState>> Create(const SessionConfig& config);

  // --- writer side (REQUIRES: exclusive access) -----------------------------------------------
  // Advances the event-time clock to ts_s (never backwards) and expires idle sessions.
  void AdvanceTime(int64_t ts_s);
  // One session event at the clock's now (call AdvanceTime with the event's time first):
  // `item` follows the session's recent items. Updates the model on the transition (when the
  // session has items), then appends the item. `session` empty = the user's implicit session.
  void Observe(UserIndex user, std::string_view session, ItemIndex item, uint64_t seed);
  // Drops the user's implicit session and the model's user rows (forget_user).
  void ForgetUser(UserIndex user);
  // Puts changed sessions and deletes dropped ones (expired, evicted, forgotten). Runs on the
  // writer thread WITHOUT the lock (ModelState::AppendCheckpoint): it only reads what readers
  // may read, and defers freeing the dropped explicit ids to the next AdvanceTime.
  void AppendSessions(state::WriteBatch* batch);
  // Loads every session of `store` and the clock. Before the writer starts. Corruption for a
  // malformed record, or one naming an item index >= `items` (the catalog restored with it).
  Status Restore(const state::StateReader& store, uint32_t items);

  // --- readers (REQUIRES: at least shared access) ---------------------------------------------
  models::SessionModel* model() const { return model_.get(); }
  // The live items of an explicit session, oldest first; empty when unknown, or cut by the gap
  // or the TTL at the current event time.
  std::span<const ItemIndex> ExplicitRecent(std::string_view session) const;
  // The same for a user's implicit session.
  std::span<const ItemIndex> ImplicitRecent(UserIndex user) const;
  size_t live() const { return tracker_.size(); }
  int64_t now_s() const { return now_s_; }

 private:
  SessionState(const SessionConfig& config, std::unique_ptr<models::SessionModel> model,
               const models::SessionTrackerOptions& options);
  // Key of an explicit session, interning the id.
  uint64_t InternExplicit(std::string_view session);
  uint64_t FindExplicit(std::string_view session) const;
  // Unmaps the explicit ids AppendSessions dropped. REQUIRES: exclusive access.
  void FreeIds();
  std::span<const ItemIndex> LiveRecent(uint64_t key) const;
  // Store key of a tracker key.
  void StoreKey(uint64_t key, std::string* out) const;

  const SessionConfig config_;
  std::unique_ptr<models::SessionModel> model_;  // null: sessions disabled
  models::SessionTracker tracker_;
  int64_t now_s_ = 0;  // the largest event time applied
  // Explicit session ids <-> dense indices; free_ holds indices to reuse. The ids by name
  // (common/index_set.h, as IdMap): 8 bytes an id, each id's string stored once, in names_; a
  // lookup (one per event with a session) allocates nothing.
  using Names = std::vector<std::string, HugeAllocator<std::string>>;
  static std::string_view NameAt(const Names& names, uint32_t index) { return names[index]; }
  IndexSet<Names, std::string_view, &SessionState::NameAt> ids_;
  Names names_;  // by index; empty when free
  std::vector<uint32_t> free_;
  std::vector<uint32_t> to_free_;  // dropped by AppendSessions, freed by FreeIds
  // Writer scratch.
  std::vector<uint64_t> changed_, erased_;
  // Sessions Restore had to drop (a smaller max_sessions): deleted by the next AppendSessions.
  std::vector<uint64_t> restore_erased_;
  std::string key_, value_;
};

}  // namespace streamrec::daemon
