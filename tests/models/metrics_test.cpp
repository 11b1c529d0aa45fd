#include "models/metrics.h"

#include <catch2/catch.hpp>
#include <vector>

namespace streamrec::models {

TEST_CASE("Ranking metrics on the worked example", "[metrics]") {
  // List [A,B,C,D,F] against relevant {B,D,E}.
  enum : ItemIndex { A, B, C, D, E, F };
  const std::vector<ItemIndex> ranked = {A, B, C, D, F};
  const ItemSet relevant = {B, D, E};
  CHECK(PrecisionAtK(ranked, relevant, 5) == Approx(0.40));
  CHECK(RecallAtK(ranked, relevant, 5) == Approx(2.0 / 3.0));
  CHECK(AveragePrecisionAtK(ranked, relevant, 5) == Approx((1.0 / 2 + 2.0 / 4) / 3));
  CHECK(AveragePrecisionAtK(ranked, relevant, 5) == Approx(0.333).epsilon(0.002));
  // DCG = 1/log2(3) + 1/log2(5); IDCG = 1 + 1/log2(3) + 1/log2(4).
  CHECK(NdcgAtK(ranked, relevant, 5) == Approx(0.4981).epsilon(0.001));
  CHECK(NdcgAtK(ranked, relevant, 5) == Approx(0.50).epsilon(0.01));
}

TEST_CASE("Ranking metrics: cut-off, perfect and empty lists", "[metrics]") {
  const std::vector<ItemIndex> ranked = {1, 2, 3};
  CHECK(PrecisionAtK(ranked, {1, 2, 3}, 3) == 1.0);
  CHECK(NdcgAtK(ranked, {1, 2, 3}, 3) == Approx(1.0));
  CHECK(AveragePrecisionAtK(ranked, {1, 2, 3}, 3) == Approx(1.0));
  CHECK(PrecisionAtK(ranked, {3}, 2) == 0.0);
  CHECK(NdcgAtK({}, {1}, 10) == 0.0);
  CHECK(RecallAtK(ranked, {}, 10) == 0.0);
  CHECK(HitAtK(ranked, 3, 3) == 1.0);
  CHECK(HitAtK(ranked, 3, 2) == 0.0);
  CHECK(ReciprocalRankAtK(ranked, 2, 10) == 0.5);
  CHECK(SingleNdcg(0, 10) == 1.0);
  CHECK(SingleNdcg(10, 10) == 0.0);
}

TEST_CASE("ErrorStats computes RMSE and MAE", "[metrics]") {
  ErrorStats e;
  e.Add(3.0, 4.0);
  e.Add(5.0, 2.0);
  CHECK(e.rmse() == Approx(std::sqrt((1.0 + 9.0) / 2)));
  CHECK(e.mae() == Approx(2.0));
}

}  // namespace streamrec::models
