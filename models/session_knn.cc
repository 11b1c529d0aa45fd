#include "models/session_knn.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "common/topk.h"

namespace streamrec::models {
namespace {
constexpr uint32_t kMagic = Magic("SRSK");
constexpr uint32_t kVersion = 1;
}  // namespace

Status SessionKNNOptions::Apply(const ParamMap& params, ParamMap* effective) {
  ParamReader r(params, effective);
  r.Read("max_sessions", &max_sessions, 1, 100'000'000);
  r.Read("max_len", &max_len, 1, 1000);
  r.Read("neighbors", &neighbors, 1, 100'000);
  r.Read("sample_size", &sample_size, 1, 10'000'000);
  r.Read("position_weights", &position_weights);
  r.Read("normalize", &normalize);
  r.Read("step_decay", &step_decay, 0.0, 1.0);
  r.Read("past_weight", &past_weight, 0.0, 1.0);
  r.Read("pop_weight", &pop_weight, 0.0, 1.0);
  return r.Finish("sknn");
}

SessionKNN::SessionKNN(const SessionKNNOptions& options) : options_(options) {}

void SessionKNN::EnsureItems(uint32_t n) {
  if (n > count_.size()) {
    count_.resize(n, 0);
    postings_.resize(n);
  }
}

bool SessionKNN::Contains(uint32_t slot, ItemIndex item) const {
  for (ItemIndex i : Session(slot)) {
    if (i == item) return true;
  }
  return false;
}

void SessionKNN::RemovePosting(ItemIndex item, uint32_t slot) {
  auto& p = postings_[item];
  auto it = std::find(p.begin(), p.end(), slot);
  if (it == p.end()) return;
  *it = p.back();
  p.pop_back();
}

uint32_t SessionKNN::Find(std::span<const ItemIndex> recent) const {
  uint32_t best = kNoIndex;
  for (uint32_t s : postings_[recent.back()]) {
    if (len_[s] != recent.size() || (best != kNoIndex && stamp_[s] < stamp_[best])) continue;
    const auto stored = Session(s);
    if (std::equal(stored.begin(), stored.end(), recent.begin())) best = s;
  }
  return best;
}

uint32_t SessionKNN::NewSlot() {
  if (len_.size() < options_.max_sessions) {
    len_.push_back(0);
    stamp_.push_back(0);
    items_.resize(len_.size() * static_cast<size_t>(options_.max_len));
    return static_cast<uint32_t>(len_.size() - 1);
  }
  const uint32_t s = head_;
  head_ = (head_ + 1) % options_.max_sessions;
  for (ItemIndex i : Session(s)) RemovePosting(i, s);
  len_[s] = 0;
  return s;
}

void SessionKNN::Append(uint32_t slot, ItemIndex item) {
  ItemIndex* base = items_.data() + static_cast<size_t>(slot) * options_.max_len;
  if (len_[slot] == options_.max_len) {
    const ItemIndex dropped = base[0];
    std::memmove(base, base + 1, (options_.max_len - 1) * sizeof(ItemIndex));
    --len_[slot];
    if (!Contains(slot, dropped)) RemovePosting(dropped, slot);
  }
  if (!Contains(slot, item)) AddPosting(item, slot);
  base[len_[slot]++] = item;
}

void SessionKNN::Observe(UserIndex, std::span<const ItemIndex> recent, ItemIndex next, uint64_t) {
  if (recent.size() > options_.max_len) recent = recent.last(options_.max_len);
  ItemIndex top = next;
  for (ItemIndex r : recent) top = std::max(top, r);
  EnsureItems(top + 1);
  max_count_ = std::max(max_count_, ++count_[next]);
  uint32_t slot = recent.empty() ? kNoIndex : Find(recent);
  if (slot == kNoIndex) {
    slot = NewSlot();
    for (ItemIndex r : recent) Append(slot, r);
  }
  Append(slot, next);
  stamp_[slot] = ++clock_;
}

void SessionKNN::ScoreNext(UserIndex, std::span<const ItemIndex> recent,
                           std::span<float> out) const {
  if (recent.size() > options_.max_len) recent = recent.last(options_.max_len);
  const auto known = static_cast<uint32_t>(std::min<size_t>(out.size(), count_.size()));
  const float pop_scale = max_count_ > 0 ? options_.pop_weight / max_count_ : 0.0f;
  for (uint32_t i = 0; i < known; ++i) {
    out[i] = count_[i] == 0 ? kExcludedScore : pop_scale * static_cast<float>(count_[i]);
  }
  std::fill(out.begin() + known, out.end(), kExcludedScore);
  if (recent.empty() || len_.empty()) return;

  // Per-thread scratch: similarity and membership by slot (reset after use), candidates.
  thread_local std::vector<float> sim;
  thread_local std::vector<uint8_t> in_cand;
  thread_local std::vector<uint32_t> cands;
  if (sim.size() < len_.size()) {
    sim.resize(len_.size(), 0.0f);
    in_cand.resize(len_.size(), 0);
  }
  cands.clear();
  const size_t n = recent.size();
  for (size_t p = 0; p < n; ++p) {
    const ItemIndex item = recent[p];
    if (item >= postings_.size()) continue;
    // Each distinct item once, at its latest position.
    if (std::find(recent.begin() + static_cast<std::ptrdiff_t>(p) + 1, recent.end(), item) !=
        recent.end()) {
      continue;
    }
    const float w =
        options_.position_weights ? static_cast<float>(p + 1) / static_cast<float>(n) : 1.0f;
    for (uint32_t s : postings_[item]) {
      if (!in_cand[s]) {
        in_cand[s] = 1;
        sim[s] = 0.0f;
        cands.push_back(s);
      }
      sim[s] += w;
    }
  }
  for (uint32_t s : cands) in_cand[s] = 0;
  // The most recent sample_size candidates (ties by slot: a total order, so deterministic).
  if (cands.size() > options_.sample_size) {
    std::nth_element(cands.begin(), cands.begin() + options_.sample_size, cands.end(),
                     [&](uint32_t a, uint32_t b) {
                       return stamp_[a] != stamp_[b] ? stamp_[a] > stamp_[b] : a < b;
                     });
    cands.resize(options_.sample_size);
  }
  if (options_.normalize) {
    for (uint32_t s : cands) sim[s] /= std::sqrt(static_cast<float>(len_[s]));
  }
  auto by_sim = [&](uint32_t a, uint32_t b) { return sim[a] != sim[b] ? sim[a] > sim[b] : a < b; };
  if (cands.size() > options_.neighbors) {
    std::nth_element(cands.begin(), cands.begin() + options_.neighbors, cands.end(), by_sim);
    cands.resize(options_.neighbors);
  }
  const ItemIndex newest = recent.back();
  for (uint32_t s : cands) {
    const auto items = Session(s);
    const auto len = static_cast<uint32_t>(items.size());
    uint32_t m = len;  // last position of `newest` in the neighbour; len = absent
    for (uint32_t k = len; k-- > 0;) {
      if (items[k] == newest) {
        m = k;
        break;
      }
    }
    // Positions after m first (the highest weights), then the rest; each item once.
    const uint32_t first = m == len ? 0 : m + 1;
    float w = 1.0f;
    for (uint32_t step = 0; step < len; ++step) {
      const uint32_t k = (first + step) % len;
      const ItemIndex i = items[k];
      const float v = m == len ? 1.0f : (k > m ? w : options_.past_weight);
      if (k > m && m != len) w *= options_.step_decay;
      if (i >= known) continue;
      bool dup = false;
      for (uint32_t prev = 0; prev < step && !dup; ++prev) dup = items[(first + prev) % len] == i;
      if (dup) continue;
      if (out[i] == kExcludedScore) out[i] = 0.0f;
      out[i] += sim[s] * v;
    }
  }
}

void SessionKNN::Save(ByteWriter* w) const {
  w->PutHeader(kMagic, kVersion);
  w->PutU32(options_.max_sessions);
  w->PutU32(options_.max_len);
  w->PutU32(head_);
  w->PutU64(clock_);
  w->PutVarint(len_.size());
  for (uint32_t s = 0; s < len_.size(); ++s) {
    w->PutVarint(stamp_[s]);
    w->PutVarint(len_[s]);
    for (ItemIndex i : Session(s)) w->PutVarint(i);
  }
  w->PutVarint(count_.size());
  for (uint32_t c : count_) w->PutVarint(c);
}

Status SessionKNN::Load(ByteReader* r) {
  uint32_t version, max_sessions, max_len;
  STREAMREC_RETURN_IF_ERROR(r->ExpectHeader(kMagic, kVersion, "sknn model", &version));
  SessionKNN m(options_);
  uint64_t slots, items;
  if (!r->GetU32(&max_sessions) || !r->GetU32(&max_len) || !r->GetU32(&m.head_) ||
      !r->GetU64(&m.clock_) || !r->GetVarint(&slots)) {
    return Status::Corruption("sknn: truncated header");
  }
  if (max_sessions != options_.max_sessions || max_len != options_.max_len) {
    return Status::Corruption("sknn: saved with max_sessions/max_len " +
                              std::to_string(max_sessions) + "/" + std::to_string(max_len) +
                              ", configured " + std::to_string(options_.max_sessions) + "/" +
                              std::to_string(options_.max_len));
  }
  if (slots > max_sessions || m.head_ >= std::max<uint32_t>(max_sessions, 1)) {
    return Status::Corruption("sknn: bad ring");
  }
  m.len_.resize(slots);
  m.stamp_.resize(slots);
  m.items_.resize(slots * max_len);
  for (uint32_t s = 0; s < slots; ++s) {
    uint64_t len;
    if (!r->GetVarint(&m.stamp_[s]) || !r->GetVarint(&len) || len > max_len) {
      return Status::Corruption("sknn: bad session");
    }
    m.len_[s] = static_cast<uint32_t>(len);
    for (uint32_t k = 0; k < len; ++k) {
      uint64_t i;
      if (!r->GetVarint(&i) || i >= kNoIndex) return Status::Corruption("sknn: bad item");
      m.items_[static_cast<size_t>(s) * max_len + k] = static_cast<ItemIndex>(i);
    }
  }
  if (!r->GetVarint(&items) || items >= kNoIndex) return Status::Corruption("sknn: bad counts");
  m.EnsureItems(static_cast<uint32_t>(items));
  for (uint32_t i = 0; i < items; ++i) {
    uint64_t c;
    if (!r->GetVarint(&c) || c > UINT32_MAX) return Status::Corruption("sknn: truncated counts");
    m.count_[i] = static_cast<uint32_t>(c);
    m.max_count_ = std::max(m.max_count_, m.count_[i]);
  }
  for (uint32_t s = 0; s < slots; ++s) {
    const auto session = m.Session(s);
    for (size_t k = 0; k < session.size(); ++k) {
      if (session[k] >= items) return Status::Corruption("sknn: item out of range");
      if (std::find(session.begin(), session.begin() + k, session[k]) == session.begin() + k) {
        m.AddPosting(session[k], s);
      }
    }
  }
  *this = std::move(m);
  return Status::Ok();
}

}  // namespace streamrec::models
