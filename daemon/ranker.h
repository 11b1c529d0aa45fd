// Ranker: the read path of the LiveModel. It answers every query of /v1/recommend, /v1/similar,
// /v1/next, /v1/popular and /v1/predict: gathers a request's inputs under the locks (shared),
// scores the catalog, blends a session model's scores with BPR's (models/blend.h), leaves out
// excluded items, and fills the exploration slots.
//
// Recommend's catalog-wide scoring passes read the ScoringSnapshot instead of the live tables,
// outside the locks: they are held only to gather the request's inputs (user vector, session
// query, seen items) and to rescore the best candidates exactly, so a request never waits for
// more than one small apply batch, and the writers never wait for a request's scoring.
//
// Thread safety: any thread; every method takes the locks it needs shared, in the order of
// live_model.h.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <absl/base/thread_annotations.h>
#include "common/metrics.h"
#include "common/status.h"
#include "daemon/live_model.h"
#include "daemon/recommend_service.h"
#include "models/blend.h"

namespace streamrec::daemon {

struct ModelSizes {
  uint64_t users = 0;
  uint64_t items = 0;
  uint64_t interactions = 0;
  uint64_t events_applied = 0;  // and visible to Recommend (published)
  uint64_t sessions = 0;        // live sessions
};

class Ranker {
 public:
  // `model` is borrowed and outlives the ranker.
  explicit Ranker(const LiveModel& model) : m_(model) {}

  // Session-aware top-k; see ModelState::Recommend.
  void Recommend(std::string_view user, std::string_view session, uint32_t k, bool exclude_seen,
                 std::vector<ScoredId>* out, uint32_t explore, uint64_t seed) const;
  Status Next(const std::string& item, uint32_t k, std::vector<ScoredId>* out) const;
  Status Similar(const std::string& item, uint32_t k, std::vector<ScoredId>* out) const;
  void Popular(uint32_t k, std::vector<ScoredId>* out) const;
  PredictResult Predict(const std::string& user, const std::string& item) const;
  ModelSizes Sizes() const;
  bool KnowsUser(std::string_view user) const;
  bool KnowsItem(std::string_view item) const;
  ExplorationStats BanditStats() const;

  // Where Recommend records how long each request waited for the locks (seconds, all
  // acquisitions together; 0 when they were free). Null records nothing. Before readers start.
  void set_lock_wait_histogram(Histogram* h) { lock_wait_ = h; }

 private:
  // One ranked item before its name is looked up.
  struct Candidate {
    ItemIndex index;
    float score;
    const char* source;
  };
  // What ranking reads of the live model for one request, copied under the shared locks so
  // that the scoring passes can run without them (thread-local scratch, reused).
  struct RankInputs {
    uint32_t items = 0;             // catalog size when gathered
    UserIndex user = kNoIndex;      // kNoIndex: unknown or anonymous
    bool has_bpr = false;           // the user has a BPR vector
    std::vector<float> user_row;    // it (has_bpr)
    std::vector<ItemIndex> recent;  // the session's items, oldest first (empty: no session)
    std::vector<float> query;       // the session head's query for (user, recent)
    std::vector<std::pair<ItemIndex, float>> repeats;  // the head's repeat bonus of those items
    std::vector<ItemIndex> excluded;  // seen items and the session's own (exclude_seen)
  };
  // Gathers *in for (user, session). True when the request can be scored on the snapshot and
  // rescored (linear models, the z blend); false when it must be ranked under the locks (the
  // popularity fallback, session-kNN, the rank blend).
  bool Gather(std::string_view user, std::string_view session, bool exclude_seen,
              RankInputs* in) const
      ABSL_SHARED_LOCKS_REQUIRED(m_.lock, m_.bpr_lock, m_.session_lock);
  // The best `want` candidates of the scores in `session_scores` and/or `bpr_scores` (blended
  // when both are there), excluded items left out. *blend receives the blend used; its
  // z-scores take the sums from `session_sums` and `bpr_sums` when both are set (gathered by
  // the pass that wrote the scores), else from a pass of their own.
  void Select(const RankInputs& in, std::vector<float>* session_scores,
              std::vector<float>* bpr_scores, size_t want, models::BlendCoefficients* blend,
              std::vector<Candidate>* out, const models::ScoreSums* session_sums = nullptr,
              const models::ScoreSums* bpr_sums = nullptr) const;
  // Ranks from the live model (the cases Gather refuses).
  void RankLocked(const RankInputs& in, uint32_t k, std::vector<Candidate>* out) const
      ABSL_SHARED_LOCKS_REQUIRED(m_.lock, m_.bpr_lock, m_.session_lock);
  // Scores the snapshot without the locks: the best candidates of the approximate scores.
  void RankSnapshot(const RankInputs& in, size_t want, models::BlendCoefficients* blend,
                    std::vector<Candidate>* out) const;
  // Replaces the candidates' scores by the live model's exact ones and keeps the best k.
  void Rescore(const RankInputs& in, const models::BlendCoefficients& blend, uint32_t k,
               std::vector<Candidate>* candidates) const
      ABSL_SHARED_LOCKS_REQUIRED(m_.bpr_lock, m_.session_lock);
  // Fills *out from the top-k of `scores`.
  void Collect(std::vector<float>& scores, uint32_t k, const char* source,
               std::vector<ScoredId>* out) const ABSL_SHARED_LOCKS_REQUIRED(m_.lock);

  const LiveModel& m_;
  Histogram* lock_wait_ = nullptr;
};

}  // namespace streamrec::daemon
