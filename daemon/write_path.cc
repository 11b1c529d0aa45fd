#include "daemon/write_path.h"

#include <sched.h>

#include <algorithm>
#include <chrono>

#include "bandits/reward_joiner.h"
#include "common/rng.h"

namespace streamrec::daemon {
namespace {

// Salt of the session model's seeds (its draws stay independent of BPR's for the same event).
constexpr uint64_t kSessionSeedSalt = 0x5e55105;

// What MF's Observe is given for a history: it reads none (the histories are the BPR lane's).
const models::UserHistory kNoHistory;

// Records how long a run held its lane's lock: declared after the lock, so it observes before
// the lock is released. Reads no clock when `hold` is null.
class HoldTimer {
 public:
  explicit HoldTimer(Histogram* hold)
      : hold_(hold),
        t0_(hold != nullptr ? std::chrono::steady_clock::now()
                            : std::chrono::steady_clock::time_point()) {}
  ~HoldTimer() {
    if (hold_ == nullptr) return;
    hold_->Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count());
  }

 private:
  Histogram* const hold_;
  const std::chrono::steady_clock::time_point t0_;
};

}  // namespace

WritePath::WritePath(LiveModel& model)
    : m_(model),
      bpr_lane_(std::make_unique<ApplyLane<LaneBatch>>([this](LaneBatch& b) { RunBprLane(b); },
                                                       "bpr-lane")),
      session_lane_(std::make_unique<ApplyLane<LaneBatch>>(
          [this](LaneBatch& b) { RunSessionLane(b); }, "session-lane")) {}

WritePath::~WritePath() = default;

void WritePath::Apply(const stream::EventView& e, double ts_seconds, uint64_t seed) {
  m_.events_applied.store(m_.events_applied.load(std::memory_order_relaxed) + 1,
                          std::memory_order_relaxed);
  // Event time drives session expiry and the attribution windows (deterministic under replay):
  // every event gives each lane an op, with its time.
  m_.event_time_us = std::max(m_.event_time_us, static_cast<int64_t>(ts_seconds * 1e6));
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
      Interaction& x = op.x;
      x.user = m_.users.Intern(e.user);
      x.item = m_.items.Intern(e.item);
      x.is_rating = e.type == EventType::kRating;
      x.value = x.is_rating ? e.value : 0.0f;
      x.weight = m_.config.weights.Of(e.type);
      x.ts_seconds = static_cast<int64_t>(ts_seconds);
      if (x.is_rating) m_.mf->Observe(x, kNoHistory, seed);
      if (x.weight > 0.0f) m_.pop->Add(x.item, x.weight, ts_seconds);
      op.kind = LaneOp::Kind::kInteraction;
      op.seed = seed;
      if (!x.is_rating || m_.config.session.ratings) {
        session_op.kind = LaneOp::Kind::kInteraction;
        session_op.x = x;
        session_op.seed = SeedFor(seed, kSessionSeedSalt);
        session_op.text_begin = static_cast<uint32_t>(session_lane.text.size());
        session_op.text_size = static_cast<uint32_t>(e.session.size());
        session_lane.text.append(e.session);
      }
      if (m_.exploring) {
        // Clicks, carts and purchases reward an impression; views and ratings only count.
        op.click = e.type == EventType::kClick || e.type == EventType::kAddToCart ||
                   e.type == EventType::kPurchase;
        op.rec_id = bandits::RecIdHash(e.rec_id);
      }
      break;
    }
    case EventType::kItem: {
      op.x.item = m_.items.Intern(e.item);  // catalog upsert
      if (m_.exploring) {
        op.kind = LaneOp::Kind::kItem;
        op.text_begin = static_cast<uint32_t>(lane.features.size());
        op.text_size = static_cast<uint32_t>(e.features.size());
        for (const stream::Feature& f : e.features) {
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
      const UserIndex u = m_.users.Find(e.user);
      if (u == kNoIndex) break;
      m_.mf->ForgetUser(u);
      m_.pop->ForgetUser(u);
      m_.users.Erase(e.user);
      m_.dirty_ids.Mark(u);
      op.kind = session_op.kind = LaneOp::Kind::kForget;  // BPR, the history, the session
      op.x.user = session_op.x.user = u;
      break;
    }
  }
  lane.ops.push_back(op);
  session_lane.ops.push_back(session_op);
}

Status WritePath::Admit(const stream::EventView& e, double ts_seconds, int64_t now_micros) const {
  const LimitsConfig& limits = m_.config.limits;
  STREAMREC_RETURN_IF_ERROR(
      stream::CheckEventTime(ts_seconds, now_micros, m_.event_time_us, limits.max_future_s));
  const bool creates_ids = e.type != EventType::kImpression && e.type != EventType::kForgetUser;
  if (!creates_ids) return Status::Ok();
  if (!e.user.empty() && m_.users.size() >= limits.max_users && m_.users.Find(e.user) == kNoIndex) {
    return Status::InvalidArgument("new user refused: the model holds max_users = " +
                                   std::to_string(limits.max_users) + " users");
  }
  if (!e.item.empty() && m_.items.size() >= limits.max_items && m_.items.Find(e.item) == kNoIndex) {
    return Status::InvalidArgument("new item refused: the catalog holds max_items = " +
                                   std::to_string(limits.max_items) + " items");
  }
  return Status::Ok();
}

