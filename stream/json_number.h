// ReadDouble: simdjson On-Demand's value::get_double(), corrected for the simdjson of Debian
// bookworm (3.0.1). Its get_double() returns a wrong value, and no error, for a number whose
// integer part is 0 and whose fraction has more than 19 significant digits: the 64-bit digit
// accumulator overflows and the overflow check counts the fraction's leading zeros instead of
// its significant digits ("0.95000000000000000000" reads as 0.0277; simdjson issue #2093, reported
// against 3.6.2 and fixed upstream since). Such numbers are read again with std::from_chars.
//
// Errors are get_double()'s: INCORRECT_TYPE for a value that is not a number, NUMBER_ERROR for a
// malformed number or one beyond double's range. A magnitude below the smallest subnormal reads
// as (signed) zero, as simdjson reads it.
#pragma once

#include <simdjson.h>

#include <charconv>
#include <cstddef>
#include <string_view>
#include <system_error>

namespace streamrec::internal {

// True when `token`, a number's raw JSON, is one simdjson 3.0.1 misreads: -?0.F where F has at
// most 17 leading zeros (with more, simdjson takes its exact slow path) followed by more than 19
// digits.
inline bool MisreadBySimdjson301(std::string_view token) {
  if (!token.empty() && token.front() == '-') token.remove_prefix(1);
  if (token.size() < 2 || token[0] != '0' || token[1] != '.') return false;
  size_t i = 2;
  while (i < token.size() && token[i] == '0') ++i;
  const size_t first_significant = i;
  if (first_significant - 2 > 17) return false;
  while (i < token.size() && token[i] >= '0' && token[i] <= '9') ++i;
  return i - first_significant > 19;
}

inline simdjson::simdjson_result<double> ReadDouble(simdjson::ondemand::value& v) {
  double d = 0;
  if (auto err = v.get_double().get(d)) return err;
  std::string_view token = v.raw_json_token();
  if (!MisreadBySimdjson301(token)) return d;
  while (!token.empty() && (token.back() == ' ' || token.back() == '\t' || token.back() == '\n' ||
                            token.back() == '\r')) {
    token.remove_suffix(1);
  }
  const char* const end = token.data() + token.size();
  const auto [p, ec] = std::from_chars(token.data(), end, d);
  if (ec == std::errc::result_out_of_range) {
    // from_chars reports underflow the same way as overflow. With a zero integer part and at
    // most 17 leading zeros, only a negative exponent can make the magnitude that small.
    if (token.find("e-") == std::string_view::npos && token.find("E-") == std::string_view::npos) {
      return simdjson::NUMBER_ERROR;
    }
    return token.front() == '-' ? -0.0 : 0.0;
  }
  if (ec != std::errc() || p != end) return simdjson::NUMBER_ERROR;
  return d;
}

}  // namespace streamrec::internal
