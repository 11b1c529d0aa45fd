// Event decoding throughput: EventDecoder (simdjson On-Demand, no allocation per event) against
// an equivalent decoder over nlohmann::json (DOM, owned strings), on a realistic mix of events:
// ratings, implicit events with session and rec_id, impressions of 10-20 items, item events
// with a few features. Items/s = decoded events per second.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/rng.h"
#include "common/status.h"
#include "common/types.h"
#include "stream/event_codec.h"

namespace streamrec::stream {
namespace {

// ---- The reference decoder: same validation as EventDecoder, over nlohmann::json -----------

struct OwnedEvent {
  EventType type = EventType::kClick;
  std::string user, item, session, rec_id;
  float value = 0;
  double ts_seconds = 0;
  std::vector<std::string> items;
  std::vector<std::pair<std::string, float>> features;
};

// Decodes like EventDecoder::Decode, except that nlohmann keeps the last of duplicate keys
// (it cannot report them) and error messages are shorter.
class NlohmannDecoder {
 public:
  explicit NlohmannDecoder(DecoderOptions o) : o_(o) {}

  Status Decode(std::string_view s, OwnedEvent* e) {
    using nlohmann::json;
    *e = OwnedEvent();
    if (s.empty()) return Invalid("empty message");
    if (s.size() > o_.max_event_bytes) return Invalid("message too large");
    json j = json::parse(s.begin(), s.end(), nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return Invalid("invalid JSON");
    if (!j.is_object()) return Invalid("message is not a JSON object");
    bool has_type = false, has_value = false, has_ts = false, has_items = false;
    double value = 0;
    for (auto& [key, v] : j.items()) {
      if (key == "type") {
        if (!v.is_string()) return Invalid("field 'type' must be a string");
        if (!ParseEventType(v.get_ref<const std::string&>(), &e->type)) {
          return Invalid("unknown event type");
        }
        has_type = true;
      } else if (key == "user") {
        STREAMREC_RETURN_IF_ERROR(Id(v, "user", false, &e->user));
      } else if (key == "item") {
        STREAMREC_RETURN_IF_ERROR(Id(v, "item", false, &e->item));
      } else if (key == "session") {
        STREAMREC_RETURN_IF_ERROR(Id(v, "session", true, &e->session));
      } else if (key == "rec_id") {
        STREAMREC_RETURN_IF_ERROR(Id(v, "rec_id", true, &e->rec_id));
      } else if (key == "value") {
        if (!v.is_number()) return Invalid("field 'value' must be a number");
        value = v.get<double>();
        if (!std::isfinite(value)) return Invalid("field 'value' is not finite");
        has_value = true;
      } else if (key == "ts") {
        if (v.is_null()) continue;
        if (!v.is_number()) return Invalid("field 'ts' must be a number");
        e->ts_seconds = v.get<double>();
        if (!std::isfinite(e->ts_seconds)) return Invalid("field 'ts' is not finite");
        has_ts = true;
      } else if (key == "items") {
        if (!v.is_array()) return Invalid("field 'items' must be an array");
        if (v.size() > o_.max_items) return Invalid("too many items");
        if (v.empty()) return Invalid("field 'items' is empty");
        for (const json& x : v) {
          std::string id;
          STREAMREC_RETURN_IF_ERROR(Id(x, "items[]", false, &id));
          e->items.push_back(std::move(id));
        }
        has_items = true;
      } else if (key == "features") {
        if (v.is_null()) continue;
        if (!v.is_object()) return Invalid("field 'features' must be an object");
        if (v.size() > o_.max_features) return Invalid("too many features");
        for (auto& [name, fv] : v.items()) {
          if (name.empty() || name.size() > o_.max_feature_name_bytes) {
            return Invalid("bad feature name");
          }
          if (fv.is_number()) {
            const double d = fv.get<double>();
            if (!(std::fabs(d) < 0x1.ffffffp+127)) return Invalid("feature is not finite");
            e->features.emplace_back(name, static_cast<float>(d));
          } else if (fv.is_boolean()) {
            e->features.emplace_back(name, fv.get<bool>() ? 1.0f : 0.0f);
          } else if (fv.is_string()) {
            std::string composed = name + "=" + fv.get_ref<const std::string&>();
            if (composed.size() > o_.max_feature_name_bytes) return Invalid("bad feature name");
            e->features.emplace_back(std::move(composed), 1.0f);
          } else {
            return Invalid("feature must be a number, boolean or string");
          }
        }
      }
    }
    if (!has_type) return Invalid("missing field 'type'");
    const EventType t = e->type;
    const bool user_item = t == EventType::kRating || IsImplicit(t);
    if (t != EventType::kItem && e->user.empty()) return Invalid("missing field 'user'");
    if ((user_item || t == EventType::kItem) && e->item.empty()) {
      return Invalid("missing field 'item'");
    }
    if (t == EventType::kRating) {
      if (!has_value) return Invalid("missing field 'value'");
      if (!(value >= o_.rating_min && value <= o_.rating_max)) return Invalid("value out of range");
      e->value = static_cast<float>(value);
    }
    if (has_ts && !(e->ts_seconds >= 0 && e->ts_seconds <= o_.max_ts_seconds)) {
      return Invalid("field 'ts' out of range");
    }
    if (t == EventType::kImpression && !has_items) return Invalid("missing field 'items'");
    return Status::Ok();
  }

 private:
  static Status Invalid(const char* what) { return Status::InvalidArgument(what); }
  Status Id(const nlohmann::json& v, const char* name, bool nullable, std::string* out) const {
    if (nullable && v.is_null()) return Status::Ok();
    if (!v.is_string()) return Status::InvalidArgument(std::string(name) + " must be a string");
    const auto& s = v.get_ref<const std::string&>();
    if (s.empty() || s.size() > o_.max_id_bytes) {
      return Status::InvalidArgument(std::string(name) + " is empty or too long");
    }
    *out = s;
    return Status::Ok();
  }
  DecoderOptions o_;
};

// ---- The event mix ---------------------------------------------------------------------------

std::vector<std::string> EventMix(size_t n) {
  Rng rng(42);
  std::vector<std::string> out;
  std::string user, item, session, rec_id;
  std::vector<std::string> item_names;
  std::vector<std::string_view> item_views;
  std::vector<std::string> feature_names;
  std::vector<Feature> features;
  const auto id = [&](char prefix, uint32_t range) {
    char buf[16];
    const int len = std::snprintf(buf, sizeof buf, "%c%u", prefix, 1 + rng.Uniform(range));
    return std::string(buf, static_cast<size_t>(len));
  };
  const auto hex = [&] {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng.Next()));
    return std::string(buf);
  };
  for (size_t i = 0; i < n; ++i) {
    EventView e;
    user = id('u', 100000);
    item = id('m', 20000);
    session = id('s', 1000000);
    rec_id = hex();
    e.ts_seconds = 1700000000 + static_cast<double>(i);
    const uint32_t kind = rng.Uniform(100);
    if (kind < 35) {  // rating
      e.type = EventType::kRating;
      e.user = user;
      e.item = item;
      e.value = static_cast<float>(1 + rng.Uniform(9)) * 0.5f;
    } else if (kind < 70) {  // implicit with session and rec_id
      static constexpr EventType kImplicit[] = {EventType::kClick, EventType::kClick,
                                                EventType::kView, EventType::kAddToCart,
                                                EventType::kPurchase};
      e.type = kImplicit[rng.Uniform(5)];
      e.user = user;
      e.item = item;
      e.session = session;
      e.rec_id = rec_id;
    } else if (kind < 90) {  // impression of 10-20 items
      e.type = EventType::kImpression;
      e.user = user;
      e.rec_id = rec_id;
      item_names.clear();
      item_views.clear();
      const uint32_t k = 10 + rng.Uniform(11);
      for (uint32_t j = 0; j < k; ++j) item_names.push_back(id('m', 20000));
      for (const auto& s : item_names) item_views.push_back(s);
      e.items = item_views;
    } else {  // item with features
      e.type = EventType::kItem;
      e.item = item;
      feature_names = {"genre:" + id('g', 20), "genre:" + id('g', 20), "year", "lang=en", "price"};
      features = {{feature_names[0], 1.0f},
                  {feature_names[1], 1.0f},
                  {feature_names[2], static_cast<float>(1950 + rng.Uniform(75))},
                  {feature_names[3], 1.0f},
                  {feature_names[4], static_cast<float>(rng.Uniform(10000)) / 100.0f}};
      if (feature_names[0] == feature_names[1]) features.erase(features.begin() + 1);
      e.features = features;
    }
    std::string json;
    EncodeEvent(e, &json);
    out.push_back(std::move(json));
  }
  return out;
}

const std::vector<std::string>& Mix() {
  static const std::vector<std::string> mix = EventMix(10000);
  return mix;
}

int64_t MixBytes() {
  int64_t bytes = 0;
  for (const auto& s : Mix()) bytes += static_cast<int64_t>(s.size());
  return bytes;
}

// Decodes the whole mix per iteration; the decoder and its event type are the only variables.
template <typename Decoder, typename Event>
void BM_Decode(benchmark::State& state) {
  const auto& mix = Mix();
  Decoder decoder{DecoderOptions()};
  Event e;
  for (auto _ : state) {
    for (const auto& s : mix) {
      if (!decoder.Decode(s, &e).ok()) state.SkipWithError("decode failed");
      benchmark::DoNotOptimize(e);
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(mix.size()));
  state.SetBytesProcessed(state.iterations() * MixBytes());
}
BENCHMARK_TEMPLATE(BM_Decode, EventDecoder, EventView)->Name("BM_DecodeSimdjson");
BENCHMARK_TEMPLATE(BM_Decode, NlohmannDecoder, OwnedEvent)->Name("BM_DecodeNlohmann");

void BM_Encode(benchmark::State& state) {
  const auto& mix = Mix();
  // Owned copies of the decoded events, and views over them.
  NlohmannDecoder decoder{DecoderOptions()};
  std::vector<OwnedEvent> owned(mix.size());
  std::vector<std::vector<std::string_view>> items(mix.size());
  std::vector<std::vector<Feature>> features(mix.size());
  std::vector<EventView> events(mix.size());
  for (size_t i = 0; i < mix.size(); ++i) {
    if (!decoder.Decode(mix[i], &owned[i]).ok()) state.SkipWithError("decode failed");
    const OwnedEvent& o = owned[i];
    for (const auto& s : o.items) items[i].push_back(s);
    for (const auto& [name, value] : o.features) features[i].push_back({name, value});
    events[i] = {o.type,  o.user,       o.item,   o.session,  o.rec_id,
                 o.value, o.ts_seconds, items[i], features[i]};
  }
  std::string out;
  for (auto _ : state) {
    for (const EventView& e : events) {
      out.clear();
      EncodeEvent(e, &out);
      benchmark::DoNotOptimize(out.data());
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(events.size()));
}
BENCHMARK(BM_Encode);

}  // namespace
}  // namespace streamrec::stream
