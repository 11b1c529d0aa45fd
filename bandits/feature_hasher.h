// FeatureHasher: named item features ("genre:Drama" -> 1, "year" -> 1975) hashed into a fixed
// dimension with signed feature hashing (Weinberger et al. 2009): feature `name` adds
// sign(name) * value to coordinate h(name) mod dim. The result is a short sparse vector, which
// is what keeps LinUCB's per-arm work independent of the hashed dimension.
//
// Thread safety: FeatureHasher is immutable after construction; SparseFeatures is a value.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/coding.h"
#include "common/status.h"

namespace streamrec::bandits {

// Most distinct coordinates an item's feature vector holds; features past it are dropped.
inline constexpr uint32_t kMaxFeatureNnz = 16;

// A sparse vector of at most kMaxFeatureNnz (index, value) pairs, indices ascending and unique.
struct SparseFeatures {
  uint32_t nnz = 0;
  uint16_t index[kMaxFeatureNnz] = {};
  float value[kMaxFeatureNnz] = {};

  // Adds `v` at `i` (merging with an existing entry); false when full and `i` is new.
  bool Add(uint16_t i, float v);
  bool operator==(const SparseFeatures& o) const;

  void Save(ByteWriter* w) const;
  // Corruption when the bytes are not a sparse vector with indices below `dim`.
  Status Load(ByteReader* r, uint32_t dim);
};

class FeatureHasher {
 public:
  // REQUIRES: 1 <= dim <= 65536.
  explicit FeatureHasher(uint32_t dim) : dim_(dim) {}

  uint32_t dim() const { return dim_; }
  // Adds the feature `name` with `value` to *out (a zero value adds nothing).
  void Add(std::string_view name, float value, SparseFeatures* out) const;
  // Coordinate and sign of `name` (exposed for tests).
  uint32_t Index(std::string_view name) const;
  static float Sign(std::string_view name);

 private:
  uint32_t dim_;
};

}  // namespace streamrec::bandits
