// Top-k selection alone over a precomputed score array (the kernel after score-all).
#include <benchmark/benchmark.h>

#include <vector>

#include "common/rng.h"
#include "common/topk.h"

namespace streamrec {
namespace {

void BM_TopK(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  std::vector<float> scores(n);
  Rng rng(7);
  for (auto& s : scores) s = static_cast<float>(rng.Normal());
  std::vector<ScoredItem> out;
  for (auto _ : state) {
    TopK(scores, static_cast<size_t>(state.range(1)), &out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
}
// k = 10 (an answer) and k = 52 (the 2k + 32 candidates a request rescores).
BENCHMARK(BM_TopK)->ArgsProduct({{20'000, 100'000, 1'000'000}, {10, 52}});

}  // namespace
}  // namespace streamrec
