#include "state/write_batch.h"

#include <cassert>
#include <cstring>
#include <limits>

#include "state/keys.h"

namespace streamrec::state {

void WriteBatch::Add(OpType type, Family family, std::string_view key, std::string_view value) {
  assert(key.size() <= std::numeric_limits<uint32_t>::max());
  assert(value.size() <= std::numeric_limits<uint32_t>::max());
  entries_.push_back(Entry{data_.size(), static_cast<uint32_t>(key.size()),
                           static_cast<uint32_t>(value.size()), type, family});
  data_.append(key);
  data_.append(value);
}

void WriteBatch::Put(Family family, std::string_view key, std::string_view value) {
  Add(OpType::kPut, family, key, value);
}

void WriteBatch::Delete(Family family, std::string_view key) {
  Add(OpType::kDelete, family, key, {});
}

void WriteBatch::DeleteRange(Family family, std::string_view begin, std::string_view end) {
  Add(OpType::kDeleteRange, family, begin, end);
}

void WriteBatch::SetOffset(std::string_view topic, int32_t partition, int64_t next_offset) {
  std::string key;  // a few per checkpoint (one per owned partition)
  AppendOffsetKey(topic, partition, &key);
  char value[sizeof next_offset];
  std::memcpy(value, &next_offset, sizeof next_offset);  // == OffsetValue(next_offset)
  Add(OpType::kPut, Family::kOffsets, key, std::string_view(value, sizeof value));
}

void WriteBatch::Append(const WriteBatch& other) {
  const size_t base = data_.size();
  data_.append(other.data_);
  entries_.reserve(entries_.size() + other.entries_.size());
  for (Entry e : other.entries_) {
    e.offset += base;
    entries_.push_back(e);
  }
}

void WriteBatch::Reserve(size_t ops, size_t data_bytes) {
  entries_.reserve(ops);
  data_.reserve(data_bytes);
}

void WriteBatch::Clear() {
  entries_.clear();
  data_.clear();
}

BatchOp WriteBatch::op(size_t i) const {
  const Entry& e = entries_[i];
  const char* p = data_.data() + e.offset;
  return BatchOp{e.type, e.family, std::string_view(p, e.key_size),
                 std::string_view(p + e.key_size, e.value_size)};
}

Status WriteBatch::Validate() const {
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (entries_[i].type != OpType::kDeleteRange) continue;
    const BatchOp o = op(i);
    if (o.key > o.value) {
      return Status::InvalidArgument(
          "write batch operation " + std::to_string(i) + ": DeleteRange on family '" +
          std::string(FamilyName(o.family)) + "' has its begin key after its end key");
    }
  }
  return Status::Ok();
}

}  // namespace streamrec::state
