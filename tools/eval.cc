#include "tools/eval.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <numeric>

#include "common/exit_code.h"
#include "common/rng.h"
#include "common/topk.h"
#include "models/metrics.h"
#include "models/recommender.h"
#include "models/session_model.h"
#include "models/user_history.h"
#include "tools/bandit_eval.h"
#include "tools/commands.h"

namespace fs = std::filesystem;

namespace streamrec::tools {
namespace {

using Clock = std::chrono::steady_clock;
double SecondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Tuned defaults per (model, protocol): passes over the training events and hyper-parameters
// that differ from the model's own defaults (which are tuned for streaming, one pass). Flags
// override both. docs/EVAL.md records the grids (scripts/tune.sh) that chose them.
struct Tuned {
  uint32_t epochs;
  models::ParamMap params;
};
Tuned TunedDefaults(const std::string& model, const std::string& protocol) {
  static const std::map<std::pair<std::string, std::string>, Tuned> kTuned = {
      {{"mf", "rating-cv"}, {40, {{"dim", 128}}}},
      {{"mf", "ranking-split"}, {40, {}}},
      {{"bpr", "ranking-split"}, {60, {{"dim", 128}, {"lr", 0.01}, {"negatives", 5}}}},
      {{"bpr", "prequential"}, {1, {{"dim", 128}, {"negatives", 20}}}},
      {{"bpr", "loo-sampled"}, {20, {{"lr", 0.02}, {"negatives", 5}}}},
      // Session models (docs/EVAL.md, "Session models").
      {{"fpmc", "session-next"},
       {40,
        {{"dim", 128},
         {"decay", 0.3},
         {"lr", 0.05},
         {"reg", 0.002},
         {"max_len", 10},
         {"pop_negatives", 1},
         {"pop_exponent", 0.4}}}},
      {{"fpmc", "loo-sampled"}, {10, {}}},
      {{"sasrec-lite", "session-next"}, {20, {}}},
      {{"sasrec-lite", "loo-sampled"}, {10, {}}},
  };
  auto it = kTuned.find({model, protocol});
  return it == kTuned.end() ? Tuned{1, {}} : it->second;
}

// Rounds a float-held value to the 7 significant digits a float carries, for reporting.
double Float7(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.7g", v);
  return std::strtod(buf, nullptr);
}

// Everything a protocol needs to build and train a model.
class Runner {
 public:
  explicit Runner(const EvalOptions& o) : o_(o) {}

  Result<std::unique_ptr<models::Recommender>> NewModel() {
    effective_.clear();
    models::ParamMap params = TunedDefaults(o_.model, o_.protocol).params;
    for (const auto& [name, value] : o_.params) params[name] = value;
    return models::MakeRecommender(o_.model, params, &effective_);
  }

  Result<std::unique_ptr<models::SessionModel>> NewSessionModel() {
    effective_.clear();
    models::ParamMap params = TunedDefaults(o_.model, o_.protocol).params;
    for (const auto& [name, value] : o_.params) params[name] = value;
    return models::MakeSessionModel(o_.model, params, &effective_);
  }

