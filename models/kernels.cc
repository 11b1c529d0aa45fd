#include "models/kernels.h"

#include <algorithm>
#include <cmath>
#include <limits>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace streamrec::models {
namespace {

// Rows ahead of the current one whose lines are prefetched: the hardware prefetcher stops at
// 4 KiB page boundaries, software prefetch keeps the stream going (10-20% beyond the caches).
constexpr uint32_t kAheadRows = 32;

inline void PrefetchRow(const float* row, uint32_t stride) {
  for (uint32_t k = 0; k < stride; k += kLanes) __builtin_prefetch(row + k);
}

// Portable: one Dot per row, then the bias in a second pass. Measured (100k x 64, 20k x 64):
// 2.5x faster than four rows per step with four reductions, and adding the bias in the same
// loop halves the speed again.
void ScoreRowsGeneric(const float* __restrict rows, uint32_t stride, uint32_t begin,
                      uint32_t n_rows, const float* __restrict q, const float* __restrict bias,
                      float* __restrict out) {
  for (uint32_t r = begin; r < n_rows; ++r) {
    const float* row = rows + static_cast<size_t>(r) * stride;
    if (r + kAheadRows < n_rows)
      PrefetchRow(row + static_cast<size_t>(kAheadRows) * stride, stride);
    out[r] = Dot(row, q, stride);
  }
  if (bias != nullptr) {
#pragma omp simd
    for (uint32_t r = begin; r < n_rows; ++r) out[r] += bias[r];
  }
}

// Portable int8 (and the last partial block): the integer dot product of each row with q
// (exact), then one multiply-add.
void ScoreBlocksI8Generic(const uint8_t* __restrict blocks, uint32_t groups, uint32_t begin,
                          uint32_t n_rows, const int8_t* __restrict q, float q_scale,
                          const float* __restrict scale, const float* __restrict bias,
                          float* __restrict out, ScoreSums* sums) {
  for (uint32_t r = begin; r < n_rows; ++r) {
    const uint8_t* block = blocks + static_cast<size_t>(r / kI8BlockRows) * groups * 64;
    const uint32_t lane = (r % kI8BlockRows) * 4;
    int32_t s = 0;
    for (uint32_t g = 0; g < groups; ++g) {
      for (uint32_t j = 0; j < 4; ++j) {
        s += (int32_t{block[g * 64 + lane + j]} - 128) * int32_t{q[g * 4 + j]};
      }
    }
    out[r] = bias[r] + scale[r] * q_scale * static_cast<float>(s);
  }
  if (sums != nullptr && begin < n_rows) AddScoreSums(out + begin, n_rows - begin, sums);
}

#if defined(__AVX512F__)
// GCC 12 reports -Wmaybe-uninitialized inside its own AVX-512 intrinsics (their masked
// builtins take an _mm512_undefined_ps() operand, and _mm512_reduce_max_ps an uninitialized
// one of its own); not about this code. (Clang has no -Wmaybe-uninitialized and would warn
// about the unknown group.)
#pragma GCC diagnostic push
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#pragma GCC diagnostic ignored "-Wuninitialized"
constexpr uint32_t kMaxChunks = 16;  // q held in registers: strides up to 256 floats

// Adds the 16 lanes of each of a[0..15] and returns the 16 sums, lane r = sum of a[r]: a
// butterfly of 15 adds and 30 shuffles, against 16 separate horizontal reductions.
inline __m512 Transpose16Sum(const __m512* a) {
  __m512 s1[8];
  for (int i = 0; i < 8; ++i) {  // per 128-bit block: (x0+x2, y0+y2, x1+x3, y1+y3)
    s1[i] = _mm512_add_ps(_mm512_unpacklo_ps(a[2 * i], a[2 * i + 1]),
                          _mm512_unpackhi_ps(a[2 * i], a[2 * i + 1]));
  }
  __m512 s2[4];
  for (int j = 0; j < 4; ++j) {  // per block: partial sums of rows 4j..4j+3
    const __m512d p = _mm512_castps_pd(s1[2 * j]);
    const __m512d q = _mm512_castps_pd(s1[2 * j + 1]);
    s2[j] = _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(p, q)),
                          _mm512_castpd_ps(_mm512_unpackhi_pd(p, q)));
  }
  __m512 s3[2];
  for (int j = 0; j < 2; ++j) {  // blocks: rows 8j..8j+3 (two halves), rows 8j+4..8j+7
    s3[j] = _mm512_add_ps(_mm512_shuffle_f32x4(s2[2 * j], s2[2 * j + 1], _MM_SHUFFLE(2, 0, 2, 0)),
                          _mm512_shuffle_f32x4(s2[2 * j], s2[2 * j + 1], _MM_SHUFFLE(3, 1, 3, 1)));
  }
  return _mm512_add_ps(_mm512_shuffle_f32x4(s3[0], s3[1], _MM_SHUFFLE(2, 0, 2, 0)),
                       _mm512_shuffle_f32x4(s3[0], s3[1], _MM_SHUFFLE(3, 1, 3, 1)));
}

