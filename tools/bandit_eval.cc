// Bandit protocols of `streamrec eval`.
//
// bandit-sim (MovieLens-100k, time order). Each rating event (u, i, t), in time order, is:
//   1. a request by u: the online BPR ranks the catalog (items rated so far) without u's rated
//      items; its top (10 - explore) fill the list and the ExplorationPool fills `explore` slots
//      with cold items (excluding u's rated items, the BPR picks and items already explored to
//      u). A shown item is clicked iff u rated it >= 4 somewhere in the data set (the only look
//      at the future). Explore impressions go through the RewardJoiner (window 0: the click, if
//      any, comes at once; the 0 when event time moves on) and the rewards update the policy;
//      a click also counts as an interaction of the item (towards graduation).
//   2. the catalog event: at an item's first rating it enters the catalog with its genres and
//      release year from u.item (features "genre:<name>" = 1, "year" = max(-1, (year - 1990) /
//      10), "decade:<19x0>" = 1, and "new" = 1 when released in or after the year of the event,
//      i.e. a current film).
//   3. the rating: the BPR learns it online, the item's interaction count grows.
// Metrics: explore_ctr (clicks / explore impressions), list_ctr (clicks / all shown slots),
// explore_ctr_first50 (explore CTR over impressions an item gets while it has had fewer than
// 50), explore_ctr_over_time (five equal spans of requests), graduated (items that reached the
// cold threshold), regret: cumulative Σ_requests (oracle clicks - policy clicks) over the explore
// slots, where the oracle knows every (user, item) click outcome (the true click probability,
// 0 or 1 here) and picks the best `explore` items among the same candidates.
//
// ope (Open Bandit sample): IPW and self-normalized IPW estimates of one logging policy's CTR
// from the other policy's logs, next to the CTR observed under it. The evaluation policy's
// action probabilities π_e(item | position) are the item's share of that position's rows in its
// own logs: BTS here is context-free, so this estimates its time-averaged action probability
// (averaging its logged propensity_score over the rows where the item was shown would not: that
// average is size-biased towards moments the item was likely, and doubled the IPW estimate).
// --policy thompson estimates BTS from the random logs;
// --policy random estimates random from the BTS logs.
#include "tools/bandit_eval.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <unordered_map>

#include "bandits/exploration_pool.h"
#include "bandits/reward_joiner.h"
#include "common/rng.h"
#include "common/topk.h"
#include "models/bpr.h"
#include "models/recommender.h"
#include "models/user_history.h"

namespace fs = std::filesystem;

