// Random variates and distribution functions the bandit policies need, on streamrec's Rng.
#pragma once

#include "common/rng.h"

namespace streamrec::bandits {

// Gamma(shape, 1) by Marsaglia & Tsang (2000); shapes below 1 use the u^(1/shape) boost.
// REQUIRES: shape > 0.
double SampleGamma(Rng& rng, double shape);
// Beta(a, b) as X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b). REQUIRES: a, b > 0.
double SampleBeta(Rng& rng, double a, double b);
// ln Γ(x) for x > 0 (Lanczos; thread-safe, unlike std::lgamma which writes signgam).
double LogGamma(double x);
// Regularized incomplete beta I_x(a, b) = P(Beta(a, b) <= x) (continued fraction, ~1e-12).
double BetaCdf(double x, double a, double b);

}  // namespace streamrec::bandits
