#include "state/mem_store.h"

#include <cassert>
#include <mutex>
#include <utility>
#include <vector>

#include "state/write_batch.h"

namespace streamrec::state {
namespace {

using Table = std::map<std::string, std::string, std::less<>>;

Status ClosedError() { return Status::FailedPrecondition("the state store is closed"); }

Status GetFrom(const Table& table, std::string_view key, std::string* value) {
  auto it = table.find(key);
  if (it == table.end()) return Status::NotFound("key not in the state store");
  *value = it->second;
  return Status::Ok();
}

// Copies the entries of `table` that start with `prefix`, in key order.
std::vector<std::pair<std::string, std::string>> CopyPrefix(const Table& table,
                                                            std::string_view prefix) {
  std::vector<std::pair<std::string, std::string>> out;
  for (auto it = table.lower_bound(prefix);
       it != table.end() && std::string_view(it->first).starts_with(prefix); ++it) {
    out.emplace_back(it->first, it->second);
  }
  return out;
}

Status ScanCopy(const std::vector<std::pair<std::string, std::string>>& entries, const ScanFn& fn) {
  for (const auto& [key, value] : entries) {
    if (!fn(key, value)) break;
  }
  return Status::Ok();
}

}  // namespace

// A frozen copy of the tables. Needs no lock: nothing modifies it.
class MemStore::MemSnapshot final : public StateReader {
 public:
  // A closed snapshot (of a closed store) fails every call with FailedPrecondition.
  MemSnapshot(Tables tables, bool closed) : tables_(std::move(tables)), closed_(closed) {}

  Status Get(Family family, std::string_view key, std::string* value) const override {
    if (closed_) return ClosedError();
    return GetFrom(tables_[static_cast<size_t>(family)], key, value);
  }
  Status ForEach(Family family, std::string_view prefix, const ScanFn& fn) const override {
    if (closed_) return ClosedError();
    const Table& table = tables_[static_cast<size_t>(family)];
    for (auto it = table.lower_bound(prefix);
         it != table.end() && std::string_view(it->first).starts_with(prefix); ++it) {
      if (!fn(it->first, it->second)) break;
    }
    return Status::Ok();
  }

 private:
  const Tables tables_;
  const bool closed_;
};

Status MemStore::Get(Family family, std::string_view key, std::string* value) const {
  std::shared_lock lock(mu_);
  if (closed_) return ClosedError();
  return GetFrom(tables_[static_cast<size_t>(family)], key, value);
}

Status MemStore::ForEach(Family family, std::string_view prefix, const ScanFn& fn) const {
  std::vector<std::pair<std::string, std::string>> entries;
  {
    std::shared_lock lock(mu_);
    if (closed_) return ClosedError();
    entries = CopyPrefix(tables_[static_cast<size_t>(family)], prefix);
  }
  // fn runs without the lock, so it may call back into the store.
  return ScanCopy(entries, fn);
}

Status MemStore::Write(const WriteBatch& batch) {
  STREAMREC_RETURN_IF_ERROR(batch.Validate());
  std::unique_lock lock(mu_);
  if (closed_) return ClosedError();
  if (fail_next_) {
    Status st = std::move(*fail_next_);
    fail_next_.reset();
    return st;
  }
  if (writes_before_failing_) {
    if (*writes_before_failing_ == 0) return fail_after_status_;
    --*writes_before_failing_;
  }
  // Nothing below can fail (short of std::bad_alloc, which ends the process): all or nothing.
  for (const BatchOp& op : batch) {
    Table& table = tables_[static_cast<size_t>(op.family)];
    switch (op.type) {
      case OpType::kPut:
        table.insert_or_assign(std::string(op.key), std::string(op.value));
        break;
      case OpType::kDelete:
        if (auto it = table.find(op.key); it != table.end()) table.erase(it);
        break;
      case OpType::kDeleteRange:
        table.erase(table.lower_bound(op.key), table.lower_bound(op.value));
        break;
    }
  }
  ++successful_writes_;
  return Status::Ok();
}

Status MemStore::Flush() {
  std::shared_lock lock(mu_);
  return closed_ ? ClosedError() : Status::Ok();
}

std::unique_ptr<StateReader> MemStore::Snapshot() const {
  std::shared_lock lock(mu_);
  if (closed_) return std::make_unique<MemSnapshot>(Tables(), /*closed=*/true);
  return std::make_unique<MemSnapshot>(tables_, /*closed=*/false);
}

Status MemStore::Checkpoint(const std::string& dest_dir) {
  return Status::FailedPrecondition("MemStore cannot write a checkpoint to " + dest_dir +
                                    ": it has no on-disk form");
}

Status MemStore::GetStats(StoreStats* stats) const {
  std::shared_lock lock(mu_);
  if (closed_) return ClosedError();
  *stats = StoreStats();
  for (size_t f = 0; f < kNumFamilies; ++f) {
    stats->keys[f] = tables_[f].size();
    for (const auto& [key, value] : tables_[f]) stats->memtable_bytes += key.size() + value.size();
  }
  return Status::Ok();
}

Status MemStore::Close() {
  std::unique_lock lock(mu_);
  closed_ = true;
  return Status::Ok();
}

void MemStore::fail_next_write(Status status) {
  assert(!status.ok());
  std::unique_lock lock(mu_);
  fail_next_ = std::move(status);
}

void MemStore::fail_writes_after(size_t n, Status status) {
  assert(!status.ok());
  std::unique_lock lock(mu_);
  writes_before_failing_ = n;
  fail_after_status_ = std::move(status);
}

void MemStore::clear_failures() {
  std::unique_lock lock(mu_);
  fail_next_.reset();
  writes_before_failing_.reset();
}

size_t MemStore::successful_writes() const {
  std::shared_lock lock(mu_);
  return successful_writes_;
}

}  // namespace streamrec::state
