// ModelState: the live, in-memory model of the daemon (the hot copy): id maps, user histories,
// MF (ratings), BPR (ranking), decayed popularity (cold users, /v1/popular), and the sessions
// with their session model (session_state.h: /v1/recommend?session=, /v1/next). It applies
// decoded events, answers scoring queries, and moves itself to and from the state store
// (dirty rows, ids, histories and globals; offsets are the applier's).
//
// Thread safety: three writer threads. The consumer (the "writer thread" below) calls Apply*,
// Publish, AppendCheckpoint and Restore; it holds lock() around Apply*, in small batches, and
// owns the id maps, MF and popularity. Apply* also records what each event means for the other
// models, and HandOff passes those records to two lanes, threads of the ModelState's own
// (apply_lane.h) that apply them in the same order, in small batches too: the BPR lane (BPR,
// the user histories and exploration, which reads BPR's user vectors) under bpr_lock_, the
// session lane (the sessions and their model) under session_lock_. Every model thus sees
// exactly the sequence of updates it would see on one thread (the state is the same function of
// the stream), while an event's work is spread over the cores. Flush waits for both lanes to
// catch up: Publish and AppendCheckpoint call it first, so a checkpoint stores exactly the
// events its offsets cover, and recommendations reflect every event counted as applied.
//
// Readers (HTTP threads) call the const query methods, which take lock(), bpr_lock_ and
// session_lock_ shared as they need them, always in that order (each writer takes only its own
// lock). Checkpoint and Publish run on the writer thread without any lock, after Flush: they
// only read the model, which nothing else writes then, and touch dirty sets and snapshot sides
// that readers never read.
//
// Recommend's catalog-wide scoring passes read the ScoringSnapshot instead of the live tables,
// outside the locks: they are held only to gather the request's inputs (user vector, session
// query, seen items) and to rescore the best candidates exactly, so a request never waits for
// more than one small apply batch, and the writers never wait for a request's scoring.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/ids.h"
#include "common/status.h"
#include "daemon/apply_lane.h"
#include "daemon/config.h"
#include "daemon/exploration.h"
#include "daemon/metrics.h"
#include "daemon/recommend_service.h"
#include "daemon/rw_lock.h"
#include "daemon/scoring_snapshot.h"
#include "daemon/session_state.h"
#include "models/bpr.h"
#include "models/dirty_set.h"
#include "models/mf.h"
#include "models/popularity.h"
#include "models/user_history.h"
#include "state/store.h"
#include "stream/event_codec.h"

namespace streamrec::daemon {

struct ModelSizes {
  uint64_t users = 0;
  uint64_t items = 0;
  uint64_t interactions = 0;
  uint64_t events_applied = 0;  // and visible to Recommend (published)
  uint64_t sessions = 0;        // live sessions
};

// One explored item of a served record, as the EventApplier hands it over.
struct ServedExplore {
  std::string item;
  uint32_t pos = 0;
  double propensity = 1.0;
};

class ModelState {
 public:
  // InvalidArgument when a model's parameters are invalid.
  static Result<std::unique_ptr<ModelState>> Create(const Config& config);

  ~ModelState();

