#include "daemon/model_checkpoint.h"

#include <algorithm>
#include <utility>

#include "common/coding.h"
#include "daemon/state_layout.h"
#include "state/keys.h"

namespace streamrec::daemon {
namespace {

using state::Family;

std::string IdKey(char kind, uint32_t index) {
  std::string k(1, kind);
  state::AppendIndexKey(index, &k);
  return k;
}

}  // namespace

std::vector<ModelCheckpoint::PersistedModel> ModelCheckpoint::Persisted() const {
  std::vector<PersistedModel> out(layout::kRowParts);
  auto set = [&](layout::RowPart part, models::PersistentModel* model, std::string key) {
    out[static_cast<size_t>(part)] = {model, std::move(key)};
  };
  set(layout::RowPart::kMF, m_.mf.get(), std::string(m_.mf->name()));
  set(layout::RowPart::kBPR, m_.bpr.get(), std::string(m_.bpr->name()));
  set(layout::RowPart::kPopularity, m_.pop.get(), std::string(m_.pop->name()));
  models::SessionModel* const sm = m_.sessions->model();
  set(layout::RowPart::kSessionModel, sm,
      sm != nullptr ? layout::SessionModelKey(sm->name()) : std::string());
  return out;
}

// The readers hold the locks shared too, so these shared holds block no one: the consumer
// (this thread) is the only writer of `lock`, and the lanes are flushed and get work only from
// it. The models reached through Persisted()'s PersistentModel pointers are outside the
// analysis; the same argument covers them.
void ModelCheckpoint::AppendChanges(state::WriteBatch* batch) {
  ReadLock l(m_.lock);
  ReadLock lb(m_.bpr_lock);
  ReadLock ls(m_.session_lock);
  AppendIds(batch);
  const std::vector<PersistedModel> persisted = Persisted();
  AppendRows(persisted, batch);
  AppendHistories(batch);

  // Globals: small (popularity: 8 bytes an item).
  std::string value;
  for (const PersistedModel& p : persisted) {
    if (p.model == nullptr) continue;
    value.clear();
    ByteWriter w(&value);
    p.model->SaveGlobals(&w);
    batch->Put(Family::kModel, p.globals_key, value);
  }
  m_.sessions->AppendSessions(batch);
  if (m_.explore) m_.explore->AppendCheckpoint(batch);
  value.clear();
  ByteWriter(&value).PutU64(m_.events_applied.load(std::memory_order_relaxed));
  batch->Put(Family::kModel, layout::kEventsApplied, value);
}

void ModelCheckpoint::AppendIds(state::WriteBatch* batch) {
  // The new ids since the last checkpoint, and erased ones rewritten as "".
  for (uint32_t u = users_saved_; u < m_.users.size(); ++u)
    batch->Put(Family::kIds, IdKey(layout::kUserId, u), m_.users.Name(u));
  for (uint32_t i = items_saved_; i < m_.items.size(); ++i)
    batch->Put(Family::kIds, IdKey(layout::kItemId, i), m_.items.Name(i));
  std::vector<uint32_t> erased;
  m_.dirty_ids.Take(&erased);
  for (uint32_t u : erased) {
    if (u < users_saved_) batch->Put(Family::kIds, IdKey(layout::kUserId, u), "");
  }
  users_saved_ = m_.users.size();
  items_saved_ = m_.items.size();
}

void ModelCheckpoint::AppendRows(const std::vector<PersistedModel>& persisted,
                                 state::WriteBatch* batch) {
  // One record per (row, model), keyed state::AppendRowPartKey(row, the model's part), written
  // only when that model changed the row: sampled negatives dirty item rows of BPR and the
  // session model all over the catalog, and a record holding every model's part would rewrite
  // the other models' parts with them. The records go out in key order (row-major: a row's
  // parts together), which RocksDB's memtable inserts at its last insert position instead of
  // searching for each.
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
        models::PersistentModel* const m = persisted[part].model;
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
}

void ModelCheckpoint::AppendHistories(state::WriteBatch* batch) {
  std::vector<uint32_t> histories;
  m_.dirty_history.Take(&histories);
  std::string value;
  for (UserIndex u : histories) {
    if (m_.history.Count(u) == 0) {
      batch->Delete(Family::kHistories, state::IndexKey(u));
      continue;
    }
    value.clear();
    ByteWriter w(&value);
    m_.history.SaveUser(u, &w);
    batch->Put(Family::kHistories, state::IndexKey(u), value);
  }
}

Status ModelCheckpoint::RestoreIds(const state::StateReader& store) {
  // Ids, contiguous from 0 in index order.
  Status error;
  for (auto [kind, map] : {std::pair{layout::kUserId, &m_.users}, {layout::kItemId, &m_.items}}) {
    STREAMREC_RETURN_IF_ERROR(
        store.ForEach(Family::kIds, std::string(1, kind),
                      [&, map = map](std::string_view key, std::string_view name) {
                        uint32_t index;
                        if (!state::ParseIndexKey(key.substr(1), &index) || index != map->size()) {
                          error = Status::Corruption("ids: missing or malformed id key");
                          return false;
                        }
                        error = map->PushRestored(name);
                        return error.ok();
                      }));
    STREAMREC_RETURN_IF_ERROR(error);
  }
  return Status::Ok();
}

Status ModelCheckpoint::RestoreRows(const state::StateReader& store,
                                    const std::vector<PersistedModel>& persisted) {
  Status error;
  for (auto [family, is_user] : {std::pair{Family::kUsers, true}, {Family::kItems, false}}) {
    STREAMREC_RETURN_IF_ERROR(store.ForEach(
        family, "", [&, is_user = is_user](std::string_view key, std::string_view value) {
          uint32_t index;
          uint8_t part;
          if (!state::ParseRowPartKey(key, &index, &part)) {
            error = Status::Corruption("rows: malformed key");
            return false;
          }
          models::PersistentModel* const m =
              part < persisted.size() ? persisted[part].model : nullptr;
          if (m == nullptr) {
            error = Status::Corruption("rows: a record of no configured model");
            return false;
          }
          ByteReader r(value);
          error = is_user ? m->LoadUserRow(index, &r) : m->LoadItemRow(index, &r);
          if (error.ok() && !r.done())
            error = Status::Corruption("rows: trailing bytes in a record");
          return error.ok();
        }));
    STREAMREC_RETURN_IF_ERROR(error);
  }
  return Status::Ok();
}

Status ModelCheckpoint::Restore(const state::StateReader& store) {
  WriteLock l(m_.lock);
  WriteLock lb(m_.bpr_lock);
  WriteLock ls(m_.session_lock);
  STREAMREC_RETURN_IF_ERROR(RestoreIds(store));
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
  STREAMREC_RETURN_IF_ERROR(RestoreRows(store, persisted));
  Status error;
  models::UserHistory* const history = &m_.history;  // (the analysis does not follow into lambdas)
  STREAMREC_RETURN_IF_ERROR(
      store.ForEach(Family::kHistories, "", [&](std::string_view key, std::string_view value) {
        uint32_t u;
        if (!state::ParseIndexKey(key, &u)) {
          error = Status::Corruption("histories: malformed key");
          return false;
        }
        ByteReader r(value);
        error = history->LoadUser(u, &r);
        return error.ok();
      }));
  STREAMREC_RETURN_IF_ERROR(error);
  std::string applied;
  uint64_t events_applied = 0;
  if (store.Get(Family::kModel, layout::kEventsApplied, &applied).ok()) {
    ByteReader(applied).GetU64(&events_applied);
  }
  m_.events_applied.store(events_applied, std::memory_order_relaxed);
  const uint32_t items = m_.items.size();
  STREAMREC_RETURN_IF_ERROR(m_.sessions->Restore(store, items));
  if (m_.explore) STREAMREC_RETURN_IF_ERROR(m_.explore->Restore(store, items));
  // Nothing restored is dirty.
  std::vector<uint32_t> discard_u, discard_i;
  for (const PersistedModel& p : persisted) {
    if (p.model != nullptr) p.model->TakeDirty(&discard_u, &discard_i);
  }
  users_saved_ = m_.users.size();
  items_saved_ = m_.items.size();
  if (m_.explore) m_.event_time_us = m_.explore->now_micros();
  return Status::Ok();
}

}  // namespace streamrec::daemon
