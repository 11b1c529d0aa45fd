#include "models/kernels.h"

namespace streamrec {

void ScoreRows(const float* __restrict rows, uint32_t stride, uint32_t n_rows,
               const float* __restrict q, const float* __restrict bias, float* __restrict out) {
  // Four rows per step share the loads of q; the pass is memory-bound beyond L2.
  uint32_t r = 0;
  for (; r + 4 <= n_rows; r += 4) {
    const float* a = rows + static_cast<size_t>(r) * stride;
    const float* b = a + stride;
    const float* c = b + stride;
    const float* d = c + stride;
    float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
#pragma omp simd reduction(+ : s0, s1, s2, s3)
    for (uint32_t k = 0; k < stride; ++k) {
      s0 += a[k] * q[k];
      s1 += b[k] * q[k];
      s2 += c[k] * q[k];
      s3 += d[k] * q[k];
    }
    out[r] = s0;
    out[r + 1] = s1;
    out[r + 2] = s2;
    out[r + 3] = s3;
  }
  for (; r < n_rows; ++r) out[r] = Dot(rows + static_cast<size_t>(r) * stride, q, stride);
  if (bias != nullptr) {
#pragma omp simd
    for (uint32_t i = 0; i < n_rows; ++i) out[i] += bias[i];
  }
}

}  // namespace streamrec