  // --- writer side ---------------------------------------------------------------------------
  RwLock& lock() { return lock_; }
  // Applies one valid event: the writer thread's models at once, the lanes' once handed off
  // (HandOff, Flush). `ts_seconds` is the event time (the event's own, or the Kafka timestamp
  // when it has none); `seed` seeds every random draw of the update.
  // REQUIRES: the write lock is held by the caller.
  void Apply(const EventView& event, double ts_seconds, uint64_t seed);
  // Whether Apply may take `event` under config.limits: its time at most max_future_s ahead of
  // `now_micros` (the wall clock) and of the largest event time applied, and no new user or
  // item beyond max_users / max_items. InvalidArgument with the reason (for the dead letter)
  // otherwise. REQUIRES: the write lock (reads the id maps the writer changes).
  Status Admit(const EventView& event, double ts_seconds, int64_t now_micros) const;
  // Passes what Apply* recorded to the lanes: once a batch's worth has gathered, or (`all`)
  // whatever there is. Writer thread, WITHOUT the write lock: it may wait for a lane.
  void HandOff(bool all);
  // Hands everything over and waits until both lanes have applied it. Writer thread, without
  // the write lock.
  void Flush();
  // One served record's explored items (what /v1/recommend showed in its exploration slots),
  // for the reward join. `ts_micros` is the serving time. REQUIRES: the write lock.
  void ApplyServed(std::string_view user, std::string_view rec_id,
                   std::span<const ServedExplore> explored, int64_t ts_micros);
  // The served topic's progress, capping the reward join's watermark (Exploration::
  // SetServedProgress). REQUIRES: the write lock.
  void SetServedProgress(int64_t cap_micros);
  // Event time as exploration sees it (the largest event ts applied), micros; 0 when
  // exploration is off. Writer thread.
  int64_t event_time_micros() const { return explore_ ? event_time_us_ : 0; }
  // Makes what Apply* changed visible to Recommend's lock-free scoring (ScoringSnapshot).
  // Writer thread, without the lock; the EventApplier calls it (EventApplier::Publish).
  void Publish();
  // Appends every change since the last call (ids, histories, model rows, globals) to *batch.
  // Writer thread only; no lock needed (see the class comment).
  void AppendCheckpoint(state::WriteBatch* batch);
  // Replaces the model with what `store` holds. Before the writer starts.
  Status Restore(const state::StateReader& store);
  // Where Recommend records how long each request waited for the model lock (seconds, both
  // acquisitions together; 0 when it was free). Null (the default) records nothing. Before
  // readers start; `h` outlives the model.
  void set_lock_wait_histogram(Histogram* h) { lock_wait_ = h; }
  // Where each lane records how long it held its lock per run of apply_batch ops (seconds;
  // the consumer's own runs are EventApplier's). A run that is much longer than its ops is a
  // lane preempted while holding its lock, which every request then waits for. Null records
  // nothing. Before the first event is applied; both outlive the model.
  void set_lane_hold_histograms(Histogram* bpr, Histogram* session) {
    bpr_hold_ = bpr;
    session_hold_ = session;
  }

  // How many times a lane has yielded the CPU between its runs because requests were in
  // flight (Recommend), giving their threads the CPU where it holds no lock. Any thread.
  uint64_t lane_yields() const { return lane_yields_.load(std::memory_order_relaxed); }

  // --- readers (any thread; they lock shared) --------------------------------------------------
  // Top-k for `user` (BPR; popularity for an unknown user), seen items excluded on request.
  void Recommend(const std::string& user, uint32_t k, bool exclude_seen,
                 std::vector<ScoredId>* out) const {
    Recommend(user, {}, k, exclude_seen, out);
  }
  // Session-aware top-k. The session is `session` (explicit id) or, when empty, the user's live
  // implicit session. With a known user and a live session: the blend
  //   weight * z(session score) + (1 - weight) * z(BPR score)
  // (z-scores over the catalog, so neither scale dominates), each item's source "session" when
  // the session term is the larger part of its blended score, else "bpr". With only one of the
  // two: that one alone ("session" or "bpr"); neither: popularity. exclude_seen also excludes
  // the session's own items. `user` may be empty (anonymous session).
  //
  // `explore` of the k slots (the last ones) go to cold items the exploration policy picks
  // (source "explore:<policy>", with their propensity), none of them seen or already listed;
  // fewer when the pool runs short, none when exploration is off. `seed` drives its draws.
  void Recommend(std::string_view user, std::string_view session, uint32_t k, bool exclude_seen,
                 std::vector<ScoredId>* out, uint32_t explore = 0, uint64_t seed = 0) const;
  // "People who viewed `item` viewed next": the session model's scores after the one-item
  // session [item], the item itself excluded. NotFound for an unknown item, Unavailable when no
  // session model is configured.
  Status Next(const std::string& item, uint32_t k, std::vector<ScoredId>* out) const;
  // Name of the session model; "none" when disabled.
  std::string_view session_model_name() const;
  // Items closest to `item` by cosine of BPR item embeddings; NotFound for an unknown item.
  Status Similar(const std::string& item, uint32_t k, std::vector<ScoredId>* out) const;
  void Popular(uint32_t k, std::vector<ScoredId>* out) const;
  PredictResult Predict(const std::string& user, const std::string& item) const;
  ModelSizes Sizes() const;
  // Whether the model has the user / item (any thread; takes the shared lock).
  bool KnowsUser(std::string_view user) const;
  bool KnowsItem(std::string_view item) const;
  // Exploration's pool and reward counters; all zero when exploration is off.
  ExplorationStats BanditStats() const;
  // "none" when exploration is off.
  std::string_view bandit_policy() const;

