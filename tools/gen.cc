#include "tools/gen.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <numeric>
#include <string_view>
#include <vector>

#include "common/exit_code.h"
#include "common/rng.h"
#include "common/types.h"
#include "stream/event_codec.h"
#include "tools/commands.h"

namespace streamrec::tools {
namespace {

// Shape of the planted structure (see gen.h).
namespace gen_config {
// Probability that the next item of a session is the planted successor of the previous one.
constexpr double kFollowProb = 0.55;
// Probability that it is a popular item of the session's cluster; the rest is catalog-wide.
constexpr double kClusterPopularProb = 0.35;
// Probability that an add_to_cart is followed by a purchase of the same item.
constexpr double kCartToPurchaseProb = 0.4;
// Cumulative shares of the implicit types: click 70%, view 15%, add_to_cart 10%, purchase 5%.
constexpr double kClickShare = 0.70;
constexpr double kViewShare = 0.85;
constexpr double kCartShare = 0.95;
// Within a session, events are kMinIntraGapS + Exponential(kMeanIntraGapS) seconds apart.
constexpr double kMinIntraGapS = 2.0;
constexpr double kMeanIntraGapS = 40.0;
// Cluster preference: a one-cluster user gives it kSingleWeight of the sessions; a two-cluster
// user (probability kTwoClusterProb) kFirstWeight and kSecondWeight. The rest is uniform.
constexpr double kTwoClusterProb = 0.5;
constexpr float kSingleWeight = 0.85f;
constexpr float kFirstWeight = 0.6f;
constexpr float kSecondWeight = 0.3f;
// Rating = round(kRatingBase + kRatingAffinity * preference + quality + bias + noise), 1..5.
constexpr double kRatingBase = 2.2;
constexpr double kRatingAffinity = 2.8;
constexpr double kItemQualityStd = 0.5;
constexpr double kUserBiasStd = 0.4;
constexpr double kRatingNoiseStd = 0.6;
// Draws of another item when a rating falls on an item the user has already rated.
constexpr int kRatingRedraws = 8;
// Noise (standard deviation, in log-rank units) of the planted order within a cluster.
constexpr double kOrderNoiseStd = 1.0;
// Largest timestamp the decoder accepts (DecoderOptions::max_ts_seconds): 2100-01-01.
constexpr int64_t kMaxTs = 4102444800;
// Heap times are clamped here: a user this far away never gets an event.
constexpr double kFarFutureTs = 1e15;
constexpr uint32_t kMaxEntities = 50'000'000;
constexpr uint32_t kMaxSessionEvents = 10000;
}  // namespace gen_config

using namespace gen_config;

// Zipf weight of 0-based rank r.
double ZipfWeight(uint64_t rank, double exponent) {
  return std::pow(static_cast<double>(rank + 1), -exponent);
}

// Exponential with the given mean.
double Exponential(Rng& rng, double mean) { return -mean * std::log1p(-rng.UniformDouble()); }

// Sum over users of their session rate, in sessions per second, allowing for session length
// (a very active user is busy during its sessions). Sampled with a stride for huge user counts.
double SessionRatePerS(const GenOptions& o) {
  const uint64_t n = o.users;
  const uint64_t stride = std::max<uint64_t>(1, n / 1'000'000);
  double weight_sum = 0;
  for (uint64_t r = 0; r < n; r += stride) weight_sum += ZipfWeight(r, o.user_zipf) * stride;
  const double session_s = (o.mean_session_events - 1) * (kMinIntraGapS + kMeanIntraGapS);
  double rate = 0;
  for (uint64_t r = 0; r < n; r += stride) {
    const double activity = ZipfWeight(r, o.user_zipf) * static_cast<double>(n) / weight_sum;
    rate += stride / (o.session_gap_s / activity + session_s);
  }
  return rate;
}

// Appends prefix + decimal n to buf; returns the view. REQUIRES: buf has 24 bytes.
std::string_view FormatId(char prefix, uint64_t n, char* buf) {
  buf[0] = prefix;
  char* end = std::to_chars(buf + 1, buf + 24, n).ptr;
  return {buf, static_cast<size_t>(end - buf)};
}

// Open-addressing set of (user, item) pairs; grows by doubling (amortized, no per-insert
// allocation).
class PairSet {
 public:
  PairSet() : slots_(1024, 0) {}
  // Inserts; false when already present.
  bool Insert(uint32_t a, uint32_t b) {
    if (2 * (count_ + 1) > slots_.size()) Grow();
    const uint64_t key = ((static_cast<uint64_t>(a) << 32) | b) + 1;  // 0 marks an empty slot
    if (!Place(slots_, key)) return false;
    ++count_;
    return true;
  }

