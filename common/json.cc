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

bool HasControlCharacter(std::string_view s) {
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7F) return true;
  }
  return false;
}

Status SplitJsonArray(std::string_view text, std::vector<std::string_view>* elements,
                      int max_depth) {
  elements->clear();
  const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  size_t i = 0;
  while (i < text.size() && is_space(text[i])) ++i;
  if (i == text.size() || text[i] != '[') return Status::InvalidArgument("not a JSON array");
  std::string closers;  // the closing bracket expected at each open level
  closers.reserve(static_cast<size_t>(max_depth > 0 ? max_depth : 1));
  size_t element_start = std::string_view::npos;  // start of the current top-level element
  const auto finish_element = [&](size_t end) -> Status {
    if (element_start == std::string_view::npos) {
      return Status::InvalidArgument("empty element in JSON array at byte " + std::to_string(end));
    }
    size_t e = end;
    while (e > element_start && is_space(text[e - 1])) --e;
    elements->push_back(text.substr(element_start, e - element_start));
    element_start = std::string_view::npos;
    return Status::Ok();
  };
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (closers.size() == 1 && element_start == std::string_view::npos && !is_space(c) &&
        c != ']' && c != ',') {
      element_start = i;
    }
    switch (c) {
      case '"': {  // skip the string, escapes included
        for (++i; i < text.size() && text[i] != '"'; ++i) {
          if (text[i] == '\\') ++i;
        }
        if (i >= text.size()) return Status::InvalidArgument("unterminated string in JSON array");
        break;
      }
      case '[':
      case '{':
        if (static_cast<int>(closers.size()) >= max_depth) {
          return Status::InvalidArgument("JSON nested deeper than " + std::to_string(max_depth) +
                                         " levels");
        }
        closers.push_back(c == '[' ? ']' : '}');
        break;
      case ']':
      case '}':
        if (closers.empty() || closers.back() != c) {
          return Status::InvalidArgument(std::string("unexpected '") + c + "' in JSON array");
        }
        if (closers.size() == 1) {  // the array's own ']'
          const bool empty_array = elements->empty() && element_start == std::string_view::npos;
          if (!empty_array) STREAMREC_RETURN_IF_ERROR(finish_element(i));
          for (++i; i < text.size(); ++i) {
            if (!is_space(text[i])) {
              return Status::InvalidArgument("trailing content after the JSON array");
            }
          }
          return Status::Ok();
        }
        closers.pop_back();
        break;
      case ',':
        if (closers.size() == 1) STREAMREC_RETURN_IF_ERROR(finish_element(i));
        break;
      default:
        break;
    }
  }
  return Status::InvalidArgument("unterminated JSON array");
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
