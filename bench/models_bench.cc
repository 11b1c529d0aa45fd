// Model kernels, one thread: SGD updates/s of MF and BPR on large tables, and exact top-k
// (score-all + selection, with the user's seen items excluded) over the item table.
//
//   build/bench/models_bench --benchmark_filter=MF   (etc.)
#include <benchmark/benchmark.h>

#include <memory>
#include <vector>

#include "common/rng.h"
#include "common/topk.h"
#include "models/bpr.h"
#include "models/mf.h"
#include "models/score_table.h"

namespace streamrec::models {
namespace {

// Args: users, items, dim.
struct Shape {
  uint32_t users, items, dim;
  explicit Shape(const benchmark::State& s)
      : users(static_cast<uint32_t>(s.range(0))),
        items(static_cast<uint32_t>(s.range(1))),
        dim(static_cast<uint32_t>(s.range(2))) {}
};

// Random (user, item) pairs, drawn before timing so the loop measures only the update.
std::vector<Interaction> RandomEvents(const Shape& sh, size_t n) {
  Rng rng(1);
  std::vector<Interaction> xs(n);
  for (auto& x : xs) {
    x.user = rng.Uniform(sh.users);
    x.item = rng.Uniform(sh.items);
    x.value = static_cast<float>(1 + rng.Uniform(5));
    x.is_rating = true;
  }
  return xs;
}

void BM_MFUpdate(benchmark::State& state) {
  const Shape sh(state);
  MFOptions o;
  o.dim = sh.dim;
  BiasedMF mf(o);
  mf.Update(sh.users - 1, sh.items - 1, 3.0f);  // allocate the full tables up front
  const auto xs = RandomEvents(sh, 1 << 20);
  size_t i = 0;
  for (auto _ : state) {
    const Interaction& x = xs[i++ & (xs.size() - 1)];
    mf.Update(x.user, x.item, x.value);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

// BPR events with `negatives` pair steps each (0 = the model default, BPROptions{}.negatives).
void RunBPR(benchmark::State& state, uint32_t negatives) {
  const Shape sh(state);
  BPROptions o;
  o.dim = sh.dim;
  if (negatives > 0) o.negatives = negatives;
  BPR bpr(o);
  UserHistory history;
  bpr.Observe({sh.users - 1, sh.items - 1}, history, 0);  // allocate the full tables up front
  const auto xs = RandomEvents(sh, 1 << 20);
  size_t i = 0;
  for (auto _ : state) {
    const size_t k = i++ & (xs.size() - 1);
    bpr.Observe(xs[k], history, k);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["negatives"] = o.negatives;
}
// Per-pair cost: one negative per event.
void BM_BPRUpdate(benchmark::State& state) { RunBPR(state, 1); }
// One whole event with the daemon's default negatives.
void BM_BPRObserve(benchmark::State& state) { RunBPR(state, 0); }
BENCHMARK(BM_BPRObserve)->Args({100'000, 20'000, 64})->Args({1'000'000, 100'000, 64});

void Shapes(benchmark::internal::Benchmark* b) {
  for (int64_t dim : {32, 64, 128}) {
    b->Args({100'000, 20'000, dim});
    b->Args({1'000'000, 100'000, dim});
  }
}
BENCHMARK(BM_MFUpdate)->Apply(Shapes);
BENCHMARK(BM_BPRUpdate)->Apply(Shapes);

// A BPR model of `items` x `dim` (args 0 and 1) and a user 0 with 50 seen items.
struct TopKSetup {
  explicit TopKSetup(const benchmark::State& state)
      : items(static_cast<uint32_t>(state.range(0))), bpr(Options(state)) {
    bpr.Observe({0, items - 1}, history, 0);
    Rng rng(3);
    for (int k = 0; k < 50; ++k) history.Add(0, rng.Uniform(items));
  }
  static BPROptions Options(const benchmark::State& state) {
    BPROptions o;
    o.dim = static_cast<uint32_t>(state.range(1));
    return o;
  }
  uint32_t items;
  BPR bpr;
  UserHistory history;
};

// Top-10 for one user over all items: BPR's score-all kernel, 50 seen items excluded, TopK.
void BM_TopK(benchmark::State& state) {
  TopKSetup m(state);
  const uint32_t items = m.items;
  BPR& bpr = m.bpr;
  UserHistory& history = m.history;
  std::vector<float> scores(items);
  std::vector<ScoredItem> top;
  for (auto _ : state) {
    bpr.ScoreItems(0, history, scores);
    for (ItemIndex i : history.Items(0)) scores[i] = kExcludedScore;
    TopK(scores, 10, &top);
    benchmark::DoNotOptimize(top.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * items);
}
BENCHMARK(BM_TopK)
    ->Args({20'000, 64})
    ->Args({100'000, 64})
    ->Args({1'000'000, 64})
    ->Unit(benchmark::kMicrosecond);

// The same on an int8 copy of the item table (ScoreTable, what /v1/recommend scores), with
// the exact rescoring of the 2k+32 best candidates that the daemon's read path does.
void BM_TopKI8(benchmark::State& state) {
  TopKSetup m(state);
  const uint32_t items = m.items;
  const BPR& bpr = m.bpr;
  const UserHistory& history = m.history;
  ScoreTable table(bpr.items().dim());
  table.Resize(items);
  for (uint32_t i = 0; i < items; ++i) table.Set(i, bpr.items().Row(i), bpr.item_bias(i));
  std::vector<float> scores(items);
  std::vector<ScoredItem> top;
  const float* user = bpr.users().Row(0);
  for (auto _ : state) {
    table.ScoreAll(user, scores);
    for (ItemIndex i : history.Items(0)) scores[i] = kExcludedScore;
    TopK(scores, 2 * 10 + 32, &top);
    for (ScoredItem& t : top) t.score = bpr.ScoreItem(user, t.index);
    std::sort(top.begin(), top.end(),
              [](const ScoredItem& a, const ScoredItem& b) { return a.score > b.score; });
    top.resize(10);
    benchmark::DoNotOptimize(top.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * items);
}
BENCHMARK(BM_TopKI8)
    ->Args({20'000, 64})
    ->Args({100'000, 64})
    ->Args({1'000'000, 64})
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace streamrec::models
