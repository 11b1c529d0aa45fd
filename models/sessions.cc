#include "models/sessions.h"

#include <algorithm>
#include <cstring>

#include "common/rng.h"

namespace streamrec::models {
SessionTracker::SessionTracker(const SessionTrackerOptions& options) : options_(options) {
  options_.max_len = std::max<uint32_t>(options_.max_len, 1);
  options_.max_sessions = std::max<uint32_t>(options_.max_sessions, 1);
}

uint32_t SessionTracker::Lookup(uint64_t key) const {
  static_assert(decltype(table_)::kAbsent == kNil);
  return table_.Find(slots_, key, HashKey32(key));
}

void SessionTracker::Unlink(uint32_t s) {
  Slot& x = slots_[s];
  (x.prev == kNil ? head_ : slots_[x.prev].next) = x.next;
  (x.next == kNil ? tail_ : slots_[x.next].prev) = x.prev;
  x.prev = x.next = kNil;
}

void SessionTracker::LinkTail(uint32_t s) {
  Slot& x = slots_[s];
  x.prev = tail_;
  x.next = kNil;
  (tail_ == kNil ? head_ : slots_[tail_].next) = s;
  tail_ = s;
}

void SessionTracker::MarkDirty(uint32_t s) {
  if (!slots_[s].dirty) {
    slots_[s].dirty = true;
    dirty_.push_back(slots_[s].key);
  }
}

void SessionTracker::SortActivity() {
  unsorted_ = false;
  std::vector<uint32_t> order;
  order.reserve(live_);
  for (uint32_t s = head_; s != kNil; s = slots_[s].next) order.push_back(s);
  std::stable_sort(order.begin(), order.end(),
                   [&](uint32_t a, uint32_t b) { return slots_[a].last_ts < slots_[b].last_ts; });
  head_ = tail_ = kNil;
  for (uint32_t s : order) LinkTail(s);
}

uint32_t SessionTracker::NewSlot(uint64_t key) {
  if (live_ >= options_.max_sessions) {
    if (unsorted_) SortActivity();
    FreeSlot(head_);
  }
  uint32_t s;
  if (!free_.empty()) {
    s = free_.back();
    free_.pop_back();
  } else {
    s = static_cast<uint32_t>(slots_.size());
    slots_.push_back({});
    items_.resize(slots_.size() * 2 * static_cast<size_t>(options_.max_len), 0);
  }
  slots_[s] = Slot{key, 0, 0, 0, kNil, kNil, false};
  table_.InsertNew(HashKey32(key), s);
  ++live_;
  LinkTail(s);
  return s;
}

void SessionTracker::FreeSlot(uint32_t s) {
  const uint64_t key = slots_[s].key;
  table_.Erase(HashKey32(key), s);
  Unlink(s);
  slots_[s].dirty = false;
  erased_.push_back(key);
  free_.push_back(s);
  --live_;
}

bool SessionTracker::Add(uint64_t key, ItemIndex item, int64_t ts_s) {
  return AddAt(Lookup(key), key, item, ts_s);
}

bool SessionTracker::AddAt(uint32_t s, uint64_t key, ItemIndex item, int64_t ts_s) {
  bool fresh = false;
  if (s == kNil) {
    s = NewSlot(key);
    slots_[s].last_ts = ts_s;
    fresh = true;
  } else if (ts_s - slots_[s].last_ts > options_.gap_s) {
    slots_[s].begin = slots_[s].len = 0;
    slots_[s].last_ts = ts_s;
    fresh = true;
  }
  Slot& x = slots_[s];
  ItemIndex* items = Items(s);
  if (x.begin + x.len == 2 * options_.max_len) {
    std::memmove(items, items + x.begin, x.len * sizeof(ItemIndex));
    x.begin = 0;
  }
  items[x.begin + x.len] = item;
  if (x.len == options_.max_len) {
    ++x.begin;
  } else {
    ++x.len;
  }
  x.last_ts = std::max(x.last_ts, ts_s);
  if (tail_ != s) {
    Unlink(s);
    LinkTail(s);
  }
  MarkDirty(s);
  return fresh;
}

std::span<const ItemIndex> SessionTracker::Recent(uint64_t key) const {
  const uint32_t s = Lookup(key);
  if (s == kNil) return {};
  return {Items(s) + slots_[s].begin, slots_[s].len};
}

std::span<const ItemIndex> SessionTracker::RecentAt(uint64_t key, int64_t now_s) const {
  const uint32_t s = Lookup(key);
  if (s == kNil || now_s - slots_[s].last_ts > options_.gap_s) return {};
  return {Items(s) + slots_[s].begin, slots_[s].len};
}

int64_t SessionTracker::LastSeen(uint64_t key) const {
  const uint32_t s = Lookup(key);
  return s == kNil ? -1 : slots_[s].last_ts;
}

bool SessionTracker::Erase(uint64_t key) {
  const uint32_t s = Lookup(key);
  if (s == kNil) return false;
  FreeSlot(s);
  return true;
}

size_t SessionTracker::Expire(int64_t now_s) {
  if (unsorted_) SortActivity();
  size_t n = 0;
  while (head_ != kNil && slots_[head_].last_ts < now_s - options_.ttl_s) {
    FreeSlot(head_);
    ++n;
  }
  return n;
}

void SessionTracker::SaveSession(uint64_t key, ByteWriter* w) const {
  const uint32_t s = Lookup(key);
  if (s == kNil) return;
  w->PutI64(slots_[s].last_ts);
  w->PutVarint(slots_[s].len);
  const ItemIndex* items = Items(s) + slots_[s].begin;
  for (uint32_t k = 0; k < slots_[s].len; ++k) w->PutVarint(items[k]);
}

Status SessionTracker::LoadSession(uint64_t key, ByteReader* r) {
  int64_t ts;
  uint64_t len;
  if (!r->GetI64(&ts) || !r->GetVarint(&len) || len > (uint64_t{1} << 20)) {
    return Status::Corruption("session record: bad header");
  }
  uint32_t s = Lookup(key);
  if (s == kNil) s = NewSlot(key);
  Slot& x = slots_[s];
  x.begin = x.len = 0;
  x.last_ts = ts;
  ItemIndex* items = Items(s);
  for (uint64_t k = 0; k < len; ++k) {
    uint64_t item;
    if (!r->GetVarint(&item) || item >= kNoIndex) {
      Erase(key);
      return Status::Corruption("session record: bad item");
    }
    // Keep the last max_len (a record written under a larger max_len).
    const uint64_t skip = len > options_.max_len ? len - options_.max_len : 0;
    if (k >= skip) items[x.len++] = static_cast<ItemIndex>(item);
  }
  if (tail_ != s) {
    Unlink(s);
    LinkTail(s);
  }
  unsorted_ = true;
  return Status::Ok();
}

void SessionTracker::TakeDirty(std::vector<uint64_t>* changed, std::vector<uint64_t>* erased) {
  const size_t c0 = changed->size(), e0 = erased->size();
  for (uint64_t key : dirty_) {
    const uint32_t s = Lookup(key);
    if (s != kNil && slots_[s].dirty) {
      slots_[s].dirty = false;
      changed->push_back(key);
    }
  }
  for (uint64_t key : erased_) {
    if (Lookup(key) == kNil) erased->push_back(key);
  }
  dirty_.clear();
  erased_.clear();
  std::sort(changed->begin() + static_cast<std::ptrdiff_t>(c0), changed->end());
  std::sort(erased->begin() + static_cast<std::ptrdiff_t>(e0), erased->end());
  erased->erase(std::unique(erased->begin() + static_cast<std::ptrdiff_t>(e0), erased->end()),
                erased->end());
}

}  // namespace streamrec::models