  // `epochs` passes of one Observe per (sequence, position) pair: the transition from the
  // sequence's items before `position` (at most the model's max_len) to the item at `position`.
  // Shuffled per pass when `shuffle`, else in the given order; with `last_in_order` the last of
  // several passes keeps the given (time) order, the freshest transitions last (+0.002
  // recall@20 on Yoochoose). `user_of(s)` is the user of
  // sequence s (kNoUser for anonymous sessions).
  template <typename UserOf>
  void TrainSessions(models::SessionModel& m, const std::vector<std::vector<ItemIndex>>& seqs,
                     UserOf user_of, uint32_t epochs, bool shuffle, bool last_in_order = false) {
    std::vector<std::pair<uint32_t, uint32_t>> pairs;
    for (uint32_t s = 0; s < seqs.size(); ++s) {
      for (uint32_t t = 0; t < seqs[s].size(); ++t) pairs.emplace_back(s, t);
    }
    const uint32_t L = m.max_len();
    const std::vector<std::pair<uint32_t, uint32_t>> in_order = pairs;
    for (uint32_t e = 0; e < epochs; ++e) {
      if (shuffle && last_in_order && e + 1 == epochs && epochs > 1) {
        pairs = in_order;  // the last pass in time order: the freshest transitions last
      } else if (shuffle) {
        Rng rng(SeedFor(o_.seed, 0x5u, e));
        for (size_t i = pairs.size(); i > 1; --i) {
          std::swap(pairs[i - 1], pairs[rng.Uniform(static_cast<uint32_t>(i))]);
        }
      }
      const auto t0 = Clock::now();
      for (size_t idx = 0; idx < pairs.size(); ++idx) {
        const auto [s, t] = pairs[idx];
        std::span<const ItemIndex> seq(seqs[s]);
        const uint32_t from = t > L ? t - L : 0;
        m.Observe(user_of(s), seq.subspan(from, t - from), seq[t],
                  SeedFor(o_.seed, e + 1, (uint64_t{s} << 32) | t));
      }
      const double secs = SecondsSince(t0);
      train_seconds_ += secs;
      updates_ += static_cast<double>(pairs.size());
      if (o_.progress) {
        std::fprintf(stderr, "\r[eval] %s epoch %u/%u  %.0f events/s   ", m.name().data(), e + 1,
                     epochs, static_cast<double>(pairs.size()) / std::max(secs, 1e-9));
      }
    }
    if (o_.progress && epochs > 0) std::fprintf(stderr, "\n");
  }

  // `epochs` passes of one Observe per event over `events` (shuffled per pass when `shuffle`);
  // records each event in `history` after its update. Event seeds come from (seed, epoch, index).
  void Train(models::Recommender& m, models::UserHistory& history,
             std::span<const Interaction> events, uint32_t epochs, bool shuffle) {
    std::vector<uint32_t> order(events.size());
    std::iota(order.begin(), order.end(), 0u);
    for (uint32_t e = 0; e < epochs; ++e) {
      if (shuffle) {
        Rng rng(SeedFor(o_.seed, 0x5u, e));
        for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.Uniform(i)]);
      }
      const auto t0 = Clock::now();
      for (uint32_t idx : order) {
        const Interaction& x = events[idx];
        m.Observe(x, history, SeedFor(o_.seed, e + 1, idx));
        history.Add(x.user, x.item);
      }
      const double s = SecondsSince(t0);
      train_seconds_ += s;
      updates_ += events.size();
      if (o_.progress) {
        std::fprintf(stderr, "\r[eval] %s epoch %u/%u  %.0f events/s   ", m.name().data(), e + 1,
                     epochs, static_cast<double>(events.size()) / std::max(s, 1e-9));
      }
    }
    if (o_.progress && epochs > 0) std::fprintf(stderr, "\n");
  }

  // Top-k of `user` with the user's history excluded; `scores` is scratch sized to the catalog.
  void RankUnseen(const models::Recommender& m, const models::UserHistory& history, UserIndex user,
                  std::vector<float>& scores, std::vector<ScoredItem>& top,
                  std::vector<ItemIndex>& ranked) const {
    m.ScoreItems(user, history, scores);
    for (ItemIndex i : history.Items(user)) scores[i] = kExcludedScore;
    TopK(scores, o_.k, &top);
    ranked.clear();
    for (const auto& s : top) ranked.push_back(s.index);
  }

  nlohmann::json Report(const std::string& data_path, DataFormat format, nlohmann::json metrics,
                        uint32_t epochs) const {
    nlohmann::json params = nlohmann::json::object();
    for (const auto& [name, value] : effective_) params[name] = Float7(value);
    params["epochs"] = epochs;
    params["seed"] = o_.seed;
    if (o_.protocol == "session-next") params["online"] = o_.online;
    nlohmann::json j;
    j["protocol"] = o_.protocol;
    j["data"] = fs::path(data_path).filename().string();
    j["format"] = DataFormatName(format);
    j["model"] = o_.model;
    j["params"] = params;
    j["metrics"] = std::move(metrics);
    j["events_per_s"] = train_seconds_ > 0 ? std::round(updates_ / train_seconds_) : 0.0;
    return j;
  }

