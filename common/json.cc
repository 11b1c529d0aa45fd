#include "common/json.h"

#include <charconv>
#include <cmath>

namespace streamrec {
namespace {
constexpr char kHex[] = "0123456789abcdef";

void AppendUnicodeEscape(unsigned char b, std::string* out) {
  const char esc[6] = {'\\', 'u', '0', '0', kHex[b >> 4], kHex[b & 0xF]};
  out->append(esc, sizeof esc);
}
}  // namespace

size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const auto cont = [&](size_t k, unsigned char lo = 0x80, unsigned char hi = 0xBF) {
    return k < s.size() && byte(k) >= lo && byte(k) <= hi;
  };
  const unsigned char b = byte(i);
  if (b < 0x80) return 1;
  if (b >= 0xC2 && b <= 0xDF) return cont(i + 1) ? 2 : 0;
  if (b == 0xE0) return cont(i + 1, 0xA0, 0xBF) && cont(i + 2) ? 3 : 0;
  if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) return cont(i + 1) && cont(i + 2) ? 3 : 0;
  if (b == 0xED) return cont(i + 1, 0x80, 0x9F) && cont(i + 2) ? 3 : 0;  // no surrogates
  if (b == 0xF0) return cont(i + 1, 0x90, 0xBF) && cont(i + 2) && cont(i + 3) ? 4 : 0;
  if (b >= 0xF1 && b <= 0xF3) return cont(i + 1) && cont(i + 2) && cont(i + 3) ? 4 : 0;
  if (b == 0xF4) return cont(i + 1, 0x80, 0x8F) && cont(i + 2) && cont(i + 3) ? 4 : 0;
  return 0;  // 0x80..0xC1 (continuation or overlong lead), 0xF5..0xFF
}

bool IsValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const size_t n = Utf8SequenceLength(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

bool AppendJsonEscaped(std::string_view s, std::string* out, InvalidUtf8 policy) {
  bool valid = true;
  size_t run = 0;  // start of the pending run of bytes copied verbatim
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      if (const size_t n = Utf8SequenceLength(s, i); n > 0) {
        i += n;
        continue;
      }
    }
    out->append(s.data() + run, i - run);
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      default:
        if (c < 0x20) {
          AppendUnicodeEscape(c, out);
        } else {  // one byte of a malformed UTF-8 sequence
          valid = false;
          if (policy == InvalidUtf8::kReplace) {
            out->append("\\ufffd");
          } else {
            AppendUnicodeEscape(c, out);
          }
        }
    }
    ++i;
    run = i;
  }
  out->append(s.data() + run, s.size() - run);
  return valid;
}

bool AppendJsonString(std::string_view s, std::string* out, InvalidUtf8 policy) {
  out->push_back('"');
  const bool valid = AppendJsonEscaped(s, out, policy);
  out->push_back('"');
  return valid;
}

namespace {
template <typename Float>
void AppendFloat(std::string& out, Float v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  if (ec != std::errc()) {
    out += "null";  // cannot happen with 64 bytes
    return;
  }
  out.append(buf, end);
}
}  // namespace

void AppendJsonNumber(std::string& out, float v) { AppendFloat(out, v); }
void AppendJsonNumber(std::string& out, double v) { AppendFloat(out, v); }

}  // namespace streamrec
