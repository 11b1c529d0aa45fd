// The only file of the project that includes RocksDB.
#include "state/rocksdb_store.h"

#include <rocksdb/cache.h>
#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdarg>
#include <cstdio>
#include <filesystem>
#include <map>
#include <system_error>
#include <vector>

#include "common/log.h"
#include "state/keys.h"
#include "state/write_batch.h"

namespace fs = std::filesystem;

namespace streamrec::state {

// Everything RocksDB. Invariant while open: db != nullptr, families[f] is the handle of
// Family f, and `handles` holds every handle of the database (ours, "default", and any family
// of a newer schema) so that Close can destroy them all.
struct RocksDBStore::Rep {
  std::string dir;
  StateOptions options;
  rocksdb::DB* db = nullptr;
  std::array<rocksdb::ColumnFamilyHandle*, kNumFamilies> families{};
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::WriteOptions write_options;
  // The RocksDB batch Write builds, kept from one Write to the next (there is one at a time)
  // with its capacity: a checkpoint is tens of MB, and a fresh buffer each time costs the
  // checkpoint thread a page fault per 4 KiB page (perf: 15% of its time). Held memory: about
  // the largest checkpoint's size.
  std::unique_ptr<rocksdb::WriteBatch> batch;
  size_t batch_reserved = 0;
  bool write_failed = false;  // the last Write failed (there is one Write at a time)
  // Closes and deletes db; Ok when already closed.
  Status Close();
};

namespace {

// What to do about a damaged store, appended to the errors that mean one.
constexpr std::string_view kDamagedAdvice =
    ": the store is damaged or is not a streamrec state store; restore the data dir from a "
    "backup (a checkpoint) or start with a fresh --data-dir";

Status ClosedError() { return Status::FailedPrecondition("the state store is closed"); }

// Maps a RocksDB status onto ours, prefixing `context`.
Status FromRocks(const rocksdb::Status& s, std::string_view context) {
  std::string msg = std::string(context) + ": " + s.ToString();
  if (s.IsNotFound()) return Status::NotFound(msg);
  if (s.IsCorruption()) return Status::Corruption(msg);
  if (s.IsInvalidArgument() || s.IsNotSupported()) return Status::InvalidArgument(msg);
  if (s.IsBusy() || s.IsTimedOut() || s.IsTryAgain() || s.IsShutdownInProgress() ||
      s.IsIncomplete() || s.IsAborted()) {
    return Status::Unavailable(msg);
  }
  return Status::IOError(msg);
}

// RocksDB's error when the LOCK file of the directory is held: "lock hold by current process"
// (another DB object in this process) or "While lock file: ...: Resource temporarily
// unavailable" (another process holds the fcntl lock).
bool IsLockHeld(const rocksdb::Status& s) {
  if (!s.IsIOError()) return false;
  const std::string msg = s.ToString();
  return msg.find("lock hold by current process") != std::string::npos ||
         msg.find("While lock file") != std::string::npos;
}

rocksdb::Slice ToSlice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

// The smallest key greater than every key starting with `prefix`; empty when there is none
// (prefix empty or all 0xff).
std::string PrefixSuccessor(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(end.back());
    if (last != 0xff) {
      ++last;
      return end;
    }
    end.pop_back();
  }
  return end;
}

Status ToRocksCompression(Compression c, rocksdb::CompressionType* out) {
  switch (c) {
    case Compression::kNone:
      *out = rocksdb::kNoCompression;
      return Status::Ok();
    case Compression::kLz4:
      *out = rocksdb::kLZ4Compression;
      break;
    case Compression::kZstd:
      *out = rocksdb::kZSTD;
      break;
  }
  const std::vector<rocksdb::CompressionType> supported = rocksdb::GetSupportedCompressions();
  if (std::find(supported.begin(), supported.end(), *out) == supported.end()) {
    return Status::InvalidArgument(
        "the linked RocksDB was built without the configured compression (lz4/zstd); choose "
        "another in the state options");
  }
  return Status::Ok();
}

// Options shared by every column family.
Status MakeFamilyOptions(const StateOptions& options, rocksdb::ColumnFamilyOptions* cf) {
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  // 10 bits per key (~1% false positives): point Gets of absent keys (ids, rows of new users)
  // skip the table files.
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  cf->table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  cf->write_buffer_size = options.write_buffer_bytes;
  cf->level_compaction_dynamic_level_bytes = true;
  return ToRocksCompression(options.compression, &cf->compression);
}

// RocksDB's info log, sent to the daemon's log (stderr) instead of a LOG file in the data dir.
// On a full disk RocksDB keeps logging its recovery attempts, and its file logger then aborts
// the process (an assertion in WritableFileWriter::Append, RocksDB 7.8): with no log file on
// that disk, a full disk is an error the daemon reports and waits out. Warnings and worse only.
class StderrLogger final : public rocksdb::Logger {
 public:
  StderrLogger() : rocksdb::Logger(rocksdb::InfoLogLevel::WARN_LEVEL) {}
  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    Logv(rocksdb::InfoLogLevel::WARN_LEVEL, format, ap);
  }
  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    if (level < GetInfoLogLevel()) return;
    char buf[1024];
    const int n = std::vsnprintf(buf, sizeof buf, format, ap);
    if (n <= 0) return;
    const std::string message = "rocksdb: " + std::string(buf, std::min<size_t>(n, sizeof buf - 1));
    if (level >= rocksdb::InfoLogLevel::ERROR_LEVEL) {
      LogError(message);
    } else {
      LogWarn(message);
    }
  }
};

