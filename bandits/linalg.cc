#include "bandits/linalg.h"

#include <cmath>
#include <utility>
#include <vector>

namespace streamrec::bandits {

void MatVec(std::span<const double> a, uint32_t n, std::span<const double> v,
            std::span<double> out) {
  for (uint32_t i = 0; i < n; ++i) {
    const double* row = a.data() + static_cast<size_t>(i) * n;
    double s = 0.0;
    for (uint32_t j = 0; j < n; ++j) s += row[j] * v[j];
    out[i] = s;
  }
}

bool ShermanMorrisonUpdate(std::span<double> inv, uint32_t n, std::span<const double> u, double c,
                           std::span<double> tmp) {
  // (A + c u u^T)^-1 = A^-1 - c (A^-1 u)(A^-1 u)^T / (1 + c u^T A^-1 u)   (A^-1 symmetric).
  MatVec(inv, n, u, tmp);
  double q = 0.0;
  for (uint32_t i = 0; i < n; ++i) q += u[i] * tmp[i];
  const double denom = 1.0 + c * q;
  if (!(denom > 1e-12)) return false;
  const double f = c / denom;
  for (uint32_t i = 0; i < n; ++i) {
    double* row = inv.data() + static_cast<size_t>(i) * n;
    const double fi = f * tmp[i];
    for (uint32_t j = 0; j < n; ++j) row[j] -= fi * tmp[j];
  }
  return true;
}

bool InvertInPlace(std::span<double> a, uint32_t n) {
  std::vector<double> inv(static_cast<size_t>(n) * n, 0.0);
  for (uint32_t i = 0; i < n; ++i) inv[static_cast<size_t>(i) * n + i] = 1.0;
  auto at = [n](std::span<double> m, uint32_t r, uint32_t c) -> double& {
    return m[static_cast<size_t>(r) * n + c];
  };
  for (uint32_t col = 0; col < n; ++col) {
    uint32_t piv = col;
    for (uint32_t r = col + 1; r < n; ++r) {
      if (std::fabs(at(a, r, col)) > std::fabs(at(a, piv, col))) piv = r;
    }
    if (std::fabs(at(a, piv, col)) < 1e-300) return false;
    if (piv != col) {
      for (uint32_t c = 0; c < n; ++c) {
        std::swap(at(a, piv, c), at(a, col, c));
        std::swap(at(inv, piv, c), at(inv, col, c));
      }
    }
    const double d = 1.0 / at(a, col, col);
    for (uint32_t c = 0; c < n; ++c) {
      at(a, col, c) *= d;
      at(inv, col, c) *= d;
    }
    for (uint32_t r = 0; r < n; ++r) {
      if (r == col) continue;
      const double f = at(a, r, col);
      if (f == 0.0) continue;
      for (uint32_t c = 0; c < n; ++c) {
        at(a, r, c) -= f * at(a, col, c);
        at(inv, r, c) -= f * at(inv, col, c);
      }
    }
  }
  std::copy(inv.begin(), inv.end(), a.begin());
  return true;
}

}  // namespace streamrec::bandits
