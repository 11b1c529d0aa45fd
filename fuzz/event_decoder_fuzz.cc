// event_decoder_fuzz: arbitrary bytes into EventDecoder::Decode (stream/event_codec.h), once with
// the default limits and once with tight ones (so that every limit check is reached). Oracle:
//   - a rejection is InvalidArgument with a reason;
//   - an accepted input is valid JSON, and nlohmann reads the same fields from it (a second,
//     independent parser: strings after unescaping, numbers correctly rounded);
//   - the codec's contract holds: EncodeEvent(view) decodes again, under the same limits, to
//     the same fields, and re-encoding that gives the same bytes (the encoding is canonical).
// Any other outcome aborts; ASan and UBSan watch the rest. The input is any bytes, not
// NUL-terminated.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "stream/event_codec.h"

namespace streamrec::stream {
namespace {

DecoderOptions TightOptions() {
  DecoderOptions o;
  o.max_event_bytes = 512;
  o.max_id_bytes = 8;
  o.max_items = 4;
  o.max_features = 4;
  o.max_feature_name_bytes = 12;
  o.rating_min = 1.0;
  o.rating_max = 5.0;
  o.max_ts_seconds = 2e9;
  o.max_depth = 3;
  return o;
}

// The same limits with room for the encoding, which may be longer than the input
// ("ts":1e9 encodes as 1000000000).
DecoderOptions WithRoom(DecoderOptions o) {
  o.max_event_bytes = 1 << 20;
  return o;
}

// Empty when `a` and `b` have the same fields (views compared by content), else the first
// difference.
std::string Difference(const EventView& a, const EventView& b) {
  if (a.type != b.type) return "type";
  if (a.user != b.user) return "user";
  if (a.item != b.item) return "item";
  if (a.session != b.session) return "session";
  if (a.rec_id != b.rec_id) return "rec_id";
  if (a.value != b.value) return "value";
  if (a.ts_seconds != b.ts_seconds) return "ts";
  if (a.items.size() != b.items.size()) return "items.size";
  for (size_t i = 0; i < a.items.size(); ++i) {
    if (a.items[i] != b.items[i]) return "items[" + std::to_string(i) + "]";
  }
  if (a.features.size() != b.features.size()) return "features.size";
  for (size_t i = 0; i < a.features.size(); ++i) {
    if (a.features[i].name != b.features[i].name) return "features[" + std::to_string(i) + "].name";
    if (a.features[i].value != b.features[i].value) {
      return "features[" + std::to_string(i) + "].value";
    }
  }
  return {};
}

// Empty when nlohmann's reading of `input` (accepted by the decoder, so without duplicate known
// fields or feature names) agrees with `e`, else the first difference.
std::string DifferenceFromNlohmann(std::string_view input, const EventView& e) {
  const nlohmann::json j = nlohmann::json::parse(input, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return "not a JSON object for nlohmann";
  const auto string_is = [&](const char* key, std::string_view want) {
    const auto it = j.find(key);
    if (it == j.end() || it->is_null()) return want.empty();
    return it->is_string() && it->get_ref<const std::string&>() == want;
  };
  if (!string_is("type", EventTypeName(e.type))) return "type";
  if (!e.user.empty() && !string_is("user", e.user)) return "user";
  if (!e.item.empty() && !string_is("item", e.item)) return "item";
  if (!e.session.empty() && !string_is("session", e.session)) return "session";
  if (!e.rec_id.empty() && !string_is("rec_id", e.rec_id)) return "rec_id";
  if (e.type == EventType::kRating && static_cast<float>(j["value"].get<double>()) != e.value) {
    return "value";
  }
  const auto ts = j.find("ts");
  if (ts != j.end() && !ts->is_null() && ts->get<double>() != e.ts_seconds) return "ts";
  for (size_t i = 0; i < e.items.size(); ++i) {
    if (j["items"][i].get_ref<const std::string&>() != e.items[i]) {
      return "items[" + std::to_string(i) + "]";
    }
  }
  if (!e.features.empty()) {
    const nlohmann::json& features = j["features"];
    if (features.size() != e.features.size()) return "features.size";
    for (const Feature& f : e.features) {
      const std::string name(f.name);
      const auto it = features.find(name);
      float want = 0;
      if (it != features.end() && it->is_number()) {
        want = static_cast<float>(it->get<double>());
      } else if (it != features.end() && it->is_boolean()) {
        want = it->get<bool>() ? 1.0f : 0.0f;
      } else {  // a string feature "key=value" (the key may hold '=' too)
        bool found = false;
        for (size_t eq = name.find('='); !found && eq != std::string::npos;
             eq = name.find('=', eq + 1)) {
          const auto s = features.find(name.substr(0, eq));
          found = s != features.end() && s->is_string() && *s == name.substr(eq + 1);
        }
        if (!found) return "feature '" + name + "' missing";
        want = 1.0f;
      }
      if (want != f.value) return "feature '" + name + "' value";
    }
  }
  return {};
}

struct Lane {
  explicit Lane(const DecoderOptions& o) : decoder(o), check(WithRoom(o)) {}

  void Run(std::string_view input) {
    EventView e;
    const Status st = decoder.Decode(input, &e);
    if (!st.ok()) {
      FUZZ_CHECK(st.code() == Status::Code::kInvalidArgument, st.ToString());
      FUZZ_CHECK(!st.message().empty(), "empty reason");
      return;
    }
    FUZZ_CHECK(nlohmann::json::accept(input), "accepted but not JSON: " + std::string(input));
    const std::string differs = DifferenceFromNlohmann(input, e);
    FUZZ_CHECK(differs.empty(),
               "nlohmann reads another " + differs + "\n input: " + std::string(input));
    encoded.clear();
    EncodeEvent(e, &encoded);
    EventView back;
    const Status again = check.Decode(encoded, &back);
    FUZZ_CHECK(again.ok(),
               again.ToString() + "\n input: " + std::string(input) + "\n encoded: " + encoded);
    const std::string diff = Difference(e, back);
    FUZZ_CHECK(diff.empty(), "round trip changed " + diff + "\n input: " + std::string(input) +
                                 "\n encoded: " + encoded);
    reencoded.clear();
    EncodeEvent(back, &reencoded);
    FUZZ_CHECK(reencoded == encoded,
               "not canonical\n encoded: " + encoded + "\n re-encoded: " + reencoded);
  }

  EventDecoder decoder;
  EventDecoder check;  // decodes the encoding: same limits, room for the longer text
  std::string encoded, reencoded;
};

}  // namespace
}  // namespace streamrec::stream

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static streamrec::stream::Lane normal{streamrec::stream::DecoderOptions()};
  static streamrec::stream::Lane tight{streamrec::stream::TightOptions()};
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  normal.Run(input);
  tight.Run(input);
  return 0;
}
