#include "stream/event_codec.h"

#include <catch2/catch.hpp>

#include <cfloat>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/rng.h"

namespace streamrec::stream {
namespace {

// Field-by-field equality of two events (views compared by content).
bool SameEvent(const EventView& a, const EventView& b) {
  if (a.type != b.type || a.user != b.user || a.item != b.item || a.session != b.session ||
      a.rec_id != b.rec_id || a.value != b.value || a.ts_seconds != b.ts_seconds ||
      a.items.size() != b.items.size() || a.features.size() != b.features.size()) {
    return false;
  }
  for (size_t i = 0; i < a.items.size(); ++i) {
    if (a.items[i] != b.items[i]) return false;
  }
  for (size_t i = 0; i < a.features.size(); ++i) {
    if (a.features[i].name != b.features[i].name || a.features[i].value != b.features[i].value) {
      return false;
    }
  }
  return true;
}

std::string Encode(const EventView& e) {
  std::string s;
  EncodeEvent(e, &s);
  return s;
}

TEST_CASE("codec: Decode reads a rating with all fields", "[codec]") {
  EventDecoder d;
  EventView e;
  REQUIRE(d.Decode(R"({"type":"rating","user":"u42","item":"m1193","value":4.5,"ts":978300760,)"
                   R"("session":"s1","rec_id":"r9"})",
                   &e)
              .ok());
  CHECK(e.type == EventType::kRating);
  CHECK(e.user == "u42");
  CHECK(e.item == "m1193");
  CHECK(e.value == 4.5f);
  CHECK(e.ts_seconds == 978300760.0);
  CHECK(e.session == "s1");
  CHECK(e.rec_id == "r9");
  CHECK(e.items.empty());
  CHECK(e.features.empty());
}

TEST_CASE("codec: Decode reads every implicit type with all fields, in any field order",
          "[codec]") {
  EventDecoder d;
  const std::pair<const char*, EventType> kTypes[] = {{"click", EventType::kClick},
                                                      {"view", EventType::kView},
                                                      {"purchase", EventType::kPurchase},
                                                      {"add_to_cart", EventType::kAddToCart}};
  for (const auto& [name, type] : kTypes) {
    const std::string json =
        std::string(R"({"rec_id":"r-1","session":"s1","ts":1.5,"item":"m7",)") +
        R"("user":"u42","type":")" + name + "\"}";
    EventView e;
    REQUIRE(d.Decode(json, &e).ok());
    CHECK(e.type == type);
    CHECK(e.user == "u42");
    CHECK(e.item == "m7");
    CHECK(e.ts_seconds == 1.5);
    CHECK(e.session == "s1");
    CHECK(e.rec_id == "r-1");
    CHECK(e.value == 0.0f);
  }
}

TEST_CASE("codec: Decode reads an impression", "[codec]") {
  EventDecoder d;
  EventView e;
  REQUIRE(d.Decode(R"({"type":"impression","user":"u42","items":["m1","m2","m1"],"ts":10,)"
                   R"("rec_id":"abc","session":"s2"})",
                   &e)
              .ok());
  CHECK(e.type == EventType::kImpression);
  CHECK(e.user == "u42");
  CHECK(e.item.empty());
  REQUIRE(e.items.size() == 3);
  CHECK(e.items[0] == "m1");
  CHECK(e.items[1] == "m2");
  CHECK(e.items[2] == "m1");
  CHECK(e.rec_id == "abc");
  CHECK(e.session == "s2");
  CHECK(e.ts_seconds == 10.0);
}

TEST_CASE("codec: Decode reads an item event with string and boolean features", "[codec]") {
  EventDecoder d;
  EventView e;
  REQUIRE(d.Decode(R"({"type":"item","item":"m9","features":{"genre:Drama":1,"year":1975,)"
                   R"("lang":"en","new":true,"old":false,"score":-2.5e-3},"ts":5})",
                   &e)
              .ok());
  CHECK(e.type == EventType::kItem);
  CHECK(e.item == "m9");
  CHECK(e.user.empty());
  CHECK(e.ts_seconds == 5.0);
  REQUIRE(e.features.size() == 6);
  CHECK(e.features[0].name == "genre:Drama");
  CHECK(e.features[0].value == 1.0f);
  CHECK(e.features[1].name == "year");
  CHECK(e.features[1].value == 1975.0f);
  CHECK(e.features[2].name == "lang=en");
  CHECK(e.features[2].value == 1.0f);
  CHECK(e.features[3].name == "new");
  CHECK(e.features[3].value == 1.0f);
  CHECK(e.features[4].name == "old");
  CHECK(e.features[4].value == 0.0f);
  CHECK(e.features[5].name == "score");
  CHECK(e.features[5].value == -2.5e-3f);
}

TEST_CASE("codec: Decode reads forget_user, ts is optional", "[codec]") {
  EventDecoder d;
  EventView e;
  REQUIRE(d.Decode(R"({"type":"forget_user","user":"u42"})", &e).ok());
  CHECK(e.type == EventType::kForgetUser);
  CHECK(e.user == "u42");
  CHECK(e.ts_seconds == 0.0);
}

TEST_CASE("codec: Decode ignores unknown fields, nulls in optional fields and inapplicable fields",
          "[codec]") {
  EventDecoder d;
  EventView e;
  REQUIRE(d.Decode(R"( {"v":2,"type":"click","meta":{"a":[1,{"b":null}],"c":"\u00e9"},)"
                   R"("user":"u\"1\\","item":"m7","session":null,"rec_id":null,"ts":null,)"
                   R"("value":3,"features":{"x":1},"items":["a"]} )",
                   &e)
              .ok());
  CHECK(e.type == EventType::kClick);
  CHECK(e.user == "u\"1\\");
  CHECK(e.session.empty());
  CHECK(e.rec_id.empty());
  CHECK(e.ts_seconds == 0.0);
  CHECK(e.value == 0.0f);
  CHECK(e.items.empty());
  CHECK(e.features.empty());
  // forget_user drops item, session; item drops user.
  REQUIRE(d.Decode(R"({"type":"item","item":"m1","user":"u1","session":"s"})", &e).ok());
  CHECK(e.user.empty());
  CHECK(e.session.empty());
}

