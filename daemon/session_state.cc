#include "daemon/session_state.h"

#include <algorithm>

#include "common/coding.h"
#include "common/rng.h"
#include "daemon/state_layout.h"
#include "state/keys.h"

namespace streamrec::daemon {
namespace {

using state::Family;

constexpr char kImplicitPrefix = layout::kImplicitSession;
constexpr char kExplicitPrefix = layout::kExplicitSession;
constexpr std::string_view kClockKey = layout::kSessionClock;  // the event-time clock

}  // namespace

Result<std::unique_ptr<SessionState>> SessionState::Create(const SessionConfig& config) {
  std::unique_ptr<models::SessionModel> model;
  if (config.model != "none") {
    auto m = models::MakeSessionModel(config.model, config.params);
    if (!m.ok()) return m.status();
    model = std::move(*m);
  }
  models::SessionTrackerOptions options;
  options.max_len = config.max_len > 0 ? config.max_len : model ? model->max_len() : 20;
  options.gap_s = config.gap_s;
  options.ttl_s = config.ttl_s;
  options.max_sessions = config.max_sessions;
  return std::unique_ptr<SessionState>(new SessionState(config, std::move(model), options));
}

SessionState::SessionState(const SessionConfig& config, std::unique_ptr<models::SessionModel> model,
                           const models::SessionTrackerOptions& options)
    : config_(config), model_(std::move(model)), tracker_(options) {}

void SessionState::AdvanceTime(int64_t ts_s) {
  if (!to_free_.empty()) FreeIds();
  if (ts_s <= now_s_) return;
  now_s_ = ts_s;
  tracker_.Expire(now_s_);
}

void SessionState::FreeIds() {
  for (uint32_t index : to_free_) {
    // Re-created since the checkpoint that dropped it? (Cannot happen: nothing is applied
    // between AppendSessions and the next AdvanceTime; kept as a guard.)
    if (tracker_.LastSeen(kExplicitBit | index) >= 0) continue;
    ids_.Erase(HashKey32(names_[index]), index);
    names_[index].clear();
    names_[index].shrink_to_fit();
    free_.push_back(index);
  }
  to_free_.clear();
}

uint64_t SessionState::InternExplicit(std::string_view session) {
  const uint32_t hash = HashKey32(session);
  const uint32_t index = free_.empty() ? static_cast<uint32_t>(names_.size()) : free_.back();
  bool inserted = false;
  const uint32_t found = ids_.FindOrInsert(names_, session, hash, index, &inserted);
  if (!inserted) return kExplicitBit | found;
  try {
    if (index < names_.size()) {
      names_[index] = session;
    } else {
      names_.emplace_back(session);
    }
  } catch (...) {
    ids_.Erase(hash, index);
    throw;
  }
  if (!free_.empty()) free_.pop_back();
  return kExplicitBit | index;
}

uint64_t SessionState::FindExplicit(std::string_view session) const {
  const uint32_t index = ids_.Find(names_, session, HashKey32(session));
  return index == decltype(ids_)::kAbsent ? kNoKey : kExplicitBit | index;
}

void SessionState::Observe(UserIndex user, std::string_view session, ItemIndex item,
                           uint64_t seed) {
  if (!model_) return;
  const uint64_t key = session.empty() ? uint64_t{user} : InternExplicit(session);
  tracker_.AddAfter(key, item, now_s_, [&](std::span<const ItemIndex> recent) {
    if (!recent.empty()) model_->Observe(user, recent, item, seed);
  });
}

void SessionState::ForgetUser(UserIndex user) {
  tracker_.Erase(uint64_t{user});
  if (model_) model_->ForgetUser(user);
}

void SessionState::StoreKey(uint64_t key, std::string* out) const {
  out->clear();
  if (key & kExplicitBit) {
    out->push_back(kExplicitPrefix);
    out->append(names_[static_cast<uint32_t>(key)]);
  } else {
    out->push_back(kImplicitPrefix);
    state::AppendIndexKey(static_cast<uint32_t>(key), out);
  }
}

void SessionState::AppendSessions(state::WriteBatch* batch) {
  changed_.clear();
  erased_.swap(restore_erased_);
  tracker_.TakeDirty(&changed_, &erased_);
  std::sort(erased_.begin(), erased_.end());
  erased_.erase(std::unique(erased_.begin(), erased_.end()), erased_.end());
  for (uint64_t key : erased_) {
    if (tracker_.LastSeen(key) >= 0) continue;  // dropped at restore, live again since
    StoreKey(key, &key_);
    batch->Delete(Family::kSessions, key_);
    // The id is no longer live: free its index, under the write lock (readers look ids up).
    if (key & kExplicitBit) to_free_.push_back(static_cast<uint32_t>(key));
  }
  restore_erased_.clear();
  for (uint64_t key : changed_) {
    StoreKey(key, &key_);
    value_.clear();
    ByteWriter w(&value_);
    tracker_.SaveSession(key, &w);
    batch->Put(Family::kSessions, key_, value_);
  }
  value_.clear();
  ByteWriter(&value_).PutI64(now_s_);
  batch->Put(Family::kModel, kClockKey, value_);
}

Status SessionState::Restore(const state::StateReader& store, uint32_t items) {
  std::string clock;
  Status st = store.Get(Family::kModel, kClockKey, &clock);
  if (st.ok()) {
    ByteReader r(clock);
    if (!r.GetI64(&now_s_)) return Status::Corruption("sessions: malformed clock");
  } else if (!st.IsNotFound()) {
    return st;
  }
  Status error;
  STREAMREC_RETURN_IF_ERROR(
      store.ForEach(Family::kSessions, "", [&](std::string_view key, std::string_view value) {
        uint64_t k;
        if (key.size() == 1 + state::kIndexKeyBytes && key[0] == kImplicitPrefix) {
          uint32_t user;
          state::ParseIndexKey(key.substr(1), &user);
          k = user;
        } else if (key.size() > 1 && key[0] == kExplicitPrefix) {
          k = InternExplicit(key.substr(1));
        } else {
          error = Status::Corruption("sessions: malformed key");
          return false;
        }
        ByteReader r(value);
        error = tracker_.LoadSession(k, &r);
        if (error.ok() && !r.done()) error = Status::Corruption("sessions: trailing bytes");
        if (!error.ok()) return false;
        for (ItemIndex i : tracker_.Recent(k)) {
          if (i >= items) {
            error = Status::Corruption("sessions: a session names an unknown item index");
            return false;
          }
        }
        return true;
      }));
  STREAMREC_RETURN_IF_ERROR(error);
  // A load is not a change; sessions a smaller max_sessions evicted are dropped at the next
  // checkpoint (keep their erase marks).
  changed_.clear();
  restore_erased_.clear();
  tracker_.TakeDirty(&changed_, &restore_erased_);
  return Status::Ok();
}

std::span<const ItemIndex> SessionState::LiveRecent(uint64_t key) const {
  if (key == kNoKey || tracker_.LastSeen(key) < now_s_ - config_.ttl_s) return {};
  return tracker_.RecentAt(key, now_s_);
}

std::span<const ItemIndex> SessionState::ExplicitRecent(std::string_view session) const {
  return LiveRecent(FindExplicit(session));
}

std::span<const ItemIndex> SessionState::ImplicitRecent(UserIndex user) const {
  return LiveRecent(uint64_t{user});
}

}  // namespace streamrec::daemon
