// EmbeddingTable: a growable table of dense float rows (one per user or item), contiguous,
// each row padded to a multiple of kLanes floats (zeros) and 64-byte aligned for SIMD.
//
// Rows are initialized from N(0, init_std^2) by an Rng seeded with (salt, row index), so a row's
// initial value does not depend on the order in which rows were created: replaying a stream in
// another partition order initializes the same rows identically.
//
// Thread safety: not thread-safe. Const methods may run concurrently with each other. A mutating
// call (EnsureRows, mutable Row, Load) needs exclusive access: growth may move every row, so a
// reader must not hold a row pointer across a writer's critical section. The daemon enforces
// this with its model lock (readers shared, the event applier exclusive, per small batch).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/coding.h"
#include "common/huge_alloc.h"
#include "common/status.h"
#include "models/kernels.h"

namespace streamrec::models {

class EmbeddingTable {
 public:
  EmbeddingTable(uint32_t dim, float init_std, uint64_t salt);

  uint32_t dim() const { return dim_; }
  // Floats between the starts of consecutive rows (dim rounded up to kLanes).
  uint32_t stride() const { return stride_; }
  uint32_t rows() const { return rows_; }

  // Makes rows [0, n) exist, initializing new ones. Amortized O(1) per row.
  void EnsureRows(uint32_t n);
  // REQUIRES: r < rows(). The pointer is valid until the next EnsureRows or Load.
  float* Row(uint32_t r) { return data_.data() + static_cast<size_t>(r) * stride_; }
  const float* Row(uint32_t r) const { return data_.data() + static_cast<size_t>(r) * stride_; }
  const float* data() const { return data_.data(); }
  // Re-initializes row r as if new (used when a user is forgotten). REQUIRES: r < rows().
  void ResetRow(uint32_t r);

  // Rows as raw dim floats each (no padding), after a header.
  void Save(ByteWriter* w) const;
  // Replaces the table; Corruption when the bytes don't describe a table of this dim.
  Status Load(ByteReader* r);

 private:
  void InitRow(uint32_t r);

  uint32_t dim_;
  uint32_t stride_;
  float init_std_;
  uint64_t salt_;
  uint32_t rows_ = 0;
  std::vector<float, HugeAllocator<float>> data_;  // huge pages when large
};

}  // namespace streamrec::models
