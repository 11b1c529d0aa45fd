#include "bandits/feature_hasher.h"

#include <algorithm>

#include "common/rng.h"

namespace streamrec::bandits {
namespace {

// 64-bit FNV-1a finished by Mix64: stable across platforms and runs (std::hash is not).
uint64_t HashName(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return Mix64(h);
}

}  // namespace

bool SparseFeatures::Add(uint16_t i, float v) {
  uint16_t* end = index + nnz;
  uint16_t* pos = std::lower_bound(index, end, i);
  const uint32_t at = static_cast<uint32_t>(pos - index);
  if (pos != end && *pos == i) {
    value[at] += v;
    return true;
  }
  if (nnz == kMaxFeatureNnz) return false;
  for (uint32_t j = nnz; j > at; --j) {
    index[j] = index[j - 1];
    value[j] = value[j - 1];
  }
  index[at] = i;
  value[at] = v;
  ++nnz;
  return true;
}

bool SparseFeatures::operator==(const SparseFeatures& o) const {
  return nnz == o.nnz && std::equal(index, index + nnz, o.index) &&
         std::equal(value, value + nnz, o.value);
}

void SparseFeatures::Save(ByteWriter* w) const {
  w->PutU8(static_cast<uint8_t>(nnz));
  for (uint32_t j = 0; j < nnz; ++j) {
    w->PutU32(index[j]);
    w->PutF32(value[j]);
  }
}

Status SparseFeatures::Load(ByteReader* r, uint32_t dim) {
  uint8_t n = 0;
  if (!r->GetU8(&n) || n > kMaxFeatureNnz) return Status::Corruption("bad feature count");
  nnz = n;
  for (uint32_t j = 0; j < nnz; ++j) {
    uint32_t i = 0;
    if (!r->GetU32(&i) || !r->GetF32(&value[j])) return Status::Corruption("truncated features");
    if (i >= dim || (j > 0 && i <= index[j - 1])) return Status::Corruption("bad feature index");
    index[j] = static_cast<uint16_t>(i);
  }
  return Status::Ok();
}

uint32_t FeatureHasher::Index(std::string_view name) const {
  return static_cast<uint32_t>((HashName(name) >> 1) % dim_);
}

float FeatureHasher::Sign(std::string_view name) { return (HashName(name) & 1) ? 1.0f : -1.0f; }

void FeatureHasher::Add(std::string_view name, float value, SparseFeatures* out) const {
  if (value == 0.0f) return;
  out->Add(static_cast<uint16_t>(Index(name)), Sign(name) * value);
}

}  // namespace streamrec::bandits