  const EvalOptions& o_;
  models::ParamMap effective_;
  double train_seconds_ = 0.0;
  double updates_ = 0.0;
};

// rating-cv: MovieLens u1..u5 base/test folds; mean RMSE and MAE of the predicted ratings.
Result<nlohmann::json> RunRatingCv(Runner& run, const std::string& dir, uint32_t epochs) {
  models::Mean rmse, mae;
  nlohmann::json folds = nlohmann::json::array();
  for (int fold = 1; fold <= 5; ++fold) {
    const std::string base = (fs::path(dir) / ("u" + std::to_string(fold) + ".base")).string();
    const std::string test = (fs::path(dir) / ("u" + std::to_string(fold) + ".test")).string();
    Dataset ds;
    STREAMREC_RETURN_IF_ERROR(LoadMovieLens(base, &ds));
    const size_t n_train = ds.events.size();
    STREAMREC_RETURN_IF_ERROR(LoadMovieLens(test, &ds));
    auto model = run.NewModel();
    if (!model.ok()) return model.status();
    models::UserHistory history;
    std::span<const Interaction> all(ds.events);
    run.Train(**model, history, all.subspan(0, n_train), epochs, /*shuffle=*/true);
    models::ErrorStats err;
    for (const Interaction& x : all.subspan(n_train)) {
      const float p = (*model)->PredictRating(x.user, x.item);
      if (std::isnan(p)) {
        return Status::InvalidArgument("rating-cv needs a model that predicts ratings (mf)");
      }
      err.Add(p, x.value);
    }
    rmse.Add(err.rmse());
    mae.Add(err.mae());
    folds.push_back({{"fold", fold}, {"rmse", err.rmse()}, {"mae", err.mae()}});
  }
  return nlohmann::json{{"rmse", rmse.value()}, {"mae", mae.value()}, {"folds", folds}};
}

// ranking-split: per-user stratified random split (train_ratio to training); rank every item
// not seen in training; NDCG, precision, recall and MAP at k, averaged over test users.
Result<nlohmann::json> RunRankingSplit(Runner& run, const Dataset& ds, uint32_t epochs) {
  const EvalOptions& o = run.o_;
  std::vector<std::vector<uint32_t>> by_user(ds.users.size());
  for (uint32_t i = 0; i < ds.events.size(); ++i) by_user[ds.events[i].user].push_back(i);
  std::vector<Interaction> train;
  std::vector<std::vector<ItemIndex>> test(ds.users.size());
  for (UserIndex u = 0; u < by_user.size(); ++u) {
    auto& idx = by_user[u];
    Rng rng(SeedFor(o.seed, 0x11u, u));
    for (size_t i = idx.size(); i > 1; --i) std::swap(idx[i - 1], idx[rng.Uniform(i)]);
    const auto n_train = static_cast<size_t>(std::lround(o.train_ratio * idx.size()));
    for (size_t k = 0; k < idx.size(); ++k) {
      const Interaction& x = ds.events[idx[k]];
      if (k < n_train) {
        train.push_back(x);
      } else {
        test[u].push_back(x.item);
      }
    }
  }
  auto model = run.NewModel();
  if (!model.ok()) return model.status();
  models::UserHistory history;
  run.Train(**model, history, train, epochs, /*shuffle=*/true);

  models::Mean ndcg, prec, rec, map;
  std::vector<float> scores(ds.items.size());
  std::vector<ScoredItem> top;
  std::vector<ItemIndex> ranked;
  for (UserIndex u = 0; u < test.size(); ++u) {
    if (test[u].empty()) continue;
    const models::ItemSet relevant(test[u].begin(), test[u].end());
    run.RankUnseen(**model, history, u, scores, top, ranked);
    ndcg.Add(models::NdcgAtK(ranked, relevant, o.k));
    prec.Add(models::PrecisionAtK(ranked, relevant, o.k));
    rec.Add(models::RecallAtK(ranked, relevant, o.k));
    map.Add(models::AveragePrecisionAtK(ranked, relevant, o.k));
  }
  const std::string k = "@" + std::to_string(o.k);
  return nlohmann::json{{"ndcg" + k, ndcg.value()},
                        {"precision" + k, prec.value()},
                        {"recall" + k, rec.value()},
                        {"map" + k, map.value()},
                        {"users", ndcg.count()}};
}

