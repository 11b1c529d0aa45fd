#include "common/coding.h"

namespace streamrec {

void ByteWriter::PutVarint(uint64_t v) {
  while (v >= 0x80) {
    out_->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out_->push_back(static_cast<char>(v));
}

bool ByteReader::GetVarint(uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0; shift <= 63; shift += 7) {
    uint8_t byte;
    if (!GetU8(&byte)) return false;
    result |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *v = result;
      return true;
    }
  }
  return ok_ = false;
}

bool ByteReader::GetString(std::string* s) {
  uint64_t n;
  if (!GetVarint(&n)) return false;
  if (n > in_.size()) return ok_ = false;
  s->assign(in_.data(), n);
  in_.remove_prefix(n);
  return true;
}

Status ByteReader::ExpectHeader(uint32_t magic, uint32_t max_version, std::string_view what,
                                uint32_t* version) {
  uint32_t m = 0, v = 0;
  if (!GetU32(&m) || !GetU32(&v)) {
    return Status::Corruption(std::string(what) + ": truncated header");
  }
  if (m != magic) {
    return Status::Corruption(std::string(what) + ": wrong magic number (not a " +
                              std::string(what) + " blob)");
  }
  if (v == 0 || v > max_version) {
    return Status::Corruption(std::string(what) + ": unsupported format version " +
                              std::to_string(v) + " (this build reads up to " +
                              std::to_string(max_version) + ")");
  }
  *version = v;
  return Status::Ok();
}

}  // namespace streamrec
