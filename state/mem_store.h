// MemStore: an in-memory StateStore for unit tests of the store's callers. Same contract as
// RocksDBStore except durability (nothing survives the object) and Checkpoint (unsupported),
// plus fault injection so that callers' error paths can be tested: a failed Write applies
// nothing, exactly like a failed RocksDB write.
//
// Thread safety: everything may be called from any thread (stronger than StateStore's
// contract); one shared mutex guards the tables. ForEach and Snapshot copy what they read,
// which is fine for tests and not meant for large data.
#pragma once

#include <array>
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>

#include "state/store.h"

namespace streamrec::state {

class MemStore final : public StateStore {
 public:
  MemStore() = default;
  ~MemStore() override = default;
  MemStore(const MemStore&) = delete;
  MemStore& operator=(const MemStore&) = delete;

  Status Get(Family family, std::string_view key, std::string* value) const override;
  Status ForEach(Family family, std::string_view prefix, const ScanFn& fn) const override;
  Status Write(const WriteBatch& batch) override;
  // Nothing to flush: Ok.
  Status Flush() override;
  std::unique_ptr<StateReader> Snapshot() const override;
  // FailedPrecondition: a MemStore has no on-disk form.
  Status Checkpoint(const std::string& dest_dir) override;
  // Exact key counts; sst_bytes is 0 and memtable_bytes the bytes of keys and values held.
  Status GetStats(StoreStats* stats) const override;
  Status Close() override;

  // ---- Fault injection (tests) ----

  // The next Write returns `status` and applies nothing; later Writes behave normally.
  // REQUIRES: !status.ok().
  void fail_next_write(Status status);
  // The next `n` Writes succeed, then every Write returns `status` and applies nothing, until
  // clear_failures(). REQUIRES: !status.ok().
  void fail_writes_after(size_t n, Status status = Status::IOError("injected write failure"));
  // Cancels fail_next_write and fail_writes_after.
  void clear_failures();
  // Number of Writes that succeeded so far.
  size_t successful_writes() const;

 private:
  using Table = std::map<std::string, std::string, std::less<>>;
  using Tables = std::array<Table, kNumFamilies>;
  class MemSnapshot;

  mutable std::shared_mutex mu_;
  // All members below are guarded by mu_.
  Tables tables_;
  bool closed_ = false;
  std::optional<Status> fail_next_;
  // When set: Writes left before every Write fails with fail_after_status_.
  std::optional<size_t> writes_before_failing_;
  Status fail_after_status_;
  size_t successful_writes_ = 0;
};

}  // namespace streamrec::state
