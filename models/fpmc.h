// FPMC (Rendle et al. 2010, factorized personalized Markov chains) learned online:
//
//   x(u, S, j) = b_j + f_j · (p_u + c_S) + ρ(j, S),   c_S = Σ_a w_a e_{S[-1-a]} / Σ_a w_a
//
// where S is the session's last max_len items (a = 0 the newest), w_a = decay^a, e the items'
// input ("from") embeddings, p_u the user's own vector (no user term for kNoUser or an unknown
// user), and b, f, ρ the shared SessionHead (bias, output embeddings, repeat bonus). The
// user-item and the transition terms share f, so scoring all items is one ScoreRows pass with
// the query p_u + c_S. Each Observe samples negatives and takes one head step (BPR pairs or a
// sampled softmax, see SessionHead), then applies the query's gradient to p_u and the e rows.
#pragma once

#include <vector>

#include "models/embedding_session_model.h"

namespace streamrec::models {

struct FPMCOptions {
  uint32_t dim = 64;
  float init_std = 0.05f;
  // Recent items read (the Markov chain's order L).
  uint32_t max_len = 5;
  // Weight of the a-th most recent item is decay^a: 0 reads only the last item (FMC), 1 the
  // mean of the last max_len.
  float decay = 0.6f;
  // Whether the user vector p_u is learned and used.
  bool user_term = true;
  // Salt of the deterministic row initialization.
  uint32_t seed = 1;
  // Learning rate, L2 (also on p and e), negatives, loss, repeat bonus.
  SessionHeadOptions head;

  Status Apply(const ParamMap& params, ParamMap* effective = nullptr);
};

class FPMC final : public EmbeddingSessionModel {
 public:
  explicit FPMC(const FPMCOptions& options);

  std::string_view name() const override { return "fpmc"; }
  uint32_t max_len() const override { return options_.max_len; }
  void Observe(UserIndex user, std::span<const ItemIndex> recent, ItemIndex next,
               uint64_t seed) override;
  // p_u + c_S (see the class comment).
  void Query(UserIndex user, std::span<const ItemIndex> recent, float* h) const override;
  void Save(ByteWriter* w) const override;
  Status Load(ByteReader* r) override;
  void SaveGlobals(ByteWriter* w) const override;
  Status LoadGlobals(ByteReader* r) override;

  // The loss one update descends for the given negatives, and that update alone (gradient
  // checks). REQUIRES: user, recent, pos and negs already known to the model.
  float Loss(UserIndex user, std::span<const ItemIndex> recent, ItemIndex pos,
             std::span<const ItemIndex> negs) const;
  void Step(UserIndex user, std::span<const ItemIndex> recent, ItemIndex pos,
            std::span<const ItemIndex> negs);

  const FPMCOptions& options() const { return options_; }

 private:
  FPMCOptions options_;
  // Scratch of one Observe: query, its gradient, negatives drawn.
  std::vector<float> q_, gq_;
  std::vector<ItemIndex> negs_;
};

}  // namespace streamrec::models
