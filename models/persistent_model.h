// PersistentModel: the persistence every model shares (Recommender, SessionModel), so the
// daemon checkpoints and restores them all the same way.
//
// A model's state is its global part plus one record per user row and one per item row; a
// checkpoint writes the globals and the rows changed since the last TakeDirty. Restore:
// LoadGlobals first (it sizes the tables exactly as they were, so rows never written come
// back with their deterministic initial values), then the rows. The defaults keep everything
// in the globals (the whole Save blob) and no rows, which suits small or bounded models
// (popularity, item-kNN, session-kNN).
//
// Thread safety: Save* are const and may run concurrently with other const calls; Load*,
// TakeDirty and ForgetUser need exclusive access.
#pragma once

#include <string_view>
#include <vector>

#include "common/coding.h"
#include "common/status.h"
#include "common/types.h"

namespace streamrec::models {

class PersistentModel {
 public:
  virtual ~PersistentModel() = default;

  // Short name: the `source` the HTTP API reports and the key of the model's globals.
  virtual std::string_view name() const = 0;

  // Erases what the model learned about `user` alone (forget_user); item state stays.
  virtual void ForgetUser(UserIndex user) = 0;

  // Whole-model persistence (magic + version header).
  virtual void Save(ByteWriter* w) const = 0;
  virtual Status Load(ByteReader* r) = 0;

  // Incremental persistence (see the file comment). Row records are empty for a row the model
  // does not have (Load*Row is then not called). TakeDirty appends (ascending) the rows
  // changed since the last call and forgets them.
  virtual void SaveGlobals(ByteWriter* w) const { Save(w); }
  virtual Status LoadGlobals(ByteReader* r) { return Load(r); }
  virtual void SaveUserRow(UserIndex, ByteWriter*) const {}
  virtual Status LoadUserRow(UserIndex, ByteReader*) { return Status::Ok(); }
  virtual void SaveItemRow(ItemIndex, ByteWriter*) const {}
  virtual Status LoadItemRow(ItemIndex, ByteReader*) { return Status::Ok(); }
  virtual void TakeDirty(std::vector<UserIndex>*, std::vector<ItemIndex>*) {}
};

}  // namespace streamrec::models
