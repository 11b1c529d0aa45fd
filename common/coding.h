// Byte encoding for saved state: little-endian fixed ints, varints, float arrays, and a
// magic+version header so that a reader refuses bytes written by another format.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "common/status.h"

namespace streamrec {

// Appends encoded values to a string it does not own. REQUIRES: *out outlives the writer.
class ByteWriter {
 public:
  explicit ByteWriter(std::string* out) : out_(out) {}

  void PutU8(uint8_t v) { out_->push_back(static_cast<char>(v)); }
  void PutU32(uint32_t v) { PutRaw(&v, sizeof v); }
  void PutU64(uint64_t v) { PutRaw(&v, sizeof v); }
  void PutI64(int64_t v) { PutRaw(&v, sizeof v); }
  void PutF32(float v) { PutRaw(&v, sizeof v); }
  void PutF64(double v) { PutRaw(&v, sizeof v); }
  void PutVarint(uint64_t v);
  void PutString(std::string_view s) {
    PutVarint(s.size());
    out_->append(s);
  }
  void PutFloats(std::span<const float> v) { PutRaw(v.data(), v.size_bytes()); }
  // A 4-byte magic and a format version, checked by ByteReader::ExpectHeader.
  void PutHeader(uint32_t magic, uint32_t version) {
    PutU32(magic);
    PutU32(version);
  }

 private:
  // The on-disk format is little-endian; every supported target (x86-64, aarch64) is too.
  void PutRaw(const void* p, size_t n) { out_->append(static_cast<const char*>(p), n); }
  std::string* out_;
};

// Reads values back from a byte view. Every getter returns false on underflow and then leaves
// the reader in a failed state; check ok() (or each return) before trusting the values.
class ByteReader {
 public:
  explicit ByteReader(std::string_view in) : in_(in) {}

  bool GetU8(uint8_t* v) { return GetRaw(v, sizeof *v); }
  bool GetU32(uint32_t* v) { return GetRaw(v, sizeof *v); }
  bool GetU64(uint64_t* v) { return GetRaw(v, sizeof *v); }
  bool GetI64(int64_t* v) { return GetRaw(v, sizeof *v); }
  bool GetF32(float* v) { return GetRaw(v, sizeof *v); }
  bool GetF64(double* v) { return GetRaw(v, sizeof *v); }
  bool GetVarint(uint64_t* v);
  bool GetString(std::string* s);
  bool GetFloats(std::span<float> v) { return GetRaw(v.data(), v.size_bytes()); }
  // Corruption unless the next 8 bytes are `magic` and a version in [1, max_version].
  Status ExpectHeader(uint32_t magic, uint32_t max_version, std::string_view what,
                      uint32_t* version);

  bool ok() const { return ok_; }
  size_t remaining() const { return in_.size(); }
  bool done() const { return ok_ && in_.empty(); }

 private:
  bool GetRaw(void* p, size_t n) {
    if (!ok_ || in_.size() < n) return ok_ = false;
    std::memcpy(p, in_.data(), n);
    in_.remove_prefix(n);
    return true;
  }
  std::string_view in_;
  bool ok_ = true;
};

// Four ASCII characters as a little-endian magic number, e.g. Magic("SRMF").
constexpr uint32_t Magic(const char (&s)[5]) {
  return static_cast<uint32_t>(static_cast<unsigned char>(s[0])) |
         static_cast<uint32_t>(static_cast<unsigned char>(s[1])) << 8 |
         static_cast<uint32_t>(static_cast<unsigned char>(s[2])) << 16 |
         static_cast<uint32_t>(static_cast<unsigned char>(s[3])) << 24;
}

}  // namespace streamrec
