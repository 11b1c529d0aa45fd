#include "bandits/uniform_random.h"

#include <algorithm>
#include <numeric>

namespace streamrec::bandits {
namespace {
constexpr uint32_t kMagic = Magic("SRUR");
constexpr uint32_t kVersion = 1;
}  // namespace

void SampleWithoutReplacement(uint32_t n, uint32_t k, Rng& rng, SelectScratch* s) {
  s->order.resize(n);
  std::iota(s->order.begin(), s->order.end(), 0u);
  const uint32_t m = std::min(k, n);
  for (uint32_t i = 0; i < m; ++i) {
    std::swap(s->order[i], s->order[i + rng.Uniform(n - i)]);
  }
}

void UniformRandomPolicy::Select(const UserContext&, std::span<const ArmIndex> candidates,
                                 uint32_t k, int64_t, Rng& rng, SelectScratch* s,
                                 std::vector<Selection>* out) const {
  const auto n = static_cast<uint32_t>(candidates.size());
  if (n == 0 || k == 0) return;
  SampleWithoutReplacement(n, k, rng, s);
  const uint32_t m = std::min(k, n);
  const double propensity = static_cast<double>(m) / n;
  for (uint32_t i = 0; i < m; ++i) out->push_back({candidates[s->order[i]], 0.0f, propensity});
}

void UniformRandomPolicy::SaveGlobals(ByteWriter* w) const { w->PutHeader(kMagic, kVersion); }

Status UniformRandomPolicy::LoadGlobals(ByteReader* r) {
  uint32_t version;
  return r->ExpectHeader(kMagic, kVersion, "random policy state", &version);
}

}  // namespace streamrec::bandits