rocksdb::DBOptions MakeDBOptions(const StateOptions& options) {
  rocksdb::DBOptions db;
  static const auto logger = std::make_shared<StderrLogger>();
  db.info_log = logger;
  db.max_open_files = options.max_open_files;
  db.max_total_wal_size = options.max_wal_bytes;
  // Replay the log up to the last intact record: a batch torn by a crash is dropped whole.
  db.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  db.paranoid_checks = true;
  db.max_background_jobs = 2;
  return db;
}

// Files RocksDB writes while creating a database, before CURRENT exists. A directory holding
// only these is a store whose creation was interrupted: safe to create again.
bool IsCreationLeftover(const std::string& name) {
  return name == "LOCK" || name == "IDENTITY" || name.starts_with("LOG") ||
         name.starts_with("MANIFEST-") || name.starts_with("OPTIONS-") || name.ends_with(".dbtmp");
}

// Decides whether `dir` holds a store (*exists) or may be made one. Creates the directory
// when missing and allowed.
Status InspectDir(const StateOptions& options, const std::string& dir, bool* exists) {
  std::error_code ec;
  const fs::file_status st = fs::status(dir, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) {
    return Status::IOError("cannot access the data dir " + dir + ": " + ec.message());
  }
  if (!fs::exists(st)) {
    if (!options.create_if_missing) return Status::NotFound("no state store at " + dir);
    fs::create_directories(dir, ec);
    if (ec) return Status::IOError("cannot create the data dir " + dir + ": " + ec.message());
    *exists = false;
    return Status::Ok();
  }
  if (!fs::is_directory(st)) {
    return Status::FailedPrecondition(dir +
                                      " is not a directory: pass a directory (new or empty for "
                                      "a fresh store) as --data-dir");
  }
  if (fs::exists(fs::path(dir) / "CURRENT", ec)) {
    *exists = true;
    return Status::Ok();
  }
  // No CURRENT: empty, an interrupted creation, a damaged store, or someone else's files.
  bool rocksdb_data = false;
  std::string foreign;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (IsCreationLeftover(name)) continue;
    if (name.ends_with(".sst") || name.ends_with(".log") || name.ends_with(".blob")) {
      rocksdb_data = true;
    } else if (foreign.empty()) {
      foreign = name;
    }
  }
  if (ec) return Status::IOError("cannot list the data dir " + dir + ": " + ec.message());
  if (rocksdb_data) {
    return Status::Corruption("store at " + dir + " has data files but no CURRENT file" +
                              std::string(kDamagedAdvice));
  }
  if (!foreign.empty()) {
    return Status::FailedPrecondition(dir + " is not empty (e.g. '" + foreign +
                                      "') and holds no state store: pass a new or empty "
                                      "directory as --data-dir");
  }
  if (!options.create_if_missing) return Status::NotFound("no state store at " + dir);
  *exists = false;
  return Status::Ok();
}

