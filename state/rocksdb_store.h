// RocksDBStore: the StateStore on disk, one RocksDB database per data dir with one column
// family per state::Family. The only code of the project that uses RocksDB; this header does
// not include it (the RocksDB objects live in Rep, defined in rocksdb_store.cc).
//
// Crash safety: every Write is one rocksdb::WriteBatch through the write-ahead log (never
// disabled), and recovery replays the log up to the last complete batch (point-in-time
// recovery). So after kill -9 or a power loss the store holds a prefix of the Writes, each
// whole: the rows of a checkpoint never disagree with the offsets written beside them.
//
// Thread safety: as StateStore (store.h): one Write at a time; reads, Snapshot and GetStats
// from any thread concurrently with it; Close alone.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "state/options.h"
#include "state/store.h"

namespace streamrec::state {

class RocksDBStore final : public StateStore {
 public:
  // Opens the store in directory `dir`, creating it (and the directory) when `dir` is missing
  // or empty and options.create_if_missing. On success *out owns the store; on failure *out is
  // reset and the Status says what to do:
  //  - FailedPrecondition: the store was written with another schema version or config
  //    fingerprint than `options` (the message names both), or `dir` is not a directory, or is
  //    a non-empty directory that holds no store, or holds a RocksDB database of another
  //    program. The stored data is left unchanged.
  //  - Unavailable: another process (or another RocksDBStore in this one) has the store open.
  //  - Corruption / IOError: the store is damaged or unreadable.
  //  - NotFound: no store at `dir` and !options.create_if_missing.
  //  - InvalidArgument: bad options (e.g. a compression this RocksDB build lacks).
  static Status Open(const StateOptions& options, const std::string& dir,
                     std::unique_ptr<StateStore>* out);

  // Closes the store, ignoring the error; call Close() first to see it.
  ~RocksDBStore() override;
  RocksDBStore(const RocksDBStore&) = delete;
  RocksDBStore& operator=(const RocksDBStore&) = delete;

  Status Get(Family family, std::string_view key, std::string* value) const override;
  Status ForEach(Family family, std::string_view prefix, const ScanFn& fn) const override;
  // One rocksdb::WriteBatch, WriteOptions::sync = StateOptions::sync_writes.
  Status Write(const WriteBatch& batch) override;
  // Syncs the log if writes are not synced, then flushes every family's memtable.
  Status Flush() override;
  std::unique_ptr<StateReader> Snapshot() const override;
  // rocksdb::Checkpoint: table files are hard-linked when `dest_dir` is on the same file
  // system, copied otherwise; the copy opens with Open like any store. Flushes memtables
  // first. InvalidArgument if `dest_dir` exists.
  Status Checkpoint(const std::string& dest_dir) override;
  // Per-family "rocksdb.estimate-num-keys", "rocksdb.total-sst-files-size" and
  // "rocksdb.cur-size-all-mem-tables".
  Status GetStats(StoreStats* stats) const override;
  Status Close() override;

  // The directory given to Open.
  const std::string& dir() const;

 private:
  struct Rep;
  class RocksSnapshot;
  explicit RocksDBStore(std::unique_ptr<Rep> rep);

  std::unique_ptr<Rep> rep_;
};

}  // namespace streamrec::state
