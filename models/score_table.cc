#include "models/score_table.h"

#include <algorithm>

#include "common/topk.h"
#include "models/kernels.h"

namespace streamrec {

ScoreTable::ScoreTable(uint32_t dim)
    : dim_(dim), stride_((dim + 2 * kLanes - 1) / (2 * kLanes) * (2 * kLanes)) {}

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
  thread_local std::vector<float> padded;  // q, zero-padded to the stride
  padded.assign(stride_, 0.0f);
  std::copy_n(q, dim_, padded.begin());
  ScoreRowsBf16(data_.data(), stride_, known, padded.data(), bias_.data(), out.data());
  std::fill(out.begin() + known, out.end(), kExcludedScore);
}

}  // namespace streamrec
