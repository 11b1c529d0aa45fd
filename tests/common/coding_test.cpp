#include "common/coding.h"

#include <catch2/catch.hpp>
#include <vector>

namespace streamrec {

TEST_CASE("ByteWriter and ByteReader round-trip every kind", "[coding]") {
  std::string buf;
  ByteWriter w(&buf);
  w.PutHeader(Magic("TEST"), 3);
  w.PutU8(7);
  w.PutU32(0xdeadbeef);
  w.PutU64(1ULL << 60);
  w.PutI64(-5);
  w.PutF32(1.5f);
  w.PutF64(-2.25);
  for (uint64_t v : {0ULL, 127ULL, 128ULL, 300ULL, ~0ULL}) w.PutVarint(v);
  w.PutString("héllo");
  std::vector<float> fl = {1.0f, -2.0f, 3.5f};
  w.PutFloats(fl);

  ByteReader r(buf);
  uint32_t version = 0;
  REQUIRE(r.ExpectHeader(Magic("TEST"), 3, "test", &version).ok());
  CHECK(version == 3);
  uint8_t u8;
  uint32_t u32;
  uint64_t u64;
  int64_t i64;
  float f32;
  double f64;
  REQUIRE((r.GetU8(&u8) && r.GetU32(&u32) && r.GetU64(&u64) && r.GetI64(&i64) && r.GetF32(&f32) &&
           r.GetF64(&f64)));
  CHECK(u8 == 7);
  CHECK(u32 == 0xdeadbeef);
  CHECK(u64 == (1ULL << 60));
  CHECK(i64 == -5);
  CHECK(f32 == 1.5f);
  CHECK(f64 == -2.25);
  for (uint64_t want : {0ULL, 127ULL, 128ULL, 300ULL, ~0ULL}) {
    uint64_t got;
    REQUIRE(r.GetVarint(&got));
    CHECK(got == want);
  }
  std::string s;
  REQUIRE(r.GetString(&s));
  CHECK(s == "héllo");
  std::vector<float> back(3);
  REQUIRE(r.GetFloats(back));
  CHECK(back == fl);
  CHECK(r.done());
}

TEST_CASE("ByteReader fails cleanly on truncated and foreign input", "[coding]") {
  std::string buf;
  ByteWriter w(&buf);
  w.PutHeader(Magic("AAAA"), 1);
  w.PutString("abcdef");

  uint32_t version;
  SECTION("wrong magic") {
    ByteReader r(buf);
    Status st = r.ExpectHeader(Magic("BBBB"), 1, "blob", &version);
    CHECK(st.code() == Status::Code::kCorruption);
    CHECK_THAT(st.message(), Catch::Contains("wrong magic"));
  }
  SECTION("newer version") {
    ByteReader r(buf);
    CHECK_FALSE(r.ExpectHeader(Magic("AAAA"), 0, "blob", &version).ok());
  }
  SECTION("every truncation fails, none crashes") {
    for (size_t n = 0; n < buf.size(); ++n) {
      ByteReader r(std::string_view(buf).substr(0, n));
      std::string s;
      bool ok = r.ExpectHeader(Magic("AAAA"), 1, "blob", &version).ok() && r.GetString(&s);
      CHECK_FALSE(ok);
    }
  }
  SECTION("varint longer than 10 bytes") {
    std::string bad(11, '\xff');
    ByteReader r(bad);
    uint64_t v;
    CHECK_FALSE(r.GetVarint(&v));
    CHECK_FALSE(r.ok());
  }
}

}  // namespace streamrec
