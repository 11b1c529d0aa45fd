#include "daemon/ranker.h"

#include <algorithm>
#include <cmath>

#include "common/topk.h"
#include "models/kernels.h"

namespace streamrec::daemon {
namespace {

// Per-thread scratch of the readers: one score per item (two vectors: the session model's
// scores, and BPR's).
std::vector<float>& Scratch(size_t n) {
  thread_local std::vector<float> scores;
  scores.resize(n);
  return scores;
}
std::vector<float>& LongTermScratch(size_t n) {
  thread_local std::vector<float> scores;
  scores.resize(n);
  return scores;
}

// Candidates taken from the approximate (int8) scores before the exact rescoring keeps k: the
// margin absorbs the quantization (each element within max|row| / 254; a score's error is well
// under 1% of the spread of scores), under which a top-k item would have to fall below twice as
// many others to be lost.
size_t CandidatesFor(uint32_t k) { return 2 * static_cast<size_t>(k) + 32; }

// Counts a Recommend in flight for the lanes (WritePath::BetweenRuns) while it lives.
class InFlight {
 public:
  explicit InFlight(std::atomic<int>& n) : n_(n) { n_.fetch_add(1, std::memory_order_relaxed); }
  ~InFlight() { n_.fetch_sub(1, std::memory_order_relaxed); }

