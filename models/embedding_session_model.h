// EmbeddingSessionModel: what the embedding-based session models (FPMC, SASRec-lite) share —
// an optional user table p, an input ("from") item table e, the SessionHead (output item
// embeddings, biases, repeat bonus, negatives), their dirty sets, and the row-level
// persistence of those tables. Subclasses define the query built from (user, recent items),
// its training step and any extra global weights.
//
// Record formats: a user row is p_u (dim floats); an item row is e_i then the head's row.
#pragma once

#include <cstdint>
#include <vector>

#include "models/dirty_set.h"
#include "models/embedding_table.h"
#include "models/session_head.h"
#include "models/session_model.h"

namespace streamrec::models {

class EmbeddingSessionModel : public SessionModel {
 public:
  void ForgetUser(UserIndex user) override;
  void SaveUserRow(UserIndex u, ByteWriter* w) const override;
  Status LoadUserRow(UserIndex u, ByteReader* r) override;
  void SaveItemRow(ItemIndex i, ByteWriter* w) const override;
  Status LoadItemRow(ItemIndex i, ByteReader* r) override;
  void TakeDirty(std::vector<UserIndex>* users, std::vector<ItemIndex>* items) override;
  // Item rows whose head scores changed since the last call: the dirty set's second reader
  // (the daemon's scoring snapshot; the checkpoint's is TakeDirty).
  void TakeScoreDirty(std::vector<ItemIndex>* items) { dirty_items_.Take(1, items); }

  // The query vector h the head scores for (user, recent): every item j scores
  // head().ScoreOne(h, recent, j). Writes head().stride() floats (zero padding); only the last
  // max_len() items of `recent` are read.
  virtual void Query(UserIndex user, std::span<const ItemIndex> recent, float* h) const = 0;
  // Query, then the head's Score.
  void ScoreNext(UserIndex user, std::span<const ItemIndex> recent,
                 std::span<float> out) const final;

  const EmbeddingTable& users() const { return p_; }
  const EmbeddingTable& inputs() const { return e_; }
  const SessionHead& head() const { return head_; }

 protected:
  // Row initializations are salted with user_salt, input_salt and head_salt.
  EmbeddingSessionModel(uint32_t dim, float init_std, bool user_term, uint32_t max_len,
                        const SessionHeadOptions& head, uint64_t user_salt, uint64_t input_salt,
                        uint64_t head_salt);

  void EnsureUsers(uint32_t n);
  void EnsureItems(uint32_t n);
  // Whether `u` has a user vector that takes part in scoring.
  bool HasUser(UserIndex u) const { return user_term_ && u != kNoUser && u < p_.rows(); }

  // The shared part of the globals: the user count and the head's globals. After its own
  // globals load, a subclass calls FinishLoadGlobals with the count read.
  void SaveSharedGlobals(ByteWriter* w) const;
  Status LoadSharedGlobals(ByteReader* r, uint32_t* users);
  void FinishLoadGlobals(uint32_t users);

  bool user_term_;
  EmbeddingTable p_;  // users
  EmbeddingTable e_;  // items as context ("from")
  SessionHead head_;  // items as next ("to")
  DirtySet dirty_users_;
  DirtySet dirty_items_{DirtySet::kTwoReaders};
};

}  // namespace streamrec::models
