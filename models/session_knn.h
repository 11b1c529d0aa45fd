// Session-kNN (Jannach & Ludewig 2017; the V-SKNN variant of Ludewig et al. 2018): the next
// item is scored by the past sessions most similar to the current one:
//
//   sim(S, n) = Σ_{p: S[p] ∈ n} w_p / sqrt(|n|)    w_p = position weight, newest 1, linear decay
//   score(i)  = Σ_{n ∈ top-k neighbours, i ∈ n} sim(S, n) · v(i, n)   (+ a popularity tie-break)
//
// v(i, n) weighs where i sits in the neighbour relative to m, n's last click of S's newest item
// (sequence-aware, as in STAN, Garg et al. 2019): step_decay^(k-m-1) for an item k > m steps
// after it, past_weight at or before it, 1 when n lacks the item. step_decay = past_weight = 1
// is plain V-SKNN.
// Candidates are the most recent `sample_size` stored sessions sharing an item with S.
//
// Memory is bounded: a ring of the `max_sessions` most recently started sessions (each its last
// `max_len` items) and an item -> sessions index, so the whole state is the globals. Sessions
// are identified by content: Observe(recent, next) extends the stored session whose items are
// exactly the last max_len of `recent` (the most recent such one), or starts a new one; so the
// model needs no session id and replays deterministically. Observe is deterministic and draws
// nothing from `seed`.
#pragma once

#include <vector>

#include "models/session_model.h"

namespace streamrec::models {

struct SessionKNNOptions {
  // Sessions kept (the ring); memory is about max_sessions * max_len * 8 bytes.
  uint32_t max_sessions = 50'000;
  // Items kept per stored session and read from the current one.
  uint32_t max_len = 20;
  // Neighbours summed into the scores, and candidate sessions examined (most recent first).
  uint32_t neighbors = 100;
  uint32_t sample_size = 1000;
  // Position weights of the current session: 1 for the newest, falling linearly to 1/len
  // (1 = on); off weighs all items 1.
  bool position_weights = true;
  // Divide the similarity by sqrt(|n|) (cosine-like); off = plain weighted overlap.
  bool normalize = true;
  // Neighbour item weights v(i, n), see the class comment.
  float step_decay = 1.0f;
  float past_weight = 1.0f;
  // Weight of the all-time popularity tie-break (relative to the largest count).
  float pop_weight = 1e-3f;

  Status Apply(const ParamMap& params, ParamMap* effective = nullptr);
};

class SessionKNN final : public SessionModel {
 public:
  explicit SessionKNN(const SessionKNNOptions& options);

  std::string_view name() const override { return "sknn"; }
  uint32_t max_len() const override { return options_.max_len; }
  void Observe(UserIndex user, std::span<const ItemIndex> recent, ItemIndex next,
               uint64_t seed) override;
  void ScoreNext(UserIndex user, std::span<const ItemIndex> recent,
                 std::span<float> out) const override;
  void ForgetUser(UserIndex) override {}  // sessions carry no user
  void Save(ByteWriter* w) const override;
  Status Load(ByteReader* r) override;

  // Sessions stored (at most max_sessions).
  uint32_t sessions() const { return static_cast<uint32_t>(len_.size()); }
  // Items of stored session `slot`, oldest first. REQUIRES: slot < sessions().
  std::span<const ItemIndex> Session(uint32_t slot) const {
    return {items_.data() + static_cast<size_t>(slot) * options_.max_len, len_[slot]};
  }

 private:
  bool Contains(uint32_t slot, ItemIndex item) const;
  // Slot whose items equal `recent` (already cut to max_len), or kNoIndex.
  uint32_t Find(std::span<const ItemIndex> recent) const;
  uint32_t NewSlot();
  void EnsureItems(uint32_t n);
  void AddPosting(ItemIndex item, uint32_t slot) { postings_[item].push_back(slot); }
  void RemovePosting(ItemIndex item, uint32_t slot);
  void Append(uint32_t slot, ItemIndex item);

  SessionKNNOptions options_;
  // Ring storage: slot s holds len_[s] items at items_[s * max_len]; stamp_[s] = clock at its
  // last update (larger = more recent). head_ = next slot to reuse once the ring is full.
  std::vector<ItemIndex> items_;
  std::vector<uint32_t> len_;
  std::vector<uint64_t> stamp_;
  uint32_t head_ = 0;
  uint64_t clock_ = 0;
  // Per item: slots holding it (each once), and how often it was the next click.
  std::vector<std::vector<uint32_t>> postings_;
  std::vector<uint32_t> count_;
  uint32_t max_count_ = 0;
};

}  // namespace streamrec::models