namespace streamrec::tools {
namespace {

using bandits::BanditParams;

// Parameters that belong to the bandit side (the rest go to the BPR): pool, policies, sim.
const std::set<std::string> kPoolParams = {"cold_threshold", "feature_dim", "bias_feature"};
const std::map<std::string, std::set<std::string>> kPolicyParams = {
    {"thompson", {"prior_alpha", "prior_beta", "half_life_s"}},
    {"egreedy", {"epsilon", "prior_alpha", "prior_beta"}},
    {"linucb", {"alpha", "lambda", "user_dim", "user_scale", "refresh_every"}},
    {"random", {}}};
const std::set<std::string> kSimParams = {"max_events", "list_size"};
std::set<std::string> AllBanditNames() {
  std::set<std::string> all = kPoolParams;
  for (const auto& [p, names] : kPolicyParams) all.insert(names.begin(), names.end());
  all.insert(kSimParams.begin(), kSimParams.end());
  return all;
}

double Get(const models::ParamMap& p, const std::string& name, double def) {
  auto it = p.find(name);
  return it == p.end() ? def : it->second;
}

// u.item: id|title|release date|video date|url|19 genre flags (Latin-1; we read bytes only).
struct ItemInfo {
  std::vector<std::string> genres;
  int year = 0;
};
Status LoadItems(const std::string& path, std::unordered_map<std::string, ItemInfo>* out) {
  static const char* kGenres[19] = {
      "unknown",     "Action", "Adventure", "Animation", "Children's", "Comedy",  "Crime",
      "Documentary", "Drama",  "Fantasy",   "Film-Noir", "Horror",     "Musical", "Mystery",
      "Romance",     "Sci-Fi", "Thriller",  "War",       "Western"};
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("cannot open " + path);
  std::string line;
  size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::vector<std::string> f;
    std::stringstream ss(line);
    std::string field;
    while (std::getline(ss, field, '|')) f.push_back(field);
    if (f.size() < 24) {
      return Status::InvalidArgument(path + ":" + std::to_string(line_no) + ": expected 24 fields");
    }
    ItemInfo info;
    const std::string& date = f[2];  // dd-Mon-yyyy
    if (date.size() >= 4) info.year = std::atoi(date.c_str() + date.size() - 4);
    for (int g = 0; g < 19; ++g) {
      if (f[5 + g] == "1") info.genres.push_back(kGenres[g]);
    }
    (*out)[f[0]] = std::move(info);
  }
  return Status::Ok();
}

int YearOf(int64_t ts_seconds) {
  const std::time_t t = static_cast<std::time_t>(ts_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return tm.tm_year + 1900;
}

nlohmann::json Report(const EvalOptions& o, const std::string& data_path,
                      const models::ParamMap& params, nlohmann::json metrics) {
  nlohmann::json p = nlohmann::json::object();
  for (const auto& [name, value] : params) p[name] = value;
  p["explore"] = o.explore;
  p["seed"] = o.seed;
  nlohmann::json j;
  j["protocol"] = o.protocol;
  j["data"] = fs::path(data_path).filename().string();
  j["policy"] = o.policy;
  j["params"] = p;
  j["metrics"] = std::move(metrics);
  return j;
}

}  // namespace

Result<nlohmann::json> RunBanditSim(const EvalOptions& o, const std::string& data_path) {
  if (!fs::is_directory(data_path) || !fs::exists(fs::path(data_path) / "u.item")) {
    return Status::InvalidArgument("bandit-sim needs the MovieLens-100k folder (u.data, u.item)");
  }
  const auto t0 = std::chrono::steady_clock::now();
  // Split --param between the BPR and the bandit side.
  const std::set<std::string> bandit_names = AllBanditNames();
  models::ParamMap bpr_params = {{"dim", 64}, {"negatives", 10}};
  BanditParams pool_params, policy_params;
  for (const auto& [name, value] : o.params) {
    if (!bandit_names.count(name)) {
      bpr_params[name] = value;
    } else if (kPoolParams.count(name)) {
      pool_params[name] = value;
    } else if (kPolicyParams.count(o.policy) && kPolicyParams.at(o.policy).count(name)) {
      policy_params[name] = value;
    } else if (!kSimParams.count(name)) {
      return Status::InvalidArgument("parameter '" + name + "' does not apply to policy " +
                                     o.policy);
    }
  }
  const uint32_t list_size = static_cast<uint32_t>(Get(o.params, "list_size", 10));
  const auto max_events = static_cast<size_t>(Get(o.params, "max_events", 0));
  if (o.explore > list_size) return Status::InvalidArgument("--explore exceeds the list size");

  Dataset ds;
  STREAMREC_RETURN_IF_ERROR(LoadMovieLens((fs::path(data_path) / "u.data").string(), &ds));
  std::unordered_map<std::string, ItemInfo> info;
  STREAMREC_RETURN_IF_ERROR(LoadItems((fs::path(data_path) / "u.item").string(), &info));
  std::stable_sort(
      ds.events.begin(), ds.events.end(),
      [](const Interaction& a, const Interaction& b) { return a.ts_seconds < b.ts_seconds; });
  if (max_events > 0 && ds.events.size() > max_events) ds.events.resize(max_events);
  const uint32_t n_users = ds.users.size(), n_items = ds.items.size();

  // The click rule: u clicks i iff u rated i >= 4 anywhere in the data (one bit per pair).
  std::vector<uint8_t> likes(static_cast<size_t>(n_users) * n_items, 0);
  {
    Dataset all;
    STREAMREC_RETURN_IF_ERROR(LoadMovieLens((fs::path(data_path) / "u.data").string(), &all));
    for (const Interaction& x : all.events) {
      const uint32_t u = ds.users.Find(all.users.Name(x.user));
      const uint32_t i = ds.items.Find(all.items.Name(x.item));
      if (u != kNoIndex && i != kNoIndex && x.value >= 4.0f)
        likes[static_cast<size_t>(u) * n_items + i] = 1;
    }
  }
  auto clicked = [&](UserIndex u, ItemIndex i) {
    return likes[static_cast<size_t>(u) * n_items + i] != 0;
  };

  models::ParamMap effective_bpr;
  auto model = models::MakeRecommender("bpr", bpr_params, &effective_bpr);
  if (!model.ok()) return model.status();
  auto* bpr = dynamic_cast<models::BPR*>(model->get());
  bandits::PoolOptions pool_options;
  pool_options.cold_threshold = 20;
  BanditParams effective_bandit;
  STREAMREC_RETURN_IF_ERROR(pool_options.Apply(pool_params, &effective_bandit));
  auto policy = bandits::MakePolicy(o.policy, policy_params, pool_options.feature_dim,
                                    bpr->options().dim, &effective_bandit);
  if (!policy.ok()) return policy.status();
  bandits::ExplorationPool pool(pool_options, std::move(*policy));
  bandits::JoinerOptions jo;
  jo.window_s = 0;
  jo.lateness_s = 0;
  bandits::RewardJoiner joiner(jo);

  models::UserHistory history;
  std::vector<uint8_t> in_catalog(n_items, 0);
  std::vector<ItemIndex> catalog;
  std::vector<std::vector<ItemIndex>> explored(n_users);  // items explored to each user (sorted)
  std::vector<uint32_t> impressions(n_items, 0);
  std::vector<float> scores(n_items);
  std::vector<ScoredItem> top;
  std::vector<ItemIndex> exclude;
  std::vector<bandits::ExploreSlot> slots;
  std::vector<bandits::Reward> rewards;
  bandits::SelectScratch scratch;
  const uint32_t bpr_slots = list_size - o.explore;
  constexpr int kBuckets = 5;
  double bucket_clicks[kBuckets] = {}, bucket_shown[kBuckets] = {};
  double explore_clicks = 0, explore_shown = 0, list_clicks = 0, list_shown = 0;
  double first50_clicks = 0, first50_shown = 0, regret = 0, oracle_clicks = 0;
  const size_t n = ds.events.size();

  auto apply_rewards = [&]() {
    for (const bandits::Reward& r : rewards) {
      const UserIndex u = r.served.user;
      std::span<const float> emb;
      if (u < bpr->users().rows()) emb = {bpr->users().Row(u), bpr->users().dim()};
      (void)pool.OnReward({emb}, r.served.item, r.reward, r.served.ts_micros);
      if (r.reward > 0) pool.OnInteraction(r.served.item, r.served.ts_micros);
    }
    rewards.clear();
  };

  for (size_t idx = 0; idx < n; ++idx) {
    const Interaction& x = ds.events[idx];
    const int64_t now = x.ts_seconds * 1'000'000;
    const UserIndex u = x.user;
    joiner.Advance(now, &rewards);
    apply_rewards();
    // 1. The request.
    if (!catalog.empty()) {
      bpr->ScoreItems(u, history, scores);  // items not rated yet score kExcludedScore
      for (ItemIndex i : history.Items(u)) scores[i] = kExcludedScore;
      // The main list comes from warm items; cold ones are the explore slots' business.
      for (ItemIndex i : catalog)
        if (pool.InPool(i)) scores[i] = kExcludedScore;
      TopK(scores, bpr_slots, &top);
      exclude.assign(history.Items(u).begin(), history.Items(u).end());
      for (const ScoredItem& s : top) {
        exclude.push_back(s.index);
        list_shown += 1;
        list_clicks += clicked(u, s.index);
      }
      exclude.insert(exclude.end(), explored[u].begin(), explored[u].end());
      std::span<const float> emb;
      if (u < bpr->users().rows()) emb = {bpr->users().Row(u), bpr->users().dim()};
      slots.clear();
      pool.SelectSlots({emb}, o.explore, exclude, now, SeedFor(o.seed, 0xe1u, idx), &scratch,
                       &slots);
      // Oracle: the best `explore` candidates (clicked ones) among the same pool items.
      if (!slots.empty()) {
        std::sort(exclude.begin(), exclude.end());
        uint32_t clickable = 0;
        for (ItemIndex i : catalog) {
          if (pool.InPool(i) && clicked(u, i) &&
              !std::binary_search(exclude.begin(), exclude.end(), i)) {
            ++clickable;
          }
        }
        const double best = std::min<uint32_t>(clickable, o.explore);
        double got = 0;
        const int bucket = static_cast<int>(idx * kBuckets / n);
        for (uint32_t p = 0; p < slots.size(); ++p) {
          const ItemIndex i = slots[p].item;
          const bool c = clicked(u, i);
          got += c;
          explore_shown += 1;
          explore_clicks += c;
          list_shown += 1;
          list_clicks += c;
          bucket_shown[bucket] += 1;
          bucket_clicks[bucket] += c;
          if (impressions[i] < 50) {
            first50_shown += 1;
            first50_clicks += c;
          }
          ++impressions[i];
          auto& ex = explored[u];
          ex.insert(std::upper_bound(ex.begin(), ex.end(), i), i);
          const uint64_t rec = SeedFor(o.seed, idx) | 1;
          joiner.OnServed({rec, u, i, bpr_slots + p, slots[p].propensity, now}, &rewards);
          if (c) joiner.OnClick({u, i, rec, now}, &rewards);
        }
        oracle_clicks += best;
        regret += best - got;
        apply_rewards();
      }
    }
    // 2. The catalog event at the item's first rating.
    if (!in_catalog[x.item]) {
      in_catalog[x.item] = 1;
      catalog.push_back(x.item);
      bandits::SparseFeatures f;
      auto it = info.find(ds.items.Name(x.item));
      if (it != info.end()) {
        for (const std::string& g : it->second.genres) pool.hasher().Add("genre:" + g, 1.0f, &f);
        if (it->second.year > 0) {
          const int year = it->second.year;
          pool.hasher().Add("year", std::max(-1.0f, (year - 1990) / 10.0f), &f);
          pool.hasher().Add("decade:" + std::to_string(year / 10 * 10), 1.0f, &f);
          if (it->second.year >= YearOf(x.ts_seconds)) pool.hasher().Add("new", 1.0f, &f);
        }
      }
      pool.OnItem(x.item, f, now);
    }
    // 3. The rating.
    bpr->Observe(x, history, SeedFor(o.seed, 1, idx));
    history.Add(u, x.item);
    pool.OnInteraction(x.item, now);
    if (o.progress && (idx + 1) % 20000 == 0) {
      std::fprintf(stderr, "\r[bandit-sim] %s %zu/%zu  explore_ctr %.4f  pool %u   ",
                   o.policy.c_str(), idx + 1, n, explore_clicks / std::max(1.0, explore_shown),
                   pool.size());
    }
  }
  joiner.Flush(&rewards);
  apply_rewards();
  if (o.progress) std::fprintf(stderr, "\n");

  nlohmann::json over_time = nlohmann::json::array();
  for (int b = 0; b < kBuckets; ++b) {
    over_time.push_back(bucket_shown[b] > 0 ? bucket_clicks[b] / bucket_shown[b] : 0.0);
  }
  nlohmann::json metrics = {
      {"explore_ctr", explore_clicks / std::max(1.0, explore_shown)},
      {"list_ctr", list_clicks / std::max(1.0, list_shown)},
      {"explore_ctr_first50", first50_clicks / std::max(1.0, first50_shown)},
      {"explore_ctr_over_time", over_time},
      {"regret", regret},
      {"oracle_explore_ctr", oracle_clicks / std::max(1.0, explore_shown)},
      {"graduated", pool.graduated()},
      {"explore_impressions", explore_shown},
      {"requests", n},
      {"pool_size_end", pool.size()},
      {"seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()}};
  models::ParamMap reported = effective_bpr;
  for (auto& [k, v] : effective_bandit) reported[k] = v;
  reported["list_size"] = list_size;
  return Report(o, data_path, reported, std::move(metrics));
}

namespace {

// One Open Bandit log: (item, position, click, propensity) rows.
// Whole-field numbers (no trailing garbage, no silent 0 for text).
bool ParseInt(std::string_view s, int* out) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size();
}
bool ParseDouble(std::string_view s, double* out) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size();
}

struct LogRow {
  int item;
  int position;
  int click;
  double propensity;
};
Status LoadObdLog(const std::string& path, std::vector<LogRow>* rows) {
  std::ifstream in(path);
  if (!in) return Status::IOError("cannot open " + path);
  std::string line;
  if (!std::getline(in, line)) return Status::InvalidArgument(path + ": empty");
  // Column positions from the header (",timestamp,item_id,position,click,propensity_score,...").
  std::vector<std::string> header;
  {
    std::stringstream ss(line);
    std::string f;
    while (std::getline(ss, f, ',')) header.push_back(f);
  }
  auto col = [&](const std::string& name) {
    auto it = std::find(header.begin(), header.end(), name);
    return it == header.end() ? -1 : static_cast<int>(it - header.begin());
  };
  const int ci = col("item_id"), cp = col("position"), cc = col("click"),
            cq = col("propensity_score");
  if (ci < 0 || cp < 0 || cc < 0 || cq < 0) {
    return Status::InvalidArgument(path + ": missing item_id/position/click/propensity_score");
  }
  const int last = std::max({ci, cp, cc, cq});
  size_t line_no = 1;
  while (std::getline(in, line)) {
    ++line_no;
    std::vector<std::string_view> f;
    std::string_view rest(line);
    while (static_cast<int>(f.size()) <= last) {
      const size_t comma = rest.find(',');
      f.push_back(rest.substr(0, comma));
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
    if (static_cast<int>(f.size()) <= last) {
      return Status::InvalidArgument(path + ":" + std::to_string(line_no) + ": too few columns");
    }
    LogRow r{};
    const auto where = [&] { return path + ":" + std::to_string(line_no) + ": "; };
    if (!ParseInt(f[ci], &r.item) || r.item < 0)
      return Status::InvalidArgument(where() + "bad item_id");
    if (!ParseInt(f[cp], &r.position) || r.position < 1) {
      return Status::InvalidArgument(where() + "bad position");
    }
    if (!ParseInt(f[cc], &r.click) || (r.click != 0 && r.click != 1)) {
      return Status::InvalidArgument(where() + "click must be 0 or 1");
    }
    if (!ParseDouble(f[cq], &r.propensity) || !(r.propensity > 0.0 && r.propensity <= 1.0)) {
      return Status::InvalidArgument(where() + "bad propensity");
    }
    rows->push_back(r);
  }
  if (rows->empty()) return Status::InvalidArgument(path + ": no rows");
  return Status::Ok();
}

struct OpeResult {
  double ipw, snipw, observed, logging_ctr;
  size_t n;
};

// Estimates the CTR of the policy that produced `eval_log` from `logged` (another policy's log).
OpeResult Estimate(const std::vector<LogRow>& logged, const std::vector<LogRow>& eval_log) {
  // π_e(item | position): the item's share of the position's rows in the evaluation policy's
  // own log (its time-averaged action probability).
  std::map<std::pair<int, int>, double> count;
  std::map<int, double> per_position;
  double eval_clicks = 0;
  for (const LogRow& r : eval_log) {
    count[{r.item, r.position}] += 1;
    per_position[r.position] += 1;
    eval_clicks += r.click;
  }
  double num = 0, wsum = 0, clicks = 0;
  for (const LogRow& r : logged) {
    auto it = count.find({r.item, r.position});
    const double pi_e = it == count.end() ? 0.0 : it->second / per_position[r.position];
    const double w = pi_e / r.propensity;
    num += w * r.click;
    wsum += w;
    clicks += r.click;
  }
  const double n = static_cast<double>(logged.size());
  return {num / n, wsum > 0 ? num / wsum : 0.0, eval_clicks / eval_log.size(), clicks / n,
          logged.size()};
}

}  // namespace

Result<nlohmann::json> RunOpe(const EvalOptions& o, const std::string& data_path) {
  if (o.policy != "thompson" && o.policy != "random") {
    return Status::InvalidArgument(
        "ope evaluates a logged policy: --policy thompson (BTS, from the random logs) or random "
        "(from the BTS logs)");
  }
  const bool eval_bts = o.policy == "thompson";
  nlohmann::json details = nlohmann::json::object();
  std::vector<LogRow> all_logged, all_eval;
  double sum_ipw = 0, sum_snipw = 0;
  for (const std::string campaign : {"men", "women"}) {
    std::vector<LogRow> random, bts;
    const fs::path base(data_path);
    STREAMREC_RETURN_IF_ERROR(
        LoadObdLog((base / "random" / campaign / (campaign + ".csv")).string(), &random));
    STREAMREC_RETURN_IF_ERROR(
        LoadObdLog((base / "bts" / campaign / (campaign + ".csv")).string(), &bts));
    const OpeResult r = eval_bts ? Estimate(random, bts) : Estimate(bts, random);
    details[campaign] = {{"ipw", r.ipw},
                         {"snipw", r.snipw},
                         {"observed_ctr", r.observed},
                         {"logging_policy_ctr", r.logging_ctr},
                         {"logged_rows", r.n}};
    sum_ipw += r.ipw * r.n;
    sum_snipw += r.snipw * r.n;
    auto& logged = eval_bts ? random : bts;
    auto& ev = eval_bts ? bts : random;
    all_logged.insert(all_logged.end(), logged.begin(), logged.end());
    all_eval.insert(all_eval.end(), ev.begin(), ev.end());
  }
  double eval_clicks = 0, logged_clicks = 0;
  for (const LogRow& r : all_eval) eval_clicks += r.click;
  for (const LogRow& r : all_logged) logged_clicks += r.click;
  const double n = static_cast<double>(all_logged.size());
  const double observed = eval_clicks / all_eval.size();
  nlohmann::json metrics = {{"ipw", sum_ipw / n},
                            {"snipw", sum_snipw / n},
                            {"observed_ctr", observed},
                            {"logging_policy_ctr", logged_clicks / n},
                            {"ipw_relative_error", (sum_ipw / n - observed) / observed},
                            {"snipw_relative_error", (sum_snipw / n - observed) / observed},
                            {"campaigns", details}};
  EvalOptions report = o;
  report.explore = 0;
  return Report(report, data_path, {{"evaluated", eval_bts ? 1.0 : 0.0}}, std::move(metrics));
}

}  // namespace streamrec::tools