// prequential: events in time order; before each update, rank the top-k unseen items for the
// user (HR, NDCG, MRR of the event's item when the user had not seen it) and predict the rating.
Result<nlohmann::json> RunPrequential(Runner& run, Dataset& ds) {
  const EvalOptions& o = run.o_;
  std::stable_sort(
      ds.events.begin(), ds.events.end(),
      [](const Interaction& a, const Interaction& b) { return a.ts_seconds < b.ts_seconds; });
  auto model = run.NewModel();
  if (!model.ok()) return model.status();
  models::Recommender& m = **model;
  models::UserHistory history;
  models::Mean hr, ndcg, mrr;
  models::ErrorStats err;
  std::vector<float> scores(ds.items.size());
  std::vector<ScoredItem> top;
  std::vector<ItemIndex> ranked;
  const auto t0 = Clock::now();
  double train_s = 0.0;
  for (uint32_t idx = 0; idx < ds.events.size(); ++idx) {
    const Interaction& x = ds.events[idx];
    if (!history.Contains(x.user, x.item)) {
      run.RankUnseen(m, history, x.user, scores, top, ranked);
      hr.Add(models::HitAtK(ranked, x.item, o.k));
      mrr.Add(models::ReciprocalRankAtK(ranked, x.item, o.k));
      auto pos = std::find(ranked.begin(), ranked.end(), x.item);
      ndcg.Add(models::SingleNdcg(static_cast<size_t>(pos - ranked.begin()), o.k));
    }
    if (x.is_rating) {
      const float p = m.PredictRating(x.user, x.item);
      if (!std::isnan(p)) err.Add(p, x.value);
    }
    const auto t1 = Clock::now();
    m.Observe(x, history, SeedFor(o.seed, 1, idx));
    train_s += SecondsSince(t1);
    history.Add(x.user, x.item);
    if (o.progress && (idx + 1) % 20000 == 0) {
      std::fprintf(stderr,
                   "\r[eval] prequential %u/%zu  HR@%u %.4f  NDCG@%u %.4f  %.0f events/s   ",
                   idx + 1, ds.events.size(), o.k, hr.value(), o.k, ndcg.value(),
                   (idx + 1) / SecondsSince(t0));
    }
  }
  if (o.progress) std::fprintf(stderr, "\n");
  run.train_seconds_ = train_s;
  run.updates_ = static_cast<double>(ds.events.size());
  const std::string k = "@" + std::to_string(o.k);
  nlohmann::json metrics = {{"hr" + k, hr.value()},
                            {"ndcg" + k, ndcg.value()},
                            {"mrr" + k, mrr.value()},
                            {"evaluated", hr.count()}};
  if (err.count() > 0) {
    metrics["rmse"] = err.rmse();
    metrics["mae"] = err.mae();
  }
  return metrics;
}