// Parses "k=v;k=v" into a map. Items without '=' map to "". Spaces around items are dropped.
std::map<std::string, std::string> ParseFingerprint(std::string_view text) {
  auto trim = [](std::string_view s) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    return s;
  };
  std::map<std::string, std::string> out;
  while (!text.empty()) {
    const size_t end = std::min(text.find(';'), text.size());
    const std::string_view item = trim(text.substr(0, end));
    text.remove_prefix(std::min(end + 1, text.size()));
    if (item.empty()) continue;
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      out[std::string(item)] = "";
    } else {
      out[std::string(trim(item.substr(0, eq)))] = std::string(trim(item.substr(eq + 1)));
    }
  }
  return out;
}

// "dim 32 vs 64, loss bpr vs (none)": the keys whose values differ, store's value first.
std::string DescribeFingerprintDiff(const std::map<std::string, std::string>& stored,
                                    const std::map<std::string, std::string>& wanted) {
  std::map<std::string, std::pair<std::string, std::string>> diff;
  for (const auto& [k, v] : stored) diff[k].first = v;
  for (const auto& [k, v] : wanted) diff[k].second = v;
  std::string out;
  for (const auto& [k, values] : diff) {
    const bool in_stored = stored.contains(k), in_wanted = wanted.contains(k);
    if (in_stored && in_wanted && values.first == values.second) continue;
    if (!out.empty()) out += ", ";
    out += k + " " + (in_stored ? values.first : "(none)") + " vs " +
           (in_wanted ? values.second : "(none)");
  }
  return out;
}

// Checks the meta family against `options`. Sets *initialized to false when the store has no
// schema version yet (a creation interrupted before its first write). present[f]: whether
// family f exists in the store (kMeta always does). Reads only.
Status CheckMeta(const RocksDBStore& store, const StateOptions& options, const std::string& dir,
                 const std::array<bool, kNumFamilies>& present, bool* initialized) {
  std::string version_text;
  Status st = store.Get(Family::kMeta, meta::kSchemaVersion, &version_text);
  if (st.IsNotFound()) {
    // Fine only if nothing else was written either.
    for (size_t f = 0; f < kNumFamilies; ++f) {
      if (!present[f]) continue;
      bool any = false;
      STREAMREC_RETURN_IF_ERROR(
          store.ForEach(static_cast<Family>(f), {}, [&](std::string_view, std::string_view) {
            any = true;
            return false;
          }));
      if (any) {
        return Status::Corruption("store at " + dir + " holds data but no schema version" +
                                  std::string(kDamagedAdvice));
      }
    }
    *initialized = false;
    return Status::Ok();
  }
  STREAMREC_RETURN_IF_ERROR(st);
  *initialized = true;

  uint32_t version = 0;
  const char* end = version_text.data() + version_text.size();
  auto [ptr, ec] = std::from_chars(version_text.data(), end, version);
  if (ec != std::errc() || ptr != end || version == 0) {
    return Status::Corruption("store at " + dir + " has an unreadable schema version '" +
                              version_text + "'" + std::string(kDamagedAdvice));
  }
  if (version != options.schema_version) {
    std::string what_to_do =
        version < options.schema_version
            ? "run `streamrec serve` with a fresh --data-dir (the state is rebuilt from the "
              "topic) or migrate the store"
            : "run a streamrec build that reads schema version " + std::to_string(version) +
                  ", or start with a fresh --data-dir";
    return Status::FailedPrecondition("store at " + dir + " was written by schema version " +
                                      std::to_string(version) + ", this build reads " +
                                      std::to_string(options.schema_version) + ": " + what_to_do);
  }

  if (options.config_fingerprint.empty()) return Status::Ok();  // check skipped
  std::string stored_fingerprint;
  st = store.Get(Family::kMeta, meta::kConfigFingerprint, &stored_fingerprint);
  if (st.IsNotFound()) {
    stored_fingerprint.clear();
  } else {
    STREAMREC_RETURN_IF_ERROR(st);
  }
  const auto stored = ParseFingerprint(stored_fingerprint);
  const auto wanted = ParseFingerprint(options.config_fingerprint);
  if (stored != wanted) {
    return Status::FailedPrecondition(
        "store at " + dir + " was created with a different model configuration (store vs " +
        "config: " + DescribeFingerprintDiff(stored, wanted) +
        "): use a new --data-dir or the original config");
  }
  return Status::Ok();
}

}  // namespace

