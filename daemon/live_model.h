// LiveModel: the daemon's in-memory model, the tables that every other room of ModelState
// (model_state.h) works on, and the three locks that guard them. It holds data, not behaviour:
// WritePath changes it, ModelCheckpoint moves it to and from the store, Ranker reads it.
//
// Lock order (the one place it is stated): `lock`, then `bpr_lock`, then `session_lock`. A
// reader takes the ones it needs shared, in that order. Each writer thread takes only its own
// lock exclusively: the consumer `lock` (the id maps, MF, popularity), the BPR lane `bpr_lock`
// (BPR, the histories, exploration), the session lane `session_lock` (the sessions and their
// model). Every guarded member says which lock it needs; `clang++ -Wthread-safety` checks
// every access (scripts/thread_safety.sh).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include <absl/base/thread_annotations.h>
#include "common/ids.h"
#include "common/status.h"
#include "daemon/config.h"
#include "daemon/exploration.h"
#include "daemon/rw_lock.h"
#include "daemon/scoring_snapshot.h"
#include "daemon/session_state.h"
#include "models/bpr.h"
#include "models/dirty_set.h"
#include "models/embedding_session_model.h"
#include "models/mf.h"
#include "models/popularity.h"
#include "models/user_history.h"

namespace streamrec::daemon {

struct LiveModel {
  // InvalidArgument when a model's parameters are invalid.
  static Result<std::unique_ptr<LiveModel>> Create(const Config& config);
  explicit LiveModel(const Config& c) : config(c) {}

  const Config config;

  mutable RwLock lock;          // the consumer's models and the id maps
  mutable RwLock bpr_lock;      // the BPR lane's models
  mutable RwLock session_lock;  // the session lane's

  // --- the consumer's (lock) -------------------------------------------------------------------
  IdMap users ABSL_GUARDED_BY(lock);
  IdMap items ABSL_GUARDED_BY(lock);
  std::unique_ptr<models::BiasedMF> mf ABSL_PT_GUARDED_BY(lock);
  std::unique_ptr<models::Popularity> pop ABSL_PT_GUARDED_BY(lock);
  models::DirtySet dirty_ids ABSL_GUARDED_BY(lock);  // erased user ids the next checkpoint rewrites
  int64_t event_time_us ABSL_GUARDED_BY(lock) = 0;   // the largest event time applied

  // --- the BPR lane's (bpr_lock) ---------------------------------------------------------------
  models::UserHistory history ABSL_GUARDED_BY(bpr_lock);
  models::DirtySet dirty_history
      ABSL_GUARDED_BY(bpr_lock);  // users whose history the checkpoint rewrites
  std::unique_ptr<models::BPR> bpr ABSL_PT_GUARDED_BY(bpr_lock);
  // Null: exploration off (bandit.policy "none"). Reads BPR's user vectors.
  std::unique_ptr<Exploration> explore ABSL_PT_GUARDED_BY(bpr_lock);

  // --- the session lane's (session_lock) -------------------------------------------------------
  std::unique_ptr<SessionState> sessions ABSL_PT_GUARDED_BY(session_lock);
  // The session model when it is linear (an embedding model: the snapshot can score it), else
  // null.
  models::EmbeddingSessionModel* embedding_model ABSL_PT_GUARDED_BY(session_lock) = nullptr;

  // --- unguarded -------------------------------------------------------------------------------
  // The int8 copy of the item tables that requests score outside the locks (its own
  // left-right synchronization); null when config.scoring_snapshot is off.
  std::unique_ptr<ScoringSnapshot> snapshot;
  // Events applied: written by the consumer alone, read by its Publish without `lock`.
  std::atomic<uint64_t> events_applied{0};
  // events_applied as of the last Publish: what Sizes() reports (an event counts once the read
  // path sees it).
  std::atomic<uint64_t> events_published{0};
  // Recommend calls in flight: while there are any, the lanes yield the CPU between runs.
  mutable std::atomic<int> requests{0};
  // Fixed at Create: the session model's name ("none" when off), the exploration policy's.
  std::string session_model_name;
  std::string bandit_policy;
  bool exploring = false;  // explore != null
};

}  // namespace streamrec::daemon
