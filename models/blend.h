// The score blend of /v1/recommend: how a session model's next-item scores and BPR's long-term
// scores of the same catalog become one ranking. Pure functions over score vectors; the daemon's
// Ranker (daemon/ranker.h) gathers the vectors and calls them.
//
// With blend "z" both vectors are turned into z-scores over the items each can score, then
//   blended = weight * z(session) + (1 - weight) * z(bpr)
// which is one fused multiply-add per item: blended = as * session + ab * bpr + c. With blend
// "rank" the scores are first replaced by their rank percentiles. A session score the model
// cannot give (an item newer than its tables, kExcludedScore) counts as the session's lowest
// score; an item BPR cannot score stays excluded.
#pragma once

#include <cstddef>
#include <span>

#include "common/topk.h"
#include "models/kernels.h"

namespace streamrec::models {

// Mean, inverse standard deviation and minimum of the scores a ScoreSums summed.
struct ScoreStats {
  float mean = 0.0f, inv_std = 1.0f, min = 0.0f;
};
ScoreStats StatsOf(const ScoreSums& sums);
// The sums of the scores of `scores` that are not kExcludedScore (a pass of its own).
ScoreSums SumsOf(std::span<const float> scores);

// Replaces every score by its rank percentile in (0, 1] (1 = the best); kExcludedScore stays.
// Ties rank the lower index higher.
void RankPercentiles(std::span<float> scores);

// The coefficients of one blend: blended = as * session + ab * bpr + c.
struct BlendCoefficients {
  float as = 0, ab = 0, c = 0;
  float session_min = 0;  // what a session score the model cannot give counts as
  float wb = 0, bpr_mean = 0, bpr_inv_std = 1;  // the BPR part's z-score, for Source

  // The blended score of one item.
  float Blend(float session, float bpr) const {
    if (bpr == kExcludedScore) return kExcludedScore;
    return as * (session == kExcludedScore ? session_min : session) + ab * bpr + c;
  }
  // Which part dominated a blended score, given the item's BPR score: "session" or "bpr" (the
  // BPR part is recomputed, the session part is the rest).
  const char* Source(float blended, float bpr) const {
    const float cb = wb * (bpr - bpr_mean) * bpr_inv_std;
    return blended - cb > cb ? "session" : "bpr";
  }
};

// The z blend of two score distributions, `weight` (0..1) on the session part.
BlendCoefficients ZBlend(const ScoreSums& session, const ScoreSums& bpr, float weight);

// session[i] = coefficients.Blend(session[i], bpr[i]) for every item: one vectorized pass.
// REQUIRES: session.size() == bpr.size().
void BlendInto(const BlendCoefficients& coefficients, std::span<float> session,
               std::span<const float> bpr);

}  // namespace streamrec::models