 private:
  static bool Place(std::vector<uint64_t>& slots, uint64_t key) {
    const size_t mask = slots.size() - 1;
    for (size_t i = Mix64(key) & mask;; i = (i + 1) & mask) {
      if (slots[i] == key) return false;
      if (slots[i] == 0) {
        slots[i] = key;
        return true;
      }
    }
  }
  void Grow() {
    std::vector<uint64_t> bigger(slots_.size() * 2, 0);
    for (uint64_t k : slots_) {
      if (k != 0) Place(bigger, k);
    }
    slots_.swap(bigger);
  }
  std::vector<uint64_t> slots_;
  size_t count_ = 0;
};

}  // namespace

Status GenOptions::Validate() const {
  const auto bad = [](const std::string& msg) { return Status::InvalidArgument(msg); };
  const std::string max = std::to_string(kMaxEntities);
  if (users < 1 || users > kMaxEntities) return bad("--users must be in [1, " + max + "]");
  if (items < 1 || items > kMaxEntities) return bad("--items must be in [1, " + max + "]");
  if (clusters < 1 || clusters > items) return bad("--clusters must be in [1, --items]");
  if (!(rating_fraction >= 0 && rating_fraction <= 1)) {
    return bad("--rating-fraction must be in [0, 1]");
  }
  if (!(zipf >= 0 && zipf <= 4)) return bad("--zipf must be in [0, 4]");
  if (!(user_zipf >= 0 && user_zipf <= 4)) return bad("--user-zipf must be in [0, 4]");
  if (!(session_gap_s > 0 && session_gap_s <= 1e9)) {
    return bad("--session-gap-s must be in (0, 1e9]");
  }
  if (!(mean_session_events >= 1 && mean_session_events <= 1000)) {
    return bad("--session-events must be in [1, 1000]");
  }
  if (start_ts < 0 || start_ts >= kMaxTs) {
    return bad("--start-ts must be in [0, " + std::to_string(kMaxTs) + ")");
  }
  if (events > 0) {
    // Twice the expected span leaves room for the randomness of the session process.
    const double span_s =
        static_cast<double>(events) / (SessionRatePerS(*this) * mean_session_events);
    if (static_cast<double>(start_ts) + 2 * span_s > static_cast<double>(kMaxTs)) {
      return bad("the stream would run past the year 2100 (about " +
                 std::to_string(static_cast<int64_t>(span_s / (365.25 * 86400))) +
                 " years of events): raise --users, or lower --events or --session-gap-s");
    }
  }
  return Status::Ok();
}

struct EventGenerator::State {
  struct User {
    uint32_t c1 = 0, c2 = 0;  // preferred clusters (c2 unused when w2 == 0)
    float w1 = 0, w2 = 0;     // their shares of the user's sessions
    float bias = 0;           // rating bias
    double mean_gap_s = 0;    // mean gap between sessions
    uint32_t left = 0;        // events left in the current session; 0 between sessions
    uint32_t cluster = 0;     // cluster of the current session
    uint32_t last_item = 0;
    EventType last_type = EventType::kClick;
    uint64_t session = 0;  // current session number
  };
  struct Due {
    int64_t ts;
    uint32_t user;
    // Min-heap order under std::push_heap's max-heap: later (then higher user) is "less".
    bool operator<(const Due& o) const { return ts != o.ts ? ts > o.ts : user > o.user; }
  };

