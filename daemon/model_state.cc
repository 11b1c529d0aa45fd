#include "daemon/model_state.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <mutex>
#include <shared_mutex>

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

// Union of sorted lists into *out (sorted, unique).
void MergeUnique(std::vector<uint32_t>* all, std::vector<uint32_t>* out) {
  std::sort(all->begin(), all->end());
  all->erase(std::unique(all->begin(), all->end()), all->end());
  out->swap(*all);
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
// Mean, 1/std and minimum of the scores that are not kExcludedScore: one vectorized pass,
// float sums per block of 1024 folded into doubles.
ScoreStats Stats(const std::vector<float>& scores) {
  constexpr float kInf = std::numeric_limits<float>::infinity();
  const float* x = scores.data();
  double sum = 0.0, sum2 = 0.0;
  float lo = kInf;
  size_t n = 0;
  for (size_t b = 0; b < scores.size(); b += 1024) {
    const size_t e = std::min(scores.size(), b + 1024);
    float s = 0.0f, s2 = 0.0f, m = kInf, c = 0.0f;
#pragma omp simd reduction(+ : s, s2, c) reduction(min : m)
    for (size_t i = b; i < e; ++i) {
      const bool ok = x[i] != kExcludedScore;
      const float v = ok ? x[i] : 0.0f;
      s += v;
      s2 += v * v;
      c += ok ? 1.0f : 0.0f;
      m = m < (ok ? x[i] : kInf) ? m : (ok ? x[i] : kInf);
    }
    sum += s;
    sum2 += s2;
    lo = std::min(lo, m);
    n += static_cast<size_t>(c);
  }
  ScoreStats st;
  if (n == 0) return st;
  const double mean = sum / static_cast<double>(n);
  const double var = std::max(0.0, sum2 / static_cast<double>(n) - mean * mean);
  st.mean = static_cast<float>(mean);
  st.inv_std = var > 1e-12 ? static_cast<float>(1.0 / std::sqrt(var)) : 1.0f;
  st.min = lo;
  return st;
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
  return state;
}

ModelState::ModelState(const Config& config, std::unique_ptr<BiasedMF> mf, std::unique_ptr<BPR> bpr,
                       std::unique_ptr<Popularity> pop, std::unique_ptr<SessionState> sessions)
    : config_(config),
      mf_(std::move(mf)),
      bpr_(std::move(bpr)),
      pop_(std::move(pop)),
      sessions_(std::move(sessions)) {}

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
  // Event time drives session expiry and the attribution windows (deterministic under replay).
  sessions_->AdvanceTime(static_cast<int64_t>(ts_seconds));
  if (explore_) explore_->AdvanceTime(static_cast<int64_t>(ts_seconds * 1e6));
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
      if (x.is_rating) mf_->Observe(x, history_, seed);
      if (x.weight > 0.0f) {
        bpr_->Observe(x, history_, seed);
        pop_->Add(x.item, x.weight, ts_seconds);
      }
      if (history_.Add(x.user, x.item)) dirty_history_.Mark(x.user);
      if (!x.is_rating || config_.session.ratings) {
        sessions_->Observe(x.user, e.session, x.item, SeedFor(seed, kSessionSeedSalt));
      }
      if (explore_) {
        // Clicks, carts and purchases reward an impression; views and ratings only count.
        const bool click = e.type == EventType::kClick || e.type == EventType::kAddToCart ||
                           e.type == EventType::kPurchase;
        explore_->OnInteraction(x.user, x.item, e.rec_id, click);
      }
      break;
    }
    case EventType::kItem: {
      const ItemIndex i = items_.Intern(e.item);  // catalog upsert
      if (explore_) explore_->OnItem(i, e.features);
      break;
    }
    case EventType::kImpression:
      break;  // the served topic is the impression log the rewards join
    case EventType::kForgetUser: {
      const UserIndex u = users_.Find(e.user);
      if (u == kNoIndex) break;
      for (Recommender* m : Models()) m->ForgetUser(u);
      sessions_->ForgetUser(u);
      history_.Clear(u);
      dirty_history_.Mark(u);
      users_.Erase(e.user);
      dirty_ids_.Mark(u);
      break;
    }
  }
}

