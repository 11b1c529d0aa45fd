#include "daemon/model_state.h"

#include <algorithm>
#include <cmath>
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

}  // namespace

Result<std::unique_ptr<ModelState>> ModelState::Create(const Config& config) {
  MFOptions mf;
  BPROptions bpr;
  PopularityOptions pop;
  STREAMREC_RETURN_IF_ERROR(mf.Apply(config.mf));
  STREAMREC_RETURN_IF_ERROR(bpr.Apply(config.bpr));
  STREAMREC_RETURN_IF_ERROR(pop.Apply(config.pop));
  return std::unique_ptr<ModelState>(new ModelState(config, std::make_unique<BiasedMF>(mf),
                                                    std::make_unique<BPR>(bpr),
                                                    std::make_unique<Popularity>(pop)));
}

ModelState::ModelState(const Config& config, std::unique_ptr<BiasedMF> mf, std::unique_ptr<BPR> bpr,
                       std::unique_ptr<Popularity> pop)
    : config_(config), mf_(std::move(mf)), bpr_(std::move(bpr)), pop_(std::move(pop)) {}

void ModelState::Apply(const EventView& e, double ts_seconds, uint64_t seed) {
  ++events_applied_;
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
      break;
    }
    case EventType::kItem:
      items_.Intern(e.item);  // catalog upsert; features feed the bandits (later)
      break;
    case EventType::kImpression:
      break;  // feeds the bandits' attribution (later)
    case EventType::kForgetUser: {
      const UserIndex u = users_.Find(e.user);
      if (u == kNoIndex) break;
      for (Recommender* m : Models()) m->ForgetUser(u);
      history_.Clear(u);
      dirty_history_.Mark(u);
      users_.Erase(e.user);
      dirty_ids_.Mark(u);
      break;
    }
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

  // Model rows: one record per row holding every model's part, length-prefixed, in Models()
  // order; a model without that row contributes an empty part.
  std::vector<uint32_t> all_users, all_items, users, items;
  for (Recommender* m : Models()) m->TakeDirty(&all_users, &all_items);
  MergeUnique(&all_users, &users);
  MergeUnique(&all_items, &items);
  std::string value, part;
  auto record = [&](auto save) {
    value.clear();
    ByteWriter w(&value);
    for (Recommender* m : Models()) {
      part.clear();
      ByteWriter pw(&part);
      save(m, &pw);
      w.PutString(part);
    }
  };
  for (UserIndex u : users) {
    record([u](Recommender* m, ByteWriter* w) { m->SaveUserRow(u, w); });
    batch->Put(Family::kUsers, state::IndexKey(u), value);
  }
  for (ItemIndex i : items) {
    record([i](Recommender* m, ByteWriter* w) { m->SaveItemRow(i, w); });
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
  for (Recommender* m : Models()) {
    value.clear();
    ByteWriter w(&value);
    m->SaveGlobals(&w);
    batch->Put(Family::kModel, m->name(), value);
  }
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
  for (Recommender* m : Models()) {
    std::string value;
    Status st = store.Get(Family::kModel, m->name(), &value);
    if (st.IsNotFound()) continue;
    STREAMREC_RETURN_IF_ERROR(st);
    ByteReader r(value);
    STREAMREC_RETURN_IF_ERROR(m->LoadGlobals(&r));
  }
  // Rows.
  for (auto [family, is_user] : {std::pair{Family::kUsers, true}, {Family::kItems, false}}) {
    STREAMREC_RETURN_IF_ERROR(store.ForEach(
        family, "", [&, is_user = is_user](std::string_view key, std::string_view value) {
          uint32_t index;
          if (!state::ParseIndexKey(key, &index))
            return fail(Status::Corruption("rows: malformed key"));
          ByteReader r(value);
          for (Recommender* m : Models()) {
            std::string part;
            if (!r.GetString(&part)) return fail(Status::Corruption("rows: truncated record"));
            if (part.empty()) continue;
            ByteReader pr(part);
            Status st = is_user ? m->LoadUserRow(index, &pr) : m->LoadItemRow(index, &pr);
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
  // Nothing restored is dirty.
  std::vector<uint32_t> discard_u, discard_i;
  for (Recommender* m : Models()) m->TakeDirty(&discard_u, &discard_i);
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

void ModelState::Recommend(const std::string& user, uint32_t k, bool exclude_seen,
                           std::vector<ScoredId>* out) const {
  std::shared_lock l(lock_);
  std::vector<float>& scores = Scratch(items_.size());
  const UserIndex u = users_.Find(user);
  const char* source = "popular";
  if (u != kNoIndex && u < bpr_->users().rows()) {
    bpr_->ScoreItems(u, history_, scores);
    source = "bpr";
  } else {
    pop_->ScoreItems(0, history_, scores);
  }
  if (exclude_seen && u != kNoIndex) {
    for (ItemIndex i : history_.Items(u)) scores[i] = kExcludedScore;
  }
  Collect(scores, k, source, out);
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
  return {users_.live(), items_.live(), history_.total(), events_applied_};
}

}  // namespace streamrec::daemon