Status RocksDBStore::Rep::Close() {
  if (db == nullptr) return Status::Ok();
  rocksdb::Status s;
  for (rocksdb::ColumnFamilyHandle* h : handles) {
    rocksdb::Status d = db->DestroyColumnFamilyHandle(h);
    if (s.ok()) s = d;
  }
  handles.clear();
  families.fill(nullptr);
  batch.reset();
  batch_reserved = 0;
  rocksdb::Status c = db->Close();
  if (s.ok()) s = c;
  delete db;
  db = nullptr;
  return s.ok() ? Status::Ok() : FromRocks(s, "closing the store at " + dir);
}

// A rocksdb::Snapshot of the store. REQUIRES: destroyed before the store is closed.
class RocksDBStore::RocksSnapshot final : public StateReader {
 public:
  // A null `rep` or a closed one makes every call fail with FailedPrecondition.
  explicit RocksSnapshot(const Rep* rep)
      : rep_(rep && rep->db ? rep : nullptr), snapshot_(rep_ ? rep_->db->GetSnapshot() : nullptr) {}
  ~RocksSnapshot() override {
    if (rep_ && rep_->db) rep_->db->ReleaseSnapshot(snapshot_);
  }

  Status Get(Family family, std::string_view key, std::string* value) const override {
    if (!rep_ || !rep_->db) return ClosedError();
    return GetAt(*rep_, snapshot_, family, key, value);
  }
  Status ForEach(Family family, std::string_view prefix, const ScanFn& fn) const override {
    if (!rep_ || !rep_->db) return ClosedError();
    return ForEachAt(*rep_, snapshot_, family, prefix, fn);
  }

  // Shared by the store (snapshot == nullptr: the latest state) and its snapshots.
  static Status GetAt(const Rep& rep, const rocksdb::Snapshot* snapshot, Family family,
                      std::string_view key, std::string* value);
  static Status ForEachAt(const Rep& rep, const rocksdb::Snapshot* snapshot, Family family,
                          std::string_view prefix, const ScanFn& fn);

 private:
  const Rep* const rep_;
  const rocksdb::Snapshot* const snapshot_;
};

Status RocksDBStore::RocksSnapshot::GetAt(const Rep& rep, const rocksdb::Snapshot* snapshot,
                                          Family family, std::string_view key, std::string* value) {
  const auto f = static_cast<size_t>(family);
  if (f >= kNumFamilies) return Status::InvalidArgument("unknown state family");
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot;
  std::string found;
  rocksdb::Status s = rep.db->Get(ro, rep.families[f], ToSlice(key), &found);
  if (s.IsNotFound()) return Status::NotFound("key not in the state store");
  if (!s.ok()) {
    return FromRocks(s, "reading family '" + std::string(FamilyName(family)) + "' of " + rep.dir);
  }
  *value = std::move(found);
  return Status::Ok();
}

