// Deterministic randomness. Every random draw in streamrec comes from an Rng seeded from the
// event that caused it (its partition and offset, or its index in eval), so replaying a stream
// reproduces the same bits.
#pragma once

#include <cmath>
#include <cstdint>

namespace streamrec {

// SplitMix64 finalizer: a strong 64-bit mixer, used to derive seeds.
constexpr uint64_t Mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}
// Seed for the event at `offset` of `partition` (or any two coordinates) under a base seed.
constexpr uint64_t SeedFor(uint64_t base, uint64_t a, uint64_t b = 0) {
  return Mix64(base ^ Mix64(a ^ Mix64(b)));
}

// xoshiro256** (Blackman & Vigna): small state, fast, good quality. Not thread-safe.
class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (auto& s : s_) s = seed = Mix64(seed);
  }

  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, n) without modulo bias worth noticing (Lemire's multiply-shift). REQUIRES n>0.
  uint32_t Uniform(uint32_t n) {
    return static_cast<uint32_t>(((Next() >> 32) * static_cast<uint64_t>(n)) >> 32);
  }
  // Uniform in [0, 1).
  double UniformDouble() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  float UniformFloat() { return static_cast<float>(Next() >> 40) * 0x1.0p-24f; }
  // Standard normal (Box-Muller; one draw per call).
  double Normal() {
    double u1 = UniformDouble();
    const double u2 = UniformDouble();
    if (u1 < 1e-300) u1 = 1e-300;
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace streamrec
