// JSON string and number output shared by every folder: the event encoder, dead-letter
// records, the served log and HTTP responses. One escaper, with an explicit policy for bytes that
// are not valid UTF-8 (JSON text must be UTF-8).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace streamrec {

enum class InvalidUtf8 {
  // Each invalid byte becomes U+FFFD: for text shown to people (HTTP answers).
  kReplace,
  // Each invalid byte b becomes \u00XX (the code point U+00XX): keeps the byte's value, for
  // records that must say exactly what arrived (dead letters).
  kEscapeBytes,
};

// Length of the well-formed UTF-8 sequence starting at s[i] (1-4), or 0 when there is none
// (stray continuation byte, overlong form, surrogate, above U+10FFFF, truncated).
// REQUIRES: i < s.size().
size_t Utf8SequenceLength(std::string_view s, size_t i);
bool IsValidUtf8(std::string_view s);
// True when `s` holds a C0 control character (U+0000..U+001F) or DEL. Ids must not: every
// input path (Kafka, HTTP query, HTTP path) refuses them alike, so any id that was accepted can
// also be named in a request (e.g. DELETE /v1/users/ID).
bool HasControlCharacter(std::string_view s);

// Splits a JSON array `[e0, e1, ...]` (surrounding whitespace allowed) into the text of its
// elements, without parsing them: one pass, no recursion, so no input can exhaust the stack.
// Strings are skipped with their escapes; brackets are matched and counted. InvalidArgument
// when the text is not one array, a bracket does not match, a string is not closed, or arrays
// and objects nest deeper than `max_depth` (the array itself is depth 1). The elements are
// checked later by whoever decodes them (the event decoder).
Status SplitJsonArray(std::string_view text, std::vector<std::string_view>* elements,
                      int max_depth);

// Appends the escaped contents of `s` (no quotes) to *out: quote, backslash and control
// characters escaped, valid UTF-8 copied as is. Returns false when `s` had invalid UTF-8.
bool AppendJsonEscaped(std::string_view s, std::string* out,
                       InvalidUtf8 policy = InvalidUtf8::kReplace);
// The same inside double quotes.
bool AppendJsonString(std::string_view s, std::string* out,
                      InvalidUtf8 policy = InvalidUtf8::kReplace);

// Appends `v` in its shortest round-trip form (std::to_chars), "null" when not finite.
void AppendJsonNumber(std::string& out, float v);
void AppendJsonNumber(std::string& out, double v);

}  // namespace streamrec
