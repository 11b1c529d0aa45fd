#include "models/score_table.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "common/huge_alloc.h"
#include "common/topk.h"
#include "models/dirty_set.h"
#include "models/kernels.h"

namespace streamrec::models {

TEST_CASE("QuantizeI8: the largest magnitude maps to 127, others to the nearest step",
          "[score_table]") {
  const float in[5] = {0.5f, -1.0f, 0.25f, 0.0f, 0.74f};
  int8_t q8[5];
  const float s8 = QuantizeI8(in, 5, q8);
  CHECK(s8 == Approx(1.0f / 127));
  CHECK(q8[1] == -127);
  CHECK(q8[0] == 64);  // 63.5: ties go to the even value
  CHECK(q8[2] == 32);  // 31.75
  CHECK(q8[3] == 0);
  for (int k = 0; k < 5; ++k) CHECK(std::fabs(q8[k] * s8 - in[k]) <= s8 / 2 + 1e-7f);
  // Rows of the vector path (16 values a step) and its tail quantize alike.
  std::vector<float> row(37);
  for (size_t k = 0; k < row.size(); ++k) row[k] = std::sin(static_cast<float>(k)) * 3.0f;
  std::vector<int8_t> v(37);
  const float sv = QuantizeI8(row.data(), 37, v.data());
  for (size_t k = 0; k < row.size(); ++k) {
    CHECK(v[k] == static_cast<int8_t>(std::nearbyint(row[k] / sv)));
  }
  const float zero[3] = {0.0f, 0.0f, 0.0f};
  CHECK(QuantizeI8(zero, 3, q8) == 0.0f);
  CHECK((q8[0] == 0 && q8[1] == 0 && q8[2] == 0));
}

TEST_CASE("ScoreBlocksI8 computes the exact integer dot product, in whole and partial blocks",
          "[score_table]") {
  // 16 and 32 values a row (4 and 8 groups), row counts around the groups of 4 blocks the
  // vector path takes together, its single blocks and the partial last block; values at the
  // extremes (bytes 0 and 255, i.e. -128 and 127 with the offset; q -127 and 127).
  for (uint32_t groups : {4u, 8u, 16u}) {
    for (uint32_t rows : {3u, 16u, 45u, 64u, 100u, 2100u}) {
      const uint32_t blocks = (rows + kI8BlockRows - 1) / kI8BlockRows;
      std::vector<uint8_t, HugeAllocator<uint8_t>> data(size_t{blocks} * groups * 64);
      std::vector<int8_t> q(groups * 4);
      std::vector<float> scale(rows), bias(rows), out(rows);
      for (size_t i = 0; i < data.size(); ++i) {
        data[i] = static_cast<uint8_t>(i % 7 == 0 ? (i % 2 ? 255 : 0) : i * 37 % 256);
      }
      for (uint32_t k = 0; k < q.size(); ++k) {
        q[k] = static_cast<int8_t>(k % 5 == 0 ? (k % 2 ? 127 : -127) : int(k * 41 % 255) - 127);
      }
      for (uint32_t r = 0; r < rows; ++r) {
        scale[r] = 0.5f + static_cast<float>(r % 3);
        bias[r] = static_cast<float>(r) - 10.0f;
      }
      ScoreBlocksI8(data.data(), groups, rows, q.data(), 1e-3f, scale.data(), bias.data(),
                    out.data());
      // With the sums: the same scores, and the sums of those that are not excluded (rows
      // whose bias is kExcludedScore), here taken in doubles.
      std::vector<float> bias_x = bias, out_x(rows);
      for (uint32_t r = 0; r < rows; r += 5) bias_x[r] = kExcludedScore;
      ScoreSums sums;
      sums.n = 1;  // added into, not overwritten
      sums.sum = 2.0;
      ScoreBlocksI8(data.data(), groups, rows, q.data(), 1e-3f, scale.data(), bias_x.data(),
                    out_x.data(), &sums);
      ScoreSums want_sums;
      for (uint32_t r = 0; r < rows; ++r) {
        if (r % 5 == 0) {
          CHECK(out_x[r] == kExcludedScore);
          continue;
        }
        CHECK(out_x[r] == Approx(out[r] - bias[r] + bias_x[r]).margin(1e-4));
        ++want_sums.n;
        want_sums.sum += out_x[r];
        want_sums.sum2 += double{out_x[r]} * out_x[r];
        want_sums.min = std::min(want_sums.min, out_x[r]);
      }
      INFO("groups " << groups << " rows " << rows);
      CHECK(sums.n == want_sums.n + 1);
      CHECK(sums.sum == Approx(want_sums.sum + 2.0).epsilon(1e-5));
      CHECK(sums.sum2 == Approx(want_sums.sum2).epsilon(1e-5));
      CHECK(sums.min == want_sums.min);
      for (uint32_t r = 0; r < rows; ++r) {
        // Row r's value k: block r / 16, run k / 4, lane r % 16, byte k % 4.
        int64_t dot = 0;
        for (uint32_t k = 0; k < groups * 4; ++k) {
          const size_t at = (size_t{r / 16} * groups + k / 4) * 64 + (r % 16) * 4 + k % 4;
          dot += (int64_t{data[at]} - 128) * q[k];
        }
        const double want = bias[r] + double{scale[r]} * 1e-3 * static_cast<double>(dot);
        INFO("groups " << groups << " rows " << rows << " row " << r);
        CHECK(out[r] == Approx(want).epsilon(1e-5).margin(1e-4));
      }
    }
  }
}

TEST_CASE("ScoreTable scores bias + row . q within the quantization steps", "[score_table]") {
  // Dims of whole and partial groups of 4, up to two cache lines; row counts with partial
  // blocks and with single blocks after the vector path's groups of 4 blocks.
  for (uint32_t dim : {7u, 24u, 64u, 100u}) {
    for (uint32_t rows : {5u, 37u, 200u, 333u}) {
      EmbeddingTable t(dim, 1.0f, 11 + dim);
      t.EnsureRows(rows);
      ScoreTable s(dim);
      s.Resize(rows);
      for (uint32_t r = 0; r < rows; ++r) s.Set(r, t.Row(r), static_cast<float>(r) * 0.5f);
      std::vector<float> q(t.stride(), 0.0f), out(rows + 3);
      float q_max = 0.0f;
      for (uint32_t k = 0; k < dim; ++k) {
        q[k] = 0.1f * static_cast<float>(k) - 1.0f;
        q_max = std::max(q_max, std::fabs(q[k]));
      }
      s.ScoreAll(q.data(), out);
      for (uint32_t r = 0; r < rows; ++r) {
        INFO("dim " << dim << " rows " << rows << " row " << r);
        double exact = r * 0.5, bound = 0.0, row_max = 0.0;
        for (uint32_t k = 0; k < dim; ++k)
          row_max = std::max(row_max, std::fabs(double{t.Row(r)[k]}));
        // Each product is off by at most |q_k| half a row step, |row_k| half a query step and
        // the product of the two half steps.
        for (uint32_t k = 0; k < dim; ++k) {
          exact += static_cast<double>(t.Row(r)[k]) * q[k];
          bound += std::fabs(q[k]) * row_max / 254 + std::fabs(t.Row(r)[k]) * q_max / 254 +
                   row_max * q_max / (254 * 254);
        }
        CHECK(std::fabs(out[r] - exact) <= bound * 1.01 + 1e-4);
      }
      for (uint32_t r = rows; r < rows + 3; ++r) CHECK(out[r] == kExcludedScore);
    }
  }
}

TEST_CASE("ScoreTable: a kExcludedScore bias excludes the row, and unset rows are excluded",
          "[score_table]") {
  EmbeddingTable t(16, 1.0f, 5);
  t.EnsureRows(40);
  ScoreTable s(16);
  s.Resize(40);
  for (uint32_t r = 0; r < 40; ++r) {
    if (r != 7) s.Set(r, t.Row(r), r == 3 ? kExcludedScore : 0.0f);
  }
  std::vector<float> q(16, 1.0f), out(40);
  s.ScoreAll(q.data(), out);
  CHECK(out[3] == kExcludedScore);
  CHECK(out[7] == kExcludedScore);
  CHECK(out[8] != kExcludedScore);
}

TEST_CASE("DirtySet: a second reader takes every mark once, independently of the first",
          "[score_table]") {
  DirtySet d(DirtySet::kTwoReaders);
  d.Mark(5);
  d.Mark(2);
  d.Mark(5);
  std::vector<uint32_t> a, b;
  d.Take(&a);
  CHECK(a == std::vector<uint32_t>{2, 5});
  d.Mark(9);
  d.Take(1, &b);
  CHECK(b == std::vector<uint32_t>{2, 5, 9});
  a.clear();
  b.clear();
  d.Mark(2);  // reader 0 has taken 2, reader 1 too: both see it again
  d.Take(&a);
  d.Take(1, &b);
  CHECK(a == std::vector<uint32_t>{2, 9});
  CHECK(b == std::vector<uint32_t>{2});
  // Dense sets are taken by a scan of the marks: the same ascending, unique list.
  DirtySet dense(DirtySet::kTwoReaders);
  std::vector<uint32_t> want;
  for (uint32_t i = 0; i < 100; i += 2) {
    dense.Mark(99 - i);
    dense.Mark(99 - i);
    want.insert(want.begin(), 99 - i);
  }
  std::vector<uint32_t> got0, got1;
  dense.Take(&got0);
  dense.Take(1, &got1);
  CHECK(got0 == want);
  CHECK(got1 == want);
  DirtySet one;
  one.Mark(1);
  std::vector<uint32_t> c;
  one.Take(1, &c);  // no second reader: nothing recorded for it
  CHECK(c.empty());
}

}  // namespace streamrec::models
