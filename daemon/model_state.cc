#include "daemon/model_state.h"

#include <sched.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <mutex>
#include <shared_mutex>

#include "bandits/reward_joiner.h"
#include "common/coding.h"
#include "common/rng.h"
#include "common/topk.h"
#include "state/keys.h"
#include "state/write_batch.h"

namespace streamrec::daemon {
namespace {

using state::Family;

// Keys of the kModel family.
namespace model_key {
constexpr std::string_view kEventsApplied = "events_applied";
}  // namespace model_key

// kModel key of the session model's globals (apart from the Recommenders' names).
std::string SessionModelKey(std::string_view name) { return "session." + std::string(name); }

std::string IdKey(char kind, uint32_t index) {
  std::string k(1, kind);
  state::AppendIndexKey(index, &k);
  return k;
}

// Per-thread scratch of the readers: one score per item.
std::vector<float>& Scratch(size_t n) {
  thread_local std::vector<float> scores;
  scores.resize(n);
  return scores;
}

// Replaces every score by its rank percentile in (0, 1] (1 = the best); kExcludedScore stays.
void RankPercentiles(std::vector<float>& scores) {
  thread_local std::vector<uint32_t> order;
  order.clear();
  for (uint32_t i = 0; i < scores.size(); ++i) {
    if (scores[i] != kExcludedScore) order.push_back(i);
  }
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    return scores[a] != scores[b] ? scores[a] < scores[b] : a > b;
  });
  const float n = static_cast<float>(order.size());
  for (size_t r = 0; r < order.size(); ++r) scores[order[r]] = static_cast<float>(r + 1) / n;
}

// Salt of the session model's seeds (its draws stay independent of BPR's for the same event).
constexpr uint64_t kSessionSeedSalt = 0x5e55105;

// Mean and standard deviation of the scores that are not kExcludedScore, and their minimum.
struct ScoreStats {
  float mean = 0.0f, inv_std = 1.0f, min = 0.0f;
};
// The blend's z-score parameters from the sums of a score vector.
ScoreStats StatsOf(const ScoreSums& s) {
  ScoreStats st;
  if (s.n == 0) return st;
  const double mean = s.sum / static_cast<double>(s.n);
  const double var = std::max(0.0, s.sum2 / static_cast<double>(s.n) - mean * mean);
  st.mean = static_cast<float>(mean);
  st.inv_std = var > 1e-12 ? static_cast<float>(1.0 / std::sqrt(var)) : 1.0f;
  st.min = s.min;
  return st;
}
// The sums of the scores that are not kExcludedScore (a pass of its own).
ScoreSums SumsOf(const std::vector<float>& scores) {
  ScoreSums sums;
  AddScoreSums(scores.data(), scores.size(), &sums);
  return sums;
}

}  // namespace

Result<std::unique_ptr<ModelState>> ModelState::Create(const Config& config) {
  MFOptions mf;
  BPROptions bpr;
  PopularityOptions pop;
  STREAMREC_RETURN_IF_ERROR(mf.Apply(config.mf));
  STREAMREC_RETURN_IF_ERROR(bpr.Apply(config.bpr));
  STREAMREC_RETURN_IF_ERROR(pop.Apply(config.pop));
  auto sessions = SessionState::Create(config.session);
  if (!sessions.ok()) return sessions.status();
  std::unique_ptr<ModelState> state(
      new ModelState(config, std::make_unique<BiasedMF>(mf), std::make_unique<BPR>(bpr),
                     std::make_unique<Popularity>(pop), std::move(*sessions)));
  if (config.bandit.enabled()) {
    auto explore = Exploration::Create(config.bandit, &state->bpr_->users());
    if (!explore.ok()) return explore.status();
    state->explore_ = std::move(*explore);
  }
  state->embedding_model_ = dynamic_cast<EmbeddingSessionModel*>(state->sessions_->model());
  const uint32_t head_dim =
      state->embedding_model_ != nullptr ? state->embedding_model_->head().dim() : 0;
  if (config.scoring_snapshot) {
    state->snapshot_ = std::make_unique<ScoringSnapshot>(state->bpr_->items().dim(), head_dim);
  }
  return state;
}

ModelState::ModelState(const Config& config, std::unique_ptr<BiasedMF> mf, std::unique_ptr<BPR> bpr,
                       std::unique_ptr<Popularity> pop, std::unique_ptr<SessionState> sessions)
    : config_(config),
      mf_(std::move(mf)),
      pop_(std::move(pop)),
      sessions_(std::move(sessions)),
      bpr_(std::move(bpr)),
      bpr_lane_(std::make_unique<ApplyLane<LaneBatch>>(
          [this](LaneBatch& b) {
            ApplyLaneBatch(b, bpr_lock_, bpr_hold_, &ModelState::ApplyBprOp);
          },
          "bpr-lane")),
      session_lane_(std::make_unique<ApplyLane<LaneBatch>>(
          [this](LaneBatch& b) {
            ApplyLaneBatch(b, session_lock_, session_hold_, &ModelState::ApplySessionOp);
          },
          "session-lane")) {}

