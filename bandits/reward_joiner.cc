#include "bandits/reward_joiner.h"

#include <algorithm>
#include <functional>

#include "common/rng.h"

namespace streamrec::bandits {
namespace {
constexpr uint32_t kMagic = Magic("SRRJ");
constexpr uint32_t kVersion = 1;
// Heap order: the entry that expires first (then the older one) is on top.
constexpr auto kLater = [](const auto& a, const auto& b) {
  return a.expire > b.expire || (a.expire == b.expire && a.seq > b.seq);
};
constexpr int64_t kMicros = 1'000'000;
}  // namespace

uint64_t RecIdHash(std::string_view rec_id) {
  if (rec_id.empty()) return 0;
  uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : rec_id) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  h = Mix64(h);
  return h == 0 ? 1 : h;
}

// ---------------------------------------------------------------------------- joiner

RewardJoiner::RewardJoiner(const JoinerOptions& options)
    : options_(options),
      window_micros_(options.window_s * kMicros),
      newest_micros_(std::numeric_limits<int64_t>::min()) {
  // The bounds, reserved once (address space, but for the hash maps' control bytes; pages are
  // touched as entries arrive): growing a table of 10^5..10^6 entries took tens of milliseconds
  // under the model's write lock.
  served_index_.reserve(options_.max_served);
  served_ids_.reserve(options_.max_served);
  clicks_index_.reserve(options_.max_clicks);
  served_.reserve(options_.max_served);
  served_heap_.reserve(options_.max_served);
  clicks_.reserve(options_.max_clicks);
  clicks_heap_.reserve(options_.max_clicks);
}

int64_t RewardJoiner::watermark_micros() const {
  const int64_t newest = std::min(newest_micros_, cap_micros_);
  if (newest == std::numeric_limits<int64_t>::min()) return newest;
  return newest - options_.lateness_s * kMicros;
}

void RewardJoiner::SetWatermarkCap(int64_t cap_micros, std::vector<Reward>* out) {
  cap_micros_ = cap_micros;
  Expire(out);
}

void RewardJoiner::Observe(int64_t ts_micros) {
  newest_micros_ = std::max(newest_micros_, ts_micros);
}

// Puts entry `index` at the head of its (user, item) chain.
template <typename Entry>
static void LinkInto(auto& index_map, std::vector<Entry>& slab, uint64_t key, uint32_t index) {
  const auto [it, inserted] = index_map.try_emplace(key, index);
  const uint32_t head = inserted ? kNoIndex : it->second;
  it->second = index;
  slab[index].next = head;
  slab[index].prev = kNoIndex;
  if (head != kNoIndex) slab[head].prev = index;
}

// Removes entry `index` from its (user, item) chain.
template <typename Entry>
static void UnlinkFrom(auto& index_map, std::vector<Entry>& slab, uint64_t key, uint32_t index) {
  const uint32_t next = slab[index].next, prev = slab[index].prev;
  if (next != kNoIndex) slab[next].prev = prev;
  if (prev != kNoIndex) {
    slab[prev].next = next;
  } else if (next == kNoIndex) {
    index_map.erase(key);
  } else {
    index_map[key] = next;
  }
}

void RewardJoiner::InsertServed(const ServedRecord& s, bool rewarded, uint64_t seq) {
  uint32_t index;
  if (!served_free_.empty()) {
    index = served_free_.back();
    served_free_.pop_back();
  } else {
    index = static_cast<uint32_t>(served_.size());
    served_.emplace_back();
  }
  Served& e = served_[index];
  e.rec = s;
  e.seq = seq;
  e.rewarded = rewarded;
  e.live = true;
  e.persisted = false;
  MarkDirty(served_, &served_dirty_, index);
  LinkInto(served_index_, served_, Key(s.user, s.item), index);
  served_ids_[IdKey(s.rec_id, s.item)] = index;
  served_heap_.push_back({s.ts_micros + window_micros_, seq, index});
  std::push_heap(served_heap_.begin(), served_heap_.end(), kLater);
  ++served_live_;
}

