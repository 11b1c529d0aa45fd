// StateStore: the narrow persistence interface of the daemon. It stores bytes
// in a fixed set of column families and never knows what the bytes mean; the daemon encodes
// models into WriteBatches. RocksDBStore (rocksdb_store.h) is the real one, MemStore
// (mem_store.h) the in-memory one for tests.
//
// Semantics the daemon relies on (DESIGN.md "State and delivery semantics"): one Write is
// atomic across all families, so a checkpoint that puts the dirty rows and the next offset of
// every owned partition in ONE WriteBatch is either wholly visible after a crash or not at
// all; on start the consumer seeks to ReadOffsets().
//
// Thread safety: Write is called by one thread at a time (callers serialize writers; the
// daemon has one checkpoint thread). Get, ForEach, ReadOffsets, Snapshot and GetStats may run
// concurrently with each other and with Write from any thread. A reader sees each Write whole
// or not at all. Close must not overlap any other call.
//
// Errors: every method returns a Status ([[nodiscard]]); no exception escapes. NotFound from
// Get is an ordinary value.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "common/status.h"

namespace streamrec::state {

class WriteBatch;

// Column families. The numeric values index arrays; the names (FamilyName) are on disk, so
// neither may change without a schema version bump. Append new families at the end.
enum class Family : uint8_t {
  kMeta = 0,   // store metadata: schema version, config fingerprint (keys.h meta::).
  kIds,        // id maps (external string id <-> dense index).
  kUsers,      // user embedding rows: a record per (user index, part), RowPartKey.
  kItems,      // item embedding rows: a record per (item index, part), RowPartKey.
  kHistories,  // per-user seen items.
  kModel,      // whole-model blobs: popularity, global statistics.
  kBandits,    // exploration posteriors.
  kSessions,   // session state.
  kOffsets,    // next offset per topic-partition (keys.h OffsetKey); written via SetOffset.
};
inline constexpr size_t kNumFamilies = 9;

// Stable on-disk name of a family: "meta", "ids", "users", ...
std::string_view FamilyName(Family family);
// Inverse of FamilyName; false for an unknown name.
bool ParseFamilyName(std::string_view name, Family* family);

// Next offset to consume per (topic, partition).
using TopicPartition = std::pair<std::string, int32_t>;
using OffsetMap = std::map<TopicPartition, int64_t>;

// Visitor of ForEach: return true to continue, false to stop early. The views are valid only
// during the call; copy what must outlive it.
using ScanFn = std::function<bool(std::string_view key, std::string_view value)>;

// Approximate size of a store, for metrics and `inspect`.
struct StoreStats {
  // Keys per family, indexed by Family. Exact for MemStore; RocksDB's estimate
  // ("rocksdb.estimate-num-keys") otherwise, which counts overwritten and deleted keys
  // until compaction drops them.
  std::array<uint64_t, kNumFamilies> keys{};
  // Bytes of table files on disk, all families.
  uint64_t sst_bytes = 0;
  // Bytes in memtables (written, not yet flushed to table files), all families.
  uint64_t memtable_bytes = 0;
};

// The read side, shared by a store and its snapshots.
class StateReader {
 public:
  virtual ~StateReader() = default;

  // Sets *value to the value of `key` in `family`. NotFound (and *value untouched) when the
  // key is absent; Corruption/IOError when the store cannot be read.
  virtual Status Get(Family family, std::string_view key, std::string* value) const = 0;

  // Calls fn(key, value) for every key of `family` starting with `prefix` (all keys when
  // empty), in ascending byte order, until fn returns false. Reads one consistent snapshot:
  // Writes that complete during the scan are not seen. fn may call this store's methods,
  // Write included.
  virtual Status ForEach(Family family, std::string_view prefix, const ScanFn& fn) const = 0;

  // Replaces *out with every stored offset (the kOffsets family). Corruption if a key or value
  // is malformed. An empty map means a fresh store: consume topics from the beginning.
  Status ReadOffsets(OffsetMap* out) const;
};

class StateStore : public StateReader {
 public:
  // Implementations close on destruction if Close was not called, ignoring its error.
  ~StateStore() override = default;

  // Applies every operation of `batch` atomically: after a crash all of them or none are
  // visible. Durable when it returns if StateOptions::sync_writes (see options.h).
  // InvalidArgument (nothing applied) for a malformed batch, e.g. a DeleteRange whose begin
  // sorts after its end. REQUIRES: no other Write is running.
  virtual Status Write(const WriteBatch& batch) = 0;

  // Makes every completed Write durable and moves buffered writes to table files, so that a
  // restart need not replay the log. Call before a planned shutdown; not needed for safety.
  virtual Status Flush() = 0;

  // A consistent read-only view of the whole store as of now, across all families (e.g. to
  // export state while checkpoints continue). REQUIRES: the snapshot is destroyed before this
  // store is closed or destroyed. Never null; on a closed store, every call of the returned
  // reader fails with FailedPrecondition.
  virtual std::unique_ptr<StateReader> Snapshot() const = 0;

  // Writes an openable copy of the store to `dest_dir`, which must not exist (backups,
  // `inspect` on a live store). FailedPrecondition for a store without an on-disk form.
  virtual Status Checkpoint(const std::string& dest_dir) = 0;

  virtual Status GetStats(StoreStats* stats) const = 0;

  // Releases the store (files, the directory lock); completed Writes stay as durable as
  // they were. Every later call returns FailedPrecondition; a second Close returns Ok.
  // REQUIRES: no concurrent call, no live Snapshot.
  virtual Status Close() = 0;
};

}  // namespace streamrec::state