ModelState::~ModelState() = default;

std::string_view ModelState::session_model_name() const {
  return sessions_->model() ? sessions_->model()->name() : std::string_view("none");
}

std::vector<ModelState::PersistedModel> ModelState::Persisted() const {
  std::vector<PersistedModel> out;
  for (Recommender* m : Models()) out.push_back({m, std::string(m->name())});
  SessionModel* const sm = sessions_->model();
  out.push_back({sm, sm != nullptr ? SessionModelKey(sm->name()) : std::string()});
  return out;
}

void ModelState::Apply(const EventView& e, double ts_seconds, uint64_t seed) {
  ++events_applied_;
  // Event time drives session expiry and the attribution windows (deterministic under replay):
  // every event gives each lane an op, with its time.
  event_time_us_ = std::max(event_time_us_, static_cast<int64_t>(ts_seconds * 1e6));
  LaneBatch& lane = bpr_lane_->filling();
  LaneBatch& session_lane = session_lane_->filling();
  LaneOp op, session_op;
  op.ts_seconds = session_op.ts_seconds = ts_seconds;
  switch (e.type) {
    case EventType::kRating:
    case EventType::kClick:
    case EventType::kView:
    case EventType::kPurchase:
    case EventType::kAddToCart: {
      Interaction x;
      x.user = users_.Intern(e.user);
      x.item = items_.Intern(e.item);
      x.is_rating = e.type == EventType::kRating;
      x.value = x.is_rating ? e.value : 0.0f;
      x.weight = config_.weights.Of(e.type);
      x.ts_seconds = static_cast<int64_t>(ts_seconds);
      if (x.is_rating) mf_->Observe(x, history_, seed);  // (MF does not read the history)
      if (x.weight > 0.0f) pop_->Add(x.item, x.weight, ts_seconds);
      op.kind = LaneOp::Kind::kInteraction;
      op.user = x.user;
      op.item = x.item;
      op.is_rating = x.is_rating;
      op.value = x.value;
      op.weight = x.weight;
      op.seed = seed;
      if (!x.is_rating || config_.session.ratings) {
        session_op.kind = LaneOp::Kind::kInteraction;
        session_op.user = x.user;
        session_op.item = x.item;
        session_op.seed = SeedFor(seed, kSessionSeedSalt);
        session_op.text_begin = static_cast<uint32_t>(session_lane.text.size());
        session_op.text_size = static_cast<uint32_t>(e.session.size());
        session_lane.text.append(e.session);
      }
      if (explore_) {
        // Clicks, carts and purchases reward an impression; views and ratings only count.
        op.click = e.type == EventType::kClick || e.type == EventType::kAddToCart ||
                   e.type == EventType::kPurchase;
        op.rec_id = bandits::RecIdHash(e.rec_id);
      }
      break;
    }
    case EventType::kItem: {
      op.item = items_.Intern(e.item);  // catalog upsert
      if (explore_) {
        op.kind = LaneOp::Kind::kItem;
        op.text_begin = static_cast<uint32_t>(lane.features.size());
        op.text_size = static_cast<uint32_t>(e.features.size());
        for (const Feature& f : e.features) {
          lane.features.push_back({static_cast<uint32_t>(lane.text.size()),
                                   static_cast<uint32_t>(f.name.size()), f.value});
          lane.text.append(f.name);
        }
      }
      break;
    }
    case EventType::kImpression:
      break;  // the served topic is the impression log the rewards join
    case EventType::kForgetUser: {
      const UserIndex u = users_.Find(e.user);
      if (u == kNoIndex) break;
      mf_->ForgetUser(u);
      pop_->ForgetUser(u);
      users_.Erase(e.user);
      dirty_ids_.Mark(u);
      op.kind = session_op.kind = LaneOp::Kind::kForget;  // BPR, the history, the session
      op.user = session_op.user = u;
      break;
    }
  }
  lane.ops.push_back(op);
  session_lane.ops.push_back(session_op);
}

Status ModelState::Admit(const EventView& e, double ts_seconds, int64_t now_micros) const {
  const LimitsConfig& limits = config_.limits;
  STREAMREC_RETURN_IF_ERROR(
      CheckEventTime(ts_seconds, now_micros, event_time_us_, limits.max_future_s));
  const bool creates_ids = e.type != EventType::kImpression && e.type != EventType::kForgetUser;
  if (!creates_ids) return Status::Ok();
  if (!e.user.empty() && users_.size() >= limits.max_users && users_.Find(e.user) == kNoIndex) {
    return Status::InvalidArgument("new user refused: the model holds max_users = " +
                                   std::to_string(limits.max_users) + " users");
  }
  if (!e.item.empty() && items_.size() >= limits.max_items && items_.Find(e.item) == kNoIndex) {
    return Status::InvalidArgument("new item refused: the catalog holds max_items = " +
                                   std::to_string(limits.max_items) + " items");
  }
  return Status::Ok();
}

bool ModelState::KnowsUser(std::string_view user) const {
  std::shared_lock l(lock_);
  return users_.Find(user) != kNoIndex;
}

