// Exploration-slot selection, one thread: the time ExplorationPool::SelectSlots adds to a
// /v1/recommend request (one explore slot, 20 excluded items, a 64-dim user embedding) over a
// pool of cold items whose arms have already seen a few rewards each.
//
//   build/bench/bandits_bench --benchmark_filter=LinUcb
// Args: pool size, feature dim (LinUCB's hashed item-feature dimension D).
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "bandits/exploration_pool.h"
#include "bandits/reward_joiner.h"
#include "common/rng.h"

namespace streamrec::bandits {
namespace {

constexpr uint32_t kEmbeddingDim = 64;

std::unique_ptr<ExplorationPool> MakePool(const std::string& policy, uint32_t items, uint32_t dim) {
  PoolOptions po;
  po.feature_dim = dim;
  po.cold_threshold = 1u << 30;
  auto p = MakePolicy(policy, {}, dim, kEmbeddingDim);
  auto pool = std::make_unique<ExplorationPool>(po, std::move(*p));
  Rng rng(1);
  for (uint32_t i = 0; i < items; ++i) {
    SparseFeatures f;
    // MovieLens-like: two of 19 genres and a scaled release year.
    pool->hasher().Add("genre:" + std::to_string(rng.Uniform(19)), 1.0f, &f);
    pool->hasher().Add("genre:" + std::to_string(rng.Uniform(19)), 1.0f, &f);
    pool->hasher().Add("year", rng.UniformFloat(), &f);
    pool->OnItem(i, f, 0);
  }
  std::vector<float> emb(kEmbeddingDim);
  for (uint32_t n = 0; n < 3 * items; ++n) {  // a few rewards per arm
    for (float& v : emb) v = static_cast<float>(rng.Normal());
    pool->OnReward({emb}, rng.Uniform(items), rng.Uniform(20) == 0 ? 1.0f : 0.0f, n);
  }
  return pool;
}

void RunSelect(benchmark::State& state, const std::string& policy) {
  const auto items = static_cast<uint32_t>(state.range(0));
  const auto dim = static_cast<uint32_t>(state.range(1));
  auto pool = MakePool(policy, items, dim);
  Rng rng(2);
  std::vector<float> emb(kEmbeddingDim);
  for (float& v : emb) v = static_cast<float>(rng.Normal());
  std::vector<ItemIndex> exclude(20);
  for (auto& e : exclude) e = rng.Uniform(items);
  SelectScratch scratch;
  std::vector<ExploreSlot> out;
  uint64_t seed = 0;
  for (auto _ : state) {
    out.clear();
    pool->SelectSlots({emb}, 1, exclude, 0, ++seed, &scratch, &out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * items);
}

void BM_SelectThompson(benchmark::State& s) { RunSelect(s, "thompson"); }
void BM_SelectLinUcb(benchmark::State& s) { RunSelect(s, "linucb"); }
void BM_SelectEpsilonGreedy(benchmark::State& s) { RunSelect(s, "egreedy"); }
void BM_SelectRandom(benchmark::State& s) { RunSelect(s, "random"); }

void BM_UpdateLinUcb(benchmark::State& state) {
  const auto dim = static_cast<uint32_t>(state.range(1));
  const auto items = static_cast<uint32_t>(state.range(0));
  auto pool = MakePool("linucb", items, dim);
  Rng rng(3);
  std::vector<float> emb(kEmbeddingDim);
  for (float& v : emb) v = static_cast<float>(rng.Normal());
  uint32_t n = 0;
  for (auto _ : state) {
    ++n;
    pool->OnReward({emb}, (n * 7919u) % items, (n % 20) == 0 ? 1.0f : 0.0f, n);
  }
}

BENCHMARK(BM_SelectThompson)->Args({1000, 32})->Args({10000, 32})->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SelectLinUcb)
    ->Args({1000, 16})
    ->Args({1000, 32})
    ->Args({1000, 64})
    ->Args({10000, 16})
    ->Args({10000, 32})
    ->Args({10000, 64})
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SelectEpsilonGreedy)->Args({10000, 32})->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SelectRandom)->Args({10000, 32})->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_UpdateLinUcb)
    ->Args({10000, 16})
    ->Args({10000, 32})
    ->Args({10000, 64})
    ->Unit(benchmark::kMicrosecond);

// The reward joiner's OnServed in steady state (max_served open records, each new one evicts
// the oldest) when `distinct` (user, item) pairs share all the traffic: 1 is one client
// polling for one user and getting the same explored item every time.
void BM_JoinerOnServed(benchmark::State& state) {
  const auto distinct = static_cast<uint32_t>(state.range(0));
  JoinerOptions o;
  o.window_s = 1 << 20;
  o.max_served = 100000;
  RewardJoiner j(o);
  std::vector<Reward> out;
  uint64_t n = 0;
  const auto serve = [&] {
    ++n;
    j.OnServed({n, 1, static_cast<ItemIndex>(n % distinct), 0, 1.0, static_cast<int64_t>(n)}, &out);
    out.clear();
  };
  while (n < o.max_served) serve();
  for (auto _ : state) serve();
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_JoinerOnServed)->Arg(1)->Arg(1000);

}  // namespace
}  // namespace streamrec::bandits