// loo-sampled (SASRec): per user, last item = test, second last = validation (here trained on,
// as the input the sequence models see); rank the test item against `sampled_negatives` random
// items the user never interacted with; HR and NDCG at k over up to max_users sampled users.
Result<nlohmann::json> RunLooSampled(Runner& run, const Dataset& ds, uint32_t epochs) {
  const EvalOptions& o = run.o_;
  std::vector<std::vector<uint32_t>> by_user(ds.users.size());
  for (uint32_t i = 0; i < ds.events.size(); ++i) by_user[ds.events[i].user].push_back(i);
  std::vector<Interaction> train;
  std::vector<UserIndex> eligible;
  for (UserIndex u = 0; u < by_user.size(); ++u) {
    auto& idx = by_user[u];
    std::stable_sort(idx.begin(), idx.end(), [&](uint32_t a, uint32_t b) {
      return ds.events[a].ts_seconds < ds.events[b].ts_seconds;
    });
    const bool has_test = idx.size() >= 3;
    if (has_test) eligible.push_back(u);
    for (size_t k = 0; k + (has_test ? 1 : 0) < idx.size(); ++k) train.push_back(ds.events[idx[k]]);
  }
  Rng pick(SeedFor(o.seed, 0x22u));
  if (eligible.size() > o.max_users) {
    for (size_t i = 0; i < o.max_users; ++i) {
      std::swap(eligible[i],
                eligible[i + pick.Uniform(static_cast<uint32_t>(eligible.size() - i))]);
    }
    eligible.resize(o.max_users);
  }
  // Session models: each user's time-ordered training items are one sequence, trained on its
  // (prefix -> next) pairs; the test item is scored after the last max_len of them (training
  // and validation items). Others: the interactions, shuffled per epoch.
  std::unique_ptr<models::Recommender> model;
  std::unique_ptr<models::SessionModel> session_model;
  models::UserHistory history;
  std::vector<std::vector<ItemIndex>> seqs;
  if (models::IsSessionModel(o.model)) {
    auto m = run.NewSessionModel();
    if (!m.ok()) return m.status();
    session_model = std::move(*m);
    seqs.resize(by_user.size());
    for (const Interaction& x : train) seqs[x.user].push_back(x.item);  // train is user-grouped
    run.TrainSessions(
        *session_model, seqs, [](uint32_t s) { return static_cast<UserIndex>(s); }, epochs,
        /*shuffle=*/true);
  } else {
    auto m = run.NewModel();
    if (!m.ok()) return m.status();
    model = std::move(*m);
    run.Train(*model, history, train, epochs, /*shuffle=*/true);
  }

  const auto n_items = static_cast<uint32_t>(ds.items.size());
  models::Mean hr, ndcg;
  std::vector<float> scores(n_items);
  std::vector<ItemIndex> seen;
  for (UserIndex u : eligible) {
    const ItemIndex target = ds.events[by_user[u].back()].item;
    seen.clear();
    for (uint32_t e : by_user[u]) seen.push_back(ds.events[e].item);
    std::sort(seen.begin(), seen.end());
    if (session_model) {
      session_model->ScoreNext(u, seqs[u], scores);
    } else {
      model->ScoreItems(u, history, scores);
    }
    const float s_target = scores[target];
    Rng rng(SeedFor(o.seed, 0x33u, u));
    size_t rank = 0;  // negatives scoring at least as high as the target (ties count against)
    for (uint32_t n = 0; n < o.sampled_negatives; ++n) {
      ItemIndex j;
      do {
        j = rng.Uniform(n_items);
      } while (std::binary_search(seen.begin(), seen.end(), j));
      if (scores[j] >= s_target) ++rank;
    }
    hr.Add(rank < o.k ? 1.0 : 0.0);
    ndcg.Add(models::SingleNdcg(rank, o.k));
  }
  const std::string k = "@" + std::to_string(o.k);
  return nlohmann::json{{"hr" + k, hr.value()}, {"ndcg" + k, ndcg.value()}, {"users", hr.count()}};
}

