// ScoreTable: a read-optimized copy of an item table for "score every item" queries, whose
// score is bias_j + row_j · q. Rows are kept in int8 with a scale per row (symmetric: the row's
// largest magnitude maps to 127), and q is quantized the same way per query, so a pass over
// the catalog reads a quarter of the bytes of the float table (64 bytes a 64-dim row). Rows are
// stored in blocks of 16, each 4 dims of the 16 rows together (kernels.h), so that one
// vpdpbusd adds 4 dims to 16 rows' scores at once (ScoreBlocksI8). Its scores are approximate: each
// element is within half a step (max|x| / 254) of its value, so a score is off by about 1% of the
// spread of scores over the catalog; callers take the best candidates with a margin and rescore
// those exactly from the float rows (the daemon's read path does).
//
// Rows are padded with zeros to whole groups of 4 values. A bias of kExcludedScore (-inf) makes
// a row score kExcludedScore: how a model's unscoreable items are copied.
//
// Thread safety: not thread-safe; const methods may run concurrently with each other.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/huge_alloc.h"
#include "models/embedding_table.h"
#include "models/kernels.h"

namespace streamrec::models {

class ScoreTable {
 public:
  ScoreTable() = default;
  explicit ScoreTable(uint32_t dim);

  uint32_t dim() const { return dim_; }
  uint32_t rows() const { return rows_; }
  // Makes rows [0, n) exist (new ones zero with bias kExcludedScore until Set).
  void Resize(uint32_t n);
  // Row r becomes `row` (dim floats) quantized to int8, with `bias`. REQUIRES: r < rows().
  void Set(uint32_t r, const float* row, float bias);
  // out[r] = bias_r + row_r · q for r < min(rows(), out.size()), kExcludedScore beyond.
  // `q` holds dim() floats (what follows is not read). `sums`, when set, gets the scores that
  // are not kExcludedScore added in (ScoreSums), gathered in the same pass.
  void ScoreAll(const float* q, std::span<float> out, ScoreSums* sums = nullptr) const;

 private:
  uint32_t dim_ = 0;
  uint32_t groups_ = 0;  // runs of 4 values a row (dim rounded up)
  uint32_t rows_ = 0;
  static constexpr uint8_t kZero = 0x80;               // values are stored + 128 (ScoreBlocksI8)
  std::vector<uint8_t, HugeAllocator<uint8_t>> data_;  // huge pages when large
  std::vector<float> scale_;                           // row r's values are data_[r] * scale_[r]
  std::vector<float> bias_;
};

}  // namespace streamrec::models