void RewardJoiner::InsertClick(const ClickRecord& c, uint64_t seq) {
  uint32_t index;
  if (!clicks_free_.empty()) {
    index = clicks_free_.back();
    clicks_free_.pop_back();
  } else {
    index = static_cast<uint32_t>(clicks_.size());
    clicks_.emplace_back();
  }
  Click& e = clicks_[index];
  e.rec = c;
  e.seq = seq;
  e.live = true;
  e.persisted = false;
  MarkDirty(clicks_, &clicks_dirty_, index);
  LinkInto(clicks_index_, clicks_, Key(c.user, c.item), index);
  clicks_heap_.push_back({c.ts_micros + window_micros_, seq, index});
  std::push_heap(clicks_heap_.begin(), clicks_heap_.end(), kLater);
  ++clicks_live_;
}

void RewardJoiner::CloseServed(uint32_t index, std::vector<Reward>* out) {
  Served& e = served_[index];
  if (!e.rewarded) {
    out->push_back({e.rec, 0.0f});
    ++stats_.rewards_zero;
  }
  UnlinkFrom(served_index_, served_, Key(e.rec.user, e.rec.item), index);
  if (const auto it = served_ids_.find(IdKey(e.rec.rec_id, e.rec.item));
      it != served_ids_.end() && it->second == index) {
    served_ids_.erase(it);
  }
  Forget(e, RecordKind::kServed);
  e.live = false;
  served_free_.push_back(index);
  --served_live_;
}

void RewardJoiner::DropClick(uint32_t index) {
  Click& e = clicks_[index];
  UnlinkFrom(clicks_index_, clicks_, Key(e.rec.user, e.rec.item), index);
  Forget(e, RecordKind::kClick);
  e.live = false;
  clicks_free_.push_back(index);
  --clicks_live_;
}

void RewardJoiner::Expire(std::vector<Reward>* out) {
  const int64_t wm = watermark_micros();
  while (!served_heap_.empty() && served_heap_.front().expire < wm) {
    const uint32_t index = served_heap_.front().index;
    std::pop_heap(served_heap_.begin(), served_heap_.end(), kLater);
    served_heap_.pop_back();
    CloseServed(index, out);
  }
  while (!clicks_heap_.empty() && clicks_heap_.front().expire < wm) {
    const uint32_t index = clicks_heap_.front().index;
    std::pop_heap(clicks_heap_.begin(), clicks_heap_.end(), kLater);
    clicks_heap_.pop_back();
    DropClick(index);
  }
}

void RewardJoiner::OnServed(const ServedRecord& s, std::vector<Reward>* out) {
  if (options_.served_moves_clock) Observe(s.ts_micros);
  Expire(out);
  if (s.ts_micros + window_micros_ < watermark_micros()) {
    ++stats_.late_served;
    return;
  }
  if (const uint32_t p = Find(served_ids_, IdKey(s.rec_id, s.item));
      p != kNoIndex && served_[p].rec.rec_id == s.rec_id && served_[p].rec.item == s.item) {
    ++stats_.duplicate_served;
    return;
  }
  const uint64_t key = Key(s.user, s.item);
  bool clicked = false;
  for (uint32_t p = Find(clicks_index_, key); p != kNoIndex && !clicked; p = clicks_[p].next) {
    const ClickRecord& c = clicks_[p].rec;
    clicked = c.ts_micros >= s.ts_micros && c.ts_micros <= s.ts_micros + window_micros_ &&
              (c.rec_id == 0 || c.rec_id == s.rec_id);
  }
  if (served_live_ >= options_.max_served && !served_heap_.empty()) {
    const uint32_t index = served_heap_.front().index;
    std::pop_heap(served_heap_.begin(), served_heap_.end(), kLater);
    served_heap_.pop_back();
    CloseServed(index, out);
    ++stats_.evicted_served;
  }
  InsertServed(s, clicked, seq_++);
  if (clicked) {
    out->push_back({s, 1.0f});
    ++stats_.rewards_one;
  }
}

