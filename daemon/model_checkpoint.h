// ModelCheckpoint: moves the LiveModel to and from the state store, in the layout of
// state_layout.h. AppendChanges writes what changed since the last call (new and erased ids,
// the model rows each model marked dirty, histories, globals, sessions, exploration) into a
// write batch; Restore rebuilds the whole model from a store.
//
// Thread safety: the consumer thread's, after WritePath::Flush (the lanes idle); it takes the
// locks shared for the reads the analysis checks.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "daemon/live_model.h"
#include "models/persistent_model.h"
#include "state/store.h"
#include "state/write_batch.h"

namespace streamrec::daemon {

class ModelCheckpoint {
 public:
  // `model` is borrowed and outlives this.
  explicit ModelCheckpoint(LiveModel& model) : m_(model) {}

  // Appends every change since the last call to *batch.
  void AppendChanges(state::WriteBatch* batch)
      ABSL_LOCKS_EXCLUDED(m_.lock, m_.bpr_lock, m_.session_lock);
  // Replaces the model with what `store` holds. Before the writers start. Corruption for a
  // malformed record.
  Status Restore(const state::StateReader& store)
      ABSL_LOCKS_EXCLUDED(m_.lock, m_.bpr_lock, m_.session_lock);

 private:
  // Every model a checkpoint stores, at its layout::RowPart position (null when that model is
  // off), each with the kModel key of its globals.
  struct PersistedModel {
    models::PersistentModel* model;
    std::string globals_key;
  };
  std::vector<PersistedModel> Persisted() const
      ABSL_SHARED_LOCKS_REQUIRED(m_.lock, m_.bpr_lock, m_.session_lock);
  void AppendIds(state::WriteBatch* batch) ABSL_SHARED_LOCKS_REQUIRED(m_.lock);
  void AppendRows(const std::vector<PersistedModel>& persisted, state::WriteBatch* batch);
  void AppendHistories(state::WriteBatch* batch) ABSL_SHARED_LOCKS_REQUIRED(m_.bpr_lock);
  Status RestoreIds(const state::StateReader& store) ABSL_EXCLUSIVE_LOCKS_REQUIRED(m_.lock);
  Status RestoreRows(const state::StateReader& store, const std::vector<PersistedModel>& persisted);

  LiveModel& m_;
  uint32_t users_saved_ = 0;  // ids [0, users_saved_) are in the store
  uint32_t items_saved_ = 0;
};

}  // namespace streamrec::daemon
