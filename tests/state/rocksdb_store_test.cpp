// RocksDBStore beyond the shared contract: persistence, refusal of incompatible or damaged
// data dirs, locking, and atomic durability across a real kill -9.
#include "state/rocksdb_store.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "state/keys.h"
#include "state/write_batch.h"
#include "tests/support/test_data.h"

namespace fs = std::filesystem;

namespace streamrec::state {
namespace {

StateOptions TestOptions(std::string fingerprint = "dim=32;model=bpr") {
  StateOptions o;
  o.sync_writes = false;
  o.config_fingerprint = std::move(fingerprint);
  return o;
}

std::unique_ptr<StateStore> MustOpen(const StateOptions& options, const std::string& dir) {
  std::unique_ptr<StateStore> store;
  Status st = RocksDBStore::Open(options, dir, &store);
  if (!st.ok()) FAIL("Open(" << dir << "): " << st.ToString());
  return store;
}

void WriteFile(const fs::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

void CreateStoreWithRow(const StateOptions& options, const std::string& dir) {
  auto store = MustOpen(options, dir);
  WriteBatch b;
  b.Put(Family::kUsers, IndexKey(1), "row");
  b.SetOffset("events", 0, 42);
  REQUIRE(store->Write(b).ok());
  REQUIRE(store->Close().ok());
}

}  // namespace

TEST_CASE("state: RocksDBStore keeps data and offsets across reopen", "[state][rocksdb]") {
  testing::TempDir tmp;
  const std::string dir = tmp.path() + "/data";  // created by Open
  {
    auto store = MustOpen(TestOptions(), dir);
    WriteBatch b;
    for (uint32_t i = 0; i < 1000; ++i) b.Put(Family::kItems, IndexKey(i), std::to_string(i));
    b.SetOffset("events", 0, 1000);
    b.SetOffset("events", 1, 77);
    REQUIRE(store->Write(b).ok());
    REQUIRE(store->Flush().ok());
    b.Clear();
    b.Put(Family::kItems, IndexKey(5), "after flush");  // only in the log at close
    REQUIRE(store->Write(b).ok());
  }  // destructor closes
  auto store = MustOpen(TestOptions(), dir);
  std::string value;
  REQUIRE(store->Get(Family::kItems, IndexKey(999), &value).ok());
  CHECK(value == "999");
  REQUIRE(store->Get(Family::kItems, IndexKey(5), &value).ok());
  CHECK(value == "after flush");
  OffsetMap offsets;
  REQUIRE(store->ReadOffsets(&offsets).ok());
  CHECK(offsets == OffsetMap{{{"events", 0}, 1000}, {{"events", 1}, 77}});
  REQUIRE(store->Get(Family::kMeta, meta::kSchemaVersion, &value).ok());
  CHECK(value == "1");
  REQUIRE(store->Get(Family::kMeta, meta::kConfigFingerprint, &value).ok());
  CHECK(value == "dim=32;model=bpr");
}

TEST_CASE("state: RocksDBStore refuses another schema version with what to do",
          "[state][rocksdb]") {
  testing::TempDir tmp;
  StateOptions v2 = TestOptions();
  v2.schema_version = 2;
  CreateStoreWithRow(v2, tmp.path());

  std::unique_ptr<StateStore> store;
  StateOptions v3 = v2;
  v3.schema_version = 3;
  Status st = RocksDBStore::Open(v3, tmp.path(), &store);
  CHECK(store == nullptr);
  CHECK(st.code() == Status::Code::kFailedPrecondition);
  CHECK_THAT(st.message(), Catch::Contains("store at " + tmp.path() +
                                           " was written by schema version 2, "
                                           "this build reads 3") &&
                               Catch::Contains("fresh --data-dir") && Catch::Contains("migrate"));

  StateOptions v1 = v2;
  v1.schema_version = 1;
  st = RocksDBStore::Open(v1, tmp.path(), &store);
  CHECK(st.code() == Status::Code::kFailedPrecondition);
  CHECK_THAT(st.message(), Catch::Contains("schema version 2, this build reads 1") &&
                               Catch::Contains("build that reads schema version 2"));

  // Refusal changed nothing: the right version still opens it with its data.
  store = MustOpen(v2, tmp.path());
  std::string value;
  CHECK(store->Get(Family::kUsers, IndexKey(1), &value).ok());
}

TEST_CASE("state: RocksDBStore refuses another config fingerprint and names the difference",
          "[state][rocksdb]") {
  testing::TempDir tmp;
  CreateStoreWithRow(TestOptions("dim=32;model=bpr"), tmp.path());

  std::unique_ptr<StateStore> store;
  Status st = RocksDBStore::Open(TestOptions("dim=64;model=bpr"), tmp.path(), &store);
  CHECK(store == nullptr);
  CHECK(st.code() == Status::Code::kFailedPrecondition);
  CHECK_THAT(st.message(), Catch::Contains("store at " + tmp.path() +
                                           " was created with a different model configuration") &&
                               Catch::Contains("dim 32 vs 64") &&
                               Catch::Contains("use a new --data-dir or the original config"));
  CHECK_THAT(st.message(), !Catch::Contains("model bpr"));

  st = RocksDBStore::Open(TestOptions("dim=32"), tmp.path(), &store);
  CHECK_THAT(st.message(), Catch::Contains("model bpr vs (none)"));

  // Same settings in another order or spacing: accepted. Empty: the check is skipped.
  store = MustOpen(TestOptions("model=bpr; dim=32"), tmp.path());
  REQUIRE(store->Close().ok());
  store = MustOpen(TestOptions(""), tmp.path());
}

TEST_CASE("state: RocksDBStore refuses a second open of the same dir", "[state][rocksdb]") {
  testing::TempDir tmp;
  auto first = MustOpen(TestOptions(), tmp.path());
  std::unique_ptr<StateStore> second;
  Status st = RocksDBStore::Open(TestOptions(), tmp.path(), &second);
  CHECK(second == nullptr);
  CHECK(st.code() == Status::Code::kUnavailable);
  CHECK_THAT(st.message(),
             Catch::Contains("store at " + tmp.path() + " is already in use by another process"));
  REQUIRE(first->Close().ok());
  second = MustOpen(TestOptions(), tmp.path());  // the lock was released
}

TEST_CASE("state: RocksDBStore gives clean errors for paths that hold no store",
          "[state][rocksdb]") {
  testing::TempDir tmp;
  std::unique_ptr<StateStore> store;

  SECTION("a regular file") {
    const std::string file = tmp.path() + "/file";
    WriteFile(file, "not a directory");
    Status st = RocksDBStore::Open(TestOptions(), file, &store);
    CHECK(st.code() == Status::Code::kFailedPrecondition);
    CHECK_THAT(st.message(), Catch::Contains(file + " is not a directory"));
  }
  SECTION("a directory with someone else's files") {
    WriteFile(tmp.path() + "/notes.txt", "mine");
    Status st = RocksDBStore::Open(TestOptions(), tmp.path(), &store);
    CHECK(st.code() == Status::Code::kFailedPrecondition);
    CHECK_THAT(st.message(), Catch::Contains("is not empty") && Catch::Contains("notes.txt"));
    CHECK(fs::directory_iterator(tmp.path())->path().filename() == "notes.txt");
  }
  SECTION("a missing dir without create_if_missing") {
    StateOptions o = TestOptions();
    o.create_if_missing = false;
    Status st = RocksDBStore::Open(o, tmp.path() + "/absent", &store);
    CHECK(st.IsNotFound());
    CHECK_FALSE(fs::exists(tmp.path() + "/absent"));
    st = RocksDBStore::Open(o, tmp.path(), &store);  // exists, empty
    CHECK(st.IsNotFound());
  }
  SECTION("bad options") {
    StateOptions o = TestOptions();
    o.schema_version = 0;
    CHECK(RocksDBStore::Open(o, tmp.path(), &store).code() == Status::Code::kInvalidArgument);
    CHECK(RocksDBStore::Open(TestOptions(), "", &store).code() == Status::Code::kInvalidArgument);
  }
  CHECK(store == nullptr);
}

TEST_CASE("state: RocksDBStore reports a damaged store without crashing", "[state][rocksdb]") {
  testing::TempDir tmp;
  CreateStoreWithRow(TestOptions(), tmp.path());
  const fs::path dir = tmp.path();

  SECTION("CURRENT holds junk") { WriteFile(dir / "CURRENT", "\x01\x02garbage"); }
  SECTION("CURRENT names a missing manifest") { WriteFile(dir / "CURRENT", "MANIFEST-999999\n"); }
  SECTION("the manifest holds junk") {
    for (const auto& entry : fs::directory_iterator(dir)) {
      if (entry.path().filename().string().starts_with("MANIFEST-")) {
        WriteFile(entry.path(), std::string(4096, '\x5a'));
      }
    }
  }
  SECTION("CURRENT is gone but table files remain") {
    {
      auto store = MustOpen(TestOptions(), tmp.path());
      REQUIRE(store->Flush().ok());
    }
    fs::remove(dir / "CURRENT");
  }

  std::unique_ptr<StateStore> store;
  Status st = RocksDBStore::Open(TestOptions(), tmp.path(), &store);
  CHECK(store == nullptr);
  INFO(st.ToString());
  CHECK((st.code() == Status::Code::kCorruption || st.code() == Status::Code::kIOError));
  CHECK_THAT(st.message(), Catch::Contains(tmp.path()) &&
                               Catch::Contains("restore the data dir from a backup") &&
                               Catch::Contains("fresh --data-dir"));
}

TEST_CASE("state: RocksDBStore with data but no schema version is Corruption", "[state][rocksdb]") {
  testing::TempDir tmp;
  {
    auto store = MustOpen(TestOptions(), tmp.path());
    WriteBatch b;
    b.Put(Family::kUsers, IndexKey(1), "row");
    b.Delete(Family::kMeta, meta::kSchemaVersion);
    REQUIRE(store->Write(b).ok());
  }
  std::unique_ptr<StateStore> store;
  Status st = RocksDBStore::Open(TestOptions(), tmp.path(), &store);
  CHECK(st.code() == Status::Code::kCorruption);
  CHECK_THAT(st.message(), Catch::Contains("holds data but no schema version"));
}

TEST_CASE("state: RocksDBStore finishes a creation interrupted before its meta write",
          "[state][rocksdb]") {
  testing::TempDir tmp;
  {
    auto store = MustOpen(TestOptions(), tmp.path());
    WriteBatch b;
    b.DeleteRange(Family::kMeta, "", "\xff");  // as if the meta write never happened
    REQUIRE(store->Write(b).ok());
  }
  auto store = MustOpen(TestOptions("dim=8"), tmp.path());  // any fingerprint: it is new
  std::string value;
  REQUIRE(store->Get(Family::kMeta, meta::kConfigFingerprint, &value).ok());
  CHECK(value == "dim=8");
}

TEST_CASE("state: RocksDBStore Checkpoint writes an openable copy", "[state][rocksdb]") {
  testing::TempDir tmp;
  auto store = MustOpen(TestOptions(), tmp.path() + "/live");
  WriteBatch b;
  b.Put(Family::kUsers, IndexKey(3), "three");
  b.SetOffset("events", 0, 9);
  REQUIRE(store->Write(b).ok());
  REQUIRE(store->Checkpoint(tmp.path() + "/backup").ok());
  CHECK(store->Checkpoint(tmp.path() + "/backup").code() == Status::Code::kInvalidArgument);

  b.Clear();
  b.SetOffset("events", 0, 10);  // after the checkpoint: not in the copy
  REQUIRE(store->Write(b).ok());

  auto copy = MustOpen(TestOptions(), tmp.path() + "/backup");
  std::string value;
  REQUIRE(copy->Get(Family::kUsers, IndexKey(3), &value).ok());
  CHECK(value == "three");
  OffsetMap offsets;
  REQUIRE(copy->ReadOffsets(&offsets).ok());
  CHECK(offsets == OffsetMap{{{"events", 0}, 9}});
}

TEST_CASE("state: RocksDBStore opens with each compression", "[state][rocksdb]") {
  for (Compression c : {Compression::kNone, Compression::kLz4, Compression::kZstd}) {
    testing::TempDir tmp;
    StateOptions o = TestOptions();
    o.compression = c;
    auto store = MustOpen(o, tmp.path());
    WriteBatch b;
    b.Put(Family::kSessions, "s1", std::string(10'000, 'a'));
    REQUIRE(store->Write(b).ok());
    REQUIRE(store->Flush().ok());
    StoreStats stats;
    REQUIRE(store->GetStats(&stats).ok());
    CHECK(stats.sst_bytes > 0);
    if (c != Compression::kNone) CHECK(stats.sst_bytes < 10'000);
  }
}

// ---- Crash durability: a child process writes checkpoints until SIGKILL ----
//
// The child is this test binary re-executed on the hidden test below, so that RocksDB starts
// in a fresh process (forking a process that has RocksDB threads is unsafe). It writes batch
// n = last+1, last+2, ... where batch n puts row IndexKey(n), sets kModel "counter" to n and
// sets the offsets of events/0 to n and events/1 to 2n; after each Write returns it reports n
// on a pipe. The parent kills it mid-stream, reopens, and requires a consistent prefix.

constexpr char kChildDirEnv[] = "STREAMREC_STATE_CRASH_DIR";
constexpr char kChildFdEnv[] = "STREAMREC_STATE_CRASH_FD";
constexpr char kChildSyncEnv[] = "STREAMREC_STATE_CRASH_SYNC";

StateOptions CrashOptions(bool sync) {
  StateOptions o = TestOptions();
  o.sync_writes = sync;
  o.write_buffer_bytes = 64 << 10;  // flush every few hundred batches: crash during flushes too
  return o;
}

std::string RowValue(uint32_t n) {
  std::string v(256, '\0');
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<char>((n * 31 + i) & 0xff);
  return v;
}

TEST_CASE("state crash child (run by the crash test only)", "[.][state_crash_child]") {
  const char* dir = std::getenv(kChildDirEnv);
  const char* fd_text = std::getenv(kChildFdEnv);
  if (dir == nullptr || fd_text == nullptr) return;  // run by hand: nothing to do
  const int fd = std::atoi(fd_text);
  std::unique_ptr<StateStore> store;
  if (!RocksDBStore::Open(CrashOptions(std::getenv(kChildSyncEnv) != nullptr), dir, &store).ok()) {
    _exit(2);
  }
  std::string text;
  uint32_t n = 0;
  if (store->Get(Family::kModel, "counter", &text).ok())
    n = static_cast<uint32_t>(std::stoul(text));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  WriteBatch b;
  while (std::chrono::steady_clock::now() < deadline) {  // the parent kills us long before
    ++n;
    b.Clear();
    b.Put(Family::kUsers, IndexKey(n), RowValue(n));
    b.Put(Family::kModel, "counter", std::to_string(n));
    b.SetOffset("events", 0, n);
    b.SetOffset("events", 1, 2 * int64_t{n});
    if (!store->Write(b).ok()) _exit(3);
    if (write(fd, &n, sizeof n) != sizeof n) _exit(4);
  }
  _exit(5);
}

namespace {

struct Child {
  pid_t pid = -1;
  int ack_fd = -1;  // read end: the child's acknowledged batch numbers
};

Child StartCrashChild(const std::string& dir, bool sync) {
  char exe[4096];
  const ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
  REQUIRE(len > 0);
  exe[len] = '\0';
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  // Everything the child needs is built before fork: between fork and exec only
  // async-signal-safe calls are allowed (this process may have other threads).
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
  env_strings.push_back(std::string(kChildDirEnv) + "=" + dir);
  env_strings.push_back(std::string(kChildFdEnv) + "=" + std::to_string(fds[1]));
  if (sync) env_strings.push_back(std::string(kChildSyncEnv) + "=1");
  std::vector<char*> envp;
  for (std::string& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  char arg_test[] = "[state_crash_child]";
  char* argv[] = {exe, arg_test, nullptr};
  const pid_t parent = getpid();

  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the test
    if (getppid() != parent) _exit(6);
    close(fds[0]);
    const int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, STDOUT_FILENO);
    dup2(devnull, STDERR_FILENO);
    execve(exe, argv, envp.data());
    _exit(7);
  }
  close(fds[1]);
  return Child{pid, fds[0]};
}

// Reads acknowledgements until at least `target` or EOF; returns the last one seen.
uint32_t ReadAcks(int fd, uint32_t last, uint32_t target) {
  uint32_t n = 0;
  while (last < target) {
    const ssize_t r = read(fd, &n, sizeof n);
    if (r == 0) break;
    REQUIRE(r == sizeof n);
    last = n;
  }
  return last;
}

}  // namespace

TEST_CASE("state: RocksDBStore keeps a consistent prefix of batches across kill -9",
          "[state][rocksdb][crash]") {
  const bool sync = GENERATE(true, false);
  INFO("sync_writes=" << sync);
  testing::TempDir tmp;
  std::mt19937 rng(sync ? 11 : 12);
  uint32_t committed = 0;  // batches the store must hold: acknowledged before the kill

  for (int round = 0; round < 3; ++round) {
    Child child = StartCrashChild(tmp.path(), sync);
    // Let it write a while, then kill it at a random moment inside the stream of writes.
    uint32_t acked = ReadAcks(child.ack_fd, committed, committed + (sync ? 200 : 2000));
    REQUIRE(acked > committed);  // the child runs (else it exited early)

    if (round == 0) {
      // While the child holds the store, another process cannot open it.
      std::unique_ptr<StateStore> other;
      Status st = RocksDBStore::Open(CrashOptions(sync), tmp.path(), &other);
      CHECK(st.code() == Status::Code::kUnavailable);
      CHECK_THAT(st.message(), Catch::Contains("already in use by another process"));
    }
    usleep(std::uniform_int_distribution<useconds_t>(0, 3000)(rng));
    REQUIRE(kill(child.pid, SIGKILL) == 0);
    int wstatus = 0;
    REQUIRE(waitpid(child.pid, &wstatus, 0) == child.pid);
    CHECK(WIFSIGNALED(wstatus));
    acked = ReadAcks(child.ack_fd, acked, UINT32_MAX);  // drain acks written before death
    close(child.ack_fd);

    auto store = MustOpen(CrashOptions(sync), tmp.path());
    std::string text;
    REQUIRE(store->Get(Family::kModel, "counter", &text).ok());
    const auto n = static_cast<uint32_t>(std::stoul(text));
    INFO("round " << round << ": acknowledged " << acked << ", recovered " << n);
    // Every acknowledged batch survived; at most the one in flight is extra.
    CHECK(n >= acked);
    CHECK(n <= acked + 1);
    // Rows and offsets come from the same batches: they agree.
    OffsetMap offsets;
    REQUIRE(store->ReadOffsets(&offsets).ok());
    CHECK(offsets == OffsetMap{{{"events", 0}, n}, {{"events", 1}, 2 * int64_t{n}}});
    uint32_t rows = 0;
    bool rows_ok = true;
    REQUIRE(store
                ->ForEach(Family::kUsers, {},
                          [&](std::string_view k, std::string_view v) {
                            uint32_t i = 0;
                            rows_ok = rows_ok && ParseIndexKey(k, &i) && i == rows + 1 &&
                                      v == RowValue(i);
                            ++rows;
                            return true;
                          })
                .ok());
    CHECK(rows_ok);
    CHECK(rows == n);
    committed = n;
    REQUIRE(store->Close().ok());
  }
}

}  // namespace streamrec::state
