// Bandit policies: closed-form posteriors, Sherman–Morrison against direct inversion, the fast
// LinUCB path against the literal Algorithm 2, and convergence in a simulated two-armed world.
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "bandits/epsilon_greedy.h"
#include "bandits/lin_ucb.h"
#include "bandits/linalg.h"
#include "bandits/sampling.h"
#include "bandits/thompson.h"

namespace streamrec::bandits {
namespace {

SparseFeatures Features(const FeatureHasher& h, std::initializer_list<const char*> names) {
  SparseFeatures f;
  for (const char* n : names) h.Add(n, 1.0f, &f);
  h.Add("bias", 1.0f, &f);
  return f;
}

std::vector<float> RandomEmbedding(Rng& rng, uint32_t dim) {
  std::vector<float> e(dim);
  for (float& v : e) v = static_cast<float>(rng.Normal());
  return e;
}

}  // namespace

TEST_CASE("Beta sampling and the incomplete beta match closed forms", "[bandits]") {
  CHECK(BetaCdf(0.5, 2, 3) == Approx(0.6875).epsilon(1e-10));  // 11/16
  CHECK(BetaCdf(0.3, 1, 1) == Approx(0.3).epsilon(1e-10));
  CHECK(BetaCdf(0.2, 1, 4) == Approx(1 - std::pow(0.8, 4)).epsilon(1e-10));
  CHECK(LogGamma(5.0) == Approx(std::log(24.0)).epsilon(1e-12));
  Rng rng(1);
  double sum = 0, sum2 = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const double x = SampleBeta(rng, 2, 5);
    sum += x;
    sum2 += x * x;
  }
  const double mean = sum / n, var = sum2 / n - mean * mean;
  CHECK(mean == Approx(2.0 / 7).epsilon(0.01));
  CHECK(var == Approx(2.0 * 5 / (49.0 * 8)).epsilon(0.03));
  double small = 0;
  for (int i = 0; i < n; ++i) small += SampleBeta(rng, 0.5, 0.5);
  CHECK(small / n == Approx(0.5).epsilon(0.01));
}

TEST_CASE("Thompson posterior updates follow the Beta-Bernoulli closed form", "[bandits]") {
  ThompsonOptions o;
  o.prior_alpha = 2;
  o.prior_beta = 8;
  ThompsonPolicy p(o);
  p.ResetArm(0, {});
  for (int i = 0; i < 3; ++i) p.Update({}, 0, 1.0f, 100);
  for (int i = 0; i < 7; ++i) p.Update({}, 0, 0.0f, 100);
  double a, b;
  p.Posterior(0, 100, &a, &b);
  CHECK(a == 5.0);
  CHECK(b == 15.0);
  CHECK(p.Mean({}, 0, 100) == Approx(0.25));

  // With a half-life the evidence halves every half-life; the prior stays.
  o.half_life_s = 10;
  ThompsonPolicy d(o);
  d.ResetArm(0, {});
  d.Update({}, 0, 1.0f, 0);
  d.Update({}, 0, 0.0f, 0);
  d.Posterior(0, 10'000'000, &a, &b);
  CHECK(a == Approx(2.5));
  CHECK(b == Approx(8.5));
  d.Update({}, 0, 1.0f, 20'000'000);  // 0.25 + 1 successes, 0.25 failures
  d.Posterior(0, 20'000'000, &a, &b);
  CHECK(a == Approx(3.25));
  CHECK(b == Approx(8.25));
}

TEST_CASE("Thompson propensities average to the selection frequency", "[bandits]") {
  ThompsonPolicy p(ThompsonOptions{});
  const double clicks[4] = {1, 3, 0, 5}, shows[4] = {10, 12, 4, 30};
  for (ArmIndex a = 0; a < 4; ++a) {
    p.ResetArm(a, {});
    for (int i = 0; i < shows[a]; ++i) p.Update({}, a, i < clicks[a] ? 1.0f : 0.0f, 0);
  }
  const std::vector<ArmIndex> arms = {0, 1, 2, 3};
  SelectScratch s;
  std::vector<Selection> out;
  double count[4] = {}, inv_prop[4] = {};
  const int n = 40000;
  for (int t = 0; t < n; ++t) {
    Rng rng(SeedFor(9, t));
    out.clear();
    p.Select({}, arms, 2, 0, rng, &s, &out);
    REQUIRE(out.size() == 2);
    for (const Selection& sel : out) {
      count[sel.arm] += 1;
      inv_prop[sel.arm] += 1.0 / sel.propensity;
    }
  }
  // E[1/p | chosen] * P(chosen) = 1 for a correct propensity (the IPW identity).
  for (int a = 0; a < 4; ++a) {
    INFO("arm " << a << " chosen " << count[a] / n);
    CHECK(inv_prop[a] / n == Approx(1.0).epsilon(0.05));
  }
}

