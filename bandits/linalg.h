// Small dense linear algebra for the bandits: row-major n x n matrices of doubles.
#pragma once

#include <cstdint>
#include <span>

namespace streamrec::bandits {

// Sherman–Morrison: given inv = A^-1, makes inv = (A + c u u^T)^-1 in O(n^2), using `tmp`
// (n doubles) as scratch. Returns false (inv unchanged) when 1 + c u^T A^-1 u is not positive,
// i.e. when the update would make a positive-definite A singular or indefinite.
bool ShermanMorrisonUpdate(std::span<double> inv, uint32_t n, std::span<const double> u, double c,
                           std::span<double> tmp);

// out = A v for the n x n matrix A. REQUIRES: out does not alias v.
void MatVec(std::span<const double> a, uint32_t n, std::span<const double> v,
            std::span<double> out);

// Inverts the n x n matrix `a` in place by Gauss–Jordan elimination with partial pivoting; false
// when it is singular. O(n^3): for tests and for checking restored state, never per request.
bool InvertInPlace(std::span<double> a, uint32_t n);

}  // namespace streamrec::bandits
