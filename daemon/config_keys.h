// The keys of `streamrec serve`'s config, declared once: each key's dotted JSON name, the Config
// field it sets, its default, unit, bounds, environment variable, flag and a line of doc. The
// JSON reader, the refusal of unknown keys, the bounds checks of Config::Validate, the
// environment overrides of Config::LoadEnv and the generated docs/CONFIG.md all walk this one
// table (config_keys.cc); Config stays the typed result the rest of the daemon reads.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "daemon/config.h"

namespace streamrec::daemon {

using StringMap = std::map<std::string, std::string>;

// The Config field a key sets. Every integer field of Config is one of these types (size_t is
// uint64_t here).
using FieldRef = std::variant<std::string*, bool*, int*, int64_t*, uint32_t*, uint64_t*, float*,
                              double*, models::ParamMap*, StringMap*>;

enum class KeyKind : uint8_t {
  kValue,       // a typed field of Config
  kSection,     // a JSON object grouping the keys "<name>.*"
  kSecretFile,  // a file path: the file's contents (trailing white space cut) go to the field
};

// A check on a string value besides its choices.
enum class KeyFormat : uint8_t { kAny, kNonEmpty, kHostPort };

struct ConfigKey {
  static constexpr double kNone = std::numeric_limits<double>::infinity();

  // Dotted JSON path: "session.gap_s" is {"session": {"gap_s": ...}}.
  std::string_view name = {};
  KeyKind kind = KeyKind::kValue;
  // The field (null for sections). Maps are merged into the field, so defaults the file does not
  // name stay.
  FieldRef (*field)(Config&) = nullptr;
  // The default as JSON text; equal to the field of a default-constructed Config (a test checks
  // it). Empty for sections and secret files.
  std::string_view default_json = {};
  // Unit of a number ("s", "ms", ...); empty when it has none.
  std::string_view unit = {};
  // Inclusive bounds of a number (kNone: unbounded); min_open makes the lower one exclusive.
  double min = -kNone;
  double max = kNone;
  bool min_open = false;
  // A string's allowed values, separated by '|'; empty: any.
  std::string_view choices = {};
  KeyFormat format = KeyFormat::kAny;
  // The STREAMREC_* environment variable that overrides it, and the `serve` flag that overrides
  // both (empty: none).
  std::string_view env = {};
  std::string_view flag = {};
  // Part of Config::Fingerprint(): a store created with another value is refused (for a map,
  // the doc names which of its parameters).
  bool fingerprint = false;
  // One line of doc.
  std::string_view doc = {};

  bool has_bounds() const { return min != -kNone || max != kNone; }
  // "1..1024", ">= 10", "> 0", "[0, 1]"; empty when unbounded.
  std::string BoundsText() const;
  // The JSON type: "string", "integer", "number", "boolean", "object", ...
  std::string TypeText() const;
};

// Every key, sections before their keys, in the order of docs/CONFIG.md.
std::span<const ConfigKey> ConfigKeys();
// The key named `name`, or null.
const ConfigKey* FindConfigKey(std::string_view name);
// The section of a dotted name: "session" of "session.gap_s"; empty at the top level.
std::string_view ParentOf(std::string_view name);

// The key's value in `config` as JSON text (null for sections and secret files).
std::string FieldJson(const ConfigKey& key, const Config& config);
// Sets the key's field from `text` as an environment variable or flag gives it (a string as is,
// a number in decimal, a boolean as true/false/1/0). InvalidArgument naming `source` when
// malformed or out of the field's range; maps cannot be set so.
Status SetFieldFromText(const ConfigKey& key, std::string_view source, const std::string& text,
                        Config* config);

// docs/CONFIG.md: every key with its type, default, unit, bounds, environment variable, flag and
// doc, and the precedence file < environment < flags. `streamrec serve --help-config` prints it.
std::string ConfigReference();

}  // namespace streamrec::daemon