  explicit State(const GenOptions& o);
  void AppendItemEvent(uint32_t item, std::string* out);
  void AppendUserEvent(std::string* out);
  uint32_t SampleInCluster(uint32_t cluster);
  uint32_t SampleCatalog();
  uint32_t PickCluster(const User& u);
  uint32_t NextItem(const User& u);
  uint32_t SessionLength();
  float Rating(const User& u, uint32_t item);
  void Schedule(uint32_t user, double ts);

  GenOptions options;
  Rng rng;
  // Items in planted order, grouped by cluster: cluster c owns order[offset[c], offset[c+1]).
  std::vector<uint32_t> order;
  std::vector<uint32_t> offset;
  std::vector<uint32_t> position;    // position[item]: index of item in `order`
  std::vector<uint32_t> cluster_of;  // cluster_of[item]
  std::vector<double> cluster_cdf;   // cumulative popularity along `order`, per cluster
  std::vector<double> catalog_cdf;   // cumulative popularity over item indices
  std::vector<float> quality;        // quality[item], for ratings
  std::vector<int> cluster_year;     // center of the "year" feature per cluster
  std::vector<User> users;
  std::vector<Due> heap;
  PairSet rated;
  uint64_t next_session = 1;
  uint64_t lines = 0;
  uint64_t total_lines = 0;
  // Scratch for ids and features of the event being written.
  char user_buf[24], item_buf[24], session_buf[24], genre_buf[32];
};

EventGenerator::State::State(const GenOptions& o)
    : options(o), rng(SeedFor(o.seed, 0x67656e /* "gen" */)) {
  const uint32_t n_items = o.items, n_clusters = o.clusters, n_users = o.users;
  total_lines = static_cast<uint64_t>(n_items) + o.events;

  // Items: cluster by round-robin over a random order, popularity by a second random order.
  std::vector<uint32_t> perm(n_items);
  std::iota(perm.begin(), perm.end(), 0u);
  const auto shuffle = [this](std::vector<uint32_t>& v) {
    for (size_t i = v.size(); i > 1; --i) {
      std::swap(v[i - 1], v[rng.Uniform(static_cast<uint32_t>(i))]);
    }
  };
  shuffle(perm);
  cluster_of.resize(n_items);
  for (uint32_t p = 0; p < n_items; ++p) cluster_of[perm[p]] = p % n_clusters;
  shuffle(perm);
  std::vector<double> popularity(n_items);
  for (uint32_t r = 0; r < n_items; ++r) popularity[perm[r]] = ZipfWeight(r, o.zipf);
  catalog_cdf.resize(n_items);
  double acc = 0;
  for (uint32_t i = 0; i < n_items; ++i) catalog_cdf[i] = acc += popularity[i];

  // Planted order: by cluster, then by popularity rank with multiplicative noise, so that
  // an item's successor is of similar (not equal) popularity, like a sequel.
  std::vector<double> order_key(n_items);
  for (uint32_t r = 0; r < n_items; ++r) {
    order_key[perm[r]] = std::log(r + 1.0) + kOrderNoiseStd * rng.Normal();
  }
  order.resize(n_items);
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    if (cluster_of[a] != cluster_of[b]) return cluster_of[a] < cluster_of[b];
    if (order_key[a] != order_key[b]) return order_key[a] < order_key[b];
    return a < b;
  });
  offset.assign(n_clusters + 1, 0);
  for (uint32_t i = 0; i < n_items; ++i) ++offset[cluster_of[i] + 1];
  for (uint32_t c = 0; c < n_clusters; ++c) offset[c + 1] += offset[c];
  position.resize(n_items);
  for (uint32_t p = 0; p < n_items; ++p) position[order[p]] = p;
  cluster_cdf.resize(n_items);
  for (uint32_t c = 0; c < n_clusters; ++c) {
    acc = 0;
    for (uint32_t p = offset[c]; p < offset[c + 1]; ++p)
      cluster_cdf[p] = acc += popularity[order[p]];
  }
  quality.resize(n_items);
  for (float& q : quality) q = static_cast<float>(kItemQualityStd * rng.Normal());
  cluster_year.resize(n_clusters);
  for (int& y : cluster_year) y = 1950 + static_cast<int>(rng.Uniform(71));

  // Users: preferences, and Zipf activity over a random ranking, normalized to a mean of 1.
  users.resize(n_users);
  std::vector<uint32_t> user_rank(n_users);
  std::iota(user_rank.begin(), user_rank.end(), 0u);
  shuffle(user_rank);
  double weight_sum = 0;
  for (uint32_t r = 0; r < n_users; ++r) weight_sum += ZipfWeight(r, o.user_zipf);
  for (uint32_t id = 0; id < n_users; ++id) {
    User& u = users[id];
    u.c1 = rng.Uniform(n_clusters);
    if (n_clusters > 1 && rng.UniformDouble() < kTwoClusterProb) {
      u.c2 = (u.c1 + 1 + rng.Uniform(n_clusters - 1)) % n_clusters;
      u.w1 = kFirstWeight;
      u.w2 = kSecondWeight;
    } else {
      u.c2 = u.c1;
      u.w1 = kSingleWeight;
      u.w2 = 0;
    }
    u.bias = static_cast<float>(kUserBiasStd * rng.Normal());
    const double activity = ZipfWeight(user_rank[id], o.user_zipf) * n_users / weight_sum;
    u.mean_gap_s = o.session_gap_s / activity;
  }
  heap.reserve(n_users);
  for (uint32_t id = 0; id < n_users; ++id) {
    Schedule(id, static_cast<double>(o.start_ts) + 1 + Exponential(rng, users[id].mean_gap_s));
  }
}

