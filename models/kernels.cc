#include "models/kernels.h"

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace streamrec {
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

void ScoreRowsBf16Generic(const uint16_t* __restrict rows, uint32_t stride, uint32_t begin,
                          uint32_t n_rows, const float* __restrict q, const float* __restrict bias,
                          float* __restrict out) {
  for (uint32_t r = begin; r < n_rows; ++r) {
    const uint16_t* row = rows + static_cast<size_t>(r) * stride;
    float s = 0.0f;
#pragma omp simd reduction(+ : s)
    for (uint32_t k = 0; k < stride; ++k) s += FromBf16(row[k]) * q[k];
    out[r] = s;
  }
  if (bias != nullptr) {
#pragma omp simd
    for (uint32_t r = begin; r < n_rows; ++r) out[r] += bias[r];
  }
}

#if defined(__AVX512F__)
// GCC 12 reports -Wmaybe-uninitialized inside its own AVX-512 intrinsics (their masked
// builtins take an _mm512_undefined_ps() operand); not about this code.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
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

// Bfloat16 rows: each 16 values widened to floats (a zero extension and a shift) before the FMA.
uint32_t ScoreRowsBf16Avx512(const uint16_t* __restrict rows, uint32_t stride, uint32_t n_rows,
                             const float* __restrict q, const float* __restrict bias,
                             float* __restrict out) {
  return ScoreRowsFma(rows, stride, n_rows, q, bias, out, [](const uint16_t* p) {
    const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  });
}

#if defined(__AVX512BF16__)
// With AVX512-BF16: vdpbf16ps multiplies pairs of bfloat16 and sums them into 16 float lanes.
// The query is split into two bfloat16 parts, q = hi + lo (16 bits of mantissa together), so
// only the rows' rounding remains: unbiased, where rounding q alone shifted every score alike
// and with them the blend's z-statistics. 4 instructions a 64-dim row instead of 4 loads,
// widenings and FMAs per 16 values. Needs stride % 32 == 0.
uint32_t ScoreRowsBf16Dot(const uint16_t* __restrict rows, uint32_t stride, uint32_t n_rows,
                          const float* __restrict q, const float* __restrict bias,
                          float* __restrict out) {
  const uint32_t chunks = stride / (2 * kLanes);
  __m512bh hi[kMaxChunks / 2], lo[kMaxChunks / 2];
  for (uint32_t c = 0; c < chunks; ++c) {
    const __m512 a = _mm512_loadu_ps(q + 2 * c * kLanes);
    const __m512 b = _mm512_loadu_ps(q + 2 * c * kLanes + kLanes);
    hi[c] = _mm512_cvtne2ps_pbh(b, a);  // a in the low half: values in memory order
    // The widened hi parts, exactly: each bfloat16 is the top half of a float.
    const __m512i h = (__m512i)hi[c];
    const __m512 ha = _mm512_castsi512_ps(
        _mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm512_castsi512_si256(h)), 16));
    const __m512 hb = _mm512_castsi512_ps(
        _mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm512_extracti64x4_epi64(h, 1)), 16));
    lo[c] = _mm512_cvtne2ps_pbh(_mm512_sub_ps(b, hb), _mm512_sub_ps(a, ha));
  }
  return ScoreBlocks16(rows, stride, n_rows, bias, out, [&](const uint16_t* row) {
    __m512 s = _mm512_setzero_ps();
    for (uint32_t c = 0; c < chunks; ++c) {
      const auto v = (__m512bh)_mm512_loadu_si512(row + 2 * c * kLanes);
      s = _mm512_dpbf16_ps(_mm512_dpbf16_ps(s, v, hi[c]), v, lo[c]);
    }
    return s;
  });
}
#endif

// ToBf16 on 16 lanes at a time: round to nearest even in 32-bit lanes, then narrow to 16 bits.
// Returns the values done (a multiple of 16).
uint32_t ToBf16RowAvx512(const float* __restrict in, uint32_t n, uint16_t* __restrict out) {
  const __m512i one = _mm512_set1_epi32(1), half = _mm512_set1_epi32(0x7FFF);
  uint32_t k = 0;
  for (; k + kLanes <= n; k += kLanes) {
    __m512i u = _mm512_castps_si512(_mm512_loadu_ps(in + k));
    const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(u, 16), one);
    u = _mm512_add_epi32(u, _mm512_add_epi32(half, lsb));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + k),
                        _mm512_cvtepi32_epi16(_mm512_srli_epi32(u, 16)));
  }
  return k;
}
#pragma GCC diagnostic pop
#endif

}  // namespace

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

void ToBf16Row(const float* __restrict in, uint32_t n, uint16_t* __restrict out) {
  uint32_t k = 0;
#if defined(__AVX512F__)
  k = ToBf16RowAvx512(in, n, out);
#endif
  for (; k < n; ++k) out[k] = ToBf16(in[k]);
}

void ScoreRowsBf16(const uint16_t* __restrict rows, uint32_t stride, uint32_t n_rows,
                   const float* __restrict q, const float* __restrict bias, float* __restrict out) {
  uint32_t done = 0;
#if defined(__AVX512BF16__)
  if (stride % (2 * kLanes) == 0 && stride / kLanes <= kMaxChunks) {
    done = ScoreRowsBf16Dot(rows, stride, n_rows, q, bias, out);
  }
#endif
#if defined(__AVX512F__)
  if (done == 0 && stride % kLanes == 0 && stride / kLanes <= kMaxChunks) {
    done = ScoreRowsBf16Avx512(rows, stride, n_rows, q, bias, out);
  }
#endif
  ScoreRowsBf16Generic(rows, stride, done, n_rows, q, bias, out);
}

}  // namespace streamrec