void RewardJoiner::OnClick(const ClickRecord& c, std::vector<Reward>* out) {
  Observe(c.ts_micros);
  Expire(out);
  if (c.ts_micros + window_micros_ < watermark_micros()) {
    ++stats_.late_clicks;
    return;
  }
  const uint64_t key = Key(c.user, c.item);
  for (uint32_t p = Find(served_index_, key); p != kNoIndex; p = served_[p].next) {
    Served& e = served_[p];
    if (!e.rewarded && c.ts_micros >= e.rec.ts_micros &&
        c.ts_micros <= e.rec.ts_micros + window_micros_ &&
        (c.rec_id == 0 || c.rec_id == e.rec.rec_id)) {
      e.rewarded = true;
      MarkDirty(served_, &served_dirty_, p);
      out->push_back({e.rec, 1.0f});
      ++stats_.rewards_one;
    }
  }
  if (clicks_live_ >= options_.max_clicks && !clicks_heap_.empty()) {
    const uint32_t index = clicks_heap_.front().index;
    std::pop_heap(clicks_heap_.begin(), clicks_heap_.end(), kLater);
    clicks_heap_.pop_back();
    DropClick(index);
    ++stats_.evicted_clicks;
  }
  InsertClick(c, seq_++);
}

void RewardJoiner::Advance(int64_t now_micros, std::vector<Reward>* out) {
  Observe(now_micros);
  Expire(out);
}

void RewardJoiner::Flush(std::vector<Reward>* out) {
  while (!served_heap_.empty()) {
    const uint32_t index = served_heap_.front().index;
    std::pop_heap(served_heap_.begin(), served_heap_.end(), kLater);
    served_heap_.pop_back();
    CloseServed(index, out);
  }
}

template <typename Entry>
void RewardJoiner::MarkDirty(std::vector<Entry>& slab, std::vector<uint32_t>* dirty,
                             uint32_t index) {
  if (!slab[index].dirty) {
    slab[index].dirty = true;
    dirty->push_back(index);
  }
}

template <typename Entry>
void RewardJoiner::MarkStored(std::vector<Entry>& slab, std::vector<uint32_t>* dirty) {
  Entry& e = slab[dirty->back()];  // the entry just inserted
  e.dirty = false;
  e.persisted = true;
  dirty->pop_back();
}

template <typename Entry>
void RewardJoiner::Forget(Entry& e, RecordKind kind) {
  if (e.persisted) closed_.emplace_back(kind, e.seq);
  e.dirty = false;
  e.persisted = false;
}

void RewardJoiner::PutServedRecord(const Served& e, ByteWriter* w) {
  w->PutU8(e.rewarded ? 1 : 0);
  w->PutU64(e.rec.rec_id);
  w->PutU32(e.rec.user);
  w->PutU32(e.rec.item);
  w->PutU32(e.rec.position);
  w->PutF64(e.rec.propensity);
  w->PutI64(e.rec.ts_micros);
}

bool RewardJoiner::GetServedRecord(ByteReader* r, ServedRecord* s, bool* rewarded) {
  uint8_t flag;
  if (!r->GetU8(&flag) || flag > 1 || !r->GetU64(&s->rec_id) || !r->GetU32(&s->user) ||
      !r->GetU32(&s->item) || !r->GetU32(&s->position) || !r->GetF64(&s->propensity) ||
      !r->GetI64(&s->ts_micros)) {
    return false;
  }
  *rewarded = flag != 0;
  return true;
}

void RewardJoiner::PutClickRecord(const Click& e, ByteWriter* w) {
  w->PutU64(e.rec.rec_id);
  w->PutU32(e.rec.user);
  w->PutU32(e.rec.item);
  w->PutI64(e.rec.ts_micros);
}

bool RewardJoiner::GetClickRecord(ByteReader* r, ClickRecord* c) {
  return r->GetU64(&c->rec_id) && r->GetU32(&c->user) && r->GetU32(&c->item) &&
         r->GetI64(&c->ts_micros);
}

void RewardJoiner::SaveHeader(ByteWriter* w) const {
  w->PutHeader(kMagic, kVersion);
  w->PutI64(options_.window_s);
  w->PutI64(newest_micros_);
  w->PutU64(seq_);
  const JoinerStats& st = stats_;
  for (uint64_t v : {st.rewards_one, st.rewards_zero, st.late_served, st.late_clicks,
                     st.duplicate_served, st.evicted_served, st.evicted_clicks}) {
    w->PutU64(v);
  }
}

