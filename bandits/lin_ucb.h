// Hybrid LinUCB (Li, Chu, Langford, Schapire, WWW 2010, Algorithm 2) for cold items.
//
// Features of a request for user u and arm (cold item) a:
//   z_a ∈ R^D  (shared, D = `dim`, the hashed feature dimension, e.g. 16/32/64): the item's
//              features hashed by FeatureHasher (e.g. "genre:Drama" -> 1, "year" -> scaled
//              year, plus a constant "bias" -> 1 the pool adds). Shared weights β over z learn
//              which KINDS of item get clicked, so a brand-new item inherits what similar items
//              taught — that is what makes LinUCB useful in an item's first impressions.
//   x_u ∈ R^d  (per arm, d = user_dim + 1): [1, s · P e_u / |e_u|], the user's BPR embedding e_u
//              normalized and projected to user_dim dimensions by a fixed seeded Gaussian matrix
//              P (user_dim x embedding_dim, entries N(0, 1/user_dim)), scaled by s=user_scale;
//              zeros past the 1 for an unknown user. θ_a over x learns the arm's own click rate
//              (the 1) and which users like it.
// Model: E[r | u, a] = z_a·β + x_u·θ_a. State (ridge λ): A0 = λI + Σ z z^T - Σ_a B_a^T A_a^-1 B_a
// (D x D), b0 (D); per arm A_a = λI + Σ x x^T (d x d), B_a = Σ x z_a^T (d x D), b_a = Σ r x.
//
// Because z depends on the arm only, B_a = s_a z_a^T with s_a = Σ x (rank one), and every term
// of Algorithm 2 collapses. With β = A0^-1 b0, q_a = z_a^T A0^-1 z_a, m_a = A_a^-1 s_a,
// c_a = A_a^-1 b_a:
//   θ_a = c_a - m_a (z_a·β)
//   s_ta = q_a (1 - x·m_a)^2 + x^T A_a^-1 x          (the four-term variance of Algorithm 2)
//   p_ta = (z_a·β)(1 - x·m_a) + x·c_a + alpha sqrt(s_ta)
// and the update with reward r is one Sherman–Morrison rank-one update of A_a^-1 (d x d) and one
// of A0^-1 along z_a with coefficient 1 + γ - γ' (γ = s_a·m_a before, γ' after); b0 += (r +
// s·c - s'·c') z_a. No matrix is inverted per request or per update (A0 is re-inverted directly
// every `refresh_every` updates, O(D^3), to stop rounding drift).
//
// Cost per request: O(d·E) to project the user and form x x^T, then per arm one pass over its
// scoring fields [packed upper triangle of A_a^-1 | m_a | c_a | q_a | z_a·β] (d(d+1)/2 + 2d + 2
// floats, laid out 8 arms per SIMD vector) — independent of D. q_a and z_a·β depend only on the
// shared state, so each update refreshes them for every arm: O(D^2 + arms·nnz) per update (q_a
// follows each Sherman–Morrison step of A0^-1 exactly: q_a -= c (z_a·v)^2 / (1 + c u·v), v = A0^-1
// u).
//
// Propensity: LinUCB is deterministic given its state; ties (e.g. brand-new arms with equal
// features) are broken by a seeded jitter of 1e-6, so the propensity reported is 1.
#pragma once

#include <cstdlib>
#include <new>
#include <vector>

#include "bandits/policy.h"

namespace streamrec::bandits {

// std::allocator with 64-byte alignment (scoring blocks start on cache lines).
template <typename T>
struct CacheAligned {
  using value_type = T;
  CacheAligned() = default;
  template <typename U>
  CacheAligned(const CacheAligned<U>&) {}  // NOLINT
  T* allocate(size_t n) {
    return static_cast<T*>(::operator new (n * sizeof(T), std::align_val_t{64}));
  }
  void deallocate(T* p, size_t n) { ::operator delete (p, n * sizeof(T), std::align_val_t{64}); }
  template <typename U>
  bool operator==(const CacheAligned<U>&) const {
    return true;
  }
};

struct LinUcbOptions {
  // Hashed item-feature dimension D (the pool's feature_dim). Not reloadable.
  uint32_t dim = 32;
  // User projection size; d = user_dim + 1. 0 = per-arm intercept only (no personalization).
  // Scoring cost grows with d^2 (bandit-sim: 0 and 3 equal within noise, 7 slightly worse).
  uint32_t user_dim = 3;
  // Size of the user embeddings passed in UserContext (BPR dim); 0 = ignore embeddings.
  uint32_t embedding_dim = 0;
  // Width of the confidence bonus: larger explores more (bandit-sim: 0.05-0.1 best, 0.5 worse).
  double alpha = 0.05;
  // Ridge: A0 and every A_a start as lambda * I.
  double lambda = 1.0;
  // Scale s of the projected user vector relative to the intercept.
  double user_scale = 1.0;
  // A0^-1 is recomputed by direct inversion after this many updates (rounding drift).
  uint32_t refresh_every = 4096;
  // Salt of the projection matrix P.
  uint32_t seed = 7;