Status RocksDBStore::RocksSnapshot::ForEachAt(const Rep& rep, const rocksdb::Snapshot* snapshot,
                                              Family family, std::string_view prefix,
                                              const ScanFn& fn) {
  const auto f = static_cast<size_t>(family);
  if (f >= kNumFamilies) return Status::InvalidArgument("unknown state family");
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot;  // null: the iterator pins the state as of its creation
  const std::string upper = PrefixSuccessor(prefix);
  const rocksdb::Slice upper_slice(upper);
  if (!upper.empty()) ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(rep.db->NewIterator(ro, rep.families[f]));
  for (it->Seek(ToSlice(prefix)); it->Valid(); it->Next()) {
    if (!fn(it->key().ToStringView(), it->value().ToStringView())) break;
  }
  if (!it->status().ok()) {
    return FromRocks(it->status(),
                     "scanning family '" + std::string(FamilyName(family)) + "' of " + rep.dir);
  }
  return Status::Ok();
}

RocksDBStore::RocksDBStore(std::unique_ptr<Rep> rep) : rep_(std::move(rep)) {}

RocksDBStore::~RocksDBStore() { Close().IgnoreError(); }

Status RocksDBStore::Open(const StateOptions& options, const std::string& dir,
                          std::unique_ptr<StateStore>* out) {
  out->reset();
  if (dir.empty()) return Status::InvalidArgument("the state store needs a directory");
  if (options.schema_version == 0) {
    return Status::InvalidArgument("StateOptions::schema_version must be at least 1");
  }
  rocksdb::ColumnFamilyOptions cf_options;
  STREAMREC_RETURN_IF_ERROR(MakeFamilyOptions(options, &cf_options));
  rocksdb::DBOptions db_options = MakeDBOptions(options);

  bool exists = false;
  STREAMREC_RETURN_IF_ERROR(InspectDir(options, dir, &exists));

  // The families to open: all that exist (RocksDB requires it), else all of ours.
  std::vector<std::string> names;
  if (exists) {
    rocksdb::Status s = rocksdb::DB::ListColumnFamilies(db_options, dir, &names);
    if (!s.ok()) {
      return FromRocks(
          s, "cannot read the store at " + dir + std::string(kDamagedAdvice) + ". RocksDB says");
    }
    if (std::find(names.begin(), names.end(), FamilyName(Family::kMeta)) == names.end()) {
      // Another program's database, or a manifest so damaged that RocksDB lists only
      // "default". A read-only open (which changes nothing) tells them apart.
      rocksdb::DB* probe = nullptr;
      s = rocksdb::DB::OpenForReadOnly(rocksdb::Options(db_options, cf_options), dir, &probe);
      delete probe;
      if (!s.ok()) {
        return FromRocks(
            s, "cannot read the store at " + dir + std::string(kDamagedAdvice) + ". RocksDB says");
      }
      return Status::FailedPrecondition(
          dir + " holds a RocksDB database that is not a streamrec state store (it has no '" +
          std::string(FamilyName(Family::kMeta)) + "' column family): pass a new or empty " +
          "directory as --data-dir");
    }
  } else {
    names.push_back(rocksdb::kDefaultColumnFamilyName);
    for (size_t f = 0; f < kNumFamilies; ++f) {
      names.emplace_back(FamilyName(static_cast<Family>(f)));
    }
    db_options.create_if_missing = true;
    db_options.create_missing_column_families = true;
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& name : names) descriptors.emplace_back(name, cf_options);

  auto rep = std::make_unique<Rep>();
  rep->dir = dir;
  rep->options = options;
  rep->write_options.sync = options.sync_writes;
  if (options.low_priority_background) {
    db_options.env->LowerThreadPoolCPUPriority(rocksdb::Env::Priority::LOW);
    db_options.env->LowerThreadPoolCPUPriority(rocksdb::Env::Priority::HIGH);
  }
  rocksdb::Status s = rocksdb::DB::Open(db_options, dir, descriptors, &rep->handles, &rep->db);
  if (!s.ok()) {
    rep->db = nullptr;
    rep->handles.clear();
    if (IsLockHeld(s)) {
      return Status::Unavailable("store at " + dir +
                                 " is already in use by another process (or is already open "
                                 "in this one): stop the other streamrec or pass another "
                                 "--data-dir. RocksDB says: " +
                                 s.ToString());
    }
    return FromRocks(
        s, "cannot open the store at " + dir + std::string(kDamagedAdvice) + ". RocksDB says");
  }
  for (size_t i = 0; i < names.size(); ++i) {
    Family family;
    if (ParseFamilyName(names[i], &family)) {
      rep->families[static_cast<size_t>(family)] = rep->handles[i];
    }
  }
  // From here on, the store closes the database on every return path.
  std::unique_ptr<RocksDBStore> store(new RocksDBStore(std::move(rep)));

  bool initialized = false;
  if (exists) {
    std::array<bool, kNumFamilies> present{};
    for (size_t f = 0; f < kNumFamilies; ++f) present[f] = store->rep_->families[f] != nullptr;
    STREAMREC_RETURN_IF_ERROR(CheckMeta(*store, options, dir, present, &initialized));
  }
  // Compatible now. Families a store of this schema may lack (none today): create them.
  for (size_t f = 0; f < kNumFamilies; ++f) {
    if (store->rep_->families[f] != nullptr) continue;
    rocksdb::ColumnFamilyHandle* handle = nullptr;
    s = store->rep_->db->CreateColumnFamily(
        cf_options, std::string(FamilyName(static_cast<Family>(f))), &handle);
    if (!s.ok()) return FromRocks(s, "cannot create a column family in " + dir);
    store->rep_->handles.push_back(handle);
    store->rep_->families[f] = handle;
  }
  if (!initialized) {
    rocksdb::ColumnFamilyHandle* meta_cf =
        store->rep_->families[static_cast<size_t>(Family::kMeta)];
    rocksdb::WriteBatch wb;
    s = wb.Put(meta_cf, ToSlice(meta::kSchemaVersion), std::to_string(options.schema_version));
    if (s.ok()) s = wb.Put(meta_cf, ToSlice(meta::kConfigFingerprint), options.config_fingerprint);
    rocksdb::WriteOptions sync;
    sync.sync = true;  // the identity of the store is always durable
    if (s.ok()) s = store->rep_->db->Write(sync, &wb);
    if (!s.ok()) return FromRocks(s, "initializing the store at " + dir);
  }
  *out = std::move(store);
  return Status::Ok();
}