TEST_CASE("codec: Views stay valid until the next Decode, buffers are reused", "[codec]") {
  EventDecoder d;
  EventView a;
  REQUIRE(d.Decode(R"({"type":"item","item":"m1","features":{"g":"x","h":"y"}})", &a).ok());
  const std::string first_name(a.features[0].name);
  CHECK(first_name == "g=x");
  CHECK(a.features[1].name == "h=y");
  EventView b;
  REQUIRE(d.Decode(R"({"type":"item","item":"m2","features":{"k":"zz"}})", &b).ok());
  CHECK(b.item == "m2");
  REQUIRE(b.features.size() == 1);
  CHECK(b.features[0].name == "k=zz");
}

struct BadCase {
  std::string json;
  std::string reason;  // expected substring of the Status message
};

std::string Big(char c, size_t n) { return std::string(n, c); }

std::vector<BadCase> BadCases() {
  const std::string kRating = R"({"type":"rating","user":"u1","item":"m1","value":4})";
  std::string many_items = R"({"type":"impression","user":"u1","items":[)";
  for (int i = 0; i < 1001; ++i) many_items += (i ? ",\"m" : "\"m") + std::to_string(i) + "\"";
  many_items += "]}";
  std::string many_features = R"({"type":"item","item":"m1","features":{)";
  for (int i = 0; i < 257; ++i) many_features += (i ? ",\"f" : "\"f") + std::to_string(i) + "\":1";
  many_features += "}}";
  const std::string deep = std::string(R"({"type":"click","user":"u","item":"m","x":)") +
                           Big('[', 30000) + Big(']', 30000) + "}";
  const std::string deep_features = R"({"type":"item","item":"m","features":{"a":{"b":{"c":1}}}})";
  return {
      // Empty and non-object messages.
      {"", "empty message"},
      {" \n\t\r ", "empty message"},
      {"[1,2]", "message is not a JSON object"},
      {"42", "message is not a JSON object"},
      {"\"click\"", "message is not a JSON object"},
      {"null", "message is not a JSON object"},
      {"true", "message is not a JSON object"},
      // Truncated or malformed JSON.
      {R"({"type":"rating","user":"u1","item":"m1","value":4.5)", "invalid JSON"},
      {R"({"type":"rating","user":"u1","item":"m1","value":)", "invalid JSON"},
      {R"({"type":"rating","user":"u1","item":)", "invalid JSON"},
      {R"({"type":"rating","user":"u1)", "invalid JSON"},
      {R"({"type":"rating")", "invalid JSON"},
      {"{", "invalid JSON"},
      {"}", "not a JSON object"},
      {R"({"type" "click"})", "invalid JSON"},
      {R"({"type":"click",,"user":"u"})", "invalid JSON"},
      {R"({"type":"click","user":"u","item":"m",})", "invalid JSON"},
      {R"({type:"click"})", "invalid JSON"},
      {R"({'type':'click'})", "invalid JSON"},
      {R"({"type":"click","user":"u\q","item":"m"})", "invalid JSON in field 'user'"},
      {R"({"type":"click","user":"\ud800","item":"m"})", "invalid JSON in field 'user'"},
      {"{\"type\":\"click\",\"user\":\"a\x01\",\"item\":\"m\"}", "invalid JSON"},
      {std::string(R"({"type":"click")") + '\0' + R"(,"user":"u","item":"m"})", "invalid JSON"},
      {R"({"type":"click","user":"u","item":"m","x":[1,2,tru]})", "invalid JSON in field 'x'"},
      {R"({"type":"click","user":"u","item":"m","x":[1,]})", "invalid JSON in field 'x'"},
      {R"({"type":"click","user":"u","item":"m","x":nul})", "invalid JSON in field 'x'"},
      {R"({"type":"click","user":"u","item":"m","x":{"a" 1}})", "invalid JSON in field 'x'"},
      {R"({"type":"click","user":"u","item":"m","x":"\x"})", "invalid JSON in field 'x'"},
      {R"({"type":"rating","user":"u","item":"m","value":01})", "invalid JSON in field 'value'"},
      {R"({"type":"rating","user":"u","item":"m","value":1.})", "invalid JSON in field 'value'"},
      {R"({"type":"rating","user":"u","item":"m","value":+1})", "invalid JSON"},
      {R"({"type":"rating","user":"u","item":"m","value":.5})", "invalid JSON"},
      {R"({"type":"rating","user":"u","item":"m","value":NaN})", "invalid JSON"},
      {R"({"type":"rating","user":"u","item":"m","value":Infinity})", "invalid JSON"},
      // Trailing garbage.
      {kRating + " x", "invalid JSON"},
      {kRating + "}", "trailing content"},
      {kRating + kRating, "trailing content"},
      {kRating + " 1", "invalid JSON"},
      {kRating + ",", "invalid JSON"},
      // Wrong types, for every field.
      {R"({"type":1,"user":"u","item":"m"})", "field 'type' must be a string, not number"},
      {R"({"type":null,"user":"u","item":"m"})", "field 'type' must be a string, not null"},
      {R"({"type":"click","user":42,"item":"m"})", "field 'user' must be a string, not number"},
      {R"({"type":"click","user":null,"item":"m"})", "field 'user' must be a string, not null"},
      {R"({"type":"click","user":"u","item":true})", "field 'item' must be a string, not boolean"},
      {R"({"type":"click","user":"u","item":["m"]})", "field 'item' must be a string, not array"},
      {R"({"type":"rating","user":"u","item":"m","value":"4.5"})",
       "field 'value' must be a number, not string"},
      {R"({"type":"rating","user":"u","item":"m","value":null})",
       "field 'value' must be a number, not null"},
      {R"({"type":"click","user":"u","item":"m","ts":"978300760"})",
       "field 'ts' must be a number, not string"},
      {R"({"type":"click","user":"u","item":"m","session":1})",
       "field 'session' must be a string, not number"},
      {R"({"type":"click","user":"u","item":"m","rec_id":{}})",
       "field 'rec_id' must be a string, not object"},
      {R"({"type":"impression","user":"u","items":"m1"})",
       "field 'items' must be an array of strings, not string"},
      {R"({"type":"impression","user":"u","items":{"m1":1}})",
       "field 'items' must be an array of strings, not object"},
      {R"({"type":"item","item":"m","features":[1]})", "field 'features' must be an object"},
      {R"({"type":"item","item":"m","features":"genre"})", "field 'features' must be an object"},
      {R"({"type":"item","item":"m","features":{"a":null}})",
       "feature 'a' must be a number, boolean or string, not null"},
      // Empty ids.
      {R"({"type":"click","user":"","item":"m"})", "field 'user' is empty"},
      {R"({"type":"click","user":"u","item":""})", "field 'item' is empty"},
      {R"({"type":"click","user":"u","item":"m","session":""})", "field 'session' is empty"},
      {R"({"type":"item","item":"m","features":{"":1}})", "empty name"},
      // NaN / Inf / huge numbers / ranges.
      {R"({"type":"rating","user":"u","item":"m","value":1e999})", "field 'value' is not finite"},
      {R"({"type":"rating","user":"u","item":"m","value":-1e999})", "field 'value' is not finite"},
      {R"({"type":"click","user":"u","item":"m","ts":1e999})", "field 'ts' is not finite"},
      {R"({"type":"item","item":"m","features":{"year":1e999}})", "feature 'year' is not finite"},
      {R"({"type":"item","item":"m","features":{"year":1e300}})",
       "feature 'year' is not finite as a float"},
      {R"({"type":"rating","user":"u","item":"m","value":1e300})",
       "field 'value' out of range [0, 10]"},
      {R"({"type":"rating","user":"u","item":"m","value":123456789012345678901234567890})",
       "field 'value' out of range [0, 10]"},
      {R"({"type":"rating","user":"u","item":"m","value":-1})", "field 'value' out of range"},
      {R"({"type":"rating","user":"u","item":"m","value":-0.001})", "field 'value' out of range"},
      {R"({"type":"rating","user":"u","item":"m","value":10.5})", "field 'value' out of range"},
      {R"({"type":"click","user":"u","item":"m","ts":-5})", "field 'ts' out of range"},
      {R"({"type":"click","user":"u","item":"m","ts":1e300})", "field 'ts' out of range"},
      {R"({"type":"click","user":"u","item":"m","ts":978300760000})", "field 'ts' out of range"},
      // Unknown type.
      {R"({"type":"foo","user":"u","item":"m"})", "unknown event type 'foo'"},
      {R"({"type":"","user":"u","item":"m"})", "unknown event type ''"},
      {R"({"type":"Click","user":"u","item":"m"})", "unknown event type 'Click'"},
      {R"({"type":"click\n","user":"u","item":"m"})", "unknown event type 'click?'"},
      // Missing fields, per type.
      {R"({"user":"u","item":"m"})", "missing field 'type'"},
      {R"({"type":"rating","item":"m","value":4})", "missing field 'user'"},
      {R"({"type":"rating","user":"u","value":4})", "missing field 'item'"},
      {R"({"type":"rating","user":"u","item":"m"})", "missing field 'value'"},
      {R"({"type":"click","item":"m"})", "missing field 'user'"},
      {R"({"type":"view","user":"u"})", "missing field 'item'"},
      {R"({"type":"purchase","user":"u","session":"s"})", "missing field 'item'"},
      {R"({"type":"add_to_cart","item":"m"})", "missing field 'user'"},
      {R"({"type":"impression","items":["m"]})", "missing field 'user'"},
      {R"({"type":"impression","user":"u"})", "missing field 'items'"},
      {R"({"type":"item","features":{}})", "missing field 'item'"},
      {R"({"type":"forget_user","item":"m"})", "missing field 'user'"},
      {"{}", "missing field 'type'"},
      // Sizes.
      {std::string(R"({"type":"click","user":")") + Big('a', 1 << 20) + R"(","item":"m"})",
       "message larger than 65536 bytes"},
      {std::string(R"({"type":"click","user":")") + Big('a', 257) + R"(","item":"m"})",
       "field 'user' longer than 256 bytes"},
      {std::string(R"({"type":"click","user":"u","item":")") + Big('a', 300) + R"("})",
       "field 'item' longer than 256 bytes"},
      {std::string(R"({"type":"impression","user":"u","items":["m",")") + Big('a', 300) + R"("]})",
       "field 'items[1]' longer than 256 bytes"},
      {many_items, "field 'items' has more than 1000 elements"},
      {many_features, "field 'features' has more than 256 entries"},
      {std::string(R"({"type":"item","item":"m","features":{")") + Big('k', 300) + R"(":1}})",
       "name longer than 256 bytes"},
      {std::string(R"({"type":"item","item":"m","features":{"k":")") + Big('v', 255) + R"("}})",
       "name longer than 256 bytes"},
      // Invalid UTF-8 anywhere.
      {"{\"type\":\"click\",\"user\":\"\xff\",\"item\":\"m\"}", "invalid UTF-8"},
      {"{\"type\":\"click\",\"user\":\"\xc3\x28\",\"item\":\"m\"}", "invalid UTF-8"},
      {"{\"type\":\"click\",\"user\":\"\xc0\xaf\",\"item\":\"m\"}", "invalid UTF-8"},
      {"{\"type\":\"click\",\"user\":\"\xed\xa0\x80\",\"item\":\"m\"}", "invalid UTF-8"},
      {"{\"type\":\"click\",\"user\":\"u\",\"item\":\"m\xe2\x82\"}", "invalid UTF-8"},
      {"{\"type\":\"click\",\"user\":\"u\",\"item\":\"m\",\"x\xfe\":1}", "invalid UTF-8"},
      // Impressions.
      {R"({"type":"impression","user":"u","items":["m1",2]})",
       "field 'items[1]' must be a string, not number"},
      {R"({"type":"impression","user":"u","items":["m1",["m2"]]})",
       "field 'items[1]' must be a string, not array"},
      {R"({"type":"impression","user":"u","items":[]})", "field 'items' is empty"},
      {R"({"type":"impression","user":"u","items":["m",""]})", "field 'items[1]' is empty"},
      // Nesting.
      {deep_features, "feature 'a' must be a number, boolean or string, not object"},
      {R"({"type":"item","item":"m","features":{"a":[1]}})",
       "feature 'a' must be a number, boolean or string, not array"},
      {deep, "field 'x' nested deeper than 16 levels"},
      // Duplicates.
      {R"({"type":"click","user":"u","user":"v","item":"m"})", "duplicate field 'user'"},
      {R"({"type":"click","type":"view","user":"u","item":"m"})", "duplicate field 'type'"},
      {R"({"type":"item","item":"m","features":{"a":1,"a":2}})", "duplicate feature 'a'"},
      {R"({"type":"item","item":"m","features":{"g":"x","g=x":1}})", "duplicate feature 'g=x'"},
      // A key given twice with values of different kinds (the names "a" and "a=" differ): other
      // parsers keep one of the two. Found by fuzz/event_decoder_fuzz.
      {R"({"type":"item","item":"m","features":{"a":5,"a":""}})", "duplicate feature 'a'"},
      {R"({"type":"item","item":"m","features":{"a":"x","b":true,"a":"y"}})",
       "duplicate feature 'a'"},
  };
}

TEST_CASE("codec: Decode rejects bad input with a reason naming the problem", "[codec]") {
  EventDecoder d;
  for (const BadCase& c : BadCases()) {
    INFO("input: " << c.json.substr(0, 200));
    EventView e;
    e.user = "stale";
    const Status st = d.Decode(c.json, &e);
    REQUIRE_FALSE(st.ok());
    CHECK(st.code() == Status::Code::kInvalidArgument);
    CHECK_THAT(st.message(), Catch::Contains(c.reason));
    CHECK(e.user.empty());
    // The decoder still works after a failure.
    REQUIRE(d.Decode(R"({"type":"click","user":"u","item":"m"})", &e).ok());
  }
}

TEST_CASE("codec: Duplicate-feature check also works past the quadratic threshold", "[codec]") {
  EventDecoder d;
  std::string json = R"({"type":"item","item":"m","features":{)";
  for (int i = 0; i < 40; ++i) json += "\"f" + std::to_string(i) + "\":1,";
  json += R"("f7":2}})";
  EventView e;
  const Status st = d.Decode(json, &e);
  REQUIRE_FALSE(st.ok());
  CHECK_THAT(st.message(), Catch::Contains("duplicate feature 'f7'"));
  json = R"({"type":"item","item":"m","features":{)";
  for (int i = 0; i < 40; ++i) json += "\"f" + std::to_string(i) + "\":1,";
  json += R"("f7":"x"}})";  // the key again, the name "f7=x" not
  const Status key_twice = d.Decode(json, &e);
  REQUIRE_FALSE(key_twice.ok());
  CHECK_THAT(key_twice.message(), Catch::Contains("duplicate feature 'f7'"));
  json = R"({"type":"item","item":"m","features":{)";
  for (int i = 0; i < 40; ++i) json += (i ? ",\"f" : "\"f") + std::to_string(i) + "\":1";
  json += "}}";
  REQUIRE(d.Decode(json, &e).ok());
  CHECK(e.features.size() == 40);
}

// Debian's simdjson 3.0.1 read a number with a zero integer part and more than 19 significant
// digits wrongly, without an error ("0.95000000000000000000" as 0.0277; simdjson issue #2093).
// Found by fuzz/event_decoder_fuzz; stream/json_number.h reads such numbers again.
TEST_CASE("codec: numbers like 0.95000000000000000000 read exactly (simdjson 3.0.1 bug)",
          "[codec]") {
  EventDecoder d;
  EventView e;
  REQUIRE(d.Decode(R"({"type":"rating","user":"u","item":"m","value":0.95000000000000000000,)"
                   R"("ts":0.17000000000000000000e10})",
                   &e)
              .ok());
  CHECK(e.value == 0.95f);
  CHECK(e.ts_seconds == 1700000000.0);
  REQUIRE(
      d.Decode(R"({"type":"item","item":"m","features":{"w":-0.44444444444444444441}})", &e).ok());
  REQUIRE(e.features.size() == 1);
  CHECK(e.features[0].value == -0.44444444444444444441f);
  // Beyond double's range: rejected, as the short spelling is; below it: zero.
  Status st =
      d.Decode(R"({"type":"rating","user":"u","item":"m","value":0.33333333333333333333e400})", &e);
  REQUIRE_FALSE(st.ok());
  CHECK_THAT(st.message(), Catch::Contains("field 'value' is not finite"));
  st = d.Decode(R"({"type":"click","user":"u","item":"m","x":-0.33333333333333333333333e338})", &e);
  CHECK_FALSE(st.ok());
  REQUIRE(
      d.Decode(R"({"type":"rating","user":"u","item":"m","value":0.33333333333333333333e-400})", &e)
          .ok());
  CHECK(e.value == 0.0f);
}

TEST_CASE("codec: EncodeEvent writes canonical, escaped JSON", "[codec]") {
  EventView e;
  e.type = EventType::kClick;
  e.user = "u\"1\\";
  e.item = std::string_view("m\n\x01\x7f\xc3\xa9", 6);
  e.ts_seconds = 978300760;
  e.session = "s1";
  CHECK(Encode(e) ==
        "{\"type\":\"click\",\"user\":\"u\\\"1\\\\\",\"item\":\"m\\n\\u0001\x7f\xc3\xa9\","
        "\"ts\":978300760,\"session\":\"s1\"}");
  EventView r;
  r.type = EventType::kRating;
  r.user = "u";
  r.item = "m";
  r.value = 4.5f;
  r.rec_id = "x";
  CHECK(Encode(r) == R"({"type":"rating","user":"u","item":"m","value":4.5,"rec_id":"x"})");
  EventView i;
  i.type = EventType::kItem;
  i.item = "m9";
  const Feature f[] = {{"genre:Drama", 1.0f}, {"year", 1975.0f}, {"x", 0.1f}};
  i.features = f;
  CHECK(Encode(i) ==
        R"({"type":"item","item":"m9","features":{"genre:Drama":1,"year":1975,"x":0.1}})");
  // Integral numbers print as integers, not in the shorter exponent form.
  r.ts_seconds = 1700000000;
  r.value = 5;
  CHECK_THAT(Encode(r), Catch::Contains(R"("value":5,"ts":1700000000,)"));
  // Fields that do not apply to the type are not written.
  i.user = "u";
  i.value = 3;
  CHECK(Encode(i).find("user") == std::string::npos);
  CHECK(Encode(i).find("value") == std::string::npos);
}

// ---- Round trip over random events ----------------------------------------------------------

// A random id: ASCII, quotes, backslashes, control characters, DEL and 2-4 byte UTF-8.
// Ids may not hold control characters (Decode refuses them); feature names may.
std::string RandomId(Rng& rng, bool controls = false) {
  std::string s;
  const int n = 1 + static_cast<int>(rng.Uniform(24));
  for (int i = 0; i < n; ++i) {
    switch (rng.Uniform(8)) {
      case 0:
        if (controls) {
          s.push_back(static_cast<char>(rng.Uniform(0x20)));  // control, NUL included
        } else {
          s.push_back(static_cast<char>(' ' + rng.Uniform(0x5F)));  // printable ASCII
        }
        break;
      case 1:
        s.push_back(controls ? "\"\\/\x7f"[rng.Uniform(4)] : "\"\\/"[rng.Uniform(3)]);
        break;
      case 2: {  // 2-byte
        const uint32_t cp = 0x80 + rng.Uniform(0x800 - 0x80);
        s.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        break;
      }
      case 3: {  // 3-byte, surrogates excluded
        uint32_t cp = 0x800 + rng.Uniform(0x10000 - 0x800);
        if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0x20AC;
        s.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        break;
      }
      case 4: {  // 4-byte
        const uint32_t cp = 0x10000 + rng.Uniform(0x110000 - 0x10000);
        s.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        s.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        break;
      }
      default:
        s.push_back(static_cast<char>(0x20 + rng.Uniform(0x7f - 0x20)));
    }
  }
  return s;
}

// Any finite float, drawn over bit patterns so every magnitude (subnormals, FLT_MAX) shows up.
float RandomFloat(Rng& rng) {
  for (;;) {
    const auto bits = static_cast<uint32_t>(rng.Next());
    float f;
    std::memcpy(&f, &bits, sizeof f);
    if (std::isfinite(f)) return f;
  }
}

// Owns the strings of a random event and exposes it as an EventView.
struct OwnedEvent {
  std::vector<std::string> strings;  // user, item, session, rec_id
  std::vector<std::string> item_names;
  std::vector<std::string_view> item_views;
  std::vector<std::string> feature_names;
  std::vector<Feature> features;
  EventView view;
};

void RandomEvent(Rng& rng, OwnedEvent* o) {
  *o = OwnedEvent();
  EventView& e = o->view;
  e.type = static_cast<EventType>(rng.Uniform(kNumEventTypes));
  o->strings = {RandomId(rng), RandomId(rng), RandomId(rng), RandomId(rng)};
  const bool user_item = e.type == EventType::kRating || IsImplicit(e.type);
  if (e.type != EventType::kItem) e.user = o->strings[0];
  if (user_item || e.type == EventType::kItem) e.item = o->strings[1];
  if (user_item || e.type == EventType::kImpression) {
    if (rng.Uniform(2)) e.session = o->strings[2];
    if (rng.Uniform(2)) e.rec_id = o->strings[3];
  }
  if (e.type == EventType::kRating) {
    switch (rng.Uniform(6)) {
      case 0:
        e.value = static_cast<float>(rng.Uniform(11)) * 0.5f;
        break;
      case 1:
        e.value = 10.0f;
        break;
      case 2:
        e.value = std::nextafter(10.0f, 0.0f);
        break;
      case 3:
        e.value =
            std::ldexp(rng.UniformFloat(), -126 - static_cast<int>(rng.Uniform(24)));  // subnormal
        break;
      default:
        e.value = rng.UniformFloat() * 10.0f;
    }
  }
  switch (rng.Uniform(5)) {
    case 0:
      e.ts_seconds = 0;
      break;
    case 1:
      e.ts_seconds = static_cast<double>(rng.Uniform(2000000000u) + 1);
      break;
    case 2:
      e.ts_seconds = 4102444800.0;
      break;
    case 3:
      e.ts_seconds = 5e-324;
      break;
    default:
      e.ts_seconds = rng.UniformDouble() * 4102444800.0;
  }
  if (e.type == EventType::kImpression) {
    const int n = 1 + static_cast<int>(rng.Uniform(20));
    for (int i = 0; i < n; ++i) o->item_names.push_back(RandomId(rng));
    for (const auto& s : o->item_names) o->item_views.push_back(s);
    e.items = o->item_views;
  }
  if (e.type == EventType::kItem) {
    const int n = static_cast<int>(rng.Uniform(30));
    for (int i = 0; i < n; ++i)
      o->feature_names.push_back(RandomId(rng, /*controls=*/true) + "#" + std::to_string(i));
    for (const auto& s : o->feature_names) {
      o->features.push_back({s, rng.Uniform(3) ? RandomFloat(rng) : rng.UniformFloat()});
    }
    e.features = o->features;
  }
}

TEST_CASE("codec: Decode(Encode(e)) == e over random events", "[codec]") {
  Rng rng(20240601);
  EventDecoder d;
  OwnedEvent o;
  std::string json;
  for (int i = 0; i < 20000; ++i) {
    RandomEvent(rng, &o);
    json.clear();
    EncodeEvent(o.view, &json);
    INFO("json: " << json);
    EventView back;
    const Status st = d.Decode(json, &back);
    REQUIRE(st.ok());
    REQUIRE(SameEvent(back, o.view));
    REQUIRE(nlohmann::json::accept(json));
    // Encoding is canonical: re-encoding the decoded view gives the same bytes.
    std::string again;
    EncodeEvent(back, &again);
    REQUIRE(again == json);
  }
}

// ---- Robustness --------------------------------------------------------------------------

std::vector<std::string> ValidSamples() {
  return {
      R"({"type":"rating","user":"u42","item":"m1193","value":4.5,"ts":978300760})",
      R"({"type":"click","user":"u42","item":"m7","ts":978300761,"session":"s1","rec_id":"r1"})",
      R"({"type":"impression","user":"u42","items":["m1","m2"],"ts":978300762,"rec_id":"r1"})",
      R"({"type":"item","item":"m9","features":{"genre:Drama":1,"year":1975,"l":"en"},"ts":1})",
      R"({"type":"forget_user","user":"u42","ts":978300763})",
      R"({"type":"view","user":"u\"\\\u00e9\ud83d\ude00","item":"m7","x":[1,{"y":null}]})",
  };
}

// Checks the decoder's contract on arbitrary bytes: a Status, no crash, and anything accepted
// is valid JSON and re-encodes to an event that decodes to the same thing. Returns whether
// `input` was accepted.
bool CheckArbitrary(EventDecoder& d, EventDecoder& check, const std::string& input) {
  EventView e;
  const Status st = d.Decode(input, &e);
  if (!st.ok()) {
    REQUIRE(st.code() == Status::Code::kInvalidArgument);
    REQUIRE_FALSE(st.message().empty());
    return false;
  }
  INFO("accepted: " << input);
  REQUIRE(nlohmann::json::accept(input));
  std::string json;
  EncodeEvent(e, &json);
  EventView back;
  REQUIRE(check.Decode(json, &back).ok());
  REQUIRE(SameEvent(back, e));
  return true;
}

TEST_CASE("codec: Decode survives random bytes and mutated events", "[codec][fuzz]") {
  Rng rng(7);
  DecoderOptions small;  // tight limits, to reach every limit check
  small.max_event_bytes = 160;
  small.max_id_bytes = 8;
  small.max_items = 3;
  small.max_features = 2;
  small.max_feature_name_bytes = 10;
  small.max_depth = 3;
  EventDecoder normal;
  EventDecoder tight(small);
  EventDecoder check;
  static constexpr char kJsonish[] = "{}[]\":,.-+eE0123456789 \\utrfalsnl\x01\xc3\xa9\xff";
  std::string s;
  int accepted = 0;
  for (int i = 0; i < 100000; ++i) {
    s.clear();
    const size_t n = rng.Uniform(i % 100 == 0 ? 2000 : 120);
    const bool jsonish = rng.Uniform(2) == 0;
    if (jsonish) s.push_back('{');
    for (size_t k = 0; k < n; ++k) {
      s.push_back(jsonish ? kJsonish[rng.Uniform(sizeof kJsonish - 1)]
                          : static_cast<char>(rng.Next()));
    }
    CheckArbitrary(normal, check, s);
    CheckArbitrary(tight, check, s);
  }
  const std::vector<std::string> samples = ValidSamples();
  static const char* const kTokens[] = {"null", "true", "1e999",   "-0",      "\"\"",
                                        "[]",   "{}",   "\\u0000", "\\ud800", "\xff",
                                        ",",    ":",    "\"",      "0.5e-3"};
  for (int i = 0; i < 100000; ++i) {
    s = samples[rng.Uniform(static_cast<uint32_t>(samples.size()))];
    const int edits = 1 + static_cast<int>(rng.Uniform(4));
    for (int k = 0; k < edits && !s.empty(); ++k) {
      const size_t pos = rng.Uniform(static_cast<uint32_t>(s.size()));
      switch (rng.Uniform(6)) {
        case 0:
          s[pos] = static_cast<char>(rng.Next());
          break;
        case 1:
          s[pos] = static_cast<char>(s[pos] ^ (1 << rng.Uniform(8)));
          break;
        case 2:
          s.erase(pos, 1 + rng.Uniform(8));
          break;
        case 3:
          s.resize(pos);
          break;
        case 4:
          s.insert(pos, kTokens[rng.Uniform(sizeof kTokens / sizeof kTokens[0])]);
          break;
        default:
          s.insert(pos, s.substr(rng.Uniform(static_cast<uint32_t>(s.size())), 10));
      }
    }
    accepted += CheckArbitrary(normal, check, s);
    accepted += CheckArbitrary(tight, check, s);
  }
  // The mutations must reach the success path too, not only the parser's error paths.
  CHECK(accepted > 2000);
}

}  // namespace
}  // namespace streamrec::stream

namespace streamrec::stream {
namespace {

TEST_CASE("issue17: an id with a NUL or another control character is refused", "[codec]") {
  EventDecoder d;
  EventView e;
  for (const char* json : {R"({"type":"click","user":"u\u0000","item":"m1"})",
                           R"({"type":"click","user":"u1","item":"m\u001f"})",
                           R"({"type":"impression","user":"u1","items":["m1","m\u0007"]})",
                           R"({"type":"click","user":"u1","item":"m1","session":"s\n"})"}) {
    INFO(json);
    const Status st = d.Decode(json, &e);
    CHECK_THAT(st.message(), Catch::Contains("control character"));
  }
  CHECK(d.Decode(R"({"type":"click","user":"u\u00e9","item":"m1"})", &e).ok());
}

TEST_CASE("issue17: a number that is not JSON gets a reason that says so", "[codec]") {
  EventDecoder d;
  EventView e;
  for (const char* json : {R"({"type":"rating","user":"u","item":"m","value":-Infinity})",
                           R"({"type":"click","user":"u","item":"m","ts":-nan})"}) {
    INFO(json);
    const Status st = d.Decode(json, &e);
    REQUIRE_FALSE(st.ok());
    CHECK_THAT(st.message(), !Catch::Contains("not number"));
    CHECK_THAT(st.message(),
               Catch::Contains("not a valid JSON number") || Catch::Contains("invalid JSON"));
  }
  // A string field given a number still names the type.
  CHECK_THAT(d.Decode(R"({"type":"click","user":-5,"item":"m"})", &e).message(),
             Catch::Contains("must be a string, not number"));
}

TEST_CASE("issue17: CheckEventTime bounds event time by the clock and the watermark", "[codec]") {
  const int64_t now_us = 1'700'000'000LL * 1'000'000;
  CHECK(CheckEventTime(1'700'000'000.0 + 3600, now_us, 0, 3600).ok());
  const Status far = CheckEventTime(4102444000.0, now_us, 0, 3600);
  CHECK(far.code() == Status::Code::kInvalidArgument);
  CHECK_THAT(far.message(),
             Catch::Contains("ahead of the clock") && Catch::Contains("max_future_s = 3600"));
  CHECK_FALSE(CheckEventTime(1'700'000'000.0 + 3601, now_us, 0, 3600).ok());
  // A watermark ahead of the clock (a skewed producer already applied) moves the bound along.
  CHECK(CheckEventTime(1'700'000'000.0 + 7000, now_us, now_us + 3600'000'000LL, 3600).ok());
  // Old events are always in time.
  CHECK(CheckEventTime(978300760.0, now_us, now_us, 0).ok());
}

}  // namespace
}  // namespace streamrec::stream