bool ModelState::KnowsItem(std::string_view item) const {
  std::shared_lock l(lock_);
  return items_.Find(item) != kNoIndex;
}

void ModelState::ApplyServed(std::string_view user, std::string_view rec_id,
                             std::span<const ServedExplore> explored, int64_t ts_micros) {
  if (!explore_ || user.empty() || explored.empty()) return;
  // A list served to an unknown user joins a click only if the user exists by then; past
  // max_users no user is created for it (anyone can ask for lists under any user id).
  if (users_.size() >= config_.limits.max_users && users_.Find(user) == kNoIndex) return;
  const UserIndex u = users_.Intern(user);
  LaneOp op;
  op.kind = LaneOp::Kind::kServed;
  op.user = u;
  op.rec_id = bandits::RecIdHash(rec_id);
  op.micros = ts_micros;
  for (const ServedExplore& x : explored) {
    const ItemIndex i = items_.Find(x.item);
    if (i == kNoIndex) continue;  // not an item of this catalog (another deployment's log)
    op.item = i;
    op.pos = x.pos;
    op.propensity = x.propensity;
    bpr_lane_->filling().ops.push_back(op);
  }
}

void ModelState::SetServedProgress(int64_t cap_micros) {
  if (!explore_) return;
  LaneOp op;
  op.kind = LaneOp::Kind::kServedProgress;
  op.micros = cap_micros;
  bpr_lane_->filling().ops.push_back(op);
}

void ModelState::HandOff(bool all) {
  // A batch's worth: large enough that handing over (a mutex and a wakeup) costs little per
  // event, small enough that the lane starts soon after the writer.
  constexpr size_t kLaneBatch = 1024;
  for (ApplyLane<LaneBatch>* lane : {bpr_lane_.get(), session_lane_.get()}) {
    if (all || lane->filling().ops.size() >= kLaneBatch) lane->HandOff();
  }
}

void ModelState::Flush() {
  bpr_lane_->HandOff();  // both at work before waiting for either
  session_lane_->Flush();
  bpr_lane_->Flush();
}

