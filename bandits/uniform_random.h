// Uniform random baseline: k arms drawn uniformly without replacement from the candidates.
// Propensity is exact: k/n for each chosen arm (n = number of candidates). Learns nothing.
#pragma once

#include "bandits/policy.h"

namespace streamrec::bandits {

class UniformRandomPolicy final : public Policy {
 public:
  std::string_view name() const override { return "random"; }
  void ResetArm(ArmIndex, const SparseFeatures&) override {}
  void Select(const UserContext& user, std::span<const ArmIndex> candidates, uint32_t k,
              int64_t now_micros, Rng& rng, SelectScratch* scratch,
              std::vector<Selection>* out) const override;
  void Update(const UserContext&, ArmIndex, float, int64_t) override {}
  double Mean(const UserContext&, ArmIndex, int64_t) const override { return 0.0; }
  void SaveGlobals(ByteWriter* w) const override;
  Status LoadGlobals(ByteReader* r) override;
  void SaveArm(ArmIndex, ByteWriter*) const override {}
  Status LoadArm(ArmIndex, ByteReader*) override { return Status::Ok(); }
};

// Draws min(k, n) distinct positions of [0, n) uniformly (partial Fisher–Yates over
// scratch->order) and leaves them in scratch->order[0, min(k, n)).
void SampleWithoutReplacement(uint32_t n, uint32_t k, Rng& rng, SelectScratch* scratch);

}  // namespace streamrec::bandits
