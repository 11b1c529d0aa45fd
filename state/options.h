// StateOptions: how the RocksDB-backed state store is opened. Every field has its default
// in-class and a comment with its unit and trade-off. None is reloadable: they are read once
// by RocksDBStore::Open, and changing one needs a restart of the daemon.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace streamrec::state {

// Block compression of the on-disk tables.
enum class Compression : uint8_t {
  kNone,
  // Fast, modest ratio. Embedding rows (random-looking floats) barely compress, so a cheap
  // codec wastes little CPU on them while still shrinking ids, histories and sessions.
  kLz4,
  // Better ratio, more CPU per flush/compaction; worth it when disk, not CPU, is scarce.
  kZstd,
};

struct StateOptions {
  // Sync the write-ahead log (fsync) before Write() returns.
  //
  // What survives what: every Write goes to the WAL first (the WAL is never disabled), and a
  // batch is applied whole or not at all on recovery. With sync off the WAL bytes sit in the
  // OS page cache when Write returns: a killed process (kill -9, crash, OOM) loses nothing, but
  // a machine crash or power loss may lose the last writes (never a part of one). With sync on
  // a returned Write survives power loss too. The daemon writes once per checkpoint (every few
  // seconds or thousands of events), so one fsync per checkpoint costs ~1-10 ms of a
  // background thread: default on. Turn it off only for throwaway stores (tests, benchmarks).
  bool sync_writes = true;
  // Lowers the CPU priority of RocksDB's background (flush, compaction) threads to the
  // lowest, so they yield to the process's foreground threads. Process-wide (RocksDB's
  // default Env shares those threads).
  bool low_priority_background = false;

  // Shared LRU cache of uncompressed table blocks, in bytes, for all column families. Reads
  // happen at start-up (restore scans) and for point lookups; the in-memory model is the hot
  // copy, so a small cache is enough.
  size_t block_cache_bytes = 32ull << 20;

  // Memtable size per column family, in bytes, before it is flushed to a table file. A
  // checkpoint of 100k 256-byte rows is ~26 MB; larger buffers mean fewer, larger flushes and
  // more memory (up to 2x this per busy family).
  size_t write_buffer_bytes = 64ull << 20;

  // Total write-ahead-log size, in bytes, after which the families that pin the oldest log
  // (rarely written ones like meta) are flushed so the log can be deleted. Bounds disk use and
  // the replay time after a crash.
  uint64_t max_wal_bytes = 256ull << 20;

  // Table block compression; see Compression. Open fails with InvalidArgument if the linked
  // RocksDB was built without the codec.
  Compression compression = Compression::kLz4;

  // Table files RocksDB keeps open (file descriptors). -1 keeps all open: fastest, but the
  // descriptor count grows with the store. The daemon also needs descriptors for sockets.
  int max_open_files = 512;

  // Create an empty store when `dir` does not exist or is empty. When false, Open of a missing
  // store fails with NotFound (for `inspect` and other read-mostly tools).
  bool create_if_missing = true;

  // Version of the layout of everything the daemon writes (keys and value encodings). It is
  // stored at creation; Open refuses a store written with another version. Bump it on any
  // incompatible change of what is written.
  uint32_t schema_version = 1;

  // Canonical text of the settings the stored bytes depend on, as `key=value` pairs separated
  // by ';' (e.g. "dim=64;model=bpr"). Stored at creation; Open refuses a store created with
  // another fingerprint and names the differing keys. Empty skips the check (tools that
  // only read, e.g. `inspect`); a store created with an empty fingerprint stores it empty,
  // and a later Open with a non-empty one is refused like any other mismatch.
  std::string config_fingerprint;
};

}  // namespace streamrec::state