 private:
  explicit ModelState(const Config& config, std::unique_ptr<BiasedMF> mf, std::unique_ptr<BPR> bpr,
                      std::unique_ptr<Popularity> pop, std::unique_ptr<SessionState> sessions);
  // One ranked item before its name is looked up.
  struct Candidate {
    ItemIndex index;
    float score;
    const char* source;
  };
  // What ranking reads of the live model for one request, copied under the shared lock so that
  // the scoring passes can run without it (thread-local scratch, reused).
  struct RankInputs;
  // How a ranking's candidates were scored: the blend's coefficients, for the exact rescoring.
  struct Blend {
    float as = 0, ab = 0, c = 0;  // blended = as * session + ab * bpr + c
    float session_min = 0;        // a session score the model cannot give counts as this
    float wb = 0, bpr_mean = 0, bpr_inv_std = 1;  // the BPR part's z-score, for `source`
    // Which part dominated a blended score given the item's BPR score: the BPR part is
    // recomputed, the session part is the rest.
    const char* Source(float blended, float bpr) const {
      const float cb = wb * (bpr - bpr_mean) * bpr_inv_std;
      return blended - cb > cb ? "session" : "bpr";
    }
  };
  // Gathers *in for (user, session). True when the request can be scored on the snapshot and
  // rescored (linear models, the z blend); false when it must be ranked under the lock (the
  // popularity fallback, session-kNN, the rank blend). REQUIRES: shared lock held.
  bool Gather(std::string_view user, std::string_view session, bool exclude_seen,
              RankInputs* in) const;
  // The best `want` candidates of the scores in `session_scores` and/or `bpr_scores` (blended
  // when both are there), excluded items left out. *blend receives the blend used. The
  // blend's z-scores take the scores' sums from `session_sums` and `bpr_sums` when both are
  // set (gathered by the pass that wrote the scores), else from a pass of their own.
  void Select(const RankInputs& in, std::vector<float>* session_scores,
              std::vector<float>* bpr_scores, size_t want, Blend* blend,
              std::vector<Candidate>* out, const ScoreSums* session_sums = nullptr,
              const ScoreSums* bpr_sums = nullptr) const;
  // Ranks under the shared lock from the live model (the cases Gather refuses).
  void RankLocked(const RankInputs& in, uint32_t k, std::vector<Candidate>* out) const;
  // Scores the snapshot without the lock: the best candidates of the approximate scores.
  void RankSnapshot(const RankInputs& in, size_t want, Blend* blend,
                    std::vector<Candidate>* out) const;
  // Replaces the candidates' scores by the live model's exact ones and keeps the best k.
  // REQUIRES: shared lock held.
  void Rescore(const RankInputs& in, const Blend& blend, uint32_t k,
               std::vector<Candidate>* candidates) const;
  // Fills *out from the top-k of `scores`. REQUIRES: shared lock held.
  void Collect(std::vector<float>& scores, uint32_t k, const char* source,
               std::vector<ScoredId>* out) const;
  // The models, in the fixed order their parts are stored.
  std::vector<Recommender*> Models() const { return {mf_.get(), bpr_.get(), pop_.get()}; }
  // Every model a checkpoint stores, in a fixed order (a row record's key names its model by
  // its position here, state::AppendRowPartKey): Models(), then the session model (null when
  // sessions are off), each with the kModel key of its globals.
  struct PersistedModel {
    PersistentModel* model;
    std::string globals_key;
  };
  std::vector<PersistedModel> Persisted() const;

  // Takes `l` (shared), adding the time it waited to *waited (not when the lock was free).
  static void LockShared(std::shared_lock<RwLock>& l, double* waited);

