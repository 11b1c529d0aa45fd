// The served log's codec: what DaemonService writes, the reward join reads back exactly; any
// other input is an InvalidArgument naming the problem, never a crash.
#include "stream/served_codec.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/rng.h"

namespace streamrec::stream {

TEST_CASE("Served codec: encode -> decode round-trips every field", "[served_codec]") {
  const std::vector<ServedItem> items = {
      {"m7", 0, 1.93f, "bpr", -1.0},
      {"it\"em\\2", 1, -0.5f, "session", -1.0},
      {"c9", 2, 0.41f, "explore:linucb", 0.8325},
  };
  ServedView v;
  v.rec_id = "r00ff";
  v.user = "u\n42";
  v.session = "s1";
  v.ts_seconds = 1732960000.125;
  v.items = items;
  std::string json;
  EncodeServed(v, &json);
  const nlohmann::json j = nlohmann::json::parse(json);  // valid JSON for any other reader
  CHECK(j["type"] == "served");
  CHECK(!j["items"][0].contains("propensity"));
  ServedDecoder decoder;
  ServedView d;
  REQUIRE(decoder.Decode(json, &d).ok());
  CHECK(d.rec_id == v.rec_id);
  CHECK(d.user == v.user);
  CHECK(d.session == v.session);
  CHECK(d.ts_seconds == v.ts_seconds);
  REQUIRE(d.items.size() == 3);
  for (size_t i = 0; i < 3; ++i) {
    CHECK(d.items[i].item == items[i].item);
    CHECK(d.items[i].pos == items[i].pos);
    CHECK(d.items[i].score == items[i].score);
    CHECK(d.items[i].source == items[i].source);
    CHECK(d.items[i].propensity == items[i].propensity);
  }
  // Anonymous, no session, no items.
  v.user = "";
  v.session = "";
  v.items = {};
  json.clear();
  EncodeServed(v, &json);
  REQUIRE(decoder.Decode(json, &d).ok());
  CHECK(d.user.empty());
  CHECK(d.session.empty());
  CHECK(d.items.empty());
}

TEST_CASE("Served codec: malformed records are refused with a reason", "[served_codec]") {
  ServedDecoder decoder;
  ServedView d;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "not JSON"},
      {"[1]", "object"},
      {R"({"rec_id":"r","ts":1})", "items"},
      {R"({"rec_id":"r","items":[]})", "ts"},
      {R"({"ts":1,"items":[]})", "rec_id"},
      {R"({"rec_id":"r","ts":"x","items":[]})", "ts"},
      {R"({"rec_id":"r","ts":1,"items":[{"pos":1}]})", "no item"},
      {R"({"rec_id":"r","ts":1,"items":[{"item":"a","propensity":2}]})", "propensity"},
      {R"({"rec_id":"r","ts":1,"items":[{"item":"a","pos":-1}]})", "pos"},
      {R"({"rec_id":"r","ts":1,"items":[{"item":"a","propensity":0}]})", "propensity"},
      {R"({"rec_id":"r","ts":1e300,"items":[]})", "ts"},
      {R"({"rec_id":"r","ts":-5,"items":[]})", "ts"},
      {R"({"rec_id":"r","ts":1,"items":[3]})", "not an object"},
      {R"({"type":"click","rec_id":"r","ts":1,"items":[]})", "type"},
      {R"({"rec_id":"r","ts":1,"items":[]} x)", "not a JSON object"},
  };
  for (const auto& [text, reason] : cases) {
    INFO(text);
    const Status st = decoder.Decode(text, &d);
    REQUIRE_FALSE(st.ok());
    INFO(st.message());
    CHECK(st.message().find(reason) != std::string::npos);
  }
  // Random bytes and truncations of a good record: an error or a record, never a crash.
  std::string good;
  const std::vector<ServedItem> items = {{"m1", 0, 1.0f, "explore:thompson", 0.5}};
  ServedView v;
  v.rec_id = "r1";
  v.user = "u1";
  v.ts_seconds = 1.0;
  v.items = items;
  EncodeServed(v, &good);
  Rng rng(3);
  for (int trial = 0; trial < 2000; ++trial) {
    std::string s = good.substr(0, rng.Uniform(static_cast<uint32_t>(good.size()) + 1));
    if (trial % 2 == 1 && !s.empty()) s[rng.Uniform(static_cast<uint32_t>(s.size()))] ^= 0x5a;
    (void)decoder.Decode(s, &d);
  }
}

// Debian's simdjson 3.0.1 read a number with a zero integer part and more than 19 significant
// digits wrongly, without an error: a propensity of 0.50000000000000000000 became 0.3155, still
// inside (0, 1] (simdjson issue #2093; found by fuzz/event_decoder_fuzz in the event codec).
TEST_CASE("Served codec: numbers like 0.50000000000000000000 read exactly (simdjson 3.0.1 bug)",
          "[served_codec]") {
  ServedDecoder decoder;
  ServedView d;
  REQUIRE(decoder
              .Decode(R"({"rec_id":"r","ts":0.17329600000000000000e10,"items":[{"item":"m",)"
                      R"("pos":0.10000000000000000000000e1,"score":0.95000000000000000000,)"
                      R"("propensity":0.50000000000000000000}]})",
                      &d)
              .ok());
  CHECK(d.ts_seconds == 1732960000.0);
  REQUIRE(d.items.size() == 1);
  CHECK(d.items[0].pos == 1);
  CHECK(d.items[0].score == 0.95f);
  CHECK(d.items[0].propensity == 0.5);
}

}  // namespace streamrec::stream