void WritePath::ApplyServed(std::string_view user, std::string_view rec_id,
                            std::span<const ServedExplore> explored, int64_t ts_micros) {
  if (!m_.exploring || user.empty() || explored.empty()) return;
  // A list served to an unknown user joins a click only if the user exists by then; past
  // max_users no user is created for it (anyone can ask for lists under any user id).
  if (m_.users.size() >= m_.config.limits.max_users && m_.users.Find(user) == kNoIndex) return;
  LaneOp op;
  op.kind = LaneOp::Kind::kServed;
  op.x.user = m_.users.Intern(user);
  op.rec_id = bandits::RecIdHash(rec_id);
  op.micros = ts_micros;
  for (const ServedExplore& x : explored) {
    const ItemIndex i = m_.items.Find(x.item);
    if (i == kNoIndex) continue;  // not an item of this catalog (another deployment's log)
    op.x.item = i;
    op.pos = x.pos;
    op.propensity = x.propensity;
    bpr_lane_->filling().ops.push_back(op);
  }
}

void WritePath::SetServedProgress(int64_t cap_micros) {
  if (!m_.exploring) return;
  LaneOp op;
  op.kind = LaneOp::Kind::kServedProgress;
  op.micros = cap_micros;
  bpr_lane_->filling().ops.push_back(op);
}

void WritePath::HandOff(bool all) {
  // A batch's worth: large enough that handing over (a mutex and a wakeup) costs little per
  // event, small enough that the lane starts soon after the writer.
  constexpr size_t kLaneBatch = 1024;
  for (ApplyLane<LaneBatch>* lane : {bpr_lane_.get(), session_lane_.get()}) {
    if (all || lane->filling().ops.size() >= kLaneBatch) lane->HandOff();
  }
}

void WritePath::Flush() {
  bpr_lane_->HandOff();  // both at work before waiting for either
  session_lane_->Flush();
  bpr_lane_->Flush();
}

void WritePath::Publish() {
  Flush();
  const uint64_t applied = m_.events_applied.load(std::memory_order_relaxed);
  if (m_.snapshot) {
    // The lanes are idle (flushed, and only this thread hands them work): the shared locks
    // block nobody.
    ReadLock lb(m_.bpr_lock);
    ReadLock ls(m_.session_lock);
    m_.snapshot->Publish(*m_.bpr, m_.embedding_model);
  }
  m_.events_published.store(applied, std::memory_order_release);
}

void WritePath::BetweenRuns() {
  // Between runs the lane holds no lock: while requests are being served, it gives a runnable
  // request thread the CPU here rather than run out its time slice, inside its lock as likely
  // as not (lower p99 under ingest, bench/serve_bench.sh). Without requests, no syscall.
  if (m_.requests.load(std::memory_order_relaxed) > 0) {
    sched_yield();
    lane_yields_.fetch_add(1, std::memory_order_relaxed);
  }
}

void WritePath::RunBprLane(LaneBatch& batch) {
  const size_t run = m_.config.apply_batch;
  for (size_t begin = 0; begin < batch.ops.size(); begin += run) {
    const size_t end = std::min(batch.ops.size(), begin + run);
    {
      WriteLock l(m_.bpr_lock);
      HoldTimer hold(bpr_hold_);
      for (size_t k = begin; k < end; ++k) ApplyBprOp(batch, batch.ops[k]);
    }
    BetweenRuns();
  }
}

void WritePath::RunSessionLane(LaneBatch& batch) {
  const size_t run = m_.config.apply_batch;
  for (size_t begin = 0; begin < batch.ops.size(); begin += run) {
    const size_t end = std::min(batch.ops.size(), begin + run);
    {
      WriteLock l(m_.session_lock);
      HoldTimer hold(session_hold_);
      for (size_t k = begin; k < end; ++k) ApplySessionOp(batch, batch.ops[k]);
    }
    BetweenRuns();
  }
}

void WritePath::ApplySessionOp(const LaneBatch& batch, const LaneOp& op) {
  m_.sessions->AdvanceTime(static_cast<int64_t>(op.ts_seconds));
  if (op.kind == LaneOp::Kind::kInteraction) {
    const std::string_view session(batch.text.data() + op.text_begin, op.text_size);
    m_.sessions->Observe(op.x.user, session, op.x.item, op.seed);
  } else if (op.kind == LaneOp::Kind::kForget) {
    m_.sessions->ForgetUser(op.x.user);
  }
}

void WritePath::ApplyBprOp(const LaneBatch& batch, const LaneOp& op) {
  using Kind = LaneOp::Kind;
  Exploration* const explore = m_.explore.get();
  if (op.kind == Kind::kServed) {
    explore->OnServed(op.x.user, op.x.item, op.rec_id, op.pos, op.propensity, op.micros);
    return;
  }
  if (op.kind == Kind::kServedProgress) {
    explore->SetServedProgress(op.micros);
    return;
  }
  if (explore != nullptr) explore->AdvanceTime(static_cast<int64_t>(op.ts_seconds * 1e6));
  switch (op.kind) {
    case Kind::kInteraction: {
      const Interaction& x = op.x;
      if (x.weight > 0.0f) m_.bpr->Observe(x, m_.history, op.seed);  // an implicit positive
      if (m_.history.Add(x.user, x.item)) m_.dirty_history.Mark(x.user);
      if (explore != nullptr) explore->OnInteraction(x.user, x.item, op.rec_id, op.click);
      break;
    }
    case Kind::kItem: {
      thread_local std::vector<stream::Feature> features;
      features.clear();
      for (uint32_t f = op.text_begin; f < op.text_begin + op.text_size; ++f) {
        const LaneFeature& lf = batch.features[f];
        features.push_back(
            {std::string_view(batch.text.data() + lf.name_begin, lf.name_size), lf.value});
      }
      explore->OnItem(op.x.item, features);
      break;
    }
    case Kind::kForget:
      m_.bpr->ForgetUser(op.x.user);
      m_.history.Clear(op.x.user);
      m_.dirty_history.Mark(op.x.user);
      break;
    case Kind::kTime:
    case Kind::kServed:
    case Kind::kServedProgress:
      break;
  }
}

}  // namespace streamrec::daemon