void EventGenerator::State::Schedule(uint32_t user, double ts) {
  heap.push_back({static_cast<int64_t>(std::min(ts, kFarFutureTs)), user});
  std::push_heap(heap.begin(), heap.end());
}

uint32_t EventGenerator::State::SampleInCluster(uint32_t cluster) {
  const auto begin = cluster_cdf.begin() + offset[cluster];
  const auto end = cluster_cdf.begin() + offset[cluster + 1];
  const double x = rng.UniformDouble() * *(end - 1);
  const auto it = std::min(std::upper_bound(begin, end, x), end - 1);
  return order[static_cast<size_t>(it - cluster_cdf.begin())];
}

uint32_t EventGenerator::State::SampleCatalog() {
  const double x = rng.UniformDouble() * catalog_cdf.back();
  const auto it =
      std::min(std::upper_bound(catalog_cdf.begin(), catalog_cdf.end(), x), catalog_cdf.end() - 1);
  return static_cast<uint32_t>(it - catalog_cdf.begin());
}

uint32_t EventGenerator::State::PickCluster(const User& u) {
  const double x = rng.UniformDouble();
  if (x < u.w1) return u.c1;
  if (x < u.w1 + u.w2) return u.c2;
  return rng.Uniform(options.clusters);
}

uint32_t EventGenerator::State::NextItem(const User& u) {
  const double x = rng.UniformDouble();
  if (x < kFollowProb) {
    const uint32_t c = cluster_of[u.last_item];
    uint32_t p = position[u.last_item] + 1;
    if (p == offset[c + 1]) p = offset[c];
    return order[p];
  }
  if (x < kFollowProb + kClusterPopularProb) return SampleInCluster(u.cluster);
  return SampleCatalog();
}

uint32_t EventGenerator::State::SessionLength() {
  const double mean = options.mean_session_events;
  if (mean <= 1) return 1;
  // Geometric on {1, 2, ...} with the given mean.
  const double n = 1 + std::floor(std::log1p(-rng.UniformDouble()) / std::log1p(-1 / mean));
  return static_cast<uint32_t>(std::min(n, static_cast<double>(kMaxSessionEvents)));
}