// The blocked loop of every AVX-512 kernel below: 16 rows a step, one accumulator per row
// from row_dot(row) (the row's products, 16 lanes still to be summed), then one transposed
// reduction and one 16-wide store with the bias. The next rows' lines are prefetched. Returns
// the rows done (a multiple of 16).
template <typename T, typename RowDot>
uint32_t ScoreBlocks16(const T* __restrict rows, uint32_t stride, uint32_t n_rows,
                       const float* __restrict bias, float* __restrict out, RowDot row_dot) {
  const uint32_t full = n_rows & ~15u;
  const size_t row_bytes = static_cast<size_t>(stride) * sizeof(T);
  __m512 acc[16];
  for (uint32_t r0 = 0; r0 < full; r0 += 16) {
    for (uint32_t i = 0; i < 16; ++i) {
      const uint32_t r = r0 + i;
      const T* row = rows + static_cast<size_t>(r) * stride;
      if (r + kAheadRows < n_rows) {
        const char* ahead = reinterpret_cast<const char*>(row + size_t{kAheadRows} * stride);
        for (size_t b = 0; b < row_bytes; b += 64) __builtin_prefetch(ahead + b);
      }
      acc[i] = row_dot(row);
    }
    __m512 sums = Transpose16Sum(acc);
    if (bias != nullptr) sums = _mm512_add_ps(sums, _mm512_loadu_ps(bias + r0));
    _mm512_storeu_ps(out + r0, sums);
  }
  return full;
}

// Rows of T whose 16 values at a time load(p) turns into floats: stride/16 FMAs a row.
template <typename T, typename Load>
uint32_t ScoreRowsFma(const T* __restrict rows, uint32_t stride, uint32_t n_rows,
                      const float* __restrict q, const float* __restrict bias,
                      float* __restrict out, Load load) {
  const uint32_t chunks = stride / kLanes;
  __m512 qv[kMaxChunks];
  for (uint32_t c = 0; c < chunks; ++c) qv[c] = _mm512_loadu_ps(q + c * kLanes);
  return ScoreBlocks16(rows, stride, n_rows, bias, out, [&](const T* row) {
    __m512 s = _mm512_mul_ps(load(row), qv[0]);
    for (uint32_t c = 1; c < chunks; ++c) s = _mm512_fmadd_ps(load(row + c * kLanes), qv[c], s);
    return s;
  });
}

uint32_t ScoreRowsAvx512(const float* __restrict rows, uint32_t stride, uint32_t n_rows,
                         const float* __restrict q, const float* __restrict bias,
                         float* __restrict out) {
  return ScoreRowsFma(rows, stride, n_rows, q, bias, out,
                      [](const float* p) { return _mm512_load_ps(p); });
}

#if defined(__AVX512VNNI__)
constexpr uint32_t kMaxGroups = 64;  // q's groups held in memory: dims up to 256

