#include "daemon/exploration.h"

#include <algorithm>

#include "common/coding.h"
#include "daemon/state_layout.h"
#include "state/keys.h"

namespace streamrec::daemon {
namespace {

using state::Family;

// kModel keys (state_layout.h).
constexpr std::string_view kPoolKey = layout::kBanditPool;
constexpr std::string_view kJoinerKey = layout::kBanditJoiner;
constexpr std::string_view kJoinerRecordPrefix = layout::kBanditJoinerRecord;
constexpr std::string_view kClockKey = layout::kBanditClock;

// Item feature values are clamped to +-this (scale features to about unit size).
constexpr float kMaxFeatureValue = 100.0f;

bandits::PoolOptions PoolOptionsOf(const BanditConfig& c) {
  bandits::PoolOptions o;
  o.cold_threshold = c.cold_threshold;
  o.feature_dim = c.feature_dim;
  o.max_candidates = c.max_candidates;
  return o;
}

bandits::JoinerOptions JoinerOptionsOf(const BanditConfig& c) {
  bandits::JoinerOptions o;
  o.window_s = c.window_s;
  o.lateness_s = c.lateness_s;
  o.served_moves_clock = false;  // event time comes from the events (see the header)
  return o;
}

}  // namespace

Result<std::unique_ptr<Exploration>> Exploration::Create(const BanditConfig& config,
                                                         const models::EmbeddingTable* users) {
  auto policy = bandits::MakePolicy(config.policy, config.params, config.feature_dim, users->dim());
  if (!policy.ok()) return policy.status();
  return std::unique_ptr<Exploration>(new Exploration(config, std::move(*policy), users));
}

Exploration::Exploration(const BanditConfig& config, std::unique_ptr<bandits::Policy> policy,
                         const models::EmbeddingTable* users)
    : config_(config),
      users_(users),
      pool_(PoolOptionsOf(config), std::move(policy)),
      joiner_(JoinerOptionsOf(config)),
      source_("explore:" + std::string(pool_.policy().name())) {}

void Exploration::ApplyRewards() {
  for (const bandits::Reward& r : rewards_) {
    const UserIndex u = r.served.user;
    std::span<const float> emb;
    if (u < users_->rows()) emb = {users_->Row(u), users_->dim()};
    pool_.OnReward({emb}, r.served.item, r.reward, r.served.ts_micros);
  }
  if (!rewards_.empty()) joiner_dirty_ = true;
  rewards_.clear();
}

void Exploration::AdvanceTime(int64_t ts_micros) {
  if (ts_micros <= now_micros_) return;
  now_micros_ = ts_micros;
  joiner_.Advance(ts_micros, &rewards_);
  joiner_dirty_ = true;  // its clock moved
  ApplyRewards();
}

void Exploration::SetServedProgress(int64_t cap_micros) {
  if (cap_micros == served_cap_) return;
  served_cap_ = cap_micros;
  joiner_.SetWatermarkCap(cap_micros, &rewards_);
  joiner_dirty_ = true;  // buffered clicks may have been dropped
  ApplyRewards();
}

void Exploration::OnItem(ItemIndex item, std::span<const stream::Feature> features) {
  bandits::SparseFeatures f;
  for (const stream::Feature& x : features) {
    // Bounded: hashed features sum on collisions, and LinUCB's shared matrix accumulates
    // products of them; non-finite values cannot come from the decoder, huge ones can.
    pool_.hasher().Add(x.name, std::clamp(x.value, -kMaxFeatureValue, kMaxFeatureValue), &f);
  }
  pool_.OnItem(item, f, now_micros_);
}

void Exploration::OnInteraction(UserIndex user, ItemIndex item, uint64_t rec_id, bool is_click) {
  // The join first: a click on a pool item (explored items are pool items; graduated ones take
  // no rewards, so the joiner buffers nothing else) is a reward for the arm it had, even when
  // this very interaction then graduates the item.
  if (is_click && pool_.InPool(item)) {
    joiner_.OnClick({user, item, rec_id, now_micros_}, &rewards_);
    joiner_dirty_ = true;
    ApplyRewards();
  }
  pool_.OnInteraction(item, now_micros_);
}

void Exploration::OnServed(UserIndex user, ItemIndex item, uint64_t rec_id, uint32_t pos,
                           double propensity, int64_t ts_micros) {
  joiner_.OnServed({rec_id, user, item, pos, propensity, ts_micros}, &rewards_);
  joiner_dirty_ = true;
  ApplyRewards();
}

void Exploration::Select(std::span<const float> embedding, uint32_t k,
                         std::span<const ItemIndex> exclude, uint64_t seed,
                         std::vector<bandits::ExploreSlot>* out) const {
  thread_local bandits::SelectScratch scratch;
  pool_.SelectSlots({embedding}, k, exclude, now_micros_, seed, &scratch, out);
}

ExplorationStats Exploration::Stats() const {
  const bandits::JoinerStats& j = joiner_.stats();
  ExplorationStats s;
  s.pool_size = pool_.size();
  s.graduated = pool_.graduated();
  s.rewards_one = j.rewards_one;
  s.rewards_zero = j.rewards_zero;
  s.open_impressions = joiner_.open_served();
  s.late_served = j.late_served;
  s.evicted_served = j.evicted_served;
  return s;
}

void Exploration::AppendCheckpoint(state::WriteBatch* batch) {
  dirty_.clear();
  pool_.TakeDirty(&dirty_);
  for (ItemIndex i : dirty_) {
    value_.clear();
    ByteWriter w(&value_);
    pool_.SaveItem(i, &w);
    if (value_.empty()) {
      batch->Delete(Family::kBandits, state::IndexKey(i));
    } else {
      batch->Put(Family::kBandits, state::IndexKey(i), value_);
    }
  }
  if (!dirty_.empty() || joiner_dirty_) {  // rewards change the policy's shared state too
    value_.clear();
    ByteWriter w(&value_);
    pool_.SaveGlobals(&w);
    batch->Put(Family::kModel, kPoolKey, value_);
  }
  if (joiner_dirty_) {
    // What changed in the joiner since the last checkpoint: records opened, rewarded, closed.
    struct Sink final : bandits::RewardJoiner::ChangeSink {
      state::WriteBatch* batch;
      std::string key;
      void SetKey(bandits::RewardJoiner::RecordKind kind, uint64_t seq) {
        key.assign(kJoinerRecordPrefix);
        key.push_back(static_cast<char>(kind));
        key.append(state::U64Key(seq));
      }
      void Put(bandits::RewardJoiner::RecordKind kind, uint64_t seq,
               std::string_view record) override {
        SetKey(kind, seq);
        batch->Put(Family::kModel, key, record);
      }
      void Delete(bandits::RewardJoiner::RecordKind kind, uint64_t seq) override {
        SetKey(kind, seq);
        batch->Delete(Family::kModel, key);
      }
    } sink;
    sink.batch = batch;
    joiner_.SaveChanges(&sink);
    value_.clear();
    ByteWriter w(&value_);
    joiner_.SaveHeader(&w);
    batch->Put(Family::kModel, kJoinerKey, value_);
    value_.clear();
    ByteWriter(&value_).PutU64(static_cast<uint64_t>(now_micros_));
    batch->Put(Family::kModel, kClockKey, value_);
    joiner_dirty_ = false;
  }
}

Status Exploration::Restore(const state::StateReader& store, uint32_t items) {
  // Reads one kModel record into `load`; an absent one (a fresh store) is not an error.
  auto optional = [&store](std::string_view key, auto load) -> Status {
    std::string value;
    Status st = store.Get(Family::kModel, key, &value);
    if (st.IsNotFound()) return Status::Ok();
    STREAMREC_RETURN_IF_ERROR(st);
    ByteReader r(value);
    return load(&r);
  };
  STREAMREC_RETURN_IF_ERROR(
      optional(kPoolKey, [this](ByteReader* r) { return pool_.LoadGlobals(r); }));
  Status error;
  STREAMREC_RETURN_IF_ERROR(
      store.ForEach(Family::kBandits, "", [&](std::string_view key, std::string_view rec) {
        uint32_t item;
        if (!state::ParseIndexKey(key, &item) || item >= items) {
          error = Status::Corruption("bandits: malformed key or unknown item");
          return false;
        }
        ByteReader r(rec);
        error = pool_.LoadItem(item, &r);
        return error.ok();
      }));
  STREAMREC_RETURN_IF_ERROR(error);
  bool joiner_stored = false;
  STREAMREC_RETURN_IF_ERROR(optional(kJoinerKey, [&](ByteReader* r) {
    joiner_stored = true;
    return joiner_.LoadHeader(r);
  }));
  // Keys sort by kind, then seq: clicks before served records, each in the order they came.
  STREAMREC_RETURN_IF_ERROR(store.ForEach(
      Family::kModel, kJoinerRecordPrefix, [&](std::string_view key, std::string_view rec) {
        key.remove_prefix(kJoinerRecordPrefix.size());
        uint64_t seq;
        const char kind = key.empty() ? 0 : key.front();
        if (!joiner_stored || (kind != 's' && kind != 'c') ||
            !state::ParseU64Key(key.substr(1), &seq)) {
          error = Status::Corruption("bandit.joiner: malformed record key");
          return false;
        }
        ByteReader r(rec);
        error = joiner_.LoadRecord(static_cast<bandits::RewardJoiner::RecordKind>(kind), seq, &r);
        return error.ok();
      }));
  STREAMREC_RETURN_IF_ERROR(error);
  STREAMREC_RETURN_IF_ERROR(optional(kClockKey, [this](ByteReader* r) {
    uint64_t clock = 0;
    if (!r->GetU64(&clock)) return Status::Corruption("bandit.clock: truncated");
    now_micros_ = static_cast<int64_t>(clock);
    return Status::Ok();
  }));
  std::vector<ItemIndex> discard;
  pool_.TakeDirty(&discard);  // nothing restored is dirty
  return Status::Ok();
}

}  // namespace streamrec::daemon
