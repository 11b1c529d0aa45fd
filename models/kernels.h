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

// Int8 values per 64-byte cache line; int8 table rows are padded to a multiple of this.
inline constexpr uint32_t kI8Lanes = 64;

// Symmetric quantization: out[k] = round(in[k] / scale) (to nearest, ties to even) for k < n,
// scale = max|in| / 127, returned (0 for an all-zero input, whose values are all 0).
float QuantizeI8(const float* __restrict in, uint32_t n, int8_t* __restrict out);

// out[r] = bias[r] + scale[r] * q_scale * (rows[r]·q) for r in [0, n_rows): int8 rows (each
// row r quantized with scale[r]) stored with an offset of 128 as unsigned bytes (value + 128,
// i.e. the int8 with its top bit flipped), against an int8 query (q quantized with q_scale):
// an exact integer dot product. stride (values between row starts, padding holding 128 = 0)
// is a multiple of kI8Lanes and rows 64-byte aligned for the vector path (AVX512-VNNI;
// ScoreTable). A quarter of the bytes of ScoreRows a pass.
void ScoreRowsI8(const uint8_t* __restrict rows, uint32_t stride, uint32_t n_rows,
                 const int8_t* __restrict q, float q_scale, const float* __restrict scale,
                 const float* __restrict bias, float* __restrict out);

}  // namespace streamrec
