#include "state/store.h"

#include "state/keys.h"

namespace streamrec::state {
namespace {

// Indexed by Family. On disk as column family names: never rename one.
constexpr std::array<std::string_view, kNumFamilies> kFamilyNames = {
    "meta", "ids", "users", "items", "histories", "model", "bandits", "sessions", "offsets",
};

}  // namespace

std::string_view FamilyName(Family family) {
  const auto i = static_cast<size_t>(family);
  return i < kFamilyNames.size() ? kFamilyNames[i] : std::string_view("unknown");
}

bool ParseFamilyName(std::string_view name, Family* family) {
  for (size_t i = 0; i < kFamilyNames.size(); ++i) {
    if (kFamilyNames[i] == name) {
      *family = static_cast<Family>(i);
      return true;
    }
  }
  return false;
}

Status StateReader::ReadOffsets(OffsetMap* out) const {
  OffsetMap offsets;
  std::string topic;
  int32_t partition = 0;
  int64_t next_offset = 0;
  Status bad;
  Status st = ForEach(Family::kOffsets, {}, [&](std::string_view key, std::string_view value) {
    if (!ParseOffsetKey(key, &topic, &partition) || !ParseOffsetValue(value, &next_offset)) {
      bad = Status::Corruption("malformed Kafka offset entry in the state store (key of " +
                               std::to_string(key.size()) + " bytes, value of " +
                               std::to_string(value.size()) + " bytes)");
      return false;
    }
    offsets[TopicPartition(topic, partition)] = next_offset;
    return true;
  });
  if (!st.ok()) return st;
  if (!bad.ok()) return bad;
  *out = std::move(offsets);
  return Status::Ok();
}

}  // namespace streamrec::state
