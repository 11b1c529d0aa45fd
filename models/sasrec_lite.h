// SASRec-lite: one causal self-attention block (after Kang & McAuley 2018) read at the last
// position, learned online with BPR. For the session's last n ≤ max_len items r_0..r_{n-1}:
//
//   x_t = E[r_t] + P[n-1-t]                 item embedding + learned recency embedding
//   α   = softmax_t( (Wq x_{n-1}) · x_t / √d )  attention of the newest item over the session
//   h   = x_{n-1} + V Σ_t α_t x_t (+ p_u)       residual; p_u only with user_term
//   x(j) = b_j + h · F[j] + ρ(j, S)            the shared SessionHead
//
// (a bilinear key form x_last^T Wq^T x_t equals SASRec's separate query and key maps; the value
// map V is applied after the weighted sum.) Each Observe samples negatives, takes one head step
// (BPR pairs or a sampled softmax, see SessionHead), then back-propagates the gradient of h
// through the block. Wq, V and P are small (2·d² + max_len·d floats)
// and form the globals; E, F and the bias are item rows, p the user rows.
#pragma once

#include <vector>

#include "models/embedding_session_model.h"

namespace streamrec::models {

struct SASRecLiteOptions {
  uint32_t dim = 64;
  float init_std = 0.05f;
  // Initial scale of Wq and V (small: the block starts close to "last item only").
  float w_init_std = 0.01f;
  // L2 on Wq and V (the head's reg applies to the embeddings, per occurrence).
  float reg_w = 1e-4f;
  // Recent items attended over.
  uint32_t max_len = 10;
  // A learned user vector added to h (unknown users get none).
  bool user_term = false;
  uint32_t seed = 1;
  // Learning rate, L2, negatives, loss, repeat bonus.
  SessionHeadOptions head;

  Status Apply(const ParamMap& params, ParamMap* effective = nullptr);
};

class SASRecLite final : public EmbeddingSessionModel {
 public:
  explicit SASRecLite(const SASRecLiteOptions& options);

  std::string_view name() const override { return "sasrec-lite"; }
  uint32_t max_len() const override { return options_.max_len; }
  void Observe(UserIndex user, std::span<const ItemIndex> recent, ItemIndex next,
               uint64_t seed) override;
  // The attention block's output over the session.
  void Query(UserIndex user, std::span<const ItemIndex> recent, float* h) const override;
  void Save(ByteWriter* w) const override;
  Status Load(ByteReader* r) override;
  void SaveGlobals(ByteWriter* w) const override;
  Status LoadGlobals(ByteReader* r) override;

  // The loss one update descends for the given negatives, and that update alone (gradient
  // checks). REQUIRES: every index already known to the model.
  float Loss(UserIndex user, std::span<const ItemIndex> recent, ItemIndex pos,
             std::span<const ItemIndex> negs) const;
  void Step(UserIndex user, std::span<const ItemIndex> recent, ItemIndex pos,
            std::span<const ItemIndex> negs);

  const SASRecLiteOptions& options() const { return options_; }
  const EmbeddingTable& positions() const { return pos_; }
  const EmbeddingTable& query() const { return wq_; }  // row i = output i of Wq
  const EmbeddingTable& value() const { return v_; }   // row i = output i of V

 private:
  // Forward-pass buffers, sized for max_len.
  struct Activations {
    std::vector<float> x;      // max_len rows of stride
    std::vector<float> alpha;  // max_len
    std::vector<float> q, o, h;
    uint32_t len = 0;
  };
  void InitActivations(Activations* a) const;
  void Forward(UserIndex user, std::span<const ItemIndex> recent, Activations* a) const;
  // Applies the SGD step given gh = -dLoss/dh (and `steps` regularization terms).
  void Backward(UserIndex user, std::span<const ItemIndex> recent, const float* gh, float steps);

  SASRecLiteOptions options_;
  EmbeddingTable pos_;     // max_len rows: recency 0 (newest) first
  EmbeddingTable wq_, v_;  // dim rows each
  // Scratch of one Observe.
  Activations act_;
  std::vector<float> gh_, go_, gq_, gx_, g_;
  std::vector<ItemIndex> negs_;
};

}  // namespace streamrec::models