TEST_CASE("Sherman-Morrison updates match a direct inverse on random data", "[bandits]") {
  const uint32_t n = 12;
  Rng rng(3);
  std::vector<double> a(n * n, 0.0), inv(n * n, 0.0), u(n), tmp(n);
  for (uint32_t i = 0; i < n; ++i) a[i * n + i] = inv[i * n + i] = 1.0;
  for (int step = 0; step < 200; ++step) {
    for (double& x : u) x = rng.Normal();
    const double c = step % 5 == 4 ? -0.3 * 1.0 / (1 + step) : 0.5 + rng.UniformDouble();
    for (uint32_t i = 0; i < n; ++i)
      for (uint32_t j = 0; j < n; ++j) a[i * n + j] += c * u[i] * u[j];
    REQUIRE(ShermanMorrisonUpdate(inv, n, u, c, tmp));
  }
  std::vector<double> direct = a;
  REQUIRE(InvertInPlace(direct, n));
  for (uint32_t i = 0; i < n * n; ++i) CHECK(inv[i] == Approx(direct[i]).margin(1e-9));
  // A singular update is refused and leaves the inverse alone.
  std::vector<double> id(4, 0.0), e = {1, 0}, t2(2);
  id[0] = id[3] = 1.0;
  CHECK_FALSE(ShermanMorrisonUpdate(id, 2, e, -1.0, t2));
  CHECK(id[0] == 1.0);
}

TEST_CASE("LinUCB's collapsed fast path equals the literal hybrid Algorithm 2", "[bandits]") {
  LinUcbOptions o;
  o.dim = 16;
  o.user_dim = 5;
  o.embedding_dim = 12;
  o.alpha = 0.7;
  o.refresh_every = 1000;  // exercise the incremental path
  LinUcbPolicy p(o);
  FeatureHasher h(o.dim);
  const char* genres[] = {"genre:A", "genre:B", "genre:C", "genre:D", "genre:E"};
  for (ArmIndex a = 0; a < 10; ++a)
    p.ResetArm(a, Features(h, {genres[a % 5], genres[(a * 3 + 1) % 5]}));
  Rng rng(5);
  for (int t = 0; t < 300; ++t) {
    auto e = RandomEmbedding(rng, o.embedding_dim);
    const ArmIndex a = rng.Uniform(10);
    p.Update({e}, a, rng.Uniform(3) == 0 ? 1.0f : 0.0f, t);
  }
  // A0^-1 maintained by Sherman-Morrison equals the direct inverse of A0.
  std::vector<double> direct = p.a0();
  REQUIRE(InvertInPlace(direct, o.dim));
  for (size_t i = 0; i < direct.size(); ++i)
    CHECK(p.a0_inverse()[i] == Approx(direct[i]).margin(1e-8));
  // The float fast path (via Select's scores) matches the reference UCB of every arm.
  auto e = RandomEmbedding(rng, o.embedding_dim);
  std::vector<ArmIndex> arms(10);
  for (ArmIndex a = 0; a < 10; ++a) arms[a] = a;
  SelectScratch s;
  std::vector<Selection> out;
  Rng sel_rng(1);
  p.Select({e}, arms, 10, 0, sel_rng, &s, &out);
  REQUIRE(out.size() == 10);
  for (const Selection& sel : out) {
    CHECK(sel.score == Approx(p.ReferenceUcb({e}, sel.arm)).margin(1e-4));
  }
  for (size_t i = 1; i < out.size(); ++i) CHECK(out[i - 1].score >= out[i].score);
}