float EventGenerator::State::Rating(const User& u, uint32_t item) {
  const uint32_t c = cluster_of[item];
  const double rest = (1.0 - u.w1 - u.w2) / options.clusters;
  double share = rest;
  if (c == u.c1) share += u.w1;
  if (u.w2 > 0 && c == u.c2) share += u.w2;
  const double preference = std::min(1.0, share / (u.w1 + rest));
  const double score = kRatingBase + kRatingAffinity * preference + quality[item] + u.bias +
                       kRatingNoiseStd * rng.Normal();
  return static_cast<float>(std::clamp(std::round(score), 1.0, 5.0));
}

void EventGenerator::State::AppendItemEvent(uint32_t item, std::string* out) {
  const uint32_t c = cluster_of[item];
  std::memcpy(genre_buf, "genre:c", 7);
  char* end = std::to_chars(genre_buf + 7, genre_buf + sizeof genre_buf, c).ptr;
  const double year = std::round(cluster_year[c] + 6.0 * rng.Normal());
  const std::array<stream::Feature, 2> features = {
      stream::Feature{std::string_view(genre_buf, static_cast<size_t>(end - genre_buf)), 1.0f},
      stream::Feature{"year", static_cast<float>(std::clamp(year, 1920.0, 2024.0))}};
  stream::EventView e;
  e.type = EventType::kItem;
  e.item = FormatId('i', item, item_buf);
  e.ts_seconds = static_cast<double>(options.start_ts);
  e.features = features;
  stream::EncodeEvent(e, out);
  out->push_back('\n');
}

void EventGenerator::State::AppendUserEvent(std::string* out) {
  std::pop_heap(heap.begin(), heap.end());
  const Due due = heap.back();
  heap.pop_back();
  User& u = users[due.user];

  stream::EventView e;
  uint32_t item;
  if (u.left == 0) {  // a new session
    u.session = next_session++;
    u.left = SessionLength();
    u.cluster = PickCluster(u);
    item = SampleInCluster(u.cluster);
    e.type = EventType::kClick;
  } else if (u.last_type == EventType::kAddToCart && rng.UniformDouble() < kCartToPurchaseProb) {
    item = u.last_item;
    e.type = EventType::kPurchase;
  } else {
    item = NextItem(u);
    e.type = EventType::kClick;
  }
  if (e.type != EventType::kPurchase) {
    bool rating = rng.UniformDouble() < options.rating_fraction;
    if (rating && !rated.Insert(due.user, item)) {
      // Already rated: the user rates another item instead, if one of a few draws (first in
      // the session's cluster, then catalog-wide) is new to them.
      rating = false;
      for (int attempt = 0; attempt < kRatingRedraws && !rating; ++attempt) {
        const uint32_t other =
            attempt < kRatingRedraws / 4 ? SampleInCluster(u.cluster) : SampleCatalog();
        if (rated.Insert(due.user, other)) {
          item = other;
          rating = true;
        }
      }
    }
    if (rating) {
      e.type = EventType::kRating;
      e.value = Rating(u, item);
    } else {
      const double x = rng.UniformDouble();
      e.type = x < kClickShare  ? EventType::kClick
               : x < kViewShare ? EventType::kView
               : x < kCartShare ? EventType::kAddToCart
                                : EventType::kPurchase;
    }
  }
  e.user = FormatId('u', due.user, user_buf);
  e.item = FormatId('i', item, item_buf);
  e.session = FormatId('s', u.session, session_buf);
  // Validate() makes the cap unreachable in practice; it keeps every line decodable regardless.
  e.ts_seconds = static_cast<double>(std::min(due.ts, kMaxTs));
  stream::EncodeEvent(e, out);
  out->push_back('\n');

  u.last_item = item;
  u.last_type = e.type;
  --u.left;
  const double now = static_cast<double>(due.ts);
  if (u.left > 0) {
    Schedule(due.user, now + kMinIntraGapS + Exponential(rng, kMeanIntraGapS));
  } else {
    Schedule(due.user, now + kMinIntraGapS + Exponential(rng, u.mean_gap_s));
  }
}

