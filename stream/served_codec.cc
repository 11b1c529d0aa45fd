#include "stream/served_codec.h"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "common/json.h"
#include "stream/json_number.h"

namespace streamrec::stream {
namespace od = simdjson::ondemand;
namespace {

constexpr size_t kMaxServedBytes = 1 << 20;
constexpr size_t kMaxServedItems = 1000;
// As DecoderOptions::max_ts_seconds (2100-01-01): also what keeps ts * 1e6 within int64.
constexpr double kMaxTsSeconds = 4102444800.0;
constexpr double kMaxFloat = std::numeric_limits<float>::max();

Status Bad(std::string_view what) {
  return Status::InvalidArgument("served record: " + std::string(what));
}

}  // namespace

void EncodeServed(const ServedView& s, std::string* out) {
  out->append("{\"type\":\"served\",\"rec_id\":");
  AppendJsonString(s.rec_id, out);
  out->append(",\"user\":");
  AppendJsonString(s.user, out);
  if (!s.session.empty()) {
    out->append(",\"session\":");
    AppendJsonString(s.session, out);
  }
  out->append(",\"ts\":");
  AppendJsonNumber(*out, s.ts_seconds);
  out->append(",\"items\":[");
  for (size_t i = 0; i < s.items.size(); ++i) {
    const ServedItem& it = s.items[i];
    if (i > 0) out->push_back(',');
    out->append("{\"item\":");
    AppendJsonString(it.item, out);
    out->append(",\"pos\":");
    AppendJsonNumber(*out, static_cast<double>(it.pos));
    out->append(",\"score\":");
    AppendJsonNumber(*out, it.score);
    out->append(",\"source\":");
    AppendJsonString(it.source, out);
    if (it.propensity >= 0.0) {
      out->append(",\"propensity\":");
      AppendJsonNumber(*out, it.propensity);
    }
    out->push_back('}');
  }
  out->append("]}");
}

struct ServedDecoder::Impl {
  od::parser parser{kMaxServedBytes};
  std::string buffer;
  std::vector<ServedItem> items;
};

ServedDecoder::ServedDecoder() : impl_(std::make_unique<Impl>()) {
  impl_->buffer.reserve(4096 + simdjson::SIMDJSON_PADDING);
}
ServedDecoder::~ServedDecoder() = default;

Status ServedDecoder::Decode(std::string_view json, ServedView* out) {
  *out = ServedView();
  if (json.size() > kMaxServedBytes) return Bad("larger than 1 MiB");
  Impl& m = *impl_;
  m.buffer.assign(json);
  m.buffer.resize(json.size() + simdjson::SIMDJSON_PADDING, '\0');
  m.items.clear();
  od::document doc;
  if (m.parser.iterate(m.buffer.data(), json.size(), m.buffer.size()).get(doc)) {
    return Bad("not JSON");
  }
  od::object obj;
  if (auto err = doc.get_object().get(obj)) {
    return Bad(std::string("not a JSON object (") + simdjson::error_message(err) + ")");
  }
  bool has_ts = false, has_items = false, has_rec = false;
  ServedView v;
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return Bad("malformed key");
    od::value val;
    if (field.value().get(val)) return Bad("malformed value of '" + std::string(key) + "'");
    if (key == "rec_id" || key == "user" || key == "session" || key == "type") {
      std::string_view s;
      if (val.get_string().get(s)) return Bad("'" + std::string(key) + "' must be a string");
      if (key == "rec_id") v.rec_id = s, has_rec = true;
      if (key == "user") v.user = s;
      if (key == "session") v.session = s;
      if (key == "type" && s != "served") return Bad("type is not 'served'");
    } else if (key == "ts") {
      if (internal::ReadDouble(val).get(v.ts_seconds) || !std::isfinite(v.ts_seconds)) {
        return Bad("'ts' must be a number");
      }
      if (v.ts_seconds < 0 || v.ts_seconds > kMaxTsSeconds) {
        return Bad("'ts' out of range (seconds since the epoch, up to 2100)");
      }
      has_ts = true;
    } else if (key == "items") {
      od::array arr;
      if (val.get_array().get(arr)) return Bad("'items' must be an array");
      for (auto element : arr) {
        od::object io;
        if (element.get_object().get(io)) return Bad("an element of 'items' is not an object");
        if (m.items.size() >= kMaxServedItems) return Bad("more than 1000 items");
        ServedItem it;
        bool has_item = false;
        for (auto f : io) {
          std::string_view k;
          if (f.unescaped_key().get(k)) return Bad("malformed key in 'items'");
          od::value x;
          if (f.value().get(x)) return Bad("malformed value in 'items'");
          double d = 0;
          if (k == "item" || k == "source") {
            std::string_view s;
            if (x.get_string().get(s))
              return Bad("items[]." + std::string(k) + " must be a string");
            (k == "item" ? it.item : it.source) = s;
            has_item = has_item || k == "item";
          } else if (k == "pos" || k == "score" || k == "propensity") {
            if (internal::ReadDouble(x).get(d) || !std::isfinite(d)) {
              return Bad("items[]." + std::string(k) + " must be a number");
            }
            if (k == "pos") {
              if (d < 0 || d > 1e6) return Bad("items[].pos out of range");
              it.pos = static_cast<uint32_t>(d);
            } else if (k == "score") {
              it.score = static_cast<float>(std::clamp(d, -kMaxFloat, kMaxFloat));
            } else {
              if (!(d > 0 && d <= 1)) return Bad("items[].propensity must be in (0, 1]");
              it.propensity = d;
            }
          }  // unknown keys: skipped (forward compatibility)
        }
        if (!has_item || it.item.empty()) return Bad("an element of 'items' has no item");
        m.items.push_back(it);
      }
      has_items = true;
    }
  }
  const char* trailing = nullptr;
  if (doc.current_location().get(trailing) == simdjson::SUCCESS) {
    return Bad("trailing bytes after the object");
  }
  if (!has_rec || v.rec_id.empty()) return Bad("missing 'rec_id'");
  if (!has_ts) return Bad("missing 'ts'");
  if (!has_items) return Bad("missing 'items'");
  v.items = m.items;
  *out = v;
  return Status::Ok();
}

}  // namespace streamrec::stream