// The blocked int8 layout (kernels.h) against an int8 q: each 64-byte run of a block is the
// same 4 dims of its 16 rows, so one vpdpbusd with those 4 query bytes broadcast adds them to
// all 16 rows' sums at once, lane by lane: no reduction across lanes, no transposition (the
// pass alone: 80 against 150 us at 100k x 64 with a row a line, whose lanes had to be summed). Four
// blocks advance together so that their multiply-adds overlap. The offset of the values (+128) adds
// 128 * sum(q) to every sum, taken off in the float step. Exact integer products. Returns the
// rows done (whole blocks). kSums: the outputs are also added into *sums, in float lanes
// folded into doubles every 1,024 rows.
template <bool kSums>
uint32_t ScoreBlocksI8Vnni(const uint8_t* __restrict blocks, uint32_t groups, uint32_t n_rows,
                           const int8_t* __restrict q, float q_scale, const float* __restrict scale,
                           const float* __restrict bias, float* __restrict out, ScoreSums* sums) {
  int32_t qw[kMaxGroups];  // q's bytes 4g..4g+3 as one word each
  __builtin_memcpy(qw, q, static_cast<size_t>(groups) * 4);
  int32_t q_sum = 0;
  for (uint32_t k = 0; k < groups * 4; ++k) q_sum += q[k];
  const __m512 qs = _mm512_set1_ps(q_scale);
  const __m512 offset = _mm512_set1_ps(128.0f * static_cast<float>(q_sum));
  const size_t block_bytes = static_cast<size_t>(groups) * 64;
  const uint32_t n_blocks = n_rows / kI8BlockRows;
  const __m512 excluded = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  __m512 sum = _mm512_setzero_ps(), sum2 = sum;
  __m512 lo = _mm512_set1_ps(std::numeric_limits<float>::infinity());
  uint64_t n = 0;
  auto fold = [&] {
    sums->sum += static_cast<double>(_mm512_reduce_add_ps(sum));
    sums->sum2 += static_cast<double>(_mm512_reduce_add_ps(sum2));
    sum = _mm512_setzero_ps();
    sum2 = sum;
  };
  auto finish = [&](uint32_t b, __m512i acc) {
    const uint32_t r0 = b * kI8BlockRows;
    const __m512 f = _mm512_mul_ps(_mm512_loadu_ps(scale + r0), qs);
    const __m512 dots = _mm512_sub_ps(_mm512_cvtepi32_ps(acc), offset);  // |sum| < 2^24: exact
    const __m512 v = _mm512_fmadd_ps(dots, f, _mm512_loadu_ps(bias + r0));
    _mm512_storeu_ps(out + r0, v);
    if constexpr (kSums) {
      const __mmask16 ok = _mm512_cmp_ps_mask(v, excluded, _CMP_NEQ_OQ);
      sum = _mm512_mask_add_ps(sum, ok, sum, v);
      sum2 = _mm512_mask3_fmadd_ps(v, v, sum2, ok);
      lo = _mm512_mask_min_ps(lo, ok, lo, v);
      n += static_cast<uint64_t>(__builtin_popcount(ok));
      if (b % 64 == 63) fold();
    }
  };
  uint32_t b = 0;
  for (; b + 4 <= n_blocks; b += 4) {
    const uint8_t* p = blocks + b * block_bytes;
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
    for (uint32_t g = 0; g < groups; ++g) {
      const size_t at = static_cast<size_t>(g) * 64;
      for (size_t ahead = 8; ahead < 12; ++ahead) __builtin_prefetch(p + ahead * block_bytes + at);
      const __m512i qv = _mm512_set1_epi32(qw[g]);
      a0 = _mm512_dpbusd_epi32(a0, _mm512_load_si512(p + at), qv);
      a1 = _mm512_dpbusd_epi32(a1, _mm512_load_si512(p + block_bytes + at), qv);
      a2 = _mm512_dpbusd_epi32(a2, _mm512_load_si512(p + 2 * block_bytes + at), qv);
      a3 = _mm512_dpbusd_epi32(a3, _mm512_load_si512(p + 3 * block_bytes + at), qv);
    }
    finish(b, a0);
    finish(b + 1, a1);
    finish(b + 2, a2);
    finish(b + 3, a3);
  }
  for (; b < n_blocks; ++b) {
    const uint8_t* p = blocks + b * block_bytes;
    __m512i a = _mm512_setzero_si512();
    for (uint32_t g = 0; g < groups; ++g) {
      a = _mm512_dpbusd_epi32(a, _mm512_load_si512(p + g * 64), _mm512_set1_epi32(qw[g]));
    }
    finish(b, a);
  }
  if constexpr (kSums) {
    fold();
    sums->n += n;
    sums->min = std::min(sums->min, _mm512_reduce_min_ps(lo));
  }
  return n_blocks * kI8BlockRows;
}
#endif

