// WriteBatch: a backend-neutral list of puts and deletes that StateStore::Write applies
// atomically. The daemon builds one per checkpoint: the dirty rows plus SetOffset for every
// owned partition.
//
// Thread safety: none; a batch is built and written by one thread. Const methods may run
// concurrently with each other.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "common/huge_alloc.h"
#include "common/status.h"
#include "state/store.h"

namespace streamrec::state {

enum class OpType : uint8_t { kPut, kDelete, kDeleteRange };

// One operation of a batch, viewing the batch's buffer: valid until the batch is next
// modified or destroyed.
struct BatchOp {
  OpType type;
  Family family;
  // The key; the first key of the range for kDeleteRange.
  std::string_view key;
  // The value for kPut; the end of the range (exclusive) for kDeleteRange; empty for kDelete.
  std::string_view value;
};

class WriteBatch {
 public:
  WriteBatch() = default;

  // Sets `key` of `family` to `value`. Later operations on the same key in the same batch win.
  void Put(Family family, std::string_view key, std::string_view value);
  // Removes `key` of `family`; removing an absent key is not an error.
  void Delete(Family family, std::string_view key);
  // Removes every key k of `family` with begin <= k < end (byte order). A range with
  // begin > end makes StateStore::Write fail with InvalidArgument; begin == end is empty.
  void DeleteRange(Family family, std::string_view begin, std::string_view end);
  // Records that `next_offset` is the next offset of (topic, partition) to consume, i.e. the
  // last applied offset + 1. A Put to kOffsets (keys.h OffsetKey/OffsetValue).
  void SetOffset(std::string_view topic, int32_t partition, int64_t next_offset);

  // Appends a copy of every operation of `other`, in order.
  void Append(const WriteBatch& other);
  // Pre-sizes the buffers for `ops` operations holding `data_bytes` of keys and values.
  void Reserve(size_t ops, size_t data_bytes);
  // Removes every operation; keeps the allocated capacity for the next checkpoint.
  void Clear();

  // Number of operations.
  size_t count() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  // Bytes of keys and values held (the payload, without per-operation overhead).
  size_t data_bytes() const { return data_.size(); }
  // Bytes allocated for keys and values (kept by Clear()).
  size_t capacity_bytes() const { return data_.capacity(); }

  // The i-th operation, in insertion order. REQUIRES: i < count().
  BatchOp op(size_t i) const;
  // Ok, or InvalidArgument naming the first malformed operation (a DeleteRange whose begin
  // sorts after its end). StateStore::Write calls it before applying anything.
  Status Validate() const;

  // Range-for over the operations: `for (const BatchOp& op : batch)`.
  class const_iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = BatchOp;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = BatchOp;

    const_iterator() = default;
    BatchOp operator*() const { return batch_->op(i_); }
    const_iterator& operator++() {
      ++i_;
      return *this;
    }
    const_iterator operator++(int) {
      const_iterator old = *this;
      ++i_;
      return old;
    }
    bool operator==(const const_iterator& o) const { return i_ == o.i_; }

   private:
    friend class WriteBatch;
    const_iterator(const WriteBatch* batch, size_t i) : batch_(batch), i_(i) {}
    const WriteBatch* batch_ = nullptr;
    size_t i_ = 0;
  };
  const_iterator begin() const { return const_iterator(this, 0); }
  const_iterator end() const { return const_iterator(this, entries_.size()); }

 private:
  // Invariant: the key of entries_[i] is data_[offset, offset + key_size) and its value
  // follows immediately, data_[offset + key_size, offset + key_size + value_size). Entries
  // appear in insertion order and tile data_ without gaps. One buffer plus one small index
  // entry per operation: building a batch of 100k rows allocates O(log n) times, not per row.
  struct Entry {
    size_t offset;
    uint32_t key_size;
    uint32_t value_size;
    OpType type;
    Family family;
  };
  void Add(OpType type, Family family, std::string_view key, std::string_view value);

  // Huge pages when large: a checkpoint of 100k rows is tens of MB, and growing it in 4 KiB
  // pages costs a page fault per page on the consumer thread.
  std::basic_string<char, std::char_traits<char>, HugeAllocator<char>> data_;
  std::vector<Entry> entries_;
};

}  // namespace streamrec::state
