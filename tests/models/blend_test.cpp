#include "models/blend.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "common/topk.h"

namespace streamrec::models {
namespace {

// The z-score of every score, computed the long way (population standard deviation).
std::vector<double> ZScores(const std::vector<float>& v) {
  double sum = 0, n = 0;
  for (float x : v) {
    if (x == kExcludedScore) continue;
    sum += x;
    ++n;
  }
  const double mean = sum / n;
  double var = 0;
  for (float x : v) {
    if (x != kExcludedScore) var += (x - mean) * (x - mean);
  }
  const double sd = std::sqrt(var / n);
  std::vector<double> z;
  for (float x : v) z.push_back(x == kExcludedScore ? NAN : (x - mean) / sd);
  return z;
}

TEST_CASE("Blend: the z blend is weight * z(session) + (1 - weight) * z(bpr)", "[blend]") {
  std::vector<float> session = {3.0f, 1.0f, 2.0f, 7.0f, -1.0f};
  const std::vector<float> bpr = {0.1f, 0.4f, 0.3f, 0.0f, 0.2f};
  const auto zs = ZScores(session), zb = ZScores(bpr);
  const float w = 0.7f;
  const BlendCoefficients c = ZBlend(SumsOf(session), SumsOf(bpr), w);
  for (size_t i = 0; i < session.size(); ++i) {
    CHECK(c.Blend(session[i], bpr[i]) == Approx(w * zs[i] + (1 - w) * zb[i]).margin(1e-5));
  }
  std::vector<float> blended = session;
  BlendInto(c, blended, bpr);
  for (size_t i = 0; i < session.size(); ++i) {
    CHECK(blended[i] == Approx(c.Blend(session[i], bpr[i])).margin(1e-6));
  }
  // The dominant part: item 3 is the session's favourite and BPR's least liked.
  CHECK(std::string(c.Source(blended[3], bpr[3])) == "session");
  CHECK(std::string(c.Source(blended[1], bpr[1])) == "bpr");
}

TEST_CASE("Blend: a session score the model cannot give counts as its lowest", "[blend]") {
  const std::vector<float> session = {2.0f, kExcludedScore, 4.0f};
  const std::vector<float> bpr = {1.0f, 1.0f, kExcludedScore};
  const BlendCoefficients c = ZBlend(SumsOf(session), SumsOf(bpr), 0.5f);
  CHECK(c.session_min == 2.0f);
  CHECK(c.Blend(kExcludedScore, 1.0f) == c.Blend(2.0f, 1.0f));
  // An item BPR cannot score stays excluded.
  CHECK(c.Blend(4.0f, kExcludedScore) == kExcludedScore);
  std::vector<float> blended = session;
  BlendInto(c, blended, bpr);
  CHECK(blended[1] == c.Blend(2.0f, 1.0f));
  CHECK(blended[2] == kExcludedScore);
}

TEST_CASE("Blend: weight 1 ranks by the session alone, weight 0 by BPR alone", "[blend]") {
  const std::vector<float> session = {1.0f, 5.0f, 3.0f};
  const std::vector<float> bpr = {9.0f, 1.0f, 4.0f};
  for (const float w : {0.0f, 1.0f}) {
    const BlendCoefficients c = ZBlend(SumsOf(session), SumsOf(bpr), w);
    std::vector<float> blended = session;
    BlendInto(c, blended, bpr);
    const std::vector<float>& ref = w == 1.0f ? session : bpr;
    for (size_t i = 0; i < 3; ++i) {
      for (size_t j = 0; j < 3; ++j) CHECK((blended[i] < blended[j]) == (ref[i] < ref[j]));
    }
  }
}

TEST_CASE("Blend: rank percentiles put the best at 1 and keep exclusions", "[blend]") {
  std::vector<float> v = {0.5f, kExcludedScore, 2.0f, 0.5f, -3.0f};
  RankPercentiles(v);
  CHECK(v[2] == 1.0f);
  CHECK(v[4] == 0.25f);
  CHECK(v[1] == kExcludedScore);
  // Ties: the lower index ranks higher.
  CHECK(v[0] == 0.75f);
  CHECK(v[3] == 0.5f);
}

TEST_CASE("Blend: constant scores give a finite blend", "[blend]") {
  const std::vector<float> session = {2.0f, 2.0f, 2.0f};
  const std::vector<float> bpr = {1.0f, 3.0f, 2.0f};
  const BlendCoefficients c = ZBlend(SumsOf(session), SumsOf(bpr), 0.5f);
  for (size_t i = 0; i < 3; ++i) CHECK(std::isfinite(c.Blend(session[i], bpr[i])));
  CHECK(c.Blend(2.0f, 3.0f) > c.Blend(2.0f, 1.0f));
}

}  // namespace
}  // namespace streamrec::models
