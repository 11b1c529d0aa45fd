#include "models/score_table.h"

#include <algorithm>

#include "common/topk.h"
#include "models/kernels.h"

namespace streamrec::models {

ScoreTable::ScoreTable(uint32_t dim) : dim_(dim), groups_((dim + 3) / 4) {}

void ScoreTable::Resize(uint32_t n) {
  const size_t blocks = (static_cast<size_t>(n) + kI8BlockRows - 1) / kI8BlockRows;
  data_.resize(blocks * groups_ * 64, kZero);
  scale_.resize(n, 0.0f);
  bias_.resize(n, kExcludedScore);
  rows_ = n;
}

void ScoreTable::Set(uint32_t r, const float* row, float bias) {
  thread_local std::vector<int8_t> values;  // the row quantized, zero-padded to whole groups
  values.assign(static_cast<size_t>(groups_) * 4, 0);
  scale_[r] = QuantizeI8(row, dim_, values.data());
  uint8_t* out =
      data_.data() + static_cast<size_t>(r / kI8BlockRows) * groups_ * 64 + (r % kI8BlockRows) * 4;
  for (uint32_t k = 0; k < groups_ * 4; ++k) {  // int8 to offset (value + 128), into its runs
    out[k / 4 * 64 + k % 4] = static_cast<uint8_t>(values[k]) ^ kZero;
  }
  bias_[r] = bias;
}

void ScoreTable::ScoreAll(const float* q, std::span<float> out, ScoreSums* sums) const {
  const auto known = static_cast<uint32_t>(std::min<size_t>(out.size(), rows_));
  thread_local std::vector<int8_t> qi;  // q quantized, zero-padded to whole groups
  qi.assign(static_cast<size_t>(groups_) * 4, 0);
  const float q_scale = QuantizeI8(q, dim_, qi.data());
  ScoreBlocksI8(data_.data(), groups_, known, qi.data(), q_scale, scale_.data(), bias_.data(),
                out.data(), sums);
  std::fill(out.begin() + known, out.end(), kExcludedScore);
}

}  // namespace streamrec::models