// session-next (GRU4Rec / session-rec): train on the training sessions; then for every prefix
// of every test session (sessions by start time, clicks by time) rank all items for the next
// click: recall@20 (= HR@20) and MRR@20; ties count against the model; an item the model has
// never seen is a miss. With --online the model also learns each test click after predicting it.
// Session models see anonymous sessions (kNoUser); the others (pop, bpr) see each session as
// a user with its clicks as the history.
Result<nlohmann::json> RunSessionNext(Runner& run, const Dataset& ds, size_t n_train,
                                      uint32_t epochs) {
  const EvalOptions& o = run.o_;
  constexpr uint32_t kCut = 20;
  // Sessions of each part, clicks time-ordered (stable), sessions ordered by their first click.
  auto group = [&](size_t begin, size_t end) {
    std::vector<std::vector<uint32_t>> by_session(ds.users.size());
    for (size_t i = begin; i < end; ++i)
      by_session[ds.events[i].user].push_back(static_cast<uint32_t>(i));
    std::vector<std::vector<uint32_t>> out;
    for (auto& idx : by_session) {
      if (idx.empty()) continue;
      std::stable_sort(idx.begin(), idx.end(), [&](uint32_t a, uint32_t b) {
        return ds.events[a].ts_seconds < ds.events[b].ts_seconds;
      });
      out.push_back(std::move(idx));
    }
    std::stable_sort(out.begin(), out.end(), [&](const auto& a, const auto& b) {
      return ds.events[a[0]].ts_seconds < ds.events[b[0]].ts_seconds;
    });
    return out;
  };
  const auto train_sessions = group(0, n_train);
  const auto test_sessions = group(n_train, ds.events.size());
  const auto n_items = static_cast<uint32_t>(ds.items.size());

  std::unique_ptr<models::Recommender> model;
  std::unique_ptr<models::SessionModel> session_model;
  models::UserHistory history;
  if (models::IsSessionModel(o.model)) {
    auto m = run.NewSessionModel();
    if (!m.ok()) return m.status();
    session_model = std::move(*m);
    std::vector<std::vector<ItemIndex>> seqs;
    for (const auto& idx : train_sessions) {
      seqs.emplace_back();
      for (uint32_t e : idx) seqs.back().push_back(ds.events[e].item);
    }
    // Session-kNN remembers sessions in arrival order: one pass, in time order.
    run.TrainSessions(
        *session_model, seqs, [](uint32_t) { return models::kNoUser; }, epochs,
        /*shuffle=*/o.model != "sknn", /*last_in_order=*/true);
  } else {
    auto m = run.NewModel();
    if (!m.ok()) return m.status();
    model = std::move(*m);
    std::vector<Interaction> train;
    for (const auto& idx : train_sessions) {
      for (uint32_t e : idx) train.push_back(ds.events[e]);
    }
    run.Train(*model, history, train, epochs, /*shuffle=*/o.model != "pop");
  }

  models::Mean recall, mrr;
  std::vector<float> scores(n_items);
  std::vector<ItemIndex> items;
  const auto t0 = Clock::now();
  double online_s = 0.0;
  uint64_t online_updates = 0;
  for (size_t s = 0; s < test_sessions.size(); ++s) {
    const auto& idx = test_sessions[s];
    items.clear();
    for (uint32_t e : idx) items.push_back(ds.events[e].item);
    const UserIndex session_user = ds.events[idx[0]].user;
    for (uint32_t t = 0; t < items.size(); ++t) {
      std::span<const ItemIndex> prefix(items.data(), t);
      if (t > 0) {
        if (session_model) {
          const uint32_t L = session_model->max_len();
          session_model->ScoreNext(models::kNoUser, t > L ? prefix.last(L) : prefix, scores);
        } else {
          model->ScoreItems(session_user, history, scores);
        }
        const float target = scores[items[t]];
        size_t rank = kCut;
        if (target != kExcludedScore && !std::isnan(target)) {
          rank = 0;
          for (uint32_t j = 0; j < n_items && rank < kCut; ++j) {
            if (scores[j] >= target && j != items[t]) ++rank;
          }
        }
        recall.Add(rank < kCut ? 1.0 : 0.0);
        mrr.Add(rank < kCut ? 1.0 / static_cast<double>(rank + 1) : 0.0);
      }
      if (o.online) {
        const auto t1 = Clock::now();
        const uint64_t seed = SeedFor(o.seed, 0x77u, idx[t]);
        if (session_model) {
          const uint32_t L = session_model->max_len();
          session_model->Observe(models::kNoUser, t > L ? prefix.last(L) : prefix, items[t], seed);
        } else {
          model->Observe(ds.events[idx[t]], history, seed);
          history.Add(session_user, items[t]);
        }
        online_s += SecondsSince(t1);
        ++online_updates;
      }
    }
    if (o.progress && (s + 1) % 500 == 0) {
      std::fprintf(stderr, "\r[eval] session-next %zu/%zu  recall@20 %.4f  mrr@20 %.4f  %.1f s   ",
                   s + 1, test_sessions.size(), recall.value(), mrr.value(), SecondsSince(t0));
    }
  }
  if (o.progress) std::fprintf(stderr, "\n");
  if (o.online) {
    run.train_seconds_ += online_s;
    run.updates_ += static_cast<double>(online_updates);
  }
  return nlohmann::json{{"recall@20", recall.value()},
                        {"mrr@20", mrr.value()},
                        {"evaluated", recall.count()},
                        {"train_sessions", train_sessions.size()},
                        {"test_sessions", test_sessions.size()}};
}

}  // namespace