TEST_CASE("Each policy converges to the better arm of a two-armed world", "[bandits]") {
  FeatureHasher h(16);
  for (const char* name : {"thompson", "linucb", "egreedy"}) {
    auto made = MakePolicy(name, {}, 16, 8);
    REQUIRE(made.ok());
    Policy& p = **made;
    p.ResetArm(0, Features(h, {"genre:A"}));
    p.ResetArm(1, Features(h, {"genre:B"}));
    const double ctr[2] = {0.05, 0.15};
    const std::vector<ArmIndex> arms = {0, 1};
    Rng world(11);
    SelectScratch s;
    std::vector<Selection> out;
    int better_late = 0;
    const int rounds = 4000, late = 1000;
    for (int t = 0; t < rounds; ++t) {
      auto e = RandomEmbedding(world, 8);
      Rng rng(SeedFor(1, t));
      out.clear();
      p.Select({e}, arms, 1, t, rng, &s, &out);
      REQUIRE(out.size() == 1);
      const ArmIndex a = out[0].arm;
      if (t >= rounds - late && a == 1) ++better_late;
      p.Update({e}, a, world.UniformDouble() < ctr[a] ? 1.0f : 0.0f, t);
    }
    INFO(name << ": better arm in " << better_late << " of the last " << late);
    CHECK(better_late > 0.8 * late);
  }
}

TEST_CASE("LinUCB explores first a new item whose features resemble clicked items", "[bandits]") {
  auto made = MakePolicy("linucb", {}, 32, 8);
  REQUIRE(made.ok());
  Policy& p = **made;
  FeatureHasher h(32);
  // Drama items get clicked, Horror items do not.
  for (ArmIndex a = 0; a < 6; ++a)
    p.ResetArm(a, Features(h, {a % 2 ? "genre:Horror" : "genre:Drama"}));
  Rng world(2);
  for (int t = 0; t < 600; ++t) {
    const ArmIndex a = world.Uniform(6);
    p.Update({RandomEmbedding(world, 8)}, a, (a % 2 == 0 && world.Uniform(3) == 0) ? 1.0f : 0.0f,
             t);
  }
  // Two brand-new items, never shown: a Horror one in the lower slot, a Drama one above it.
  p.ResetArm(6, Features(h, {"genre:Horror"}));
  p.ResetArm(7, Features(h, {"genre:Drama"}));
  const std::vector<ArmIndex> fresh = {6, 7};
  SelectScratch s;
  std::vector<Selection> out;
  for (int t = 0; t < 20; ++t) {
    Rng rng(t);
    out.clear();
    const auto e = RandomEmbedding(world, 8);
    p.Select({e}, fresh, 1, 0, rng, &s, &out);
    REQUIRE(out.size() == 1);
    CHECK(out[0].arm == 7);
  }
  // Thompson cannot tell them apart: both are at the prior.
  ThompsonPolicy ts(ThompsonOptions{});
  ts.ResetArm(6, {});
  ts.ResetArm(7, {});
  CHECK(ts.Mean({}, 6, 0) == ts.Mean({}, 7, 0));
}

TEST_CASE("epsilon-greedy propensities are exact", "[bandits]") {
  EpsilonGreedyOptions o;
  o.epsilon = 0.2;
  EpsilonGreedyPolicy p(o);
  for (ArmIndex a = 0; a < 5; ++a) {
    p.ResetArm(a, {});
    for (int i = 0; i <= static_cast<int>(a); ++i) p.Update({}, a, 1.0f, 0);  // arm 4 best
  }
  const std::vector<ArmIndex> arms = {0, 1, 2, 3, 4};
  SelectScratch s;
  std::vector<Selection> out;
  int chosen4 = 0;
  const int n = 20000;
  for (int t = 0; t < n; ++t) {
    Rng rng(SeedFor(3, t));
    out.clear();
    p.Select({}, arms, 1, 0, rng, &s, &out);
    if (out[0].arm == 4) {
      ++chosen4;
      CHECK(out[0].propensity == Approx(0.8 + 0.2 / 5));
    } else {
      CHECK(out[0].propensity == Approx(0.2 / 5));
    }
  }
  CHECK(static_cast<double>(chosen4) / n == Approx(0.84).epsilon(0.02));
}

}  // namespace streamrec::bandits
