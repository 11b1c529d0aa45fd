// Session models, one thread: Observe updates/s (dim 64, 100k items, sessions of random items)
// and ScoreNext over the whole catalog; SessionTracker Add; the daemon's SessionState with n
// live explicit sessions (ids like "s123456"): ExplicitRecent of a random live id (the id
// lookup and the tracker lookup a request with `session=` makes), and the resident bytes one
// explicit session costs (its slot, items, id and the two hash tables; the growth of the
// process's RSS while they are created).
//
//   build/bench/session_bench --benchmark_filter=Observe   (etc.)
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "bench/resident_bytes.h"
#include "common/rng.h"
#include "daemon/session_state.h"
#include "models/session_model.h"
#include "models/sessions.h"

namespace streamrec::models {
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

// A SessionState with n live explicit sessions "s0".."s<n-1>" of one item each.
std::unique_ptr<daemon::SessionState> ExplicitSessions(uint32_t n) {
  daemon::SessionConfig config;
  config.params["dim"] = 8;  // the model only sizes the tracker's max_len here
  auto made = daemon::SessionState::Create(config);
  std::unique_ptr<daemon::SessionState> s = std::move(*made);
  s->AdvanceTime(1);
  for (uint32_t i = 0; i < n; ++i) s->Observe(kNoUser, "s" + std::to_string(i), 0, i);
  return s;
}

void BM_ExplicitRecent(benchmark::State& state) {
  const auto n = static_cast<uint32_t>(state.range(0));
  auto s = ExplicitSessions(n);
  Rng rng(3);
  std::vector<std::string> ids(1 << 16);
  for (auto& id : ids) id = "s" + std::to_string(rng.Uniform(n));
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(s->ExplicitRecent(ids[i++ & (ids.size() - 1)]).size());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

void BM_ExplicitSessionMemory(benchmark::State& state) {
  const auto n = static_cast<uint32_t>(state.range(0));
  double bytes = 0;
  for (auto _ : state) {
    const size_t before = bench::ResidentBytes();
    auto s = ExplicitSessions(n);
    bytes = static_cast<double>(bench::ResidentBytes() - before) / n;
    benchmark::DoNotOptimize(s->live());
  }
  state.counters["bytes_per_session"] = bytes;
}

BENCHMARK(BM_Observe)->DenseRange(0, 2);
BENCHMARK(BM_ScoreNext)->DenseRange(0, 2)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_TrackerAdd);
BENCHMARK(BM_ExplicitRecent)->Arg(100'000)->Arg(1'000'000);
BENCHMARK(BM_ExplicitSessionMemory)->Arg(1'000'000)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace streamrec::models
