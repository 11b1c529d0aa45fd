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
#include "models/persistent_model.h"
#include "models/user_history.h"

namespace streamrec::models {

// name(), ForgetUser and the persistence are PersistentModel's; name() is the `source` the
// HTTP API reports ("bpr", "mf", "popular", ...).
class Recommender : public PersistentModel {
 public:
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
};

// Builds a model by name ("mf", "bpr", "pop", "itemknn") with the tuned defaults overridden by
// `params`; InvalidArgument for an unknown name or parameter. When `effective` is given it
// receives every hyper-parameter's value as used.
Result<std::unique_ptr<Recommender>> MakeRecommender(std::string_view name, const ParamMap& params,
                                                     ParamMap* effective = nullptr);

}  // namespace streamrec::models