EventGenerator::EventGenerator(const GenOptions& options)
    : state_(std::make_unique<State>(options)) {}
EventGenerator::~EventGenerator() = default;

bool EventGenerator::Next(std::string* out) {
  State& s = *state_;
  if (s.lines >= s.total_lines) return false;
  if (s.lines < s.options.items) {
    s.AppendItemEvent(static_cast<uint32_t>(s.lines), out);
  } else {
    s.AppendUserEvent(out);
  }
  ++s.lines;
  return true;
}

uint64_t EventGenerator::lines() const { return state_->lines; }

Status Generate(const GenOptions& options, std::ostream& out) {
  STREAMREC_RETURN_IF_ERROR(options.Validate());
  constexpr size_t kChunkBytes = 1 << 20;
  EventGenerator gen(options);
  std::string buffer;
  buffer.reserve(kChunkBytes + 4096);
  for (;;) {
    const bool more = gen.Next(&buffer);
    if (buffer.size() >= kChunkBytes || (!more && !buffer.empty())) {
      out.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      buffer.clear();
      if (!out) return Status::IOError("write failed");
    }
    if (!more) break;
  }
  out.flush();
  if (!out) return Status::IOError("write failed");
  return Status::Ok();
}

void AddGenCommand(CLI::App& app) {
  auto options = std::make_shared<GenOptions>();
  auto out_path = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand(
      "gen", "Write a synthetic event stream with planted structure (JSON lines, wire format)");
  cmd->add_option("--users", options->users, "Number of users (ids u0..)")->capture_default_str();
  cmd->add_option("--items", options->items, "Number of items (ids i0..)")->capture_default_str();
  cmd->add_option("--events", options->events,
                  "Number of user events, written after one item event per item")
      ->capture_default_str();
  cmd->add_option("--seed", options->seed, "Random seed; same flags, same output")
      ->capture_default_str();
  cmd->add_option("--rating-fraction", options->rating_fraction,
                  "Approximate fraction of user events that are ratings")
      ->capture_default_str();
  cmd->add_option("--clusters", options->clusters, "Number of latent item clusters")
      ->capture_default_str();
  cmd->add_option("--zipf", options->zipf, "Zipf exponent of item popularity")
      ->capture_default_str();
  cmd->add_option("--user-zipf", options->user_zipf, "Zipf exponent of user activity")
      ->capture_default_str();
  cmd->add_option("--session-gap-s", options->session_gap_s,
                  "Mean seconds between two sessions of an average user")
      ->capture_default_str();
  cmd->add_option("--session-events", options->mean_session_events,
                  "Mean number of events per session")
      ->capture_default_str();
  cmd->add_option("--start-ts", options->start_ts,
                  "Timestamp of the item events (seconds); user events follow")
      ->capture_default_str();
  cmd->add_option("--out", *out_path, "Output file (default: stdout)");
  cmd->callback([cmd, options, out_path] {
    // The default cluster count adapts to a tiny catalog; an explicit one is validated.
    if (cmd->count("--clusters") == 0)
      options->clusters = std::min(options->clusters, options->items);
    if (Status st = options->Validate(); !st.ok()) {
      std::cerr << "streamrec gen: " << st.message() << "\n";
      SetExitCode(2);
      return;
    }
    Status st;
    if (out_path->empty()) {
      st = Generate(*options, std::cout);
    } else {
      std::ofstream file(*out_path, std::ios::binary | std::ios::trunc);
      if (!file) {
        std::cerr << "streamrec gen: cannot open '" << *out_path
                  << "' for writing: " << std::strerror(errno) << "\n";
        SetExitCode(1);
        return;
      }
      st = Generate(*options, file);
      file.close();
      if (st.ok() && !file) st = Status::IOError("close failed");
    }
    if (!st.ok()) {
      std::cerr << "streamrec gen: " << (out_path->empty() ? "stdout" : *out_path) << ": "
                << st.message() << "\n";
      SetExitCode(1);
      return;
    }
    SetExitCode(0);
  });
}

}  // namespace streamrec::tools