Status RocksDBStore::Get(Family family, std::string_view key, std::string* value) const {
  if (!rep_->db) return ClosedError();
  return RocksSnapshot::GetAt(*rep_, nullptr, family, key, value);
}

Status RocksDBStore::ForEach(Family family, std::string_view prefix, const ScanFn& fn) const {
  if (!rep_->db) return ClosedError();
  return RocksSnapshot::ForEachAt(*rep_, nullptr, family, prefix, fn);
}

Status RocksDBStore::Write(const WriteBatch& batch) {
  if (!rep_->db) return ClosedError();
  STREAMREC_RETURN_IF_ERROR(batch.Validate());
  if (batch.empty()) return Status::Ok();
  // RocksDB's record: a 12-byte header, then per operation a tag, the family id and two
  // varint lengths (at most ~16 bytes) plus the payload.
  const size_t need = 12 + batch.data_bytes() + 16 * batch.count();
  if (rep_->batch == nullptr || need > rep_->batch_reserved) {
    rep_->batch_reserved = need + need / 4;
    rep_->batch = std::make_unique<rocksdb::WriteBatch>(rep_->batch_reserved);
  } else {
    rep_->batch->Clear();  // keeps the buffer
  }
  rocksdb::WriteBatch& wb = *rep_->batch;
  for (const BatchOp& op : batch) {
    const auto f = static_cast<size_t>(op.family);
    if (f >= kNumFamilies) return Status::InvalidArgument("write batch names an unknown family");
    rocksdb::ColumnFamilyHandle* cf = rep_->families[f];
    rocksdb::Status s;
    switch (op.type) {
      case OpType::kPut:
        s = wb.Put(cf, ToSlice(op.key), ToSlice(op.value));
        break;
      case OpType::kDelete:
        s = wb.Delete(cf, ToSlice(op.key));
        break;
      case OpType::kDeleteRange:
        s = wb.DeleteRange(cf, ToSlice(op.key), ToSlice(op.value));
        break;
    }
    if (!s.ok()) return FromRocks(s, "building a write batch for " + rep_->dir);
  }
  if (rep_->write_failed) {
    // A failed write (a full disk) leaves RocksDB in a background-error state that refuses
    // every write; clear it, now that the caller tries again. When the cause remains, Resume
    // fails and so does the write below, with the error that says why.
    rep_->db->Resume().PermitUncheckedError();
  }
  rocksdb::Status s = rep_->db->Write(rep_->write_options, &wb);
  rep_->write_failed = !s.ok();
  if (!s.ok()) {
    return FromRocks(s, "writing " + std::to_string(batch.count()) + " operations to " + rep_->dir);
  }
  return Status::Ok();
}

