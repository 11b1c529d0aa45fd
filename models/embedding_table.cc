#include "models/embedding_table.h"

#include <algorithm>

#include "common/rng.h"

namespace streamrec::models {
namespace {
constexpr uint32_t kMagic = Magic("SREM");
constexpr uint32_t kVersion = 1;
}  // namespace

EmbeddingTable::EmbeddingTable(uint32_t dim, float init_std, uint64_t salt)
    : dim_(dim), stride_((dim + kLanes - 1) / kLanes * kLanes), init_std_(init_std), salt_(salt) {}

void EmbeddingTable::EnsureRows(uint32_t n) {
  if (n <= rows_) return;
  const size_t need = static_cast<size_t>(n) * stride_;
  if (need > data_.capacity()) data_.reserve(std::max(need, data_.capacity() * 2));
  data_.resize(need);  // not zeroed (HugeAllocator): InitRow writes every float of a new row
  for (uint32_t r = rows_; r < n; ++r) InitRow(r);
  rows_ = n;
}

void EmbeddingTable::InitRow(uint32_t r) {
  Rng rng(SeedFor(salt_, r));
  float* row = Row(r);
  for (uint32_t k = 0; k < dim_; ++k) row[k] = static_cast<float>(rng.Normal()) * init_std_;
  std::fill(row + dim_, row + stride_, 0.0f);
}

void EmbeddingTable::ResetRow(uint32_t r) { InitRow(r); }

void EmbeddingTable::Save(ByteWriter* w) const {
  w->PutHeader(kMagic, kVersion);
  w->PutU32(dim_);
  w->PutU32(rows_);
  for (uint32_t r = 0; r < rows_; ++r) w->PutFloats({Row(r), dim_});
}

Status EmbeddingTable::Load(ByteReader* r) {
  uint32_t version, dim, rows;
  STREAMREC_RETURN_IF_ERROR(r->ExpectHeader(kMagic, kVersion, "embedding table", &version));
  if (!r->GetU32(&dim) || !r->GetU32(&rows))
    return Status::Corruption("embedding table: truncated");
  if (dim != dim_) {
    return Status::Corruption("embedding table: saved with dim " + std::to_string(dim) +
                              ", configured dim is " + std::to_string(dim_));
  }
  if (static_cast<uint64_t>(rows) * dim * sizeof(float) > r->remaining()) {
    return Status::Corruption("embedding table: truncated rows");
  }
  std::vector<float, HugeAllocator<float>> data(static_cast<size_t>(rows) * stride_, 0.0f);
  for (uint32_t i = 0; i < rows; ++i) {
    if (!r->GetFloats({data.data() + static_cast<size_t>(i) * stride_, dim})) {
      return Status::Corruption("embedding table: truncated rows");
    }
  }
  data_ = std::move(data);
  rows_ = rows;
  return Status::Ok();
}

}  // namespace streamrec::models
