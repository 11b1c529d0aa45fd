// Recommender: the interface every model of the main ranking implements (MF, BPR, popularity,
// item-kNN; session models later). One Observe is one online update on one event; scoring is
// const and reads only the model, so it can run concurrently with other scoring calls.
//
// Thread safety: const methods may run concurrently with each other; Observe, Forget and Load
// need exclusive access (the daemon's model lock).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/coding.h"
#include "common/status.h"
#include "common/types.h"
#include "models/params.h"
#include "models/user_history.h"

namespace streamrec {

class Recommender {
 public:
  virtual ~Recommender() = default;

  // Short name, also the `source` reported by the HTTP API ("bpr", "mf", "popular", ...).
  virtual std::string_view name() const = 0;

  // One online update from one interaction. `history` holds the user's items BEFORE this event
  // (the caller adds x.item after Observe returns). `seed` drives every random draw of the
  // update: the same (model, history, x, seed) gives the same bits.
  virtual void Observe(const Interaction& x, const UserHistory& history, uint64_t seed) = 0;

  // Writes a score for every item index in [0, out.size()); higher ranks first. Items the model
  // has never seen get kExcludedScore. `user` may be unknown to the model (cold user): the model
  // then scores by what it knows of items alone.
  virtual void ScoreItems(UserIndex user, const UserHistory& history,
                          std::span<float> out) const = 0;

  // Predicted rating, for models that learn ratings; NaN otherwise.
  virtual float PredictRating(UserIndex user, ItemIndex item) const;

  // Erases what the model learned about `user` alone (forget_user); item state stays.
  virtual void ForgetUser(UserIndex user) = 0;

  virtual void Save(ByteWriter* w) const = 0;
  virtual Status Load(ByteReader* r) = 0;

  // Incremental persistence. A model's state is its global part plus one record per user row
  // and one per item row; a checkpoint writes the globals and the rows changed since the last
  // TakeDirty. Restore: LoadGlobals first (it sizes the tables exactly as they were, so rows
  // never written come back with their deterministic initial values), then the rows.
  // The defaults keep everything in the globals (the whole Save blob) and no rows, which suits
  // small or dense models (popularity, item-kNN).
  virtual void SaveGlobals(ByteWriter* w) const { Save(w); }
  virtual Status LoadGlobals(ByteReader* r) { return Load(r); }
  virtual void SaveUserRow(UserIndex, ByteWriter*) const {}
  virtual Status LoadUserRow(UserIndex, ByteReader*) { return Status::Ok(); }
  virtual void SaveItemRow(ItemIndex, ByteWriter*) const {}
  virtual Status LoadItemRow(ItemIndex, ByteReader*) { return Status::Ok(); }
  // Row records are empty for a row the model does not have (Load*Row is then not called).
  // Appends (ascending) the rows changed since the last call and forgets them.
  virtual void TakeDirty(std::vector<UserIndex>*, std::vector<ItemIndex>*) {}
};

// Builds a model by name ("mf", "bpr", "pop", "itemknn") with the tuned defaults overridden by
// `params`; InvalidArgument for an unknown name or parameter. When `effective` is given it
// receives every hyper-parameter's value as used.
Result<std::unique_ptr<Recommender>> MakeRecommender(std::string_view name, const ParamMap& params,
                                                     ParamMap* effective = nullptr);

}  // namespace streamrec