Status RocksDBStore::Flush() {
  if (!rep_->db) return ClosedError();
  if (!rep_->options.sync_writes) {
    rocksdb::Status s = rep_->db->FlushWAL(/*sync=*/true);
    if (!s.ok()) return FromRocks(s, "syncing the log of " + rep_->dir);
  }
  std::vector<rocksdb::ColumnFamilyHandle*> ours(rep_->families.begin(), rep_->families.end());
  rocksdb::Status s = rep_->db->Flush(rocksdb::FlushOptions(), ours);
  if (!s.ok()) return FromRocks(s, "flushing " + rep_->dir);
  return Status::Ok();
}

std::unique_ptr<StateReader> RocksDBStore::Snapshot() const {
  return std::make_unique<RocksSnapshot>(rep_.get());
}

Status RocksDBStore::Checkpoint(const std::string& dest_dir) {
  if (!rep_->db) return ClosedError();
  std::error_code ec;
  const fs::path dest = fs::absolute(dest_dir, ec);  // RocksDB wants an absolute path
  if (ec) return Status::InvalidArgument("bad checkpoint directory " + dest_dir);
  if (fs::exists(dest, ec)) {
    return Status::InvalidArgument("checkpoint directory " + dest_dir +
                                   " already exists: pass a new path");
  }
  rocksdb::Checkpoint* raw = nullptr;
  rocksdb::Status s = rocksdb::Checkpoint::Create(rep_->db, &raw);
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  if (s.ok()) s = checkpoint->CreateCheckpoint(dest.string());
  if (!s.ok()) return FromRocks(s, "checkpoint of " + rep_->dir + " to " + dest_dir);
  return Status::Ok();
}

Status RocksDBStore::GetStats(StoreStats* stats) const {
  if (!rep_->db) return ClosedError();
  *stats = StoreStats();
  for (size_t f = 0; f < kNumFamilies; ++f) {
    rocksdb::ColumnFamilyHandle* cf = rep_->families[f];
    uint64_t v = 0;
    if (rep_->db->GetIntProperty(cf, rocksdb::DB::Properties::kEstimateNumKeys, &v)) {
      stats->keys[f] = v;
    }
    if (rep_->db->GetIntProperty(cf, rocksdb::DB::Properties::kTotalSstFilesSize, &v)) {
      stats->sst_bytes += v;
    }
    if (rep_->db->GetIntProperty(cf, rocksdb::DB::Properties::kCurSizeAllMemTables, &v)) {
      stats->memtable_bytes += v;
    }
  }
  return Status::Ok();
}

Status RocksDBStore::Close() { return rep_->Close(); }

const std::string& RocksDBStore::dir() const { return rep_->dir; }

}  // namespace streamrec::state
