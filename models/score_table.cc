#include "models/score_table.h"

#include <algorithm>

#include "common/topk.h"
#include "models/kernels.h"

namespace streamrec {

ScoreTable::ScoreTable(uint32_t dim)
    : dim_(dim), stride_((dim + kI8Lanes - 1) / kI8Lanes * kI8Lanes) {}

void ScoreTable::Resize(uint32_t n) {
  data_.resize(static_cast<size_t>(n) * stride_, kZero);
  scale_.resize(n, 0.0f);
  bias_.resize(n, kExcludedScore);
  rows_ = n;
}

void ScoreTable::Set(uint32_t r, const float* row, float bias) {
  uint8_t* out = data_.data() + static_cast<size_t>(r) * stride_;
  scale_[r] = QuantizeI8(row, dim_, reinterpret_cast<int8_t*>(out));
  for (uint32_t k = 0; k < dim_; ++k) out[k] ^= kZero;  // int8 to offset (value + 128)
  bias_[r] = bias;
}

void ScoreTable::ScoreAll(const float* q, std::span<float> out) const {
  const auto known = static_cast<uint32_t>(std::min<size_t>(out.size(), rows_));
  thread_local std::vector<int8_t> qi;  // q quantized, zero-padded to the stride
  qi.assign(stride_, 0);
  const float q_scale = QuantizeI8(q, dim_, qi.data());
  ScoreRowsI8(data_.data(), stride_, known, qi.data(), q_scale, scale_.data(), bias_.data(),
              out.data());
  std::fill(out.begin() + known, out.end(), kExcludedScore);
}

}  // namespace streamrec
