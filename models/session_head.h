// SessionHead: the output layer shared by the factorized session models (FPMC, SASRec-lite).
// Given a query vector h (built by the model from the user and the session), item j scores
//
//   x(j) = b_j + h · f_j + Σ_{a : S[-1-a] = j} ρ_a
//
// f the items' output embeddings, b an item bias, and ρ_a a learned "repeat" bonus of the item
// clicked a steps back (sessions re-click their own items often). It samples negatives and
// takes the SGD step of the head's parameters on either loss:
//   BPR:     Σ_j -ln σ(x(pos) - x(j)), one pair at a time (sequential SGD);
//   softmax: -ln softmax(x)[pos] over {pos} ∪ negatives (sampled softmax), one step;
// and returns -dLoss/dh so the model can back-propagate into h's inputs.
//
// Thread safety: as EmbeddingTable; Score is const and allocation-free.
#pragma once

#include <span>
#include <vector>

#include "common/coding.h"
#include "common/rng.h"
#include "common/topk.h"
#include "common/types.h"
#include "models/dirty_set.h"
#include "models/embedding_table.h"
#include "models/params.h"
#include "models/sampler.h"

namespace streamrec::models {

struct SessionHeadOptions {
  float lr = 0.05f;
  // L2 on the output embeddings (per occurrence) and on the bias; ρ is not regularized.
  float reg = 1e-4f;
  float reg_bias = 1e-4f;
  // Sampled negatives per event, uniform over the items seen or by count^pop_exponent.
  uint32_t negatives = 5;
  bool pop_negatives = false;
  float pop_exponent = 0.75f;
  // Loss: sampled softmax (true) or BPR pairs (false).
  bool softmax = false;
  // Also use the session's own items (other than the positive) as negatives. Calibrates ρ, but
  // on Yoochoose it teaches the embeddings that items like the session's are not next
  // (recall@20 0.65 -> 0.29), so it is off by default.
  bool session_negatives = false;
  // Learn the repeat bonus ρ (max_len scalars).
  bool repeat = true;

  // Reads the head's parameters (same names in every model using it).
  void Read(ParamReader* r);
};

class SessionHead {
 public:
  SessionHead(uint32_t dim, float init_std, uint64_t salt, uint32_t max_len,
              const SessionHeadOptions& options);

  uint32_t dim() const { return f_.dim(); }
  uint32_t stride() const { return f_.stride(); }
  uint32_t items() const { return f_.rows(); }
  void EnsureItems(uint32_t n);
  // Counts `item` as a next click (it becomes scoreable and a negative candidate).
  void Count(ItemIndex item) { SetCount(item, count_[item] + 1); }
  bool Seen(ItemIndex item) const { return item < count_.size() && count_[item] > 0; }

  // Replaces *negs with the event's negatives: sampled ones, then the session's items.
  void SampleNegatives(ItemIndex pos, std::span<const ItemIndex> recent, Rng& rng,
                       std::vector<ItemIndex>* negs) const;
  // One SGD step of the head for query h; *gh (stride floats) receives -dLoss/dh computed at the
  // parameters before the step. Returns the number of loss terms (pairs for BPR, 1 for
  // softmax), by which the model scales the regularization of h's inputs.
  // REQUIRES: pos and negs < items(); recent already cut to max_len.
  float Step(const float* h, std::span<const ItemIndex> recent, ItemIndex pos,
             std::span<const ItemIndex> negs, float* gh, DirtySet* dirty);
  // The loss Step descends (for gradient checks).
  float Loss(const float* h, std::span<const ItemIndex> recent, ItemIndex pos,
             std::span<const ItemIndex> negs) const;
  // Scores of every item for query h; never-seen items get kExcludedScore.
  void Score(const float* h, std::span<const ItemIndex> recent, std::span<float> out) const;
  // Score's value for item j alone (kExcludedScore for an unknown or never-seen item).
  float ScoreOne(const float* h, std::span<const ItemIndex> recent, ItemIndex j) const;
  // The parts of Score that do not depend on h: item j's bias, kExcludedScore for a never-seen
  // item (what a copy of the head's rows scores with, see ScoreTable); and the repeat bonus of
  // the session's items, added to their scores in `out` (excluded ones stay excluded).
  float ScoreBias(ItemIndex j) const { return count_[j] == 0 ? kExcludedScore : bias_[j]; }
  void AddRepeats(std::span<const ItemIndex> recent, std::span<float> out) const;
  // The repeat bonus of item j given the session (0 when j is not among its last max_len).
  float Repeat(ItemIndex j, std::span<const ItemIndex> recent) const;

  const EmbeddingTable& outputs() const { return f_; }
  float bias(ItemIndex i) const { return bias_[i]; }
  float repeat(uint32_t a) const { return rho_[a]; }

  // Globals: ρ. Item rows: f_i, b_i, count_i. Whole: all of it.
  void SaveGlobals(ByteWriter* w) const;
  Status LoadGlobals(ByteReader* r);
  void SaveItemRow(ItemIndex i, ByteWriter* w) const;
  Status LoadItemRow(ItemIndex i, ByteReader* r);
  void Save(ByteWriter* w) const;
  Status Load(ByteReader* r);

 private:
  void SetCount(ItemIndex i, uint32_t count);
  void AddRepeat(ItemIndex j, std::span<const ItemIndex> recent, float delta);

  SessionHeadOptions options_;
  EmbeddingTable f_;
  std::vector<float> bias_;
  std::vector<uint32_t> count_;  // times seen as the next click
  std::vector<float> rho_;       // max_len
  WeightedSampler pop_sampler_;
  std::vector<float> logits_;  // softmax scratch
};

}  // namespace streamrec::models
