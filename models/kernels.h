// Dense vector kernels shared by the models. Loops are written so the compiler vectorizes them
// (`omp simd` under -fopenmp-simd; no -ffast-math needed); lengths are the table stride, a
// multiple of kLanes, with zero padding, so no remainder loop runs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>

namespace streamrec::models {

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

// Symmetric quantization: out[k] = round(in[k] / scale) (to nearest, ties to even) for k < n,
// scale = max|in| / 127, returned (0 for an all-zero input, whose values are all 0).
float QuantizeI8(const float* __restrict in, uint32_t n, int8_t* __restrict out);

// The blocked int8 layout of an item table (ScoreTable): rows in blocks of kI8BlockRows; a
// block is `groups` runs of 64 bytes, run g holding values 4g..4g+3 of each of its 16 rows
// (row l of the block at bytes 4l..4l+3). Values are int8 stored with an offset of 128 as
// unsigned bytes (value + 128: the int8 with its top bit flipped); padding holds 128 (= 0).
inline constexpr uint32_t kI8BlockRows = 16;

// What a blend needs of a pass's scores (their z-scores), gathered while the pass writes
// them instead of in a second pass: the count, sum, sum of squares and minimum of the outputs
// that are not -infinity (kExcludedScore: a row whose bias is -infinity).
struct ScoreSums {
  uint64_t n = 0;
  double sum = 0.0;
  double sum2 = 0.0;
  float min = std::numeric_limits<float>::infinity();
};

// Adds the n values of `scores` that are not -infinity into *sums: one vectorized pass, float
// sums per block of 1,024 folded into doubles (as ScoreBlocksI8 gathers them).
void AddScoreSums(const float* __restrict scores, size_t n, ScoreSums* sums);

// out[r] = bias[r] + scale[r] * q_scale * (row_r·q) for r in [0, n_rows): the rows of
// `blocks` (the layout above, 64-byte aligned, ceil(n_rows / 16) blocks), each quantized with
// scale[r], against an int8 query of groups * 4 values (quantized with q_scale). An exact
// integer dot product; a quarter of the bytes of ScoreRows a pass (AVX512-VNNI: one vpdpbusd
// a 64-byte run, no reduction across lanes). `sums`, when set, gets the outputs added in.
void ScoreBlocksI8(const uint8_t* __restrict blocks, uint32_t groups, uint32_t n_rows,
                   const int8_t* __restrict q, float q_scale, const float* __restrict scale,
                   const float* __restrict bias, float* __restrict out, ScoreSums* sums = nullptr);

}  // namespace streamrec::models