Result<nlohmann::json> RunEval(const EvalOptions& o) {
  auto path = ResolveDataPath(o.data);
  if (!path.ok()) return path.status();
  const DataFormat format = o.format == DataFormat::kAuto ? DetectFormat(*path) : o.format;
  const uint32_t epochs = o.epochs > 0 ? o.epochs : TunedDefaults(o.model, o.protocol).epochs;
  Runner run(o);
  Result<nlohmann::json> metrics = Status::InvalidArgument("unreachable");
  if (o.protocol == "rating-cv") {
    if (!fs::is_directory(*path) || !fs::exists(fs::path(*path) / "u1.base")) {
      return Status::InvalidArgument("rating-cv needs a MovieLens folder with u1..u5.base/test");
    }
    metrics = RunRatingCv(run, *path, epochs);
  } else if (o.protocol == "ranking-split" || o.protocol == "prequential" ||
             o.protocol == "loo-sampled") {
    Dataset ds;
    STREAMREC_RETURN_IF_ERROR(LoadDataset(*path, format, &ds));
    if (ds.events.empty()) return Status::InvalidArgument("no events in " + *path);
    if (o.protocol == "ranking-split") metrics = RunRankingSplit(run, ds, epochs);
    if (o.protocol == "prequential") metrics = RunPrequential(run, ds);
    if (o.protocol == "loo-sampled") metrics = RunLooSampled(run, ds, epochs);
  } else if (o.protocol == "session-next") {
    // A folder with the session-rec split of Yoochoose (train_full + test), or two files given
    // as "TRAIN,TEST".
    std::string train_file, test_file;
    if (fs::is_directory(*path)) {
      for (const auto& entry : fs::directory_iterator(*path)) {
        const std::string name = entry.path().filename().string();
        if (name.ends_with("_train_full.txt")) train_file = entry.path().string();
        if (name.ends_with("_test.txt")) test_file = entry.path().string();
      }
    }
    if (train_file.empty() || test_file.empty()) {
      return Status::InvalidArgument(
          "session-next needs a folder holding *_train_full.txt and "
          "*_test.txt (Yoochoose TSV), got " +
          *path);
    }
    Dataset ds;
    STREAMREC_RETURN_IF_ERROR(LoadYoochoose(train_file, &ds));
    const size_t n_train = ds.events.size();
    STREAMREC_RETURN_IF_ERROR(LoadYoochoose(test_file, &ds));
    if (n_train == 0 || ds.events.size() == n_train) {
      return Status::InvalidArgument("session-next: empty training or test file in " + *path);
    }
    metrics = RunSessionNext(run, ds, n_train, epochs);
  } else if (o.protocol == "bandit-sim" || o.protocol == "ope") {
    return o.protocol == "bandit-sim" ? RunBanditSim(o, *path) : RunOpe(o, *path);
  } else {
    return Status::InvalidArgument("unknown protocol '" + o.protocol +
                                   "' (known: prequential, rating-cv, ranking-split, loo-sampled, "
                                   "session-next, bandit-sim, ope)");
  }
  if (!metrics.ok()) return metrics.status();
  return run.Report(*path, format, std::move(*metrics), o.protocol == "prequential" ? 1u : epochs);
}