// QuantizeI8 on 16 values at a time: the largest magnitude, then each value scaled, rounded to
// nearest (even) and narrowed with saturation. Returns the scale; *done = the values quantized
// (a multiple of 16), the rest are the caller's.
inline float QuantizeI8Avx512(const float* __restrict in, uint32_t n, int8_t* __restrict out,
                              uint32_t* done) {
  const uint32_t full = n & ~15u;
  __m512 m = _mm512_setzero_ps();
  for (uint32_t k = 0; k < full; k += kLanes)
    m = _mm512_max_ps(m, _mm512_abs_ps(_mm512_loadu_ps(in + k)));
  float mx = _mm512_reduce_max_ps(m);
  for (uint32_t k = full; k < n; ++k) mx = std::max(mx, std::fabs(in[k]));
  const __m512 inv = _mm512_set1_ps(mx > 0.0f ? 127.0f / mx : 0.0f);
  for (uint32_t k = 0; k < full; k += kLanes) {
    const __m512i v = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(in + k), inv));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + k), _mm512_cvtsepi32_epi8(v));
  }
  *done = full;
  return mx;
}
#pragma GCC diagnostic pop
#endif

}  // namespace

void AddScoreSums(const float* __restrict scores, size_t n, ScoreSums* sums) {
  constexpr float kInf = std::numeric_limits<float>::infinity();
  for (size_t b = 0; b < n; b += 1024) {
    const size_t e = std::min(n, b + 1024);
    float s = 0.0f, s2 = 0.0f, m = kInf, c = 0.0f;
#pragma omp simd reduction(+ : s, s2, c) reduction(min : m)
    for (size_t i = b; i < e; ++i) {
      const bool ok = scores[i] != -kInf;
      const float v = ok ? scores[i] : 0.0f;
      s += v;
      s2 += v * v;
      c += ok ? 1.0f : 0.0f;
      m = m < (ok ? scores[i] : kInf) ? m : (ok ? scores[i] : kInf);
    }
    sums->sum += s;
    sums->sum2 += s2;
    sums->min = std::min(sums->min, m);
    sums->n += static_cast<uint64_t>(c);
  }
}

void ScoreRows(const float* __restrict rows, uint32_t stride, uint32_t n_rows,
               const float* __restrict q, const float* __restrict bias, float* __restrict out) {
  uint32_t done = 0;
#if defined(__AVX512F__)
  // Rows must be 64-byte aligned (EmbeddingTable's are) and a whole number of chunks.
  if (stride % kLanes == 0 && stride / kLanes <= kMaxChunks &&
      reinterpret_cast<uintptr_t>(rows) % 64 == 0) {
    done = ScoreRowsAvx512(rows, stride, n_rows, q, bias, out);
  }
#endif
  ScoreRowsGeneric(rows, stride, done, n_rows, q, bias, out);
}

float QuantizeI8(const float* __restrict in, uint32_t n, int8_t* __restrict out) {
  uint32_t k = 0;
  float m = 0.0f;
#if defined(__AVX512F__)
  m = QuantizeI8Avx512(in, n, out, &k);  // the daemon's Publish quantizes every changed row
#else
#pragma omp simd reduction(max : m)
  for (uint32_t i = 0; i < n; ++i) m = std::max(m, std::fabs(in[i]));
#endif
  const float inv = m > 0.0f ? 127.0f / m : 0.0f;
  for (; k < n; ++k) {
    out[k] = static_cast<int8_t>(std::clamp(std::nearbyint(in[k] * inv), -127.0f, 127.0f));
  }
  return m / 127.0f;
}

void ScoreBlocksI8(const uint8_t* __restrict blocks, uint32_t groups, uint32_t n_rows,
                   const int8_t* __restrict q, float q_scale, const float* __restrict scale,
                   const float* __restrict bias, float* __restrict out, ScoreSums* sums) {
  uint32_t done = 0;
#if defined(__AVX512VNNI__)
  if (groups <= kMaxGroups && reinterpret_cast<uintptr_t>(blocks) % 64 == 0) {
    done = sums != nullptr
               ? ScoreBlocksI8Vnni<true>(blocks, groups, n_rows, q, q_scale, scale, bias, out, sums)
               : ScoreBlocksI8Vnni<false>(blocks, groups, n_rows, q, q_scale, scale, bias, out,
                                          nullptr);
  }
#endif
  ScoreBlocksI8Generic(blocks, groups, done, n_rows, q, q_scale, scale, bias, out, sums);
}

}  // namespace streamrec::models
