// The hash maps on the per-event and serving paths, one thread: IdMap (string id <-> dense index;
// every event interns a user and an item, every request finds a user) and FlatCounter (item-kNN's
// co-occurrence counts). Ids look like the daemon's: "u123456" users, "i12345" items; lookups
// draw ids uniformly at random (the cache-unfriendly case). BM_IdMapMemory reports the resident
// bytes one id costs (its string and its share of the table), measured as the growth of the
// process's RSS while the map is built.
//
//   build/bench/ids_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
// Arg: number of ids in the map (100k: items, 1M: users, 10M: IdMap's largest user table).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "bench/resident_bytes.h"
#include "common/ids.h"
#include "common/rng.h"
#include "models/flat_counter.h"

namespace streamrec::models {
namespace {

std::string UserId(uint64_t n) { return "u" + std::to_string(n); }

// `count` ids drawn uniformly from [lo, lo + range).
std::vector<std::string> RandomIds(uint64_t lo, uint32_t range, size_t count, uint64_t seed) {
  Rng rng(seed);
  std::vector<std::string> ids;
  ids.reserve(count);
  for (size_t i = 0; i < count; ++i) ids.push_back(UserId(lo + rng.Uniform(range)));
  return ids;
}

IdMap Filled(uint64_t n) {
  IdMap m;
  for (uint64_t i = 0; i < n; ++i) m.Intern(UserId(i));
  return m;
}

constexpr size_t kQueries = size_t{1} << 20;

// Interns n new ids into an empty map: the cost of first sight, growth included.
void BM_IdMapInternNew(benchmark::State& state) {
  const auto n = static_cast<uint64_t>(state.range(0));
  std::vector<std::string> ids;
  ids.reserve(n);
  for (uint64_t i = 0; i < n; ++i) ids.push_back(UserId(i));
  for (auto _ : state) {
    IdMap m;
    for (const auto& id : ids) benchmark::DoNotOptimize(m.Intern(id));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
}

// Intern of ids already present: the per-event call for a known user or item.
void BM_IdMapInternHit(benchmark::State& state) {
  const auto n = static_cast<uint64_t>(state.range(0));
  IdMap m = Filled(n);
  const auto queries = RandomIds(0, static_cast<uint32_t>(n), kQueries, 1);
  size_t q = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(m.Intern(queries[q]));
    q = (q + 1) & (kQueries - 1);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

// Find of known ids: a request's user and its excluded items.
void BM_IdMapFindHit(benchmark::State& state) {
  const auto n = static_cast<uint64_t>(state.range(0));
  const IdMap m = Filled(n);
  const auto queries = RandomIds(0, static_cast<uint32_t>(n), kQueries, 2);
  size_t q = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(m.Find(queries[q]));
    q = (q + 1) & (kQueries - 1);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

// Find of unknown ids: a new user's first request.
void BM_IdMapFindMiss(benchmark::State& state) {
  const auto n = static_cast<uint64_t>(state.range(0));
  const IdMap m = Filled(n);
  const auto queries = RandomIds(n, static_cast<uint32_t>(n), kQueries, 3);
  size_t q = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(m.Find(queries[q]));
    q = (q + 1) & (kQueries - 1);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

// Resident bytes per id of a map of n ids (ids short enough to live inside their std::string).
void BM_IdMapMemory(benchmark::State& state) {
  const auto n = static_cast<uint64_t>(state.range(0));
  double bytes_per_id = 0;
  for (auto _ : state) {
    const size_t before = bench::ResidentBytes();
    IdMap m;
    char id[24];
    for (uint64_t i = 0; i < n; ++i) {
      const int len = std::snprintf(id, sizeof id, "u%llu", static_cast<unsigned long long>(i));
      m.Intern(std::string_view(id, static_cast<size_t>(len)));
    }
    bytes_per_id = static_cast<double>(bench::ResidentBytes() - before) / static_cast<double>(n);
    benchmark::DoNotOptimize(m.size());
  }
  state.counters["bytes_per_id"] = bytes_per_id;
}

BENCHMARK(BM_IdMapInternNew)->Arg(100'000)->Arg(1'000'000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_IdMapInternHit)->Arg(100'000)->Arg(1'000'000);
BENCHMARK(BM_IdMapFindHit)->Arg(100'000)->Arg(1'000'000);
BENCHMARK(BM_IdMapFindMiss)->Arg(100'000)->Arg(1'000'000);
BENCHMARK(BM_IdMapMemory)
    ->Arg(1'000'000)
    ->Arg(10'000'000)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

// Item-kNN's Observe: Add to a counter holding n co-occurring items (keys drawn from 2n).
void BM_FlatCounterAdd(benchmark::State& state) {
  const auto n = static_cast<uint32_t>(state.range(0));
  Rng rng(4);
  FlatCounter c;
  for (uint32_t i = 0; i < n; ++i) c.Add(static_cast<ItemIndex>(rng.Uniform(2 * n)), 1.0f);
  std::vector<ItemIndex> keys(kQueries);
  for (auto& k : keys) k = static_cast<ItemIndex>(rng.Uniform(2 * n));
  size_t q = 0;
  for (auto _ : state) {
    c.Add(keys[q], 1.0f);
    q = (q + 1) & (kQueries - 1);
  }
  benchmark::DoNotOptimize(c.size());
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

// Item-kNN's scoring: one pass over a counter of n entries (items processed = entries).
void BM_FlatCounterForEach(benchmark::State& state) {
  const auto n = static_cast<uint32_t>(state.range(0));
  FlatCounter c;
  for (uint32_t i = 0; i < n; ++i) c.Add(i * 7919u % (4 * n), 1.0f);
  std::vector<float> out(4 * n);
  for (auto _ : state) {
    c.ForEach([&](ItemIndex k, float v) { out[k] += v; });
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * c.size()));
}

BENCHMARK(BM_FlatCounterAdd)->Arg(100)->Arg(10'000);
BENCHMARK(BM_FlatCounterForEach)->Arg(100)->Arg(10'000);

}  // namespace
}  // namespace streamrec::models
