// Deliberate violations of the model's lock annotations: scripts/thread_safety.sh compiles this
// file with clang -Wthread-safety and requires each to be reported, so the analysis it runs over
// daemon/ is known to catch what it is there to catch. Never built into a binary.
#include "daemon/live_model.h"
#include "daemon/model_state.h"

namespace streamrec::daemon {

// VIOLATION 1: reads an id map without the model lock.
uint32_t UsersWithoutLock(const LiveModel& m) { return m.users.size(); }

// VIOLATION 2: writes the BPR lane's history holding only the consumer's lock.
void HistoryUnderWrongLock(LiveModel& m) {
  WriteLock l(m.lock);
  m.history.Add(0, 0);
}

// VIOLATION 3: applies an event without holding the write lock.
void ApplyWithoutLock(ModelState& model, const stream::EventView& e) { model.Apply(e, 0.0, 0); }

}  // namespace streamrec::daemon