void ModelState::ApplyLaneBatch(LaneBatch& batch, RwLock& lock, Histogram* hold,
                                void (ModelState::*apply)(const LaneBatch&, const LaneOp&)) {
  const size_t run = config_.apply_batch;
  for (size_t begin = 0; begin < batch.ops.size(); begin += run) {
    const size_t end = std::min(batch.ops.size(), begin + run);
    std::unique_lock l(lock);
    const auto t0 = hold != nullptr ? std::chrono::steady_clock::now()
                                    : std::chrono::steady_clock::time_point();
    for (size_t k = begin; k < end; ++k) (this->*apply)(batch, batch.ops[k]);
    l.unlock();
    if (hold != nullptr) {
      hold->Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    // Between runs the lane holds no lock: while requests are being served, it gives a
    // runnable request thread the CPU here rather than run out its time slice, inside its
    // lock as likely as not (section 2's p99 fell ~1 ms; docs/BENCHMARKS.md, session 11).
    // Without requests, no syscall.
    if (requests_.load(std::memory_order_relaxed) > 0) {
      sched_yield();
      lane_yields_.fetch_add(1, std::memory_order_relaxed);
    }
  }
}

void ModelState::ApplySessionOp(const LaneBatch& batch, const LaneOp& op) {
  sessions_->AdvanceTime(static_cast<int64_t>(op.ts_seconds));
  if (op.kind == LaneOp::Kind::kInteraction) {
    const std::string_view session(batch.text.data() + op.text_begin, op.text_size);
    sessions_->Observe(op.user, session, op.item, op.seed);
  } else if (op.kind == LaneOp::Kind::kForget) {
    sessions_->ForgetUser(op.user);
  }
}

void ModelState::ApplyBprOp(const LaneBatch& batch, const LaneOp& op) {
  using Kind = LaneOp::Kind;
  if (op.kind == Kind::kServed) {
    explore_->OnServed(op.user, op.item, op.rec_id, op.pos, op.propensity, op.micros);
    return;
  }
  if (op.kind == Kind::kServedProgress) {
    explore_->SetServedProgress(op.micros);
    return;
  }
  if (explore_) explore_->AdvanceTime(static_cast<int64_t>(op.ts_seconds * 1e6));
  switch (op.kind) {
    case Kind::kInteraction: {
      Interaction x;
      x.user = op.user;
      x.item = op.item;
      x.is_rating = op.is_rating;
      x.value = op.value;
      x.weight = op.weight;
      x.ts_seconds = static_cast<int64_t>(op.ts_seconds);
      if (x.weight > 0.0f) bpr_->Observe(x, history_, op.seed);  // an implicit positive
      if (history_.Add(x.user, x.item)) dirty_history_.Mark(x.user);
      if (explore_) explore_->OnInteraction(x.user, x.item, op.rec_id, op.click);
      break;
    }
    case Kind::kItem: {
      thread_local std::vector<Feature> features;
      features.clear();
      for (uint32_t f = op.text_begin; f < op.text_begin + op.text_size; ++f) {
        const LaneFeature& lf = batch.features[f];
        features.push_back(
            {std::string_view(batch.text.data() + lf.name_begin, lf.name_size), lf.value});
      }
      explore_->OnItem(op.item, features);
      break;
    }
    case Kind::kForget:
      bpr_->ForgetUser(op.user);
      history_.Clear(op.user);
      dirty_history_.Mark(op.user);
      break;
    case Kind::kTime:
    case Kind::kServed:
    case Kind::kServedProgress:
      break;
  }
}

void ModelState::Publish() {
  Flush();
  if (snapshot_) snapshot_->Publish(*bpr_, embedding_model_);
  events_published_.store(events_applied_, std::memory_order_release);
}

void ModelState::AppendCheckpoint(state::WriteBatch* batch) {
  Flush();  // the lanes' models as of the last event applied
  // Ids: the new ones since the last checkpoint, and erased ones rewritten as "".
  for (uint32_t u = users_saved_; u < users_.size(); ++u)
    batch->Put(Family::kIds, IdKey('u', u), users_.Name(u));
  for (uint32_t i = items_saved_; i < items_.size(); ++i)
    batch->Put(Family::kIds, IdKey('i', i), items_.Name(i));
  std::vector<uint32_t> erased;
  dirty_ids_.Take(&erased);
  for (uint32_t u : erased) {
    if (u < users_saved_) batch->Put(Family::kIds, IdKey('u', u), "");
  }
  users_saved_ = users_.size();
  items_saved_ = items_.size();

  // Model rows: one record per (row, model), keyed state::AppendRowPartKey(row, the model's
  // position in Persisted()), written only when that model changed the row. (Sampled negatives
  // dirty item rows of BPR and the session model all over the catalog; one record holding every
  // model's part rewrote the other models' parts with them: at 100k items 122 MB a
  // checkpoint instead of 81.)
  // The records go out in key order (row-major: a row's parts together), which RocksDB's
  // memtable inserts at its last insert position instead of searching for each: in model order
  // every model's pass restarted from the first row (the checkpoint thread's skiplist inserts
  // were ~10% of the daemon's CPU under ingest at 100k items).
  const std::vector<PersistedModel> persisted = Persisted();
  const size_t parts = persisted.size();
  thread_local std::vector<std::vector<uint32_t>> dirty_users, dirty_items;  // per part, sorted
  dirty_users.resize(parts);
  dirty_items.resize(parts);
  for (size_t part = 0; part < parts; ++part) {
    dirty_users[part].clear();
    dirty_items[part].clear();
    if (persisted[part].model != nullptr) {
      persisted[part].model->TakeDirty(&dirty_users[part], &dirty_items[part]);
    }
  }
  std::string key, value;
  std::vector<size_t> next(parts);
  for (const bool is_user : {true, false}) {
    const auto& dirty = is_user ? dirty_users : dirty_items;
    const Family family = is_user ? Family::kUsers : Family::kItems;
    std::fill(next.begin(), next.end(), 0);
    for (;;) {
      uint32_t row = kNoIndex;  // the smallest row still to write, of any part
      for (size_t part = 0; part < parts; ++part) {
        if (next[part] < dirty[part].size()) row = std::min(row, dirty[part][next[part]]);
      }
      if (row == kNoIndex) break;
      for (size_t part = 0; part < parts; ++part) {
        if (next[part] >= dirty[part].size() || dirty[part][next[part]] != row) continue;
        ++next[part];
        PersistentModel* const m = persisted[part].model;
        key.clear();
        state::AppendRowPartKey(row, static_cast<uint8_t>(part), &key);
        value.clear();
        ByteWriter w(&value);
        if (is_user) {
          m->SaveUserRow(row, &w);
        } else {
          m->SaveItemRow(row, &w);
        }
        if (value.empty()) {
          batch->Delete(family, key);  // the model has no such row (any more)
        } else {
          batch->Put(family, key, value);
        }
      }
    }
  }

  std::vector<uint32_t> histories;
  dirty_history_.Take(&histories);
  for (UserIndex u : histories) {
    if (history_.Count(u) == 0) {
      batch->Delete(Family::kHistories, state::IndexKey(u));
      continue;
    }
    value.clear();
    ByteWriter w(&value);
    history_.SaveUser(u, &w);
    batch->Put(Family::kHistories, state::IndexKey(u), value);
  }

  // Globals: small (popularity: 8 bytes an item).
  for (const PersistedModel& p : persisted) {
    if (p.model == nullptr) continue;
    value.clear();
    ByteWriter w(&value);
    p.model->SaveGlobals(&w);
    batch->Put(Family::kModel, p.globals_key, value);
  }
  sessions_->AppendSessions(batch);
  if (explore_) explore_->AppendCheckpoint(batch);
  value.clear();
  ByteWriter(&value).PutU64(events_applied_);
  batch->Put(Family::kModel, model_key::kEventsApplied, value);
}

Status ModelState::Restore(const state::StateReader& store) {
  std::unique_lock l(lock_);
  Status error;
  auto fail = [&](Status st) {
    error = std::move(st);
    return false;
  };
  // Ids, contiguous from 0 in index order.
  for (auto [kind, map] : {std::pair{'u', &users_}, {'i', &items_}}) {
    STREAMREC_RETURN_IF_ERROR(
        store.ForEach(Family::kIds, std::string(1, kind),
                      [&, map = map](std::string_view key, std::string_view name) {
                        uint32_t index;
                        if (!state::ParseIndexKey(key.substr(1), &index) || index != map->size()) {
                          return fail(Status::Corruption("ids: missing or malformed id key"));
                        }
                        Status st = map->PushRestored(name);
                        return st.ok() ? true : fail(st);
                      }));
    STREAMREC_RETURN_IF_ERROR(error);
  }
  // Globals first: they size the tables.
  const std::vector<PersistedModel> persisted = Persisted();
  for (const PersistedModel& p : persisted) {
    if (p.model == nullptr) continue;
    std::string value;
    Status st = store.Get(Family::kModel, p.globals_key, &value);
    if (st.IsNotFound()) continue;
    STREAMREC_RETURN_IF_ERROR(st);
    ByteReader r(value);
    STREAMREC_RETURN_IF_ERROR(p.model->LoadGlobals(&r));
  }
  // Rows.
  for (auto [family, is_user] : {std::pair{Family::kUsers, true}, {Family::kItems, false}}) {
    STREAMREC_RETURN_IF_ERROR(store.ForEach(
        family, "", [&, is_user = is_user](std::string_view key, std::string_view value) {
          uint32_t index;
          uint8_t part;
          if (!state::ParseRowPartKey(key, &index, &part))
            return fail(Status::Corruption("rows: malformed key"));
          PersistentModel* const m = part < persisted.size() ? persisted[part].model : nullptr;
          if (m == nullptr)
            return fail(Status::Corruption("rows: a record of no configured model"));
          ByteReader r(value);
          Status st = is_user ? m->LoadUserRow(index, &r) : m->LoadItemRow(index, &r);
          if (st.ok() && !r.done()) st = Status::Corruption("rows: trailing bytes in a record");
          return st.ok() ? true : fail(st);
        }));
    STREAMREC_RETURN_IF_ERROR(error);
  }
  STREAMREC_RETURN_IF_ERROR(
      store.ForEach(Family::kHistories, "", [&](std::string_view key, std::string_view value) {
        uint32_t u;
        if (!state::ParseIndexKey(key, &u))
          return fail(Status::Corruption("histories: malformed key"));
        ByteReader r(value);
        Status st = history_.LoadUser(u, &r);
        return st.ok() ? true : fail(st);
      }));
  STREAMREC_RETURN_IF_ERROR(error);
  std::string applied;
  if (store.Get(Family::kModel, model_key::kEventsApplied, &applied).ok()) {
    ByteReader(applied).GetU64(&events_applied_);
  }
  STREAMREC_RETURN_IF_ERROR(sessions_->Restore(store, items_.size()));
  if (explore_) STREAMREC_RETURN_IF_ERROR(explore_->Restore(store, items_.size()));
  // Nothing restored is dirty.
  std::vector<uint32_t> discard_u, discard_i;
  for (const PersistedModel& p : persisted) {
    if (p.model != nullptr) p.model->TakeDirty(&discard_u, &discard_i);
  }
  users_saved_ = users_.size();
  items_saved_ = items_.size();
  if (explore_) event_time_us_ = explore_->now_micros();
  Publish();
  return Status::Ok();
}

struct ModelState::RankInputs {
  uint32_t items = 0;             // catalog size when gathered
  UserIndex user = kNoIndex;      // kNoIndex: unknown or anonymous
  bool has_bpr = false;           // the user has a BPR vector
  std::vector<float> user_row;    // it (has_bpr)
  std::vector<ItemIndex> recent;  // the session's items, oldest first (empty: no session)
  std::vector<float> query;       // the session head's query for (user, recent)
  std::vector<std::pair<ItemIndex, float>> repeats;  // the head's repeat bonus of those items
  std::vector<ItemIndex> excluded;  // seen items and the session's own (exclude_seen)
};

namespace {
// Candidates taken from the approximate (int8) scores before the exact rescoring keeps k: the
// margin absorbs the quantization (each element within max|row| / 254; a score's error is well
// under 1% of the spread of scores), under which a top-k item would have to fall below twice as
// many others to be lost.
size_t CandidatesFor(uint32_t k) { return 2 * static_cast<size_t>(k) + 32; }

std::vector<float>& LongTermScratch(size_t n) {
  thread_local std::vector<float> scores;
  scores.resize(n);
  return scores;
}
}  // namespace

void ModelState::Collect(std::vector<float>& scores, uint32_t k, const char* source,
                         std::vector<ScoredId>* out) const {
  thread_local std::vector<ScoredItem> top;
  TopK(scores, k, &top);
  out->clear();
  out->reserve(top.size());
  for (const ScoredItem& s : top) out->push_back({items_.Name(s.index), s.score, source});
}

void ModelState::Recommend(std::string_view user, std::string_view session, uint32_t k,
                           bool exclude_seen, std::vector<ScoredId>* out, uint32_t explore,
                           uint64_t seed) const {
  thread_local RankInputs in;
  thread_local std::vector<Candidate> ranked;
  requests_.fetch_add(1, std::memory_order_relaxed);
  const struct Done {
    std::atomic<int>& n;
    ~Done() { n.fetch_sub(1, std::memory_order_relaxed); }
  } done{requests_};
  double waited = 0;
  std::shared_lock l(lock_, std::defer_lock);
  std::shared_lock ll(bpr_lock_, std::defer_lock);
  std::shared_lock ls(session_lock_, std::defer_lock);
  auto lock_all = [&] {  // in the readers' order
    LockShared(l, &waited);
    LockShared(ll, &waited);
    LockShared(ls, &waited);
  };
  lock_all();
  if (Gather(user, session, exclude_seen, &in)) {
    ls.unlock();  // the catalog-wide passes read the snapshot
    ll.unlock();
    l.unlock();
    Blend blend;
    RankSnapshot(in, CandidatesFor(k), &blend, &ranked);
    lock_all();
    Rescore(in, blend, k, &ranked);
  } else {
    RankLocked(in, k, &ranked);
  }
  if (lock_wait_ != nullptr) lock_wait_->Observe(waited);
  out->clear();
  out->reserve(ranked.size());
  for (const Candidate& c : ranked) out->push_back({items_.Name(c.index), c.score, c.source});
  if (!explore_ || explore == 0) return;
  explore = std::min(explore, k);
  // The exploration slots take the last places: pool items neither seen (when excluded) nor
  // in the ranked list. When the pool has fewer, ranked items keep their places.
  thread_local std::vector<ItemIndex> exclude;
  thread_local std::vector<bandits::ExploreSlot> slots;
  exclude.assign(in.excluded.begin(), in.excluded.end());
  for (const Candidate& c : ranked) exclude.push_back(c.index);
  slots.clear();
  std::span<const float> embedding;
  const EmbeddingTable& users = bpr_->users();
  if (in.user != kNoIndex && in.user < users.rows()) embedding = {users.Row(in.user), users.dim()};
  explore_->Select(embedding, explore, exclude, seed, &slots);
  out->resize(std::min<size_t>(out->size(), k - slots.size()));
  for (const bandits::ExploreSlot& x : slots) {
    ScoredId id{items_.Name(x.item), x.score, explore_->source()};
    id.propensity = x.propensity;
    out->push_back(std::move(id));
  }
}

void ModelState::LockShared(std::shared_lock<RwLock>& l, double* waited) {
  if (l.try_lock()) return;  // free: no clock read
  const auto t0 = std::chrono::steady_clock::now();
  l.lock();
  *waited += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

ExplorationStats ModelState::BanditStats() const {
  std::shared_lock ll(bpr_lock_);
  return explore_ ? explore_->Stats() : ExplorationStats();
}

std::string_view ModelState::bandit_policy() const {
  return explore_ ? explore_->policy() : std::string_view("none");
}

bool ModelState::Gather(std::string_view user, std::string_view session, bool exclude_seen,
                        RankInputs* in) const {
  in->items = items_.size();
  in->user = user.empty() ? kNoIndex : users_.Find(user);
  const UserIndex u = in->user;
  in->has_bpr = u != kNoIndex && u < bpr_->users().rows();
  in->recent.clear();
  in->repeats.clear();
  in->excluded.clear();
  if (sessions_->model() != nullptr) {
    const std::span<const ItemIndex> recent = !session.empty() ? sessions_->ExplicitRecent(session)
                                              : u != kNoIndex  ? sessions_->ImplicitRecent(u)
                                                               : std::span<const ItemIndex>();
    in->recent.assign(recent.begin(), recent.end());
  }
  if (exclude_seen) {
    if (u != kNoIndex) {
      const auto seen = history_.Items(u);
      in->excluded.assign(seen.begin(), seen.end());
    }
    in->excluded.insert(in->excluded.end(), in->recent.begin(), in->recent.end());
  }
  const bool has_session = !in->recent.empty();
  if (!snapshot_) return false;
  if (!has_session && !in->has_bpr) return false;  // popularity: cheap, and not in a snapshot
  if (has_session && embedding_model_ == nullptr) return false;  // session-kNN is not linear
  // Percentiles need every exact score.
  if (has_session && in->has_bpr && config_.session.blend == "rank") return false;
  if (in->has_bpr) {
    const EmbeddingTable& p = bpr_->users();
    in->user_row.assign(p.Row(u), p.Row(u) + p.stride());
  }
  if (has_session) {
    const SessionHead& head = embedding_model_->head();
    in->query.resize(head.stride());
    embedding_model_->Query(u == kNoIndex ? kNoUser : u, in->recent, in->query.data());
    for (ItemIndex j : in->recent) {
      const bool listed = std::any_of(in->repeats.begin(), in->repeats.end(),
                                      [j](const auto& r) { return r.first == j; });
      if (!listed) in->repeats.emplace_back(j, head.Repeat(j, in->recent));
    }
  }
  return true;
}

void ModelState::Select(const RankInputs& in, std::vector<float>* session_scores,
                        std::vector<float>* bpr_scores, size_t want, Blend* blend,
                        std::vector<Candidate>* out, const ScoreSums* session_sums,
                        const ScoreSums* bpr_sums) const {
  thread_local std::vector<ScoredItem> top;
  auto exclude = [&](std::vector<float>& v) {
    for (ItemIndex i : in.excluded) {
      if (i < v.size()) v[i] = kExcludedScore;
    }
  };
  out->clear();
  if (session_scores == nullptr || bpr_scores == nullptr) {
    std::vector<float>& v = session_scores != nullptr ? *session_scores : *bpr_scores;
    const char* source = session_scores != nullptr ? "session" : "bpr";
    exclude(v);
    TopK(v, want, &top);
    for (const ScoredItem& t : top) out->push_back({t.index, t.score, source});
    return;
  }
  // Blend: z-scores of both (of their rank percentiles with blend "rank") over the items each
  // can score (see the header); the session score of an item the session model cannot score
  // (newer than its tables) counts as its lowest.
  std::vector<float>& scores = *session_scores;
  const std::vector<float>& long_term = *bpr_scores;
  const float ws = static_cast<float>(config_.session.weight);
  const float wb = 1.0f - ws;
  const bool rank = config_.session.blend == "rank";
  if (rank) {
    RankPercentiles(scores);
    RankPercentiles(*bpr_scores);
  }
  const bool given = !rank && session_sums != nullptr && bpr_sums != nullptr;
  const ScoreStats zs = StatsOf(given ? *session_sums : SumsOf(scores));
  const ScoreStats zb = StatsOf(given ? *bpr_sums : SumsOf(long_term));
  // blended = ws * z(session) + wb * z(bpr) as one fused multiply-add a pass (vectorized).
  blend->as = ws * zs.inv_std;
  blend->ab = wb * zb.inv_std;
  blend->c = -blend->as * zs.mean - blend->ab * zb.mean;
  blend->session_min = zs.min;
  blend->wb = wb;
  blend->bpr_mean = zb.mean;
  blend->bpr_inv_std = zb.inv_std;
  const float as = blend->as, ab = blend->ab, c = blend->c, smin = zs.min;
  float* __restrict sc = scores.data();
  const float* __restrict lt = long_term.data();
  const size_t n = scores.size();
#pragma omp simd
  for (size_t i = 0; i < n; ++i) {
    const float s = sc[i] == kExcludedScore ? smin : sc[i];
    const float v = as * s + ab * lt[i] + c;
    sc[i] = lt[i] == kExcludedScore ? kExcludedScore : v;
  }
  exclude(scores);
  TopK(scores, want, &top);
  for (const ScoredItem& t : top) {
    out->push_back({t.index, t.score, blend->Source(t.score, lt[t.index])});
  }
}

void ModelState::RankLocked(const RankInputs& in, uint32_t k, std::vector<Candidate>* out) const {
  std::vector<float>& scores = Scratch(in.items);
  if (in.recent.empty() && !in.has_bpr) {
    pop_->ScoreItems(0, history_, scores);
    for (ItemIndex i : in.excluded) scores[i] = kExcludedScore;
    thread_local std::vector<ScoredItem> top;
    TopK(scores, k, &top);
    out->clear();
    for (const ScoredItem& t : top) out->push_back({t.index, t.score, "popular"});
    return;
  }
  std::vector<float>* session_scores = nullptr;
  std::vector<float>* bpr_scores = nullptr;
  if (!in.recent.empty()) {
    sessions_->model()->ScoreNext(in.user == kNoIndex ? kNoUser : in.user, in.recent, scores);
    session_scores = &scores;
  }
  if (in.has_bpr) {
    std::vector<float>& long_term = LongTermScratch(in.items);
    bpr_->ScoreItems(in.user, history_, long_term);
    bpr_scores = &long_term;
  }
  Blend blend;
  Select(in, session_scores, bpr_scores, k, &blend, out);
}

void ModelState::RankSnapshot(const RankInputs& in, size_t want, Blend* blend,
                              std::vector<Candidate>* out) const {
  const auto side = snapshot_->Read();
  std::vector<float>* session_scores = nullptr;
  std::vector<float>* bpr_scores = nullptr;
  // The blend's sums come with the passes (no second pass over the scores); the repeat
  // bonuses move a few session scores after theirs.
  ScoreSums session_sums, bpr_sums;
  bool sums_exact = true;
  if (!in.recent.empty()) {
    std::vector<float>& scores = Scratch(in.items);
    side->head.ScoreAll(in.query.data(), scores, &session_sums);
    for (const auto& [j, bonus] : in.repeats) {
      if (j >= scores.size() || scores[j] == kExcludedScore) continue;
      const double before = scores[j];
      scores[j] += bonus;
      session_sums.sum += scores[j] - before;
      session_sums.sum2 += double{scores[j]} * scores[j] - before * before;
      sums_exact = sums_exact && before > session_sums.min;  // else the minimum may have moved
      session_sums.min = std::min(session_sums.min, scores[j]);
    }
    session_scores = &scores;
  }
  if (in.has_bpr) {
    std::vector<float>& long_term = LongTermScratch(in.items);
    side->bpr.ScoreAll(in.user_row.data(), long_term,
                       session_scores != nullptr ? &bpr_sums : nullptr);  // sums: to blend
    bpr_scores = &long_term;
  }
  Select(in, session_scores, bpr_scores, want, blend, out, sums_exact ? &session_sums : nullptr,
         &bpr_sums);
}

void ModelState::Rescore(const RankInputs& in, const Blend& blend, uint32_t k,
                         std::vector<Candidate>* candidates) const {
  const bool has_session = !in.recent.empty();
  const uint32_t bpr_rows = bpr_->items().rows();
  for (Candidate& c : *candidates) {
    const float b = !in.has_bpr          ? 0.0f
                    : c.index < bpr_rows ? bpr_->ScoreItem(in.user_row.data(), c.index)
                                         : kExcludedScore;
    if (!has_session) {
      c.score = b;
      continue;
    }
    float s = embedding_model_->head().ScoreOne(in.query.data(), in.recent, c.index);
    if (!in.has_bpr) {
      c.score = s;
      continue;
    }
    if (b == kExcludedScore) {
      c.score = kExcludedScore;
      continue;
    }
    if (s == kExcludedScore) s = blend.session_min;
    c.score = blend.as * s + blend.ab * b + blend.c;
    c.source = blend.Source(c.score, b);
  }
  std::erase_if(*candidates, [](const Candidate& c) { return c.score == kExcludedScore; });
  std::sort(candidates->begin(), candidates->end(), [](const Candidate& a, const Candidate& b) {
    return a.score != b.score ? a.score > b.score : a.index < b.index;
  });
  if (candidates->size() > k) candidates->resize(k);
}

Status ModelState::Next(const std::string& item, uint32_t k, std::vector<ScoredId>* out) const {
  std::shared_lock l(lock_);
  std::shared_lock ls(session_lock_);
  const SessionModel* sm = sessions_->model();
  if (sm == nullptr) return Status::Unavailable("no session model configured (session.model)");
  const ItemIndex i = items_.Find(item);
  if (i == kNoIndex) return Status::NotFound("unknown item '" + item + "'");
  std::vector<float>& scores = Scratch(items_.size());
  const ItemIndex recent[] = {i};
  sm->ScoreNext(kNoUser, recent, scores);
  scores[i] = kExcludedScore;
  Collect(scores, k, "session", out);
  return Status::Ok();
}

Status ModelState::Similar(const std::string& item, uint32_t k, std::vector<ScoredId>* out) const {
  std::shared_lock l(lock_);
  std::shared_lock ll(bpr_lock_);
  const ItemIndex i = items_.Find(item);
  const EmbeddingTable& q = bpr_->items();
  if (i == kNoIndex || i >= q.rows()) return Status::NotFound("unknown item '" + item + "'");
  std::vector<float>& scores = Scratch(items_.size());
  std::fill(scores.begin(), scores.end(), kExcludedScore);
  const float* qi = q.Row(i);
  const float norm_i = std::sqrt(Dot(qi, qi, q.stride()));
  for (uint32_t j = 0; j < q.rows(); ++j) {
    const float* qj = q.Row(j);
    const float denom = norm_i * std::sqrt(Dot(qj, qj, q.stride()));
    scores[j] = denom > 0.0f ? Dot(qi, qj, q.stride()) / denom : 0.0f;
  }
  scores[i] = kExcludedScore;
  Collect(scores, k, "bpr", out);
  return Status::Ok();
}

void ModelState::Popular(uint32_t k, std::vector<ScoredId>* out) const {
  std::shared_lock l(lock_);
  std::shared_lock ll(bpr_lock_);
  std::vector<float>& scores = Scratch(items_.size());
  pop_->ScoreItems(0, history_, scores);
  Collect(scores, k, "popular", out);
}

PredictResult ModelState::Predict(const std::string& user, const std::string& item) const {
  std::shared_lock l(lock_);
  const UserIndex u = users_.Find(user);
  const ItemIndex i = items_.Find(item);
  PredictResult r;
  r.rating = mf_->PredictRating(u, i);
  r.known = u != kNoIndex && i != kNoIndex && u < mf_->users().rows() && i < mf_->items().rows();
  return r;
}

ModelSizes ModelState::Sizes() const {
  std::shared_lock l(lock_);
  std::shared_lock ll(bpr_lock_);
  std::shared_lock ls(session_lock_);
  return {users_.live(), items_.live(), history_.total(),
          events_published_.load(std::memory_order_acquire), sessions_->live()};
}

}  // namespace streamrec::daemon
