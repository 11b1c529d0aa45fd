// Finite-difference checks: one SGD step must move every parameter by -lr x the gradient of the
// loss the model claims to minimize, written out here independently as the specification.
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "models/bpr.h"
#include "models/mf.h"

namespace streamrec::models {
namespace {

// Central difference of f at x[k].
template <typename F>
double NumericGrad(std::vector<double>& x, size_t k, F f) {
  const double h = 1e-4, saved = x[k];
  x[k] = saved + h;
  const double up = f(x);
  x[k] = saved - h;
  const double down = f(x);
  x[k] = saved;
  return (up - down) / (2 * h);
}

}  // namespace

TEST_CASE("MF SGD step follows the gradient of the regularized squared error", "[gradient]") {
  MFOptions o;
  o.dim = 8;
  o.lr = 1e-3f;
  o.reg = 0.05f;
  o.reg_bias = 0.02f;
  o.init_std = 0.3f;
  BiasedMF mf(o);
  // Warm up so that biases and mean are non-trivial.
  mf.Update(0, 0, 4.0f);
  mf.Update(1, 1, 2.0f);
  mf.Update(0, 1, 3.0f);
  const UserIndex u = 1;
  const ItemIndex i = 0;
  const float r = 5.0f;
  const uint32_t d = o.dim;

  // Parameter vector: [p_u (d), q_i (d), b_u, b_i]; μ after the update's own rating.
  std::vector<double> x;
  for (uint32_t k = 0; k < d; ++k) x.push_back(mf.users().Row(u)[k]);
  for (uint32_t k = 0; k < d; ++k) x.push_back(mf.items().Row(i)[k]);
  x.push_back(mf.user_bias(u));
  x.push_back(mf.item_bias(i));
  const double mu = (mf.global_mean() * 3 + r) / 4;
  auto loss = [&](const std::vector<double>& v) {
    double dot = 0, reg = 0;
    for (uint32_t k = 0; k < d; ++k) {
      dot += v[k] * v[d + k];
      reg += v[k] * v[k] + v[d + k] * v[d + k];
    }
    const double e = r - (mu + v[2 * d] + v[2 * d + 1] + dot);
    return 0.5 * e * e + 0.5 * o.reg * reg +
           0.5 * o.reg_bias * (v[2 * d] * v[2 * d] + v[2 * d + 1] * v[2 * d + 1]);
  };
  std::vector<double> grad(x.size());
  for (size_t k = 0; k < x.size(); ++k) grad[k] = NumericGrad(x, k, loss);
  const double loss_before = loss(x);

  mf.Update(u, i, r);
  std::vector<double> after;
  for (uint32_t k = 0; k < d; ++k) after.push_back(mf.users().Row(u)[k]);
  for (uint32_t k = 0; k < d; ++k) after.push_back(mf.items().Row(i)[k]);
  after.push_back(mf.user_bias(u));
  after.push_back(mf.item_bias(i));
  for (size_t k = 0; k < x.size(); ++k) {
    INFO("parameter " << k);
    CHECK((after[k] - x[k]) == Approx(-o.lr * grad[k]).margin(1e-6).epsilon(1e-3));
  }
  CHECK(loss(after) < loss_before);
}

TEST_CASE("BPR SGD step follows the gradient of the weighted pairwise loss", "[gradient]") {
  BPROptions o;
  o.dim = 8;
  o.lr = 1e-3f;
  o.reg = 0.02f;
  o.reg_bias = 0.01f;
  o.init_std = 0.3f;
  BPR bpr(o);
  UserHistory h;
  // Create rows for user 0 and items 0..3.
  for (ItemIndex it = 0; it < 4; ++it) bpr.Observe({0, it, 0, 1, 0, false}, h, it);
  const UserIndex u = 0;
  const ItemIndex i = 1, j = 3;
  const float w = 2.5f;
  const uint32_t d = o.dim;

  // Parameter vector: [p_u, q_i, q_j, b_i, b_j].
  auto snapshot = [&] {
    std::vector<double> v;
    for (const float* row : {bpr.users().Row(u), bpr.items().Row(i), bpr.items().Row(j)}) {
      for (uint32_t k = 0; k < d; ++k) v.push_back(row[k]);
    }
    v.push_back(bpr.item_bias(i));
    v.push_back(bpr.item_bias(j));
    return v;
  };
  auto loss = [&](const std::vector<double>& v) {
    double x = v[3 * d] - v[3 * d + 1], reg = 0;
    for (uint32_t k = 0; k < d; ++k) {
      x += v[k] * (v[d + k] - v[2 * d + k]);
      reg += v[k] * v[k] + v[d + k] * v[d + k] + v[2 * d + k] * v[2 * d + k];
    }
    return w * std::log1p(std::exp(-x)) + 0.5 * o.reg * reg +
           0.5 * o.reg_bias * (v[3 * d] * v[3 * d] + v[3 * d + 1] * v[3 * d + 1]);
  };
  std::vector<double> x = snapshot();
  // The model's own loss agrees with the specification (unweighted, unregularized part).
  {
    double xs = x[3 * d] - x[3 * d + 1];
    for (uint32_t k = 0; k < d; ++k) xs += x[k] * (x[d + k] - x[2 * d + k]);
    CHECK(bpr.PairLoss(u, i, j) == Approx(std::log1p(std::exp(-xs))).epsilon(1e-5));
  }
  std::vector<double> grad(x.size());
  for (size_t k = 0; k < x.size(); ++k) grad[k] = NumericGrad(x, k, loss);
  const double loss_before = loss(x);

  bpr.PairStep(u, i, j, w);
  std::vector<double> after = snapshot();
  for (size_t k = 0; k < x.size(); ++k) {
    INFO("parameter " << k);
    CHECK((after[k] - x[k]) == Approx(-o.lr * grad[k]).margin(1e-6).epsilon(1e-3));
  }
  CHECK(loss(after) < loss_before);
}

}  // namespace streamrec::models
