// Dense vector kernels shared by the models. Loops are written so the compiler vectorizes them
// (`omp simd` under -fopenmp-simd; no -ffast-math needed); lengths are the table stride, a
// multiple of kLanes, with zero padding, so no remainder loop runs.
#pragma once

#include <cstddef>
#include <cstdint>

namespace streamrec {

// Floats per 64-byte cache line; table rows are padded to a multiple of this.
inline constexpr uint32_t kLanes = 16;

inline float Dot(const float* __restrict a, const float* __restrict b, uint32_t n) {
  float s = 0.0f;
#pragma omp simd reduction(+ : s)
  for (uint32_t k = 0; k < n; ++k) s += a[k] * b[k];
  return s;
}

// out[r] = bias[r] + rows[r]·q for r in [0, n_rows); rows has the given stride. Memory-bound
// beyond the caches (100k x 64 floats is 25.6 MB a pass).
// bias may be null (treated as zero).
void ScoreRows(const float* __restrict rows, uint32_t stride, uint32_t n_rows,
               const float* __restrict q, const float* __restrict bias, float* __restrict out);

// bfloat16: the upper 16 bits of a float. Conversion rounds to nearest even (no NaNs here).
inline uint16_t ToBf16(float x) {
  uint32_t u;
  __builtin_memcpy(&u, &x, sizeof(u));
  u += 0x7FFFu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}
inline float FromBf16(uint16_t b) {
  const uint32_t u = static_cast<uint32_t>(b) << 16;
  float f;
  __builtin_memcpy(&f, &u, sizeof(f));
  return f;
}

// out[k] = ToBf16(in[k]) for k < n, vectorized.
void ToBf16Row(const float* __restrict in, uint32_t n, uint16_t* __restrict out);

// The same as ScoreRows over rows of bfloat16 values (the upper 16 bits of a float), stride a
// multiple of kLanes, q of `stride` floats: half the bytes a pass (ScoreTable). Where the CPU
// has AVX512-BF16 and stride is a multiple of 2 * kLanes, q is rounded to bfloat16 too and each
// pair of values is one dot-product lane (vdpbf16ps): approximate scores, for candidates.
void ScoreRowsBf16(const uint16_t* __restrict rows, uint32_t stride, uint32_t n_rows,
                   const float* __restrict q, const float* __restrict bias, float* __restrict out);

}  // namespace streamrec
