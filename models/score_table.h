// ScoreTable: a read-optimized copy of an item table for "score every item" queries, whose
// score is bias_j + row_j · q. Rows are kept in bfloat16 (the upper half of a float: 8 bits of
// mantissa, a relative error below 0.4% per element), so a pass over the catalog reads half the
// bytes of the float table; the pass is memory-bound, so it runs about twice as fast. Its scores
// are approximate: callers take the best candidates with a margin and rescore those exactly from
// the float rows (the daemon's read path does).
//
// Rows are padded to 2 * kLanes values (zeros): whole 64-byte lines of bfloat16. A bias of
// kExcludedScore (-inf) makes a row score kExcludedScore: how a model's unscoreable items are
// copied.
//
// Thread safety: not thread-safe; const methods may run concurrently with each other.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/huge_alloc.h"
#include "models/embedding_table.h"

namespace streamrec {

class ScoreTable {
 public:
  ScoreTable() = default;
  explicit ScoreTable(uint32_t dim);

  uint32_t dim() const { return dim_; }
  uint32_t rows() const { return rows_; }
  // Makes rows [0, n) exist (new ones zero with bias kExcludedScore until Set).
  void Resize(uint32_t n);
  // Row r becomes `row` (dim floats) rounded to bfloat16, with `bias`. REQUIRES: r < rows().
  void Set(uint32_t r, const float* row, float bias);
  // out[r] = bias_r + row_r · q for r < min(rows(), out.size()), kExcludedScore beyond.
  // `q` holds dim() floats (what follows is not read).
  void ScoreAll(const float* q, std::span<float> out) const;

 private:
  uint32_t dim_ = 0;
  uint32_t stride_ = 0;  // bfloat16 values between row starts
  uint32_t rows_ = 0;
  std::vector<uint16_t, HugeAllocator<uint16_t>> data_;  // huge pages when large
  std::vector<float> bias_;
};

}  // namespace streamrec