  // What an event (or a served record) means for a lane's models, recorded by Apply*.
  struct LaneOp {
    enum class Kind : uint8_t {
      kInteraction,     // BPR lane: BPR, history, exploration; session lane: the session
      kItem,            // exploration's catalog upsert (features in LaneBatch::features)
      kTime,            // only the event's time
      kForget,          // forget_user
      kServed,          // an explored item served (exploration's reward join)
      kServedProgress,  // the served topic's progress cap
    };
    Kind kind = Kind::kTime;
    bool click = false;  // kInteraction: rewards an impression
    bool is_rating = false;
    UserIndex user = 0;
    ItemIndex item = 0;
    float value = 0.0f;
    float weight = 0.0f;
    uint32_t pos = 0;  // kServed: its position
    // kItem: its range of LaneBatch::features; session lane's kInteraction: the session id in
    // LaneBatch::text (empty: the user's implicit session).
    uint32_t text_begin = 0;
    uint32_t text_size = 0;
    double ts_seconds = 0.0;  // the event time (events)
    int64_t micros = 0;       // kServed: serving time; kServedProgress: the cap
    uint64_t seed = 0;        // kInteraction: the update's seed
    uint64_t rec_id = 0;      // kInteraction, kServed: bandits::RecIdHash
    double propensity = 1.0;  // kServed
  };
  struct LaneFeature {
    uint32_t name_begin, name_size;  // in LaneBatch::text
    float value;
  };
  struct LaneBatch {
    std::vector<LaneOp> ops;
    std::string text;  // feature names and session ids of the ops
    std::vector<LaneFeature> features;
    bool empty() const { return ops.empty(); }
    void clear() {
      ops.clear();
      text.clear();
      features.clear();
    }
  };
  // Lane thread: applies a batch's ops with `apply`, under `lock` in runs of
  // config_.apply_batch ops, each run's hold recorded in *hold when it is set.
  void ApplyLaneBatch(LaneBatch& batch, RwLock& lock, Histogram* hold,
                      void (ModelState::*apply)(const LaneBatch&, const LaneOp&));
  // One op, on the BPR lane (BPR, the histories, exploration) or the session lane.
  void ApplyBprOp(const LaneBatch& batch, const LaneOp& op);
  void ApplySessionOp(const LaneBatch& batch, const LaneOp& op);

  const Config config_;
  mutable RwLock lock_;          // the writer thread's models and the id maps
  mutable RwLock bpr_lock_;      // the BPR lane's models
  mutable RwLock session_lock_;  // the session lane's
  // Recommend calls in flight: while there are any, the lanes yield the CPU between runs.
  mutable std::atomic<int> requests_{0};
  std::atomic<uint64_t> lane_yields_{0};
  Histogram* lock_wait_ = nullptr;
  Histogram* bpr_hold_ = nullptr;
  Histogram* session_hold_ = nullptr;
  // The writer thread's (lock_):
  IdMap users_;
  IdMap items_;
  std::unique_ptr<BiasedMF> mf_;
  std::unique_ptr<Popularity> pop_;
  // The session lane's (session_lock_):
  std::unique_ptr<SessionState> sessions_;  // its model (may be null) persists with the rows
  // The BPR lane's (bpr_lock_):
  UserHistory history_;
  std::unique_ptr<BPR> bpr_;
  std::unique_ptr<Exploration> explore_;  // null: exploration off (bandit.policy "none")
  EmbeddingSessionModel* embedding_model_ = nullptr;  // the session model, when it is linear
  std::unique_ptr<ScoringSnapshot> snapshot_;
  uint64_t events_applied_ = 0;
  // events_applied_ as of the last Publish: what Sizes() reports (an event counts once the read
  // path sees it, as streamrec_events_applied_total does).
  std::atomic<uint64_t> events_published_{0};
  // Writer-only bookkeeping for checkpoints.
  uint32_t users_saved_ = 0;  // ids [0, users_saved_) are in the store
  uint32_t items_saved_ = 0;
  DirtySet dirty_ids_;         // erased user ids to rewrite
  DirtySet dirty_history_;     // the BPR lane's
  int64_t event_time_us_ = 0;  // the largest event time applied (exploration's clock)
  // Last: their threads stop before anything they apply to goes away.
  std::unique_ptr<ApplyLane<LaneBatch>> bpr_lane_;
  std::unique_ptr<ApplyLane<LaneBatch>> session_lane_;
};

}  // namespace streamrec::daemon
