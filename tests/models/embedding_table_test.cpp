#include "models/embedding_table.h"

#include <catch2/catch.hpp>
#include <cstdint>

#include "models/kernels.h"

namespace streamrec::models {

TEST_CASE("Rows are aligned, padded with zeros, and initialized independent of growth order",
          "[embedding]") {
  EmbeddingTable a(20, 0.1f, 9), b(20, 0.1f, 9);
  CHECK(a.stride() == 32);
  a.EnsureRows(1000);
  b.EnsureRows(3);
  b.EnsureRows(700);
  b.EnsureRows(1000);
  for (uint32_t r : {0u, 2u, 3u, 699u, 999u}) {
    CHECK(reinterpret_cast<uintptr_t>(a.Row(r)) % 64 == 0);
    for (uint32_t k = 0; k < a.stride(); ++k) CHECK(a.Row(r)[k] == b.Row(r)[k]);
    for (uint32_t k = 20; k < 32; ++k) CHECK(a.Row(r)[k] == 0.0f);
  }
}

TEST_CASE("ScoreRows equals per-row dot products plus bias", "[embedding]") {
  // Dims that give 1, 2 and 4 chunks of 16 floats; row counts that leave a tail after the
  // 16-row blocks of the vector path (and fewer rows than one block); with and without bias.
  for (uint32_t dim : {7u, 24u, 64u}) {
    for (uint32_t rows : {5u, 37u, 200u}) {
      for (bool with_bias : {true, false}) {
        EmbeddingTable t(dim, 1.0f, 3 + dim);
        t.EnsureRows(rows);
        std::vector<float> q(t.stride(), 0.0f), bias(rows), out(rows);
        for (uint32_t k = 0; k < dim; ++k) q[k] = 0.1f * static_cast<float>(k) - 1.0f;
        for (uint32_t r = 0; r < rows; ++r) bias[r] = static_cast<float>(r);
        ScoreRows(t.data(), t.stride(), rows, q.data(), with_bias ? bias.data() : nullptr,
                  out.data());
        for (uint32_t r = 0; r < rows; ++r) {
          INFO("dim " << dim << " rows " << rows << " row " << r << " bias " << with_bias);
          double want = with_bias ? bias[r] : 0.0;
          for (uint32_t k = 0; k < dim; ++k) want += static_cast<double>(t.Row(r)[k]) * q[k];
          CHECK(out[r] == Approx(want).margin(1e-4));
        }
      }
    }
  }
}

TEST_CASE("EmbeddingTable save/load keeps rows and refuses another dim", "[embedding]") {
  EmbeddingTable t(10, 0.5f, 1);
  t.EnsureRows(5);
  t.Row(2)[3] = 42.0f;
  std::string bytes;
  ByteWriter w(&bytes);
  t.Save(&w);
  EmbeddingTable back(10, 0.5f, 1);
  ByteReader r(bytes);
  REQUIRE(back.Load(&r).ok());
  CHECK(back.rows() == 5);
  CHECK(back.Row(2)[3] == 42.0f);
  EmbeddingTable wrong(11, 0.5f, 1);
  ByteReader r2(bytes);
  CHECK_FALSE(wrong.Load(&r2).ok());
}

}  // namespace streamrec::models