  Status Apply(const BanditParams& params, BanditParams* effective = nullptr);
};

class LinUcbPolicy final : public Policy {
 public:
  explicit LinUcbPolicy(const LinUcbOptions& options);

  std::string_view name() const override { return "linucb"; }
  void ResetArm(ArmIndex arm, const SparseFeatures& f) override;
  void Select(const UserContext& user, std::span<const ArmIndex> candidates, uint32_t k,
              int64_t now_micros, Rng& rng, SelectScratch* scratch,
              std::vector<Selection>* out) const override;
  void Update(const UserContext& user, ArmIndex arm, float reward, int64_t ts_micros) override;
  double Mean(const UserContext& user, ArmIndex arm, int64_t now_micros) const override;
  void SaveGlobals(ByteWriter* w) const override;
  Status LoadGlobals(ByteReader* r) override;
  void SaveArm(ArmIndex arm, ByteWriter* w) const override;
  Status LoadArm(ArmIndex arm, ByteReader* r) override;

  // The UCB score p_ta and its parts, for tests (computed in double from the master state by
  // the literal formulas of Algorithm 2, not the fast path).
  double ReferenceUcb(const UserContext& user, ArmIndex arm) const;
  // x_u for `user` (d doubles).
  void UserVector(const UserContext& user, std::span<double> x) const;
  const LinUcbOptions& options() const { return options_; }
  uint32_t user_vector_dim() const { return d_; }
  // A0 and its maintained inverse (D x D, row-major), for tests.
  const std::vector<double>& a0() const { return a0_; }
  const std::vector<double>& a0_inverse() const { return a0_inv_; }

 private:
  // Per-arm master state (double).
  struct ArmState {
    std::vector<double> a_inv;  // d x d
    std::vector<double> b;      // d
    std::vector<double> s;      // d: Σ x, so that B_a = s z_a^T
    std::vector<double> a;      // d x d: A_a itself (for the reference path and refreshes)
    uint64_t updates = 0;
  };
  void EnsureArm(ArmIndex arm);
  // Rebuilds the arm's float scoring copies (A_a^-1, c_a, m_a) from its master state.
  void RefreshArm(ArmIndex arm);
  // Recomputes β = A0^-1 b0 and the float copies of A0^-1 and β.
  void RefreshGlobal();
  void ResetGlobal();
  void UserVectorF(const UserContext& user, float* x) const;

  LinUcbOptions options_;
  uint32_t d_;                     // user_dim + 1
  std::vector<float> projection_;  // user_dim x embedding_dim

  // Shared state (double master + float copies for scoring).
  std::vector<double> a0_, a0_inv_, b0_, beta_;
  std::vector<float> a0_inv_f_, beta_f_;
  uint64_t updates_since_refresh_ = 0;
  std::vector<double> tmp_, tmp2_, v_;

  // Per-arm master state and contiguous scoring arrays, indexed by arm.
  std::vector<ArmState> arms_;
  std::vector<SparseFeatures> z_;
  // Scoring fields per arm: packed upper triangle of A_a^-1 (off-diagonal entries doubled, so
  // that x^T A^-1 x = fields · packed(x x^T)), then m_a, c_a, q_a, z_a·β: fields_ floats. Stored
  // structure-of-arrays by groups of kLanes arms, field-major within a group, so that scoring
  // runs kLanes arms per SIMD instruction with no horizontal sums.
  static constexpr uint32_t kLanes = 8;
  uint32_t tri_ = 0;     // d(d+1)/2
  uint32_t fields_ = 0;  // tri_ + 2d + 2
  std::vector<float, CacheAligned<float>> blocks_;
  float& Field(ArmIndex arm, uint32_t f) {
    return blocks_[(static_cast<size_t>(arm / kLanes) * fields_ + f) * kLanes + arm % kLanes];
  }
  float Field(ArmIndex arm, uint32_t f) const {
    return blocks_[(static_cast<size_t>(arm / kLanes) * fields_ + f) * kLanes + arm % kLanes];
  }
  std::vector<double> q_;  // z_a^T A0^-1 z_a per arm (master of the block's q_a)
  // Rewrites every arm's q_a / z_a·β after A0^-1 += -c v v^T / (1 + c u·v) (v = A0^-1 u); with
  // full = true recomputes q_a exactly from A0^-1.
  void RefreshArmsGlobal(bool full, double c, double uv);
};

}  // namespace streamrec::bandits
