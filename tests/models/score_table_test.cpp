#include "models/score_table.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "common/topk.h"
#include "models/dirty_set.h"
#include "models/kernels.h"

namespace streamrec {

TEST_CASE("bfloat16 keeps 8 bits of mantissa and rounds to nearest even", "[score_table]") {
  CHECK(FromBf16(ToBf16(1.0f)) == 1.0f);
  CHECK(FromBf16(ToBf16(-2.5f)) == -2.5f);
  CHECK(FromBf16(ToBf16(0.0f)) == 0.0f);
  // 1 + 2^-8 lies halfway between 1 and 1 + 2^-7: ties go to the even mantissa (1).
  CHECK(FromBf16(ToBf16(1.0f + 1.0f / 256)) == 1.0f);
  CHECK(FromBf16(ToBf16(1.0f + 3.0f / 256)) == 1.0f + 4.0f / 256);
  for (float x : {0.1f, -3.14159f, 1e-3f, 123.456f}) {
    CHECK(std::fabs(FromBf16(ToBf16(x)) - x) <= std::fabs(x) / 256);
  }
}

TEST_CASE("ToBf16Row converts as ToBf16 does, in the vector body and the tail", "[score_table]") {
  EmbeddingTable t(37, 3.0f, 2);
  t.EnsureRows(1);
  std::vector<uint16_t> out(37);
  ToBf16Row(t.Row(0), 37, out.data());
  for (uint32_t k = 0; k < 37; ++k) CHECK(out[k] == ToBf16(t.Row(0)[k]));
}

TEST_CASE("ScoreTable scores bias + row . q within bfloat16 rounding", "[score_table]") {
  // Dims of 1, 2 and 4 chunks; row counts with a tail after the 16-row blocks of the vector path.
  for (uint32_t dim : {7u, 24u, 64u}) {
    for (uint32_t rows : {5u, 37u, 200u}) {
      EmbeddingTable t(dim, 1.0f, 11 + dim);
      t.EnsureRows(rows);
      ScoreTable s(dim);
      s.Resize(rows);
      for (uint32_t r = 0; r < rows; ++r) s.Set(r, t.Row(r), static_cast<float>(r) * 0.5f);
      std::vector<float> q(t.stride(), 0.0f), out(rows + 3);
      for (uint32_t k = 0; k < dim; ++k) q[k] = 0.1f * static_cast<float>(k) - 1.0f;
      s.ScoreAll(q.data(), out);
      for (uint32_t r = 0; r < rows; ++r) {
        INFO("dim " << dim << " rows " << rows << " row " << r);
        double exact = r * 0.5, bound = 0.0;
        for (uint32_t k = 0; k < dim; ++k) {
          exact += static_cast<double>(t.Row(r)[k]) * q[k];
          bound += std::fabs(static_cast<double>(t.Row(r)[k]) * q[k]) / 256;
        }
        CHECK(std::fabs(out[r] - exact) <= bound + 1e-4);
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

}  // namespace streamrec
