// SessionModel: the interface of the next-item (session-based) models: FPMC, the SASRec-lite
// attention model and session-kNN. Each reads the session's recent items (oldest first) and
// scores every item as the next click. One Observe is one online update on one transition
// recent -> next; scoring is const and reads only the model.
//
// Thread safety: as Recommender. Const methods (ScoreNext, Save*) may run concurrently with each
// other; Observe, ForgetUser, Load* need exclusive access (the daemon's model lock).
//
// Daemon usage: recent = tracker.RecentAt(key, ts); model.Observe(user, recent, item, seed);
// tracker.Add(key, item, ts). The model keeps no per-session state of its own (session-kNN keeps
// a bounded store of past sessions, identified by content), so sessions live in SessionTracker.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "common/coding.h"
#include "common/status.h"
#include "common/types.h"
#include "models/params.h"
#include "models/persistent_model.h"

namespace streamrec::models {

// `user` of an anonymous session: the models then score from the session's items alone.
inline constexpr UserIndex kNoUser = kNoIndex;

// name() ("fpmc", "sasrec-lite", "sknn"), ForgetUser and the persistence are
// PersistentModel's.
class SessionModel : public PersistentModel {
 public:
  // How many of the most recent items the model reads; callers may pass more (only the last
  // max_len() are used) or fewer.
  virtual uint32_t max_len() const = 0;

  // One online update on the transition recent -> next. `recent` holds the session's items
  // before `next`, oldest first (may be empty: the first click of a session). `user` may be
  // kNoUser. `seed` drives every random draw: same (model, inputs, seed) gives the same bits.
  virtual void Observe(UserIndex user, std::span<const ItemIndex> recent, ItemIndex next,
                       uint64_t seed) = 0;

  // Writes the score of every item in [0, out.size()) as the click after `recent`; higher ranks
  // first. Items the model has never seen get kExcludedScore. An unknown user (or kNoUser)
  // gets no user term. Does not exclude the session's own items (repeat clicks are common).
  virtual void ScoreNext(UserIndex user, std::span<const ItemIndex> recent,
                         std::span<float> out) const = 0;
};

// Builds a session model by name ("fpmc", "sasrec-lite", "sknn") with its defaults overridden by
// `params`; InvalidArgument for an unknown name or parameter. `effective` (optional) receives
// every hyper-parameter's value as used.
Result<std::unique_ptr<SessionModel>> MakeSessionModel(std::string_view name,
                                                       const ParamMap& params,
                                                       ParamMap* effective = nullptr);

// True for the names MakeSessionModel knows.
bool IsSessionModel(std::string_view name);

}  // namespace streamrec::models
