// State store on disk: checkpoint write throughput (N dirty rows of 64 floats + the offsets
// of 8 partitions in one atomic batch), point Get latency, and restore-scan throughput.
// The store lives under $STREAMREC_BENCH_DIR if set, else the system temp dir: run it on the
// file system the daemon's --data-dir will use, since sync writes measure its fsync.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "common/rng.h"
#include "state/keys.h"
#include "state/rocksdb_store.h"
#include "state/write_batch.h"

namespace streamrec::state {
namespace {

namespace fs = std::filesystem;

constexpr int kDim = 64;  // floats per row: 256-byte values
constexpr int kPartitions = 8;

// A fresh store in a fresh directory, removed when destroyed.
class BenchStore {
 public:
  explicit BenchStore(bool sync) {
    const char* env = std::getenv("STREAMREC_BENCH_DIR");
    const fs::path base = env && *env ? fs::path(env) : fs::temp_directory_path();
    dir_ = (base / ("streamrec-state-bench-" + std::to_string(std::random_device()()))).string();
    StateOptions options;
    options.sync_writes = sync;
    options.config_fingerprint = "dim=64";
    Status st = RocksDBStore::Open(options, dir_, &store_);
    if (!st.ok()) {
      std::fprintf(stderr, "state_bench: %s\n", st.ToString().c_str());
      std::abort();
    }
  }
  ~BenchStore() {
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  StateStore& operator*() { return *store_; }
  StateStore* operator->() { return store_.get(); }

 private:
  std::string dir_;
  std::unique_ptr<StateStore> store_;
};

// 1024 distinct random rows (random floats barely compress, like real embeddings).
std::vector<std::string> RowPool(uint64_t seed) {
  Rng rng(seed);
  std::vector<std::string> pool(1024);
  std::vector<float> row(kDim);
  for (std::string& bytes : pool) {
    for (float& x : row) x = static_cast<float>(rng.Normal()) * 0.1f;
    bytes.assign(reinterpret_cast<const char*>(row.data()), row.size() * sizeof(float));
  }
  return pool;
}

// The checkpoint the daemon writes: rows 0..n-1 of the item table and every partition's offset.
void BuildCheckpoint(size_t n, int64_t offset, const std::vector<std::string>& rows,
                     WriteBatch* batch) {
  batch->Clear();
  std::string key;
  for (size_t i = 0; i < n; ++i) {
    key.clear();
    AppendIndexKey(static_cast<uint32_t>(i), &key);
    batch->Put(Family::kItems, key, rows[(i * 7 + static_cast<size_t>(offset)) % rows.size()]);
  }
  for (int p = 0; p < kPartitions; ++p) batch->SetOffset("events", p, offset);
}

// range(0): rows per checkpoint; range(1): sync_writes.
void BM_CheckpointWrite(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  BenchStore store(state.range(1) != 0);
  const std::vector<std::string> rows = RowPool(1);
  WriteBatch batch;
  int64_t offset = 0;
  for (auto _ : state) {
    state.PauseTiming();
    BuildCheckpoint(n, offset += 1000, rows, &batch);
    state.ResumeTiming();
    Status st = store->Write(batch);
    if (!st.ok()) state.SkipWithError(st.ToString().c_str());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * batch.data_bytes()));
  state.counters["batch_MB"] = static_cast<double>(batch.data_bytes()) / 1e6;
}
BENCHMARK(BM_CheckpointWrite)
    ->ArgNames({"rows", "sync"})
    ->Args({1'000, 1})
    ->Args({10'000, 1})
    ->Args({100'000, 1})
    ->Args({1'000, 0})
    ->Args({100'000, 0})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// Building the neutral batch alone (the daemon's side of a checkpoint).
void BM_BuildCheckpointBatch(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  const std::vector<std::string> rows = RowPool(1);
  WriteBatch batch;
  for (auto _ : state) {
    BuildCheckpoint(n, 1, rows, &batch);
    benchmark::DoNotOptimize(batch.data_bytes());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * batch.data_bytes()));
}
BENCHMARK(BM_BuildCheckpointBatch)->ArgName("rows")->Arg(100'000)->Unit(benchmark::kMillisecond);

// Point Get of a random row among 100k; range(0) = 1 after a flush to table files (block
// cache warm after the first reads), 0 while the rows are still in the memtable.
void BM_PointGet(benchmark::State& state) {
  constexpr size_t kRows = 100'000;
  BenchStore store(/*sync=*/false);
  WriteBatch batch;
  BuildCheckpoint(kRows, 1, RowPool(2), &batch);
  if (!store->Write(batch).ok()) state.SkipWithError("write failed");
  if (state.range(0) != 0 && !store->Flush().ok()) state.SkipWithError("flush failed");
  std::mt19937 pick(3);
  std::uniform_int_distribution<uint32_t> index(0, kRows - 1);
  std::string value;
  for (auto _ : state) {
    Status st = store->Get(Family::kItems, IndexKey(index(pick)), &value);
    if (!st.ok()) state.SkipWithError(st.ToString().c_str());
    benchmark::DoNotOptimize(value.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_PointGet)->ArgName("flushed")->Arg(0)->Arg(1);

// Restore: scan every row of a 100k-row family (what start-up does), after a flush.
void BM_RestoreScan(benchmark::State& state) {
  constexpr size_t kRows = 100'000;
  BenchStore store(/*sync=*/false);
  WriteBatch batch;
  BuildCheckpoint(kRows, 1, RowPool(4), &batch);
  if (!store->Write(batch).ok() || !store->Flush().ok()) state.SkipWithError("setup failed");
  for (auto _ : state) {
    size_t bytes = 0;
    Status st = store->ForEach(Family::kItems, {}, [&](std::string_view k, std::string_view v) {
      bytes += k.size() + v.size();
      return true;
    });
    if (!st.ok()) state.SkipWithError(st.ToString().c_str());
    benchmark::DoNotOptimize(bytes);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kRows));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kRows * (4 + kDim * 4)));
}
BENCHMARK(BM_RestoreScan)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace streamrec::state