Status RewardJoiner::LoadHeader(ByteReader* r) {
  uint32_t version;
  STREAMREC_RETURN_IF_ERROR(r->ExpectHeader(kMagic, kVersion, "reward joiner", &version));
  int64_t window_s, newest;
  uint64_t seq;
  JoinerStats st;
  if (!r->GetI64(&window_s) || !r->GetI64(&newest) || !r->GetU64(&seq)) {
    return Status::Corruption("truncated reward joiner");
  }
  for (uint64_t* v : {&st.rewards_one, &st.rewards_zero, &st.late_served, &st.late_clicks,
                      &st.duplicate_served, &st.evicted_served, &st.evicted_clicks}) {
    if (!r->GetU64(v)) return Status::Corruption("truncated reward joiner");
  }
  if (window_s != options_.window_s) {
    return Status::FailedPrecondition("stored reward joiner has another window_s");
  }
  *this = RewardJoiner(options_);
  newest_micros_ = newest;
  seq_ = seq;
  stats_ = st;
  return Status::Ok();
}

Status RewardJoiner::LoadRecord(RecordKind kind, uint64_t seq, ByteReader* r) {
  if (seq >= seq_) return Status::Corruption("reward joiner record ahead of its sequence");
  if (kind == RecordKind::kServed) {
    ServedRecord s;
    bool rewarded;
    if (!GetServedRecord(r, &s, &rewarded)) return Status::Corruption("truncated served record");
    InsertServed(s, rewarded, seq);
    MarkStored(served_, &served_dirty_);
  } else {
    ClickRecord c;
    if (!GetClickRecord(r, &c)) return Status::Corruption("truncated click record");
    InsertClick(c, seq);
    MarkStored(clicks_, &clicks_dirty_);
  }
  return Status::Ok();
}

template <typename Entry, typename PutRecord>
void RewardJoiner::PutDirty(std::vector<Entry>& slab, std::vector<uint32_t>* dirty, RecordKind kind,
                            PutRecord put_record, ChangeSink* sink) {
  for (uint32_t index : *dirty) {
    Entry& e = slab[index];
    if (!e.dirty) continue;  // written already, or closed
    record_.clear();
    ByteWriter w(&record_);
    put_record(e, &w);
    sink->Put(kind, e.seq, record_);
    e.dirty = false;
    e.persisted = true;
  }
  dirty->clear();
}

void RewardJoiner::SaveChanges(ChangeSink* sink) {
  for (const auto& [kind, seq] : closed_) sink->Delete(kind, seq);
  closed_.clear();
  PutDirty(served_, &served_dirty_, RecordKind::kServed, &PutServedRecord, sink);
  PutDirty(clicks_, &clicks_dirty_, RecordKind::kClick, &PutClickRecord, sink);
}

// The live entries of `slab` in sequence order: their count, then (seq, record) each.
template <typename Entry, typename PutRecord>
static void PutLiveInOrder(const std::vector<Entry>& slab, PutRecord put_record, ByteWriter* w) {
  std::vector<const Entry*> live;
  for (const Entry& e : slab)
    if (e.live) live.push_back(&e);
  std::sort(live.begin(), live.end(), [](auto* a, auto* b) { return a->seq < b->seq; });
  w->PutU64(live.size());
  for (const Entry* e : live) {
    w->PutU64(e->seq);
    put_record(*e, w);
  }
}

void RewardJoiner::Save(ByteWriter* w) const {
  SaveHeader(w);
  PutLiveInOrder(served_, &PutServedRecord, w);
  PutLiveInOrder(clicks_, &PutClickRecord, w);
}

Status RewardJoiner::Load(ByteReader* r) {
  STREAMREC_RETURN_IF_ERROR(LoadHeader(r));
  uint64_t n;
  if (!r->GetU64(&n) || n > r->remaining()) return Status::Corruption("bad served count");
  for (uint64_t i = 0; i < n; ++i) {
    ServedRecord s;
    uint64_t es;
    bool rewarded;
    if (!r->GetU64(&es) || !GetServedRecord(r, &s, &rewarded)) {
      return Status::Corruption("truncated served record");
    }
    InsertServed(s, rewarded, es);
  }
  if (!r->GetU64(&n) || n > r->remaining()) return Status::Corruption("bad click count");
  for (uint64_t i = 0; i < n; ++i) {
    ClickRecord c;
    uint64_t es;
    if (!r->GetU64(&es) || !GetClickRecord(r, &c)) {
      return Status::Corruption("truncated click record");
    }
    InsertClick(c, es);
  }
  return Status::Ok();
}

}  // namespace streamrec::bandits
