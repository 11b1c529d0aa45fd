#include "stream/event_codec.h"

#include <simdjson.h>

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cmath>
#include <cstring>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "stream/json_number.h"

namespace streamrec::stream {
namespace {

namespace od = simdjson::ondemand;

// The known top-level fields. The values are bit positions in the "seen" mask.
enum class Field : uint8_t {
  kType,
  kUser,
  kItem,
  kItems,
  kValue,
  kTs,
  kSession,
  kRecId,
  kFeatures,
  kUnknown,
};

constexpr std::string_view kFieldNames[] = {"type", "user",    "item",   "items",   "value",
                                            "ts",   "session", "rec_id", "features"};

Field ClassifyKey(std::string_view key) {
  switch (key.size()) {
    case 2:
      if (key == "ts") return Field::kTs;
      break;
    case 4:
      if (key == "type") return Field::kType;
      if (key == "user") return Field::kUser;
      if (key == "item") return Field::kItem;
      break;
    case 5:
      if (key == "items") return Field::kItems;
      if (key == "value") return Field::kValue;
      break;
    case 6:
      if (key == "rec_id") return Field::kRecId;
      break;
    case 7:
      if (key == "session") return Field::kSession;
      break;
    case 8:
      if (key == "features") return Field::kFeatures;
      break;
    default:
      break;
  }
  return Field::kUnknown;
}

constexpr uint32_t Bit(Field f) { return 1u << static_cast<uint32_t>(f); }

// Which optional/required fields belong in the view of each type (DESIGN.md wire format).
bool HasUser(EventType t) { return t != EventType::kItem; }
bool HasItem(EventType t) {
  return t == EventType::kRating || IsImplicit(t) || t == EventType::kItem;
}
bool HasContext(EventType t) {  // session and rec_id
  return t == EventType::kRating || IsImplicit(t) || t == EventType::kImpression;
}

// Largest magnitude of a double that still rounds to a finite float (FLT_MAX + half an ulp,
// exclusive: the tie rounds to even, which is infinity).
constexpr double kFloatOverflow = 0x1.ffffffp+127;

// `s` made safe to embed in an error message: at most 40 bytes cut at a UTF-8 character
// boundary, control characters replaced by '?'.
std::string Printable(std::string_view s) {
  constexpr size_t kMax = 40;
  size_t n = s.size();
  bool cut = false;
  if (n > kMax) {
    n = kMax;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    cut = true;
  }
  std::string r(s.substr(0, n));
  for (char& c : r) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = '?';
  }
  if (cut) r += "...";
  return r;
}

const char* TypeName(od::json_type t) {
  switch (t) {
    case od::json_type::array:
      return "array";
    case od::json_type::object:
      return "object";
    case od::json_type::number:
      return "number";
    case od::json_type::string:
      return "string";
    case od::json_type::boolean:
      return "boolean";
    case od::json_type::null:
      return "null";
  }
  return "unknown";
}

Status Invalid(std::string_view what) { return Status::InvalidArgument(what); }

Status JsonError(simdjson::error_code err) {
  switch (err) {
    case simdjson::EMPTY:
      return Invalid("empty message");
    case simdjson::UTF8_ERROR:
      return Invalid("invalid UTF-8");
    default:
      return Invalid(std::string("invalid JSON: ") + simdjson::error_message(err));
  }
}

Status FieldJsonError(std::string_view field, simdjson::error_code err) {
  if (err == simdjson::UTF8_ERROR) return Invalid("invalid UTF-8");
  return Invalid("invalid JSON in field '" + Printable(field) +
                 "': " + simdjson::error_message(err));
}

Status WrongType(std::string_view field, const char* expected, od::json_type got) {
  return Invalid("field '" + Printable(field) + "' must be " + expected + ", not " + TypeName(got));
}

// True when `s` follows the JSON number grammar (so a parse failure means overflow).
bool IsJsonNumberSyntax(std::string_view s) {
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  size_t i = 0;
  auto digits = [&] {
    const size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i > start;
  };
  if (i < s.size() && s[i] == '-') ++i;
  if (i < s.size() && s[i] == '0') {
    ++i;
  } else if (!digits()) {
    return false;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == s.size();
}

// Integral values below 2^53 print as plain integers ("1700000000", not the shorter
// "1.7e+09"), which every consumer reads back exactly; -0 keeps its sign through to_chars.
bool PrintsAsInteger(double v) {
  return v == std::trunc(v) && std::fabs(v) < 0x1p53 && !(v == 0 && std::signbit(v));
}

// Writes `v` as JSON in its shortest round-trip form. Returns the end of the text.
// REQUIRES: v is finite; 32 bytes at `p`.
char* FormatDouble(double v, char* p, char* end) {
  if (PrintsAsInteger(v)) return std::to_chars(p, end, static_cast<int64_t>(v)).ptr;
  return std::to_chars(p, end, v).ptr;
}

// Writes the shortest text that reads back as exactly `v` through a double parse followed by a
// cast to float (what Decode does). Returns the end of the text. REQUIRES: 48 bytes at `p`.
char* FormatFloat(float v, char* p, char* end) {
  if (PrintsAsInteger(v)) return std::to_chars(p, end, static_cast<int64_t>(v)).ptr;
  auto r = std::to_chars(p, end, v);
  double back = 0;
  auto [q, ec] = std::from_chars(p, r.ptr, back);
  if (ec == std::errc() && q == r.ptr && static_cast<float>(back) == v) return r.ptr;
  // Double rounding made the float's shortest form ambiguous; the exact double never is.
  return std::to_chars(p, end, static_cast<double>(v)).ptr;
}

}  // namespace

struct EventDecoder::Impl {
  explicit Impl(DecoderOptions o)
      : options(o),
        buffer(new char[o.max_event_bytes + simdjson::SIMDJSON_PADDING]),
        arena(new char[o.max_event_bytes + 1]),
        arena_capacity(o.max_event_bytes + 1) {
    // An allocation failure here shows up again, and is reported, in iterate().
    const simdjson::error_code err = parser.allocate(o.max_event_bytes);
    (void)err;
  }

