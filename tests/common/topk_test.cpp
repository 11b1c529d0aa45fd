#include "common/topk.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>

#include "common/rng.h"

namespace streamrec {
namespace {
// Naive reference: sort everything.
std::vector<ScoredItem> NaiveTopK(const std::vector<float>& s, size_t k) {
  std::vector<ScoredItem> all;
  for (uint32_t i = 0; i < s.size(); ++i) {
    if (s[i] > kExcludedScore) all.push_back({i, s[i]});
  }
  std::sort(all.begin(), all.end(), [](auto& a, auto& b) {
    return a.score > b.score || (a.score == b.score && a.index < b.index);
  });
  if (all.size() > k) all.resize(k);
  return all;
}
}  // namespace

TEST_CASE("TopK matches a full sort on random scores with ties and exclusions", "[topk]") {
  Rng rng(1);
  std::vector<ScoredItem> got;
  for (int trial = 0; trial < 200; ++trial) {
    const size_t n = rng.Uniform(300);
    const size_t k = rng.Uniform(20);
    std::vector<float> s(n);
    for (auto& x : s) {
      x = static_cast<float>(rng.Uniform(50));  // many ties
      if (rng.Uniform(5) == 0) x = kExcludedScore;
      if (rng.Uniform(50) == 0) x = std::nanf("");
    }
    TopK(s, k, &got);
    auto want = NaiveTopK(s, k);
    REQUIRE(got.size() == want.size());
    for (size_t i = 0; i < got.size(); ++i) {
      CHECK(got[i].index == want[i].index);
      CHECK(got[i].score == want[i].score);
    }
  }
}

TEST_CASE("TopK edge cases", "[topk]") {
  std::vector<ScoredItem> out;
  TopK({}, 10, &out);
  CHECK(out.empty());
  std::vector<float> s = {1, 2, 3};
  TopK(s, 0, &out);
  CHECK(out.empty());
  TopK(s, 10, &out);
  REQUIRE(out.size() == 3);
  CHECK(out[0].index == 2);
  std::vector<float> all_excluded(5, kExcludedScore);
  TopK(all_excluded, 3, &out);
  CHECK(out.empty());
}

}  // namespace streamrec