void ModelState::ApplyServed(std::string_view user, std::string_view rec_id,
                             std::span<const ServedExplore> explored, int64_t ts_micros) {
  if (!explore_ || user.empty() || explored.empty()) return;
  const UserIndex u = users_.Intern(user);
  for (const ServedExplore& x : explored) {
    const ItemIndex i = items_.Find(x.item);
    if (i == kNoIndex) continue;  // not an item of this catalog (another deployment's log)
    explore_->OnServed(u, i, rec_id, x.pos, x.propensity, ts_micros);
  }
}

void ModelState::AppendCheckpoint(state::WriteBatch* batch) {
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

  // Model rows: one record per row holding every persisted model's part, length-prefixed, in
  // Persisted() order; a model without that row (or an absent session model) contributes an
  // empty part.
  const std::vector<PersistedModel> persisted = Persisted();
  std::vector<uint32_t> all_users, all_items, users, items;
  for (const PersistedModel& p : persisted) {
    if (p.model != nullptr) p.model->TakeDirty(&all_users, &all_items);
  }
  MergeUnique(&all_users, &users);
  MergeUnique(&all_items, &items);
  std::string value, part;
  auto record = [&](auto save) {
    value.clear();
    ByteWriter w(&value);
    for (const PersistedModel& p : persisted) {
      part.clear();
      ByteWriter pw(&part);
      if (p.model != nullptr) save(p.model, &pw);
      w.PutString(part);
    }
  };
  for (UserIndex u : users) {
    record([u](auto* m, ByteWriter* w) { m->SaveUserRow(u, w); });
    batch->Put(Family::kUsers, state::IndexKey(u), value);
  }
  for (ItemIndex i : items) {
    record([i](auto* m, ByteWriter* w) { m->SaveItemRow(i, w); });
    batch->Put(Family::kItems, state::IndexKey(i), value);
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
          if (!state::ParseIndexKey(key, &index))
            return fail(Status::Corruption("rows: malformed key"));
          ByteReader r(value);
          for (const PersistedModel& p : persisted) {
            std::string part;
            if (!r.GetString(&part)) return fail(Status::Corruption("rows: truncated record"));
            if (part.empty() || p.model == nullptr) continue;
            ByteReader pr(part);
            Status st =
                is_user ? p.model->LoadUserRow(index, &pr) : p.model->LoadItemRow(index, &pr);
            if (!st.ok()) return fail(st);
          }
          return true;
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
  return Status::Ok();
}

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
  std::shared_lock l(lock_);
  Rank(user, session, k, exclude_seen, out);
  if (!explore_ || explore == 0) return;
  explore = std::min(explore, k);
  // The exploration slots take the last places: pool items neither seen (when excluded) nor
  // in the ranked list. When the pool has fewer, ranked items keep their places.
  thread_local std::vector<ItemIndex> exclude;
  thread_local std::vector<bandits::ExploreSlot> slots;
  exclude.clear();
  slots.clear();
  const UserIndex u = user.empty() ? kNoIndex : users_.Find(user);
  if (exclude_seen && u != kNoIndex) {
    const auto seen = history_.Items(u);
    exclude.insert(exclude.end(), seen.begin(), seen.end());
  }
  for (const ScoredId& s : *out) {
    if (const ItemIndex i = items_.Find(s.item); i != kNoIndex) exclude.push_back(i);
  }
  std::span<const float> embedding;
  const EmbeddingTable& users = bpr_->users();
  if (u != kNoIndex && u < users.rows()) embedding = {users.Row(u), users.dim()};
  explore_->Select(embedding, explore, exclude, seed, &slots);
  out->resize(std::min<size_t>(out->size(), k - slots.size()));
  for (const bandits::ExploreSlot& x : slots) {
    ScoredId id{items_.Name(x.item), x.score, explore_->source()};
    id.propensity = x.propensity;
    out->push_back(std::move(id));
  }
}