  Status Decode(std::string_view json, EventView* out);
  Status ReadId(od::value& v, Field field, std::string_view* out);
  Status ReadNumber(od::value& v, Field field, double* out, bool* present);
  Status ReadItems(od::value& v);
  Status ReadFeatures(od::value& v);
  Status ReadFeature(std::string_view key, od::value& v);
  Status CheckDuplicateFeatures();
  Status SkipValue(od::value& v, std::string_view field, int depth);

  DecoderOptions options;
  od::parser parser;
  // The message copied with SIMDJSON_PADDING zero bytes after it.
  std::unique_ptr<char[]> buffer;
  // Composed "key=value" feature names of the current message. Its total size never exceeds the
  // message size (each name is no longer than the `"key":"value"` text it comes from), so it
  // never needs to grow; the check in ReadFeature keeps that an invariant, not an assumption.
  std::unique_ptr<char[]> arena;
  size_t arena_capacity;
  size_t arena_used = 0;
  std::vector<std::string_view> items;
  std::vector<Feature> features;
  std::vector<std::string_view> feature_keys;  // the JSON keys of `features`, in input order
  std::vector<std::string_view> sorted_names;  // scratch for the duplicate-feature check
};

namespace {
// After a typed getter failed with INCORRECT_TYPE: Ok when `v` is null and `nullable` (the
// field is then absent), else the wrong-type error. Off the hot path.
Status NullOrWrongType(od::value& v, std::string_view name, const char* expected, bool nullable) {
  od::json_type t;
  if (auto err = v.type().get(t)) return FieldJsonError(name, err);
  if (t == od::json_type::number && std::string_view(expected) == "a number") {
    // simdjson types a token by its first byte: "-Infinity" or "-x" start like a number.
    return Invalid("field '" + Printable(name) + "' is not a valid JSON number");
  }
  if (t == od::json_type::null && nullable) {
    bool is_null = false;
    if (auto err = v.is_null().get(is_null); err || !is_null) {
      return FieldJsonError(name, err ? err : simdjson::N_ATOM_ERROR);
    }
    return Status::Ok();
  }
  return WrongType(name, expected, t);
}
}  // namespace

Status EventDecoder::Impl::ReadId(od::value& v, Field field, std::string_view* out) {
  const std::string_view name = kFieldNames[static_cast<int>(field)];
  std::string_view s;
  if (auto err = v.get_string().get(s)) {
    if (err != simdjson::INCORRECT_TYPE) return FieldJsonError(name, err);
    const bool optional = field == Field::kSession || field == Field::kRecId;
    return NullOrWrongType(v, name, "a string", optional);
  }
  if (s.empty()) return Invalid("field '" + std::string(name) + "' is empty");
  if (s.size() > options.max_id_bytes) {
    return Invalid("field '" + std::string(name) + "' longer than " +
                   std::to_string(options.max_id_bytes) + " bytes");
  }
  if (HasControlCharacter(s)) {
    return Invalid("field '" + std::string(name) + "' contains a control character");
  }
  *out = s;
  return Status::Ok();
}

Status EventDecoder::Impl::ReadNumber(od::value& v, Field field, double* out, bool* present) {
  const std::string_view name = kFieldNames[static_cast<int>(field)];
  double d = 0;
  if (auto err = internal::ReadDouble(v).get(d)) {
    if (err == simdjson::INCORRECT_TYPE) {
      return NullOrWrongType(v, name, "a number", field == Field::kTs);
    }
    if (err == simdjson::NUMBER_ERROR && IsJsonNumberSyntax(v.raw_json_token())) {
      return Invalid("field '" + std::string(name) + "' is not finite");
    }
    return FieldJsonError(name, err);
  }
  if (!std::isfinite(d)) return Invalid("field '" + std::string(name) + "' is not finite");
  *out = d;
  *present = true;
  return Status::Ok();
}

Status EventDecoder::Impl::ReadItems(od::value& v) {
  od::json_type t;
  if (auto err = v.type().get(t)) return FieldJsonError("items", err);
  if (t != od::json_type::array) return WrongType("items", "an array of strings", t);
  od::array array;
  if (auto err = v.get_array().get(array)) return FieldJsonError("items", err);
  for (auto&& element : array) {
    od::value e;
    if (auto err = std::move(element).get(e)) return FieldJsonError("items", err);
    if (items.size() >= options.max_items) {
      return Invalid("field 'items' has more than " + std::to_string(options.max_items) +
                     " elements");
    }
    const auto where = [this] { return "items[" + std::to_string(items.size()) + "]"; };
    std::string_view s;
    if (auto err = e.get_string().get(s)) {
      if (err != simdjson::INCORRECT_TYPE) return FieldJsonError(where(), err);
      if (auto err2 = e.type().get(t)) return FieldJsonError(where(), err2);
      return WrongType(where(), "a string", t);
    }
    if (s.empty()) return Invalid("field '" + where() + "' is empty");
    if (s.size() > options.max_id_bytes) {
      return Invalid("field '" + where() + "' longer than " + std::to_string(options.max_id_bytes) +
                     " bytes");
    }
    if (HasControlCharacter(s))
      return Invalid("field '" + where() + "' contains a control character");
    items.push_back(s);
  }
  if (items.empty()) return Invalid("field 'items' is empty");
  return Status::Ok();
}

Status EventDecoder::Impl::ReadFeature(std::string_view key, od::value& v) {
  if (key.empty()) return Invalid("field 'features' has an empty name");
  if (features.size() >= options.max_features) {
    return Invalid("field 'features' has more than " + std::to_string(options.max_features) +
                   " entries");
  }
  const auto too_long = [&](std::string_view name) {
    return Invalid("feature '" + Printable(name) + "' name longer than " +
                   std::to_string(options.max_feature_name_bytes) + " bytes");
  };
  const auto bad = [&](simdjson::error_code err) {
    return Invalid("invalid JSON in feature '" + Printable(key) +
                   "': " + simdjson::error_message(err));
  };
  if (key.size() > options.max_feature_name_bytes) return too_long(key);
  od::json_type t;
  if (auto err = v.type().get(t)) return bad(err);
  switch (t) {
    case od::json_type::number: {
      double d = 0;
      if (auto err = internal::ReadDouble(v).get(d)) {
        if (err == simdjson::NUMBER_ERROR && IsJsonNumberSyntax(v.raw_json_token())) {
          return Invalid("feature '" + Printable(key) + "' is not finite");
        }
        return bad(err);
      }
      if (!(std::fabs(d) < kFloatOverflow)) {
        return Invalid("feature '" + Printable(key) + "' is not finite as a float");
      }
      features.push_back({key, static_cast<float>(d)});
      return Status::Ok();
    }
    case od::json_type::boolean: {
      bool b = false;
      if (auto err = v.get_bool().get(b)) return bad(err);
      features.push_back({key, b ? 1.0f : 0.0f});
      return Status::Ok();
    }
    case od::json_type::string: {
      std::string_view s;
      if (auto err = v.get_string().get(s)) return bad(err);
      const size_t n = key.size() + 1 + s.size();
      if (n > options.max_feature_name_bytes) {
        return too_long(std::string(key) + "=" + std::string(s));
      }
      if (n > arena_capacity - arena_used) {  // Unreachable (see `arena`); never overflow.
        return Invalid("field 'features' too large");
      }
      char* p = arena.get() + arena_used;
      std::memcpy(p, key.data(), key.size());
      p[key.size()] = '=';
      std::memcpy(p + key.size() + 1, s.data(), s.size());
      arena_used += n;
      features.push_back({std::string_view(p, n), 1.0f});
      return Status::Ok();
    }
    default:
      return Invalid("feature '" + Printable(key) + "' must be a number, boolean or string, not " +
                     TypeName(t));
  }
}

namespace {
// The first of get(0), ..., get(n - 1) that occurs twice, if any. Quadratic up to 16 (no
// allocation), else sorted in *scratch.
template <typename Get>
std::optional<std::string_view> FindDuplicate(size_t n, Get get,
                                              std::vector<std::string_view>* scratch) {
  if (n <= 16) {
    for (size_t i = 1; i < n; ++i) {
      for (size_t j = 0; j < i; ++j) {
        if (get(i) == get(j)) return get(i);
      }
    }
    return std::nullopt;
  }
  scratch->clear();
  for (size_t i = 0; i < n; ++i) scratch->push_back(get(i));
  std::sort(scratch->begin(), scratch->end());
  auto it = std::adjacent_find(scratch->begin(), scratch->end());
  if (it != scratch->end()) return *it;
  return std::nullopt;
}
}  // namespace

Status EventDecoder::Impl::CheckDuplicateFeatures() {
  // Two features with one name ({"a=x":1,"a":"x"}), or a JSON key given twice ({"a":1,"a":"x"},
  // two features for this decoder, one for a parser that keeps either duplicate).
  std::optional<std::string_view> duplicate = FindDuplicate(
      features.size(), [this](size_t i) { return features[i].name; }, &sorted_names);
  if (!duplicate) {
    duplicate = FindDuplicate(
        feature_keys.size(), [this](size_t i) { return feature_keys[i]; }, &sorted_names);
  }
  if (duplicate) return Invalid("duplicate feature '" + Printable(*duplicate) + "'");
  return Status::Ok();
}

Status EventDecoder::Impl::ReadFeatures(od::value& v) {
  od::json_type t;
  if (auto err = v.type().get(t)) return FieldJsonError("features", err);
  if (t == od::json_type::null) {
    bool is_null = false;
    if (auto err = v.is_null().get(is_null); err || !is_null) {
      return FieldJsonError("features", err ? err : simdjson::N_ATOM_ERROR);
    }
    return Status::Ok();
  }
  if (t != od::json_type::object) return WrongType("features", "an object", t);
  od::object object;
  if (auto err = v.get_object().get(object)) return FieldJsonError("features", err);
  for (auto&& field_result : object) {
    od::field field;
    if (auto err = std::move(field_result).get(field)) return FieldJsonError("features", err);
    std::string_view key;
    if (auto err = field.unescaped_key().get(key)) return FieldJsonError("features", err);
    feature_keys.push_back(key);
    od::value value = field.value();
    STREAMREC_RETURN_IF_ERROR(ReadFeature(key, value));
  }
  return CheckDuplicateFeatures();
}

// Consumes a value of an unknown field, checking that it is well-formed JSON: simdjson skips
// unread values without validating them.
Status EventDecoder::Impl::SkipValue(od::value& v, std::string_view field, int depth) {
  od::json_type t;
  if (auto err = v.type().get(t)) return FieldJsonError(field, err);
  if ((t == od::json_type::array || t == od::json_type::object) && depth > options.max_depth) {
    return Invalid("field '" + Printable(field) + "' nested deeper than " +
                   std::to_string(options.max_depth) + " levels");
  }
  switch (t) {
    case od::json_type::array: {
      od::array array;
      if (auto err = v.get_array().get(array)) return FieldJsonError(field, err);
      for (auto&& element : array) {
        od::value e;
        if (auto err = std::move(element).get(e)) return FieldJsonError(field, err);
        STREAMREC_RETURN_IF_ERROR(SkipValue(e, field, depth + 1));
      }
      return Status::Ok();
    }
    case od::json_type::object: {
      od::object object;
      if (auto err = v.get_object().get(object)) return FieldJsonError(field, err);
      for (auto&& field_result : object) {
        od::field f;
        if (auto err = std::move(field_result).get(f)) return FieldJsonError(field, err);
        std::string_view key;
        if (auto err = f.unescaped_key().get(key)) return FieldJsonError(field, err);
        od::value value = f.value();
        STREAMREC_RETURN_IF_ERROR(SkipValue(value, field, depth + 1));
      }
      return Status::Ok();
    }
    case od::json_type::number: {
      double d;
      if (auto err = internal::ReadDouble(v).get(d)) return FieldJsonError(field, err);
      return Status::Ok();
    }
    case od::json_type::string: {
      std::string_view s;
      if (auto err = v.get_string().get(s)) return FieldJsonError(field, err);
      return Status::Ok();
    }
    case od::json_type::boolean: {
      bool b;
      if (auto err = v.get_bool().get(b)) return FieldJsonError(field, err);
      return Status::Ok();
    }
    case od::json_type::null: {
      bool is_null = false;
      if (auto err = v.is_null().get(is_null); err || !is_null) {
        return FieldJsonError(field, err ? err : simdjson::N_ATOM_ERROR);
      }
      return Status::Ok();
    }
  }
  return FieldJsonError(field, simdjson::TAPE_ERROR);
}

Status EventDecoder::Impl::Decode(std::string_view json, EventView* out) {
  *out = EventView();
  items.clear();
  features.clear();
  feature_keys.clear();
  arena_used = 0;
  if (json.empty()) return Invalid("empty message");
  if (json.size() > options.max_event_bytes) {
    return Invalid("message larger than " + std::to_string(options.max_event_bytes) + " bytes");
  }
  std::memcpy(buffer.get(), json.data(), json.size());
  std::memset(buffer.get() + json.size(), 0, simdjson::SIMDJSON_PADDING);

  od::document doc;
  if (auto err = parser.iterate(buffer.get(), json.size(), json.size() + simdjson::SIMDJSON_PADDING)
                     .get(doc)) {
    return JsonError(err);
  }
  od::object object;
  if (auto err = doc.get_object().get(object)) {
    if (err == simdjson::INCORRECT_TYPE) return Invalid("message is not a JSON object");
    return JsonError(err);
  }

  EventView e;
  std::string_view type_name;
  double value = 0;
  bool has_value = false;
  bool has_ts = false;
  uint32_t seen = 0;
  for (auto&& field_result : object) {
    od::field field;
    if (auto err = std::move(field_result).get(field)) return JsonError(err);
    std::string_view key;
    if (auto err = field.unescaped_key().get(key)) return JsonError(err);
    od::value v = field.value();
    const Field f = ClassifyKey(key);
    if (f == Field::kUnknown) {
      STREAMREC_RETURN_IF_ERROR(SkipValue(v, key, 2));
      continue;
    }
    if (seen & Bit(f)) return Invalid("duplicate field '" + std::string(key) + "'");
    seen |= Bit(f);
    switch (f) {
      case Field::kType:
        if (auto err = v.get_string().get(type_name)) {
          if (err != simdjson::INCORRECT_TYPE) return FieldJsonError(key, err);
          return NullOrWrongType(v, key, "a string", /*nullable=*/false);
        }
        break;
      case Field::kUser:
        STREAMREC_RETURN_IF_ERROR(ReadId(v, f, &e.user));
        break;
      case Field::kItem:
        STREAMREC_RETURN_IF_ERROR(ReadId(v, f, &e.item));
        break;
      case Field::kSession:
        STREAMREC_RETURN_IF_ERROR(ReadId(v, f, &e.session));
        break;
      case Field::kRecId:
        STREAMREC_RETURN_IF_ERROR(ReadId(v, f, &e.rec_id));
        break;
      case Field::kValue:
        STREAMREC_RETURN_IF_ERROR(ReadNumber(v, f, &value, &has_value));
        break;
      case Field::kTs:
        STREAMREC_RETURN_IF_ERROR(ReadNumber(v, f, &e.ts_seconds, &has_ts));
        break;
      case Field::kItems:
        STREAMREC_RETURN_IF_ERROR(ReadItems(v));
        break;
      case Field::kFeatures:
        STREAMREC_RETURN_IF_ERROR(ReadFeatures(v));
        break;
      case Field::kUnknown:
        break;
    }
  }
  const char* trailing = nullptr;
  if (doc.current_location().get(trailing) == simdjson::SUCCESS) {
    return Invalid("invalid JSON: trailing content after the object");
  }

  if (!(seen & Bit(Field::kType))) return Invalid("missing field 'type'");
  if (!ParseEventType(type_name, &e.type)) {
    return Invalid("unknown event type '" + Printable(type_name) + "'");
  }
  const EventType type = e.type;
  const auto missing = [](std::string_view name) {
    return Invalid("missing field '" + std::string(name) + "'");
  };
  if (HasUser(type)) {
    if (e.user.empty()) return missing("user");
  } else {
    e.user = {};
  }
  if (HasItem(type)) {
    if (e.item.empty()) return missing("item");
  } else {
    e.item = {};
  }
  if (!HasContext(type)) {
    e.session = {};
    e.rec_id = {};
  }
  if (type == EventType::kRating) {
    if (!has_value) return missing("value");
    if (!(value >= options.rating_min && value <= options.rating_max &&
          std::fabs(value) < kFloatOverflow)) {
      char lo[32], hi[32];
      *FormatDouble(options.rating_min, lo, lo + sizeof lo - 1) = '\0';
      *FormatDouble(options.rating_max, hi, hi + sizeof hi - 1) = '\0';
      return Invalid(std::string("field 'value' out of range [") + lo + ", " + hi + "]");
    }
    e.value = static_cast<float>(value);
  }
  if (has_ts && !(e.ts_seconds >= 0 && e.ts_seconds <= options.max_ts_seconds)) {
    char hi[32];
    *FormatDouble(options.max_ts_seconds, hi, hi + sizeof hi - 1) = '\0';
    return Invalid(std::string("field 'ts' out of range [0, ") + hi + "] seconds");
  }
  if (type == EventType::kImpression) {
    if (!(seen & Bit(Field::kItems))) return missing("items");
    e.items = items;
  }
  if (type == EventType::kItem) e.features = features;
  *out = e;
  return Status::Ok();
}

EventDecoder::EventDecoder(DecoderOptions options) : impl_(std::make_unique<Impl>(options)) {}
EventDecoder::~EventDecoder() = default;
EventDecoder::EventDecoder(EventDecoder&&) noexcept = default;
EventDecoder& EventDecoder::operator=(EventDecoder&&) noexcept = default;

Status EventDecoder::Decode(std::string_view json, EventView* out) {
  return impl_->Decode(json, out);
}

const DecoderOptions& EventDecoder::options() const { return impl_->options; }

Status CheckEventTime(double ts_seconds, int64_t now_micros, int64_t watermark_micros,
                      int64_t max_future_s) {
  const double reference_s = static_cast<double>(std::max(now_micros, watermark_micros)) / 1e6;
  const double ahead_s = ts_seconds - reference_s;
  if (ahead_s <= static_cast<double>(max_future_s)) return Status::Ok();
  char ts[32];
  *FormatDouble(ts_seconds, ts, ts + sizeof ts - 1) = '\0';
  return Invalid(std::string("field 'ts' (") + ts + ") is " +
                 std::to_string(static_cast<int64_t>(ahead_s)) +
                 " s ahead of the clock; at most max_future_s = " + std::to_string(max_future_s) +
                 " s are accepted");
}

void EncodeEvent(const EventView& e, std::string* out) {
  char num[64];
  const auto key = [out](std::string_view k) {
    out->push_back(',');
    out->push_back('"');
    out->append(k);
    out->append("\":");
  };
  const auto id = [&](std::string_view k, std::string_view v) {
    if (v.empty()) return;
    key(k);
    AppendJsonString(v, out);
  };
  const EventType t = e.type;
  out->append("{\"type\":\"");
  out->append(EventTypeName(t));
  out->push_back('"');
  if (HasUser(t)) id("user", e.user);
  if (HasItem(t)) id("item", e.item);
  if (t == EventType::kImpression) {
    key("items");
    out->push_back('[');
    for (size_t i = 0; i < e.items.size(); ++i) {
      if (i > 0) out->push_back(',');
      AppendJsonString(e.items[i], out);
    }
    out->push_back(']');
  }
  if (t == EventType::kRating) {
    key("value");
    out->append(num, FormatFloat(e.value, num, num + sizeof num));
  }
  if (e.ts_seconds != 0) {
    key("ts");
    out->append(num, FormatDouble(e.ts_seconds, num, num + sizeof num));
  }
  if (HasContext(t)) {
    id("session", e.session);
    id("rec_id", e.rec_id);
  }
  if (t == EventType::kItem && !e.features.empty()) {
    key("features");
    out->push_back('{');
    for (size_t i = 0; i < e.features.size(); ++i) {
      if (i > 0) out->push_back(',');
      AppendJsonString(e.features[i].name, out);
      out->push_back(':');
      out->append(num, FormatFloat(e.features[i].value, num, num + sizeof num));
    }
    out->push_back('}');
  }
  out->push_back('}');
}

}  // namespace streamrec::stream
