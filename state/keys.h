// Key schema of the state store. Keys are compared as unsigned bytes (memcmp order), so
// integers in keys are fixed-width big-endian: byte order is numeric order, and a prefix scan
// of a family returns rows by index. Values are the caller's bytes, except the offsets and the
// meta values defined here (little-endian or text, see each).
//
// Thread safety: free functions without shared state; safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace streamrec::state {

// ---- Dense-index keys (kHistories, kBandits rows; kUsers and kItems with a part byte) ----

inline constexpr size_t kIndexKeyBytes = 4;

// 4-byte big-endian key of a dense index (user or item row).
std::string IndexKey(uint32_t index);
// Appends the 4-byte big-endian form of `index` to *out.
void AppendIndexKey(uint32_t index, std::string* out);
// False unless `key` is exactly kIndexKeyBytes long.
bool ParseIndexKey(std::string_view key, uint32_t* index);

// Key of one part of a user or item row (kUsers, kItems): IndexKey(index) then one byte, the
// part (the daemon stores each model's part of a row as its own record). Sorts by index, then
// part.
void AppendRowPartKey(uint32_t index, uint8_t part, std::string* out);
// False unless `key` is exactly kIndexKeyBytes + 1 long.
bool ParseRowPartKey(std::string_view key, uint32_t* index, uint8_t* part);

// 8-byte key of an (a, b) pair, e.g. (user, item) for one history entry: sorts by a, then by
// b, so ForEach with prefix IndexKey(a) visits every b of one a in numeric order.
std::string PairKey(uint32_t a, uint32_t b);
// False unless `key` is exactly 8 bytes long.
bool ParsePairKey(std::string_view key, uint32_t* a, uint32_t* b);

// 8-byte big-endian key of a 64-bit number (sequence numbers, time buckets).
std::string U64Key(uint64_t v);
bool ParseU64Key(std::string_view key, uint64_t* v);

// ---- Kafka offsets (kOffsets) ----
//
// Key: topic bytes, one 0 byte, then the partition as 4 bytes big-endian with the sign bit
// flipped (so partitions sort numerically within a topic, and a topic's partitions are
// contiguous). Kafka topic names never contain a 0 byte. Value: the next offset to consume
// (the last applied offset + 1) as 8 bytes little-endian.

std::string OffsetKey(std::string_view topic, int32_t partition);
// Appends OffsetKey(topic, partition) to *out.
void AppendOffsetKey(std::string_view topic, int32_t partition, std::string* out);
// Prefix of every OffsetKey of `topic` (for ForEach over one topic).
std::string OffsetTopicPrefix(std::string_view topic);
// False unless `key` has the OffsetKey layout.
bool ParseOffsetKey(std::string_view key, std::string* topic, int32_t* partition);
std::string OffsetValue(int64_t next_offset);
// False unless `value` is exactly 8 bytes long.
bool ParseOffsetValue(std::string_view value, int64_t* next_offset);

// ---- Keys of the kMeta family, one comment each ----
namespace meta {

// Schema version of the store's layout (StateOptions::schema_version), decimal ASCII text.
// Written once at creation; read by Open to refuse an incompatible store.
inline constexpr std::string_view kSchemaVersion = "schema_version";
// StateOptions::config_fingerprint at creation, verbatim. Read by Open.
inline constexpr std::string_view kConfigFingerprint = "config_fingerprint";
// Prefix reserved for the daemon's own meta keys (e.g. "daemon.last_checkpoint_micros"); the
// store never writes under it.
inline constexpr std::string_view kDaemonPrefix = "daemon.";

}  // namespace meta

}  // namespace streamrec::state