void AddEvalCommand(CLI::App& app) {
  auto o = std::make_shared<EvalOptions>();
  auto format = std::make_shared<std::string>("auto");
  auto kv = std::make_shared<std::vector<std::string>>();
  auto config = std::make_shared<std::string>();
  auto dim = std::make_shared<double>(0), lr = std::make_shared<double>(0),
       reg = std::make_shared<double>(-1);
  CLI::App* cmd = app.add_subcommand("eval", "Evaluate a model offline on a dataset (no Kafka)");
  cmd->add_option("--protocol", o->protocol,
                  "prequential | rating-cv | ranking-split | loo-sampled | session-next | "
                  "bandit-sim | ope")
      ->required();
  cmd->add_option("--data", o->data,
                  "dataset path, or a name under $STREAMREC_DATA or ../shared/data")
      ->required();
  cmd->add_option("--format", *format, "auto | movielens | sequences | yoochoose | jsonl");
  cmd->add_option("--model", o->model, "mf | bpr | pop | itemknn | fpmc | sasrec-lite | sknn")
      ->capture_default_str();
  cmd->add_option("--epochs", o->epochs, "passes over the training events (0 = tuned default)");
  cmd->add_option("--seed", o->seed, "seed of every random draw")->capture_default_str();
  cmd->add_option("--dim", *dim, "embedding size");
  cmd->add_option("--lr", *lr, "learning rate");
  cmd->add_option("--reg", *reg, "L2 regularization of the factors");
  cmd->add_option("--param", *kv, "any model hyper-parameter, as name=value (repeatable)");
  cmd->add_option("--config", *config, "JSON file of hyper-parameters {\"name\": value}");
  cmd->add_option("--k", o->k, "cut-off of the ranking metrics")->capture_default_str();
  cmd->add_option("--train-ratio", o->train_ratio, "ranking-split: training fraction per user")
      ->capture_default_str();
  cmd->add_option("--negatives", o->sampled_negatives, "loo-sampled: sampled negatives")
      ->capture_default_str();
  cmd->add_option("--max-users", o->max_users, "loo-sampled: users evaluated at most")
      ->capture_default_str();
  cmd->add_option("--policy", o->policy, "bandit-sim / ope: thompson | linucb | egreedy | random")
      ->capture_default_str();
  cmd->add_option("--explore", o->explore, "bandit-sim: exploration slots per top-k")
      ->capture_default_str();
  cmd->add_flag("--online", o->online, "session-next: keep training through the test stream");
  cmd->add_flag(
      "--quiet,!--progress", [o](int64_t n) { o->progress = n <= 0; },
      "no progress lines on stderr");
  cmd->callback([=] {
    auto fail = [](const Status& st) {
      std::cerr << "streamrec eval: " << st.message() << "\n";
      SetExitCode(2);
    };
    if (Status st = ParseDataFormat(*format, &o->format); !st.ok()) return fail(st);
    if (!config->empty()) {
      std::ifstream in(*config);
      if (!in) return fail(Status::IOError("cannot open config " + *config));
      nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
      if (!j.is_object()) return fail(Status::InvalidArgument(*config + ": not a JSON object"));
      for (auto& [name, value] : j.items()) {
        if (!value.is_number() && !value.is_boolean()) {
          return fail(Status::InvalidArgument(*config + ": '" + name + "' is not a number"));
        }
        o->params[name] = value.get<double>();
      }
    }
    if (*dim > 0) o->params["dim"] = *dim;
    if (*lr > 0) o->params["lr"] = *lr;
    if (*reg >= 0) o->params["reg"] = *reg;
    for (const std::string& s : *kv) {
      const auto eq = s.find('=');
      double v = 0;
      try {
        if (eq == std::string::npos) throw std::invalid_argument(s);
        size_t used = 0;
        v = std::stod(s.substr(eq + 1), &used);
        if (used != s.size() - eq - 1) throw std::invalid_argument(s);
      } catch (const std::exception&) {
        return fail(Status::InvalidArgument("--param wants name=number, got '" + s + "'"));
      }
      o->params[s.substr(0, eq)] = v;
    }
    auto result = RunEval(*o);
    if (!result.ok()) return fail(result.status());
    std::cout << result->dump() << std::endl;
  });
}

}  // namespace streamrec::tools
