// Session models, one thread: Observe updates/s (dim 64, 100k items, sessions of random items)
// and ScoreNext over the whole catalog; SessionTracker Add.
//
//   build/bench/session_bench --benchmark_filter=Observe   (etc.)
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "common/rng.h"
#include "models/session_model.h"
#include "models/sessions.h"

namespace streamrec {
namespace {

constexpr uint32_t kItems = 100'000;
constexpr uint32_t kDim = 64;
const char* const kModels[] = {"fpmc", "sasrec-lite", "sknn"};

// A model with every item known, and random sessions drawn before timing.
std::unique_ptr<SessionModel> Warm(const char* name, std::vector<ItemIndex>* stream) {
  ParamMap params;
  if (std::string(name) != "sknn") params["dim"] = kDim;
  auto made = MakeSessionModel(name, params);
  std::unique_ptr<SessionModel> m = std::move(*made);
  Rng rng(1);
  stream->resize(1 << 20);
  for (auto& i : *stream) i = rng.Uniform(kItems);
  const std::vector<ItemIndex> none;
  for (ItemIndex i = 0; i < kItems; ++i) m->Observe(kNoUser, none, i, i);
  return m;
}

void BM_Observe(benchmark::State& state) {
  const char* name = kModels[state.range(0)];
  std::vector<ItemIndex> stream;
  auto m = Warm(name, &stream);
  const uint32_t L = m->max_len();
  size_t i = L;
  for (auto _ : state) {
    if (++i >= stream.size()) i = L;
    m->Observe(kNoUser, std::span<const ItemIndex>(stream).subspan(i - L, L), stream[i], i);
  }
  state.SetLabel(name);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

void BM_ScoreNext(benchmark::State& state) {
  const char* name = kModels[state.range(0)];
  std::vector<ItemIndex> stream;
  auto m = Warm(name, &stream);
  for (size_t i = 20; i < 200'000; ++i) {  // some history for the neighbourhood model
    m->Observe(kNoUser, std::span<const ItemIndex>(stream).subspan(i - 5, 5), stream[i], i);
  }
  std::vector<float> scores(kItems);
  size_t i = 20;
  for (auto _ : state) {
    if (++i >= stream.size()) i = 20;
    m->ScoreNext(kNoUser, std::span<const ItemIndex>(stream).subspan(i - 10, 10), scores);
    benchmark::DoNotOptimize(scores.data());
  }
  state.SetLabel(name);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * kItems);
}

void BM_TrackerAdd(benchmark::State& state) {
  SessionTracker t;
  Rng rng(2);
  int64_t ts = 0;
  for (auto _ : state) {
    t.Add(rng.Uniform(100'000), rng.Uniform(kItems), ++ts / 100);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

BENCHMARK(BM_Observe)->DenseRange(0, 2);
BENCHMARK(BM_ScoreNext)->DenseRange(0, 2)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_TrackerAdd);

}  // namespace
}  // namespace streamrec