 private:
  std::atomic<int>& n_;
};

}  // namespace

void Ranker::Collect(std::vector<float>& scores, uint32_t k, const char* source,
                     std::vector<ScoredId>* out) const {
  thread_local std::vector<ScoredItem> top;
  TopK(scores, k, &top);
  out->clear();
  out->reserve(top.size());
  for (const ScoredItem& s : top) out->push_back({m_.items.Name(s.index), s.score, source});
}

void Ranker::Recommend(std::string_view user, std::string_view session, uint32_t k,
                       bool exclude_seen, std::vector<ScoredId>* out, uint32_t explore,
                       uint64_t seed) const {
  thread_local RankInputs in;
  thread_local std::vector<Candidate> ranked;
  const InFlight in_flight(m_.requests);
  double waited = 0;
  double* const wait = lock_wait_ != nullptr ? &waited : nullptr;
  ReadLock l(m_.lock, wait);  // in the order of live_model.h
  ReadLock lb(m_.bpr_lock, wait);
  ReadLock ls(m_.session_lock, wait);
  if (Gather(user, session, exclude_seen, &in)) {
    ls.Unlock();  // the catalog-wide passes read the snapshot
    lb.Unlock();
    l.Unlock();
    models::BlendCoefficients blend;
    RankSnapshot(in, CandidatesFor(k), &blend, &ranked);
    l.Lock();
    lb.Lock();
    ls.Lock();
    Rescore(in, blend, k, &ranked);
  } else {
    RankLocked(in, k, &ranked);
  }
  if (lock_wait_ != nullptr) lock_wait_->Observe(waited);
  out->clear();
  out->reserve(ranked.size());
  for (const Candidate& c : ranked) out->push_back({m_.items.Name(c.index), c.score, c.source});
  if (!m_.explore || explore == 0) return;
  explore = std::min(explore, k);
  // The exploration slots take the last places: pool items neither seen (when excluded) nor
  // in the ranked list. When the pool has fewer, ranked items keep their places.
  thread_local std::vector<ItemIndex> exclude;
  thread_local std::vector<bandits::ExploreSlot> slots;
  exclude.assign(in.excluded.begin(), in.excluded.end());
  for (const Candidate& c : ranked) exclude.push_back(c.index);
  slots.clear();
  std::span<const float> embedding;
  const models::EmbeddingTable& users = m_.bpr->users();
  if (in.user != kNoIndex && in.user < users.rows()) embedding = {users.Row(in.user), users.dim()};
  m_.explore->Select(embedding, explore, exclude, seed, &slots);
  out->resize(std::min<size_t>(out->size(), k - slots.size()));
  for (const bandits::ExploreSlot& x : slots) {
    ScoredId id{m_.items.Name(x.item), x.score, m_.explore->source()};
    id.propensity = x.propensity;
    out->push_back(std::move(id));
  }
}

ExplorationStats Ranker::BanditStats() const {
  ReadLock lb(m_.bpr_lock);
  return m_.explore ? m_.explore->Stats() : ExplorationStats();
}

bool Ranker::KnowsUser(std::string_view user) const {
  ReadLock l(m_.lock);
  return m_.users.Find(user) != kNoIndex;
}

bool Ranker::KnowsItem(std::string_view item) const {
  ReadLock l(m_.lock);
  return m_.items.Find(item) != kNoIndex;
}

bool Ranker::Gather(std::string_view user, std::string_view session, bool exclude_seen,
                    RankInputs* in) const {
  in->items = m_.items.size();
  in->user = user.empty() ? kNoIndex : m_.users.Find(user);
  const UserIndex u = in->user;
  in->has_bpr = u != kNoIndex && u < m_.bpr->users().rows();
  in->recent.clear();
  in->repeats.clear();
  in->excluded.clear();
  if (m_.sessions->model() != nullptr) {
    const std::span<const ItemIndex> recent = !session.empty()
                                                  ? m_.sessions->ExplicitRecent(session)
                                              : u != kNoIndex ? m_.sessions->ImplicitRecent(u)
                                                              : std::span<const ItemIndex>();
    in->recent.assign(recent.begin(), recent.end());
  }
  if (exclude_seen) {
    if (u != kNoIndex) {
      const auto seen = m_.history.Items(u);
      in->excluded.assign(seen.begin(), seen.end());
    }
    in->excluded.insert(in->excluded.end(), in->recent.begin(), in->recent.end());
  }
  const bool has_session = !in->recent.empty();
  if (!m_.snapshot) return false;
  if (!has_session && !in->has_bpr) return false;  // popularity: cheap, and not in a snapshot
  if (has_session && m_.embedding_model == nullptr) return false;  // session-kNN: not linear
  // Percentiles need every exact score.
  if (has_session && in->has_bpr && m_.config.session.blend == "rank") return false;
  if (in->has_bpr) {
    const models::EmbeddingTable& p = m_.bpr->users();
    in->user_row.assign(p.Row(u), p.Row(u) + p.stride());
  }
  if (has_session) {
    const models::SessionHead& head = m_.embedding_model->head();
    in->query.resize(head.stride());
    m_.embedding_model->Query(u == kNoIndex ? models::kNoUser : u, in->recent, in->query.data());
    for (ItemIndex j : in->recent) {
      const bool listed = std::any_of(in->repeats.begin(), in->repeats.end(),
                                      [j](const auto& r) { return r.first == j; });
      if (!listed) in->repeats.emplace_back(j, head.Repeat(j, in->recent));
    }
  }
  return true;
}

void Ranker::Select(const RankInputs& in, std::vector<float>* session_scores,
                    std::vector<float>* bpr_scores, size_t want, models::BlendCoefficients* blend,
                    std::vector<Candidate>* out, const models::ScoreSums* session_sums,
                    const models::ScoreSums* bpr_sums) const {
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
  std::vector<float>& scores = *session_scores;
  const std::vector<float>& long_term = *bpr_scores;
  const bool rank = m_.config.session.blend == "rank";
  if (rank) {
    models::RankPercentiles(scores);
    models::RankPercentiles(*bpr_scores);
  }
  const bool given = !rank && session_sums != nullptr && bpr_sums != nullptr;
  *blend = models::ZBlend(given ? *session_sums : models::SumsOf(scores),
                          given ? *bpr_sums : models::SumsOf(long_term),
                          static_cast<float>(m_.config.session.weight));
  models::BlendInto(*blend, scores, long_term);
  exclude(scores);
  TopK(scores, want, &top);
  for (const ScoredItem& t : top) {
    out->push_back({t.index, t.score, blend->Source(t.score, long_term[t.index])});
  }
}

void Ranker::RankLocked(const RankInputs& in, uint32_t k, std::vector<Candidate>* out) const {
  std::vector<float>& scores = Scratch(in.items);
  if (in.recent.empty() && !in.has_bpr) {
    m_.pop->ScoreItems(0, m_.history, scores);
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
    m_.sessions->model()->ScoreNext(in.user == kNoIndex ? models::kNoUser : in.user, in.recent,
                                    scores);
    session_scores = &scores;
  }
  if (in.has_bpr) {
    std::vector<float>& long_term = LongTermScratch(in.items);
    m_.bpr->ScoreItems(in.user, m_.history, long_term);
    bpr_scores = &long_term;
  }
  models::BlendCoefficients blend;
  Select(in, session_scores, bpr_scores, k, &blend, out);
}

void Ranker::RankSnapshot(const RankInputs& in, size_t want, models::BlendCoefficients* blend,
                          std::vector<Candidate>* out) const {
  const auto side = m_.snapshot->Read();
  std::vector<float>* session_scores = nullptr;
  std::vector<float>* bpr_scores = nullptr;
  // The blend's sums come with the passes (no second pass over the scores); the repeat
  // bonuses move a few session scores after theirs.
  models::ScoreSums session_sums, bpr_sums;
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

void Ranker::Rescore(const RankInputs& in, const models::BlendCoefficients& blend, uint32_t k,
                     std::vector<Candidate>* candidates) const {
  const bool has_session = !in.recent.empty();
  const uint32_t bpr_rows = m_.bpr->items().rows();
  for (Candidate& c : *candidates) {
    const float b = !in.has_bpr          ? 0.0f
                    : c.index < bpr_rows ? m_.bpr->ScoreItem(in.user_row.data(), c.index)
                                         : kExcludedScore;
    if (!has_session) {
      c.score = b;
      continue;
    }
    const float s = m_.embedding_model->head().ScoreOne(in.query.data(), in.recent, c.index);
    if (!in.has_bpr) {
      c.score = s;
      continue;
    }
    c.score = blend.Blend(s, b);
    if (c.score != kExcludedScore) c.source = blend.Source(c.score, b);
  }
  std::erase_if(*candidates, [](const Candidate& c) { return c.score == kExcludedScore; });
  std::sort(candidates->begin(), candidates->end(), [](const Candidate& a, const Candidate& b) {
    return a.score != b.score ? a.score > b.score : a.index < b.index;
  });
  if (candidates->size() > k) candidates->resize(k);
}

Status Ranker::Next(const std::string& item, uint32_t k, std::vector<ScoredId>* out) const {
  ReadLock l(m_.lock);
  ReadLock ls(m_.session_lock);
  const models::SessionModel* sm = m_.sessions->model();
  if (sm == nullptr) return Status::Unavailable("no session model configured (session.model)");
  const ItemIndex i = m_.items.Find(item);
  if (i == kNoIndex) return Status::NotFound("unknown item '" + item + "'");
  std::vector<float>& scores = Scratch(m_.items.size());
  const ItemIndex recent[] = {i};
  sm->ScoreNext(models::kNoUser, recent, scores);
  scores[i] = kExcludedScore;
  Collect(scores, k, "session", out);
  return Status::Ok();
}

Status Ranker::Similar(const std::string& item, uint32_t k, std::vector<ScoredId>* out) const {
  ReadLock l(m_.lock);
  ReadLock lb(m_.bpr_lock);
  const ItemIndex i = m_.items.Find(item);
  const models::EmbeddingTable& q = m_.bpr->items();
  if (i == kNoIndex || i >= q.rows()) return Status::NotFound("unknown item '" + item + "'");
  std::vector<float>& scores = Scratch(m_.items.size());
  std::fill(scores.begin(), scores.end(), kExcludedScore);
  const float* qi = q.Row(i);
  const float norm_i = std::sqrt(models::Dot(qi, qi, q.stride()));
  for (uint32_t j = 0; j < q.rows(); ++j) {
    const float* qj = q.Row(j);
    const float denom = norm_i * std::sqrt(models::Dot(qj, qj, q.stride()));
    scores[j] = denom > 0.0f ? models::Dot(qi, qj, q.stride()) / denom : 0.0f;
  }
  scores[i] = kExcludedScore;
  Collect(scores, k, "bpr", out);
  return Status::Ok();
}

void Ranker::Popular(uint32_t k, std::vector<ScoredId>* out) const {
  ReadLock l(m_.lock);
  ReadLock lb(m_.bpr_lock);
  std::vector<float>& scores = Scratch(m_.items.size());
  m_.pop->ScoreItems(0, m_.history, scores);
  Collect(scores, k, "popular", out);
}

PredictResult Ranker::Predict(const std::string& user, const std::string& item) const {
  ReadLock l(m_.lock);
  const UserIndex u = m_.users.Find(user);
  const ItemIndex i = m_.items.Find(item);
  PredictResult r;
  r.rating = m_.mf->PredictRating(u, i);
  r.known =
      u != kNoIndex && i != kNoIndex && u < m_.mf->users().rows() && i < m_.mf->items().rows();
  return r;
}

ModelSizes Ranker::Sizes() const {
  ReadLock l(m_.lock);
  ReadLock lb(m_.bpr_lock);
  ReadLock ls(m_.session_lock);
  return {m_.users.live(), m_.items.live(), m_.history.total(),
          m_.events_published.load(std::memory_order_acquire), m_.sessions->live()};
}

}  // namespace streamrec::daemon
