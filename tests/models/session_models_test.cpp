// Session models: finite-difference gradient checks of every SGD update (the loss written out
// here independently, as the specification), a planted order each model must learn, seeded
// determinism, and save/load round trips (whole and row-level).
#include <catch2/catch.hpp>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "common/rng.h"
#include "common/topk.h"
#include "models/fpmc.h"
#include "models/sasrec_lite.h"
#include "models/session_knn.h"

namespace streamrec::models {
namespace {

template <typename F>
double NumericGrad(std::vector<double>& x, size_t k, F f) {
  const double h = 1e-3, saved = x[k];
  x[k] = saved + h;
  const double up = f(x);
  x[k] = saved - h;
  const double down = f(x);
  x[k] = saved;
  return (up - down) / (2 * h);
}

// Parameter vectors read from / compared against a model: (row pointer, length) blocks.
struct Block {
  const float* p;
  uint32_t n;
};
std::vector<double> Flatten(const std::vector<Block>& blocks) {
  std::vector<double> v;
  for (const auto& b : blocks) v.insert(v.end(), b.p, b.p + b.n);
  return v;
}

// Compares one SGD step with -lr x the numeric gradient of `loss` at the parameters before it.
template <typename Loss>
void CheckStep(const std::vector<double>& before, const std::vector<double>& after, float lr,
               Loss loss) {
  std::vector<double> x = before;
  for (size_t k = 0; k < x.size(); ++k) {
    INFO("parameter " << k);
    const double g = NumericGrad(x, k, loss);
    CHECK((after[k] - before[k]) == Approx(-lr * g).margin(2e-6).epsilon(2e-2));
  }
  CHECK(loss(after) < loss(before));
}

double LogSigmoid(double x) { return -std::log1p(std::exp(-x)); }

// A stream with a planted order: every session holds A -> B -> C somewhere between random
// filler items (A, B, C never appear as filler).
constexpr ItemIndex kA = 0, kB = 1, kC = 2;
constexpr uint32_t kItems = 60;
std::vector<std::vector<ItemIndex>> PlantedSessions(uint32_t n) {
  Rng rng(7);
  std::vector<std::vector<ItemIndex>> sessions(n);
  for (auto& s : sessions) {
    const uint32_t before = rng.Uniform(3), after = rng.Uniform(3);
    for (uint32_t k = 0; k < before; ++k) s.push_back(3 + rng.Uniform(kItems - 3));
    s.insert(s.end(), {kA, kB, kC});
    for (uint32_t k = 0; k < after; ++k) s.push_back(3 + rng.Uniform(kItems - 3));
  }
  return sessions;
}

void Train(SessionModel& m, const std::vector<std::vector<ItemIndex>>& sessions, int epochs) {
  uint64_t n = 0;
  for (int e = 0; e < epochs; ++e) {
    for (const auto& s : sessions) {
      for (size_t t = 0; t < s.size(); ++t) {
        m.Observe(kNoUser, std::span<const ItemIndex>(s).first(t), s[t], SeedFor(3, n++));
      }
    }
  }
}

ItemIndex Top1(const SessionModel& m, std::vector<ItemIndex> recent) {
  std::vector<float> scores(kItems);
  m.ScoreNext(kNoUser, recent, scores);
  for (ItemIndex r : recent) scores[r] = kExcludedScore;  // the next *new* item
  std::vector<ScoredItem> top;
  TopK(scores, 1, &top);
  return top.empty() ? kNoIndex : top[0].index;
}

std::string SaveBytes(const SessionModel& m) {
  std::string s;
  ByteWriter w(&s);
  m.Save(&w);
  return s;
}

}  // namespace

TEST_CASE("FPMC step follows the gradient of its BPR loss", "[session][gradient]") {
  FPMCOptions o;
  o.dim = 4;
  o.max_len = 3;
  o.decay = 0.5f;
  o.init_std = 0.5f;
  o.head.lr = 1e-3f;
  o.head.reg = 0.05f;
  o.head.reg_bias = 0.02f;
  FPMC m(o);
  // Make users 0, items 0..5 known, and ρ non-zero.
  m.Observe(0, std::vector<ItemIndex>{1, 2}, 2, 1);
  m.Observe(0, std::vector<ItemIndex>{3, 4, 5}, 0, 2);
  const std::vector<ItemIndex> recent = {3, 1, 2};  // pos 2 is also a repeat
  const ItemIndex pos = 2, neg = 5;
  const uint32_t d = o.dim;
  auto blocks = [&] {
    return std::vector<Block>{
        {m.users().Row(0), d},  {m.inputs().Row(3), d},           {m.inputs().Row(1), d},
        {m.inputs().Row(2), d}, {m.head().outputs().Row(pos), d}, {m.head().outputs().Row(neg), d}};
  };
  auto scalars = [&] {
    return std::vector<double>{m.head().bias(pos), m.head().bias(neg), m.head().repeat(0)};
  };
  std::vector<double> before = Flatten(blocks());
  for (double v : scalars()) before.push_back(v);
  // x = b_pos + ρ_0 - b_neg + (p + Σ w_a e_a / Σ w) · (f_pos - f_neg); newest (2) has a = 0.
  auto loss = [&](const std::vector<double>& v) {
    const double w[3] = {0.25 / 1.75, 0.5 / 1.75, 1.0 / 1.75};  // items 3, 1, 2
    double x = v[6 * d] + v[6 * d + 2] - v[6 * d + 1], reg = 0;
    for (uint32_t k = 0; k < d; ++k) {
      const double q = v[k] + w[0] * v[d + k] + w[1] * v[2 * d + k] + w[2] * v[3 * d + k];
      x += q * (v[4 * d + k] - v[5 * d + k]);
    }
    for (uint32_t k = 0; k < 6 * d; ++k) reg += v[k] * v[k];
    return -LogSigmoid(x) + 0.5 * o.head.reg * reg +
           0.5 * o.head.reg_bias * (v[6 * d] * v[6 * d] + v[6 * d + 1] * v[6 * d + 1]);
  };
  m.Step(0, recent, pos, std::vector<ItemIndex>{neg});
  std::vector<double> after = Flatten(blocks());
  for (double v : scalars()) after.push_back(v);
  CheckStep(before, after, o.head.lr, loss);
}

TEST_CASE("FPMC step follows the gradient of its sampled-softmax loss", "[session][gradient]") {
  FPMCOptions o;
  o.dim = 4;
  o.max_len = 2;
  o.decay = 1.0f;
  o.user_term = false;
  o.init_std = 0.5f;
  o.head.lr = 1e-3f;
  o.head.reg = 0.05f;
  o.head.reg_bias = 0.0f;
  o.head.softmax = true;
  o.head.repeat = false;
  FPMC m(o);
  m.Observe(kNoUser, std::vector<ItemIndex>{1}, 5, 1);
  m.Observe(kNoUser, std::vector<ItemIndex>{1}, 3, 2);
  const std::vector<ItemIndex> recent = {0, 1};
  const std::vector<ItemIndex> negs = {3, 4, 5};
  const ItemIndex pos = 2;
  const uint32_t d = o.dim;
  const ItemIndex cand[4] = {pos, 3, 4, 5};
  auto read = [&] {
    std::vector<Block> b = {{m.inputs().Row(0), d}, {m.inputs().Row(1), d}};
    for (ItemIndex c : cand) b.push_back({m.head().outputs().Row(c), d});
    std::vector<double> v = Flatten(b);
    for (ItemIndex c : cand) v.push_back(m.head().bias(c));
    return v;
  };
  const std::vector<double> before = read();
  auto loss = [&](const std::vector<double>& v) {
    double x[4], mx = -1e300, reg = 0;
    for (int c = 0; c < 4; ++c) {
      x[c] = v[6 * d + c];
      for (uint32_t k = 0; k < d; ++k) {
        x[c] += 0.5 * (v[k] + v[d + k]) * v[(2 + c) * d + k];
      }
      mx = std::max(mx, x[c]);
    }
    double z = 0;
    for (double xc : x) z += std::exp(xc - mx);
    for (uint32_t k = 0; k < 6 * d; ++k) reg += v[k] * v[k];
    return std::log(z) + mx - x[0] + 0.5 * o.head.reg * reg;
  };
  CHECK(m.Loss(kNoUser, recent, pos, negs) ==
        Approx(loss(before) - 0.5 * o.head.reg *
                                  [&] {
                                    double r = 0;
                                    for (uint32_t k = 0; k < 6 * d; ++k) r += before[k] * before[k];
                                    return r;
                                  }())
            .epsilon(1e-4));
  m.Step(kNoUser, recent, pos, negs);
  CheckStep(before, read(), o.head.lr, loss);
}

TEST_CASE("SASRec-lite step follows the gradient through the attention block",
          "[session][gradient]") {
  SASRecLiteOptions o;
  o.dim = 4;
  o.max_len = 3;
  o.init_std = 0.5f;
  o.w_init_std = 0.3f;
  o.reg_w = 0.03f;
  o.head.lr = 1e-3f;
  o.head.reg = 0.05f;
  o.head.reg_bias = 0.02f;
  o.head.repeat = false;
  SASRecLite m(o);
  m.Observe(kNoUser, std::vector<ItemIndex>{0, 1}, 4, 1);
  m.Observe(kNoUser, std::vector<ItemIndex>{2}, 3, 2);
  const std::vector<ItemIndex> recent = {0, 1, 2};
  const ItemIndex pos = 3, neg = 4;
  const uint32_t d = o.dim, L = 3;
  auto read = [&] {
    std::vector<Block> b;
    for (ItemIndex r : recent) b.push_back({m.inputs().Row(r), d});           // E: 0..3d
    for (uint32_t a = 0; a < L; ++a) b.push_back({m.positions().Row(a), d});  // P: 3d..6d
    for (uint32_t i = 0; i < d; ++i) b.push_back({m.query().Row(i), d});      // Wq: 6d..6d+d²
    for (uint32_t i = 0; i < d; ++i) b.push_back({m.value().Row(i), d});      // V
    b.push_back({m.head().outputs().Row(pos), d});
    b.push_back({m.head().outputs().Row(neg), d});
    std::vector<double> v = Flatten(b);
    v.push_back(m.head().bias(pos));
    v.push_back(m.head().bias(neg));
    return v;
  };
  const std::vector<double> before = read();
  auto loss = [&](const std::vector<double>& v) {
    const size_t E = 0, P = 3 * d, WQ = 6 * d, V = WQ + d * d, F = V + d * d, B = F + 2 * d;
    double x[3][8];
    for (uint32_t t = 0; t < L; ++t) {
      for (uint32_t k = 0; k < d; ++k) x[t][k] = v[E + t * d + k] + v[P + (L - 1 - t) * d + k];
    }
    double q[8], s[3], o_[8] = {0}, h[8], mx = -1e300, z = 0;
    for (uint32_t i = 0; i < d; ++i) {
      q[i] = 0;
      for (uint32_t k = 0; k < d; ++k) q[i] += v[WQ + i * d + k] * x[L - 1][k];
    }
    for (uint32_t t = 0; t < L; ++t) {
      s[t] = 0;
      for (uint32_t k = 0; k < d; ++k) s[t] += q[k] * x[t][k] / std::sqrt(double(d));
      mx = std::max(mx, s[t]);
    }
    for (uint32_t t = 0; t < L; ++t) z += std::exp(s[t] - mx);
    for (uint32_t t = 0; t < L; ++t) {
      for (uint32_t k = 0; k < d; ++k) o_[k] += std::exp(s[t] - mx) / z * x[t][k];
    }
    double score = v[B] - v[B + 1];
    for (uint32_t i = 0; i < d; ++i) {
      h[i] = x[L - 1][i];
      for (uint32_t k = 0; k < d; ++k) h[i] += v[V + i * d + k] * o_[k];
      score += h[i] * (v[F + i] - v[F + d + i]);
    }
    double reg = 0, reg_w = 0;
    for (size_t k = 0; k < WQ; ++k) reg += v[k] * v[k];
    for (size_t k = F; k < B; ++k) reg += v[k] * v[k];
    for (size_t k = WQ; k < F; ++k) reg_w += v[k] * v[k];
    return -LogSigmoid(score) + 0.5 * o.head.reg * reg + 0.5 * o.reg_w * reg_w +
           0.5 * o.head.reg_bias * (v[B] * v[B] + v[B + 1] * v[B + 1]);
  };
  m.Step(kNoUser, recent, pos, std::vector<ItemIndex>{neg});
  CheckStep(before, read(), o.head.lr, loss);
}

TEST_CASE("Session models learn a planted order A -> B -> C", "[session]") {
  const auto sessions = PlantedSessions(400);
  ParamMap fast = {{"dim", 16}, {"lr", 0.05}, {"negatives", 5}};
  for (const char* name : {"fpmc", "sasrec-lite", "sknn"}) {
    INFO(name);
    ParamMap params =
        std::string(name) == "sknn" ? ParamMap{{"step_decay", 0.5}, {"past_weight", 0.5}} : fast;
    auto m = MakeSessionModel(name, params);
    REQUIRE(m.ok());
    Train(**m, sessions, std::string(name) == "sknn" ? 1 : 5);
    CHECK(Top1(**m, {kA}) == kB);
    CHECK(Top1(**m, {kA, kB}) == kC);
    CHECK(Top1(**m, {17, kA}) == kB);
  }
}

TEST_CASE("Session models are deterministic and round-trip through Save/Load", "[session]") {
  const auto sessions = PlantedSessions(100);
  for (const char* name : {"fpmc", "sasrec-lite", "sknn"}) {
    INFO(name);
    ParamMap params = {{"max_len", 4}};
    auto a = MakeSessionModel(name, params);
    auto b = MakeSessionModel(name, params);
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    Train(**a, sessions, 2);
    Train(**b, sessions, 2);
    const std::string bytes = SaveBytes(**a);
    CHECK(bytes == SaveBytes(**b));

    auto c = MakeSessionModel(name, params);
    REQUIRE(c.ok());
    ByteReader r(bytes);
    REQUIRE((*c)->Load(&r).ok());
    CHECK(SaveBytes(**c) == bytes);
    std::vector<float> sa(kItems), sc(kItems);
    (*a)->ScoreNext(kNoUser, std::vector<ItemIndex>{5, kA}, sa);
    (*c)->ScoreNext(kNoUser, std::vector<ItemIndex>{5, kA}, sc);
    CHECK(sa == sc);
    ByteReader truncated(std::string_view(bytes).substr(0, bytes.size() / 2));
    CHECK_FALSE((*c)->Load(&truncated).ok());

    // Row-level checkpoint: globals + every dirty row restore the same model.
    std::vector<UserIndex> users;
    std::vector<ItemIndex> items;
    (*a)->TakeDirty(&users, &items);
    std::string globals;
    ByteWriter gw(&globals);
    (*a)->SaveGlobals(&gw);
    auto d = MakeSessionModel(name, params);
    REQUIRE(d.ok());
    ByteReader gr(globals);
    REQUIRE((*d)->LoadGlobals(&gr).ok());
    for (ItemIndex i : items) {
      std::string row;
      ByteWriter w(&row);
      (*a)->SaveItemRow(i, &w);
      if (row.empty()) continue;
      ByteReader rr(row);
      REQUIRE((*d)->LoadItemRow(i, &rr).ok());
    }
    CHECK(SaveBytes(**d) == bytes);
  }
}

TEST_CASE("FPMC uses the user vector only for known users", "[session]") {
  FPMCOptions o;
  o.dim = 8;
  FPMC m(o);
  m.Observe(kNoUser, std::vector<ItemIndex>{1}, 2, 2);
  m.Observe(3, std::vector<ItemIndex>{0}, 1, 1);  // item 2 is a negative: a step on user 3
  std::vector<float> known(3), anon(3), unknown(3);
  m.ScoreNext(3, std::vector<ItemIndex>{1}, known);
  m.ScoreNext(kNoUser, std::vector<ItemIndex>{1}, anon);
  m.ScoreNext(100, std::vector<ItemIndex>{1}, unknown);
  CHECK(anon == unknown);
  CHECK(known != anon);
  CHECK(anon[0] == kExcludedScore);  // never a next click
  std::vector<UserIndex> users;
  std::vector<ItemIndex> items;
  m.TakeDirty(&users, &items);
  // Rows 0..2 were created (initialized) with row 3: they are stored too, so what reaches the
  // store does not depend on when checkpoints happen.
  CHECK(users == std::vector<UserIndex>{0, 1, 2, 3});
  m.ForgetUser(3);
  users.clear();
  m.TakeDirty(&users, &items);
  CHECK(users == std::vector<UserIndex>{3});
}

TEST_CASE("Session-kNN stays within max_sessions and rejects other shapes", "[session]") {
  SessionKNNOptions o;
  o.max_sessions = 10;
  o.max_len = 3;
  SessionKNN m(o);
  Train(m, PlantedSessions(50), 1);
  CHECK(m.sessions() == 10);
  for (uint32_t s = 0; s < m.sessions(); ++s) CHECK(m.Session(s).size() <= 3);
  std::string bytes = SaveBytes(m);
  SessionKNNOptions other = o;
  other.max_len = 4;
  SessionKNN n(other);
  ByteReader r(bytes);
  CHECK_FALSE(n.Load(&r).ok());
  auto bad = MakeSessionModel("sknn", {{"neighbours", 3}});
  CHECK_FALSE(bad.ok());
  CHECK_FALSE(MakeSessionModel("gru", {}).ok());
}

}  // namespace streamrec::models
