#include "state/keys.h"

#include <cstring>

namespace streamrec::state {
namespace {

void PutBigEndian32(uint32_t v, std::string* out) {
  const char bytes[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                         static_cast<char>(v >> 8), static_cast<char>(v)};
  out->append(bytes, sizeof bytes);
}

uint32_t GetBigEndian32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<uint32_t>(u[0]) << 24 | static_cast<uint32_t>(u[1]) << 16 |
         static_cast<uint32_t>(u[2]) << 8 | static_cast<uint32_t>(u[3]);
}

constexpr uint32_t kSignBit = 0x80000000u;
constexpr size_t kOffsetSuffixBytes = 1 + 4;  // separator + partition

}  // namespace

std::string IndexKey(uint32_t index) {
  std::string key;
  key.reserve(kIndexKeyBytes);
  PutBigEndian32(index, &key);
  return key;
}

void AppendIndexKey(uint32_t index, std::string* out) { PutBigEndian32(index, out); }

bool ParseIndexKey(std::string_view key, uint32_t* index) {
  if (key.size() != kIndexKeyBytes) return false;
  *index = GetBigEndian32(key.data());
  return true;
}

void AppendRowPartKey(uint32_t index, uint8_t part, std::string* out) {
  AppendIndexKey(index, out);
  out->push_back(static_cast<char>(part));
}

bool ParseRowPartKey(std::string_view key, uint32_t* index, uint8_t* part) {
  if (key.size() != kIndexKeyBytes + 1) return false;
  *part = static_cast<uint8_t>(key.back());
  return ParseIndexKey(key.substr(0, kIndexKeyBytes), index);
}

std::string PairKey(uint32_t a, uint32_t b) {
  std::string key;
  key.reserve(8);
  PutBigEndian32(a, &key);
  PutBigEndian32(b, &key);
  return key;
}

bool ParsePairKey(std::string_view key, uint32_t* a, uint32_t* b) {
  if (key.size() != 8) return false;
  *a = GetBigEndian32(key.data());
  *b = GetBigEndian32(key.data() + 4);
  return true;
}

std::string U64Key(uint64_t v) {
  std::string key;
  key.reserve(8);
  PutBigEndian32(static_cast<uint32_t>(v >> 32), &key);
  PutBigEndian32(static_cast<uint32_t>(v), &key);
  return key;
}

bool ParseU64Key(std::string_view key, uint64_t* v) {
  if (key.size() != 8) return false;
  *v = static_cast<uint64_t>(GetBigEndian32(key.data())) << 32 | GetBigEndian32(key.data() + 4);
  return true;
}

std::string OffsetKey(std::string_view topic, int32_t partition) {
  std::string key;
  key.reserve(topic.size() + kOffsetSuffixBytes);
  AppendOffsetKey(topic, partition, &key);
  return key;
}

void AppendOffsetKey(std::string_view topic, int32_t partition, std::string* out) {
  out->append(topic);
  out->push_back('\0');
  PutBigEndian32(static_cast<uint32_t>(partition) ^ kSignBit, out);
}

std::string OffsetTopicPrefix(std::string_view topic) {
  std::string prefix(topic);
  prefix.push_back('\0');
  return prefix;
}

bool ParseOffsetKey(std::string_view key, std::string* topic, int32_t* partition) {
  if (key.size() < kOffsetSuffixBytes) return false;
  const size_t topic_size = key.size() - kOffsetSuffixBytes;
  if (key[topic_size] != '\0') return false;
  topic->assign(key.substr(0, topic_size));
  *partition = static_cast<int32_t>(GetBigEndian32(key.data() + topic_size + 1) ^ kSignBit);
  return true;
}

std::string OffsetValue(int64_t next_offset) {
  // Little-endian like every other fixed-width value (common/coding.h).
  std::string value(sizeof next_offset, '\0');
  std::memcpy(value.data(), &next_offset, sizeof next_offset);
  return value;
}

bool ParseOffsetValue(std::string_view value, int64_t* next_offset) {
  if (value.size() != sizeof *next_offset) return false;
  std::memcpy(next_offset, value.data(), sizeof *next_offset);
  return true;
}

}  // namespace streamrec::state