ExplorationStats ModelState::BanditStats() const {
  std::shared_lock l(lock_);
  return explore_ ? explore_->Stats() : ExplorationStats();
}

std::string_view ModelState::bandit_policy() const {
  return explore_ ? explore_->policy() : std::string_view("none");
}

void ModelState::Rank(std::string_view user, std::string_view session, uint32_t k,
                      bool exclude_seen, std::vector<ScoredId>* out) const {
  std::vector<float>& scores = Scratch(items_.size());
  const UserIndex u = user.empty() ? kNoIndex : users_.Find(user);
  const bool has_bpr = u != kNoIndex && u < bpr_->users().rows();
  const SessionModel* sm = sessions_->model();
  std::span<const ItemIndex> recent;
  if (sm != nullptr) {
    recent = !session.empty() ? sessions_->ExplicitRecent(session)
             : u != kNoIndex  ? sessions_->ImplicitRecent(u)
                              : std::span<const ItemIndex>();
  }
  const char* source = "popular";
  if (!recent.empty()) {
    sm->ScoreNext(u == kNoIndex ? kNoUser : u, recent, scores);
    source = "session";
  } else if (has_bpr) {
    bpr_->ScoreItems(u, history_, scores);
    source = "bpr";
  } else {
    pop_->ScoreItems(0, history_, scores);
  }
  auto exclude = [&](std::vector<float>& v) {
    if (!exclude_seen) return;
    if (u != kNoIndex) {
      for (ItemIndex i : history_.Items(u)) v[i] = kExcludedScore;
    }
    for (ItemIndex i : recent) {
      if (i < v.size()) v[i] = kExcludedScore;
    }
  };
  if (recent.empty() || !has_bpr) {
    exclude(scores);
    Collect(scores, k, source, out);
    return;
  }
  // Blend: z-scores of both (of their rank percentiles with blend "rank") over the items each
  // can score (see the header); the session score of an item the session model cannot score
  // (newer than its tables) counts as its lowest.
  {
    thread_local std::vector<float> long_term;
    long_term.resize(items_.size());
    bpr_->ScoreItems(u, history_, long_term);
    const float ws = static_cast<float>(config_.session.weight);
    const float wb = 1.0f - ws;
    if (config_.session.blend == "rank") {
      RankPercentiles(scores);
      RankPercentiles(long_term);
    }
    const ScoreStats zs = Stats(scores);
    const ScoreStats zb = Stats(long_term);
    // blended = ws * z(session) + wb * z(bpr) as one fused multiply-add a pass (vectorized).
    const float as = ws * zs.inv_std, ab = wb * zb.inv_std;
    const float c = -as * zs.mean - ab * zb.mean;
    float* __restrict sc = scores.data();
    const float* __restrict lt = long_term.data();
    const size_t n = scores.size();
#pragma omp simd
    for (size_t i = 0; i < n; ++i) {
      const float s = sc[i] == kExcludedScore ? zs.min : sc[i];
      const float v = as * s + ab * lt[i] + c;
      sc[i] = lt[i] == kExcludedScore ? kExcludedScore : v;
    }
    // Which part dominated, for the `source` of the items that will be returned: the BPR part
    // is recomputed from long_term, the session part is the rest.
    exclude(scores);
    thread_local std::vector<ScoredItem> top;
    TopK(scores, k, &top);
    out->clear();
    out->reserve(top.size());
    for (const ScoredItem& t : top) {
      const float cb = wb * (lt[t.index] - zb.mean) * zb.inv_std;
      const float cs = t.score - cb;
      out->push_back({items_.Name(t.index), t.score, cs > cb ? "session" : "bpr"});
    }
  }
}

Status ModelState::Next(const std::string& item, uint32_t k, std::vector<ScoredId>* out) const {
  std::shared_lock l(lock_);
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
  return {users_.live(), items_.live(), history_.total(), events_applied_, sessions_->live()};
}

}  // namespace streamrec::daemon
