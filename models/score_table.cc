#include "models/score_table.h"

#include <algorithm>

#include "common/topk.h"
#include "models/kernels.h"

namespace streamrec {

ScoreTable::ScoreTable(uint32_t dim) : dim_(dim), stride_((dim + kLanes - 1) / kLanes * kLanes) {}

void ScoreTable::Resize(uint32_t n) {
  data_.resize(static_cast<size_t>(n) * stride_, 0);
  bias_.resize(n, kExcludedScore);
  rows_ = n;
}

void ScoreTable::Set(uint32_t r, const float* row, float bias) {
  ToBf16Row(row, dim_, data_.data() + static_cast<size_t>(r) * stride_);
  bias_[r] = bias;
}

void ScoreTable::ScoreAll(const float* q, std::span<float> out) const {
  const auto known = static_cast<uint32_t>(std::min<size_t>(out.size(), rows_));
  ScoreRowsBf16(data_.data(), stride_, known, q, bias_.data(), out.data());
  std::fill(out.begin() + known, out.end(), kExcludedScore);
}

}  // namespace streamrec
