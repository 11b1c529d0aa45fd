#include "models/kernels.h"

namespace streamrec {

void ScoreRows(const float* __restrict rows, uint32_t stride, uint32_t n_rows,
               const float* __restrict q, const float* __restrict bias, float* __restrict out) {
  // Measured shapes (100k x 64, 20k x 64): one Dot per row is 2.5x faster than four rows per
  // step with four reductions; adding the bias in the same loop halves the speed again, so it
  // is a second pass. Software prefetch kAheadRows ahead keeps the stream going across 4 KiB
  // pages, where the hardware prefetcher stops (about 10-20% beyond the caches).
  constexpr uint32_t kAheadRows = 32;
  for (uint32_t r = 0; r < n_rows; ++r) {
    const float* row = rows + static_cast<size_t>(r) * stride;
    if (r + kAheadRows < n_rows) {
      const float* ahead = row + static_cast<size_t>(kAheadRows) * stride;
      for (uint32_t k = 0; k < stride; k += kLanes) __builtin_prefetch(ahead + k);
    }
    out[r] = Dot(row, q, stride);
  }
  if (bias != nullptr) {
#pragma omp simd
    for (uint32_t r = 0; r < n_rows; ++r) out[r] += bias[r];
  }
}

}  // namespace streamrec
