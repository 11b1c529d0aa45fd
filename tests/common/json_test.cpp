#include "common/json.h"

#include <catch2/catch.hpp>

namespace streamrec {
namespace {
std::string Quoted(std::string_view s, InvalidUtf8 policy = InvalidUtf8::kReplace) {
  std::string out;
  AppendJsonString(s, &out, policy);
  return out;
}
}  // namespace

TEST_CASE("AppendJsonString escapes what JSON requires and copies valid UTF-8", "[json]") {
  CHECK(Quoted("plain") == "\"plain\"");
  CHECK(Quoted("a\"b\\c") == "\"a\\\"b\\\\c\"");
  CHECK(Quoted("\n\r\t\b\f") == "\"\\n\\r\\t\\b\\f\"");
  CHECK(Quoted(std::string("\x01\x1f", 2)) == "\"\\u0001\\u001f\"");
  CHECK(Quoted(std::string("nul\0in", 6)) == "\"nul\\u0000in\"");
  CHECK(Quoted("héllo €𝄞") == "\"héllo €𝄞\"");
  CHECK(Quoted("") == "\"\"");
}

TEST_CASE("Invalid UTF-8 is replaced or escaped byte by byte, and reported", "[json]") {
  const std::string bad =
      "u\xff"
      "x\xc3";  // a stray 0xFF and a truncated 2-byte sequence
  std::string out;
  CHECK_FALSE(AppendJsonString(bad, &out));
  CHECK(out == "\"u\\ufffdx\\ufffd\"");
  CHECK(Quoted(bad, InvalidUtf8::kEscapeBytes) == "\"u\\u00ffx\\u00c3\"");
  std::string ok;
  CHECK(AppendJsonEscaped("fine", &ok));
  CHECK(ok == "fine");
}

TEST_CASE("UTF-8 validation follows RFC 3629", "[json]") {
  CHECK(IsValidUtf8("ascii"));
  CHECK(IsValidUtf8("\xc3\xa9"));                // é
  CHECK(IsValidUtf8("\xf0\x9d\x84\x9e"));        // U+1D11E
  CHECK_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  CHECK_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate U+D800
  CHECK_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  CHECK_FALSE(IsValidUtf8("\x80"));              // stray continuation
  CHECK_FALSE(IsValidUtf8("\xe2\x82"));          // truncated
  CHECK(Utf8SequenceLength("\xe2\x82\xac", 0) == 3);
}

}  // namespace streamrec

namespace streamrec {
namespace {

std::vector<std::string_view> Split(std::string_view text, int max_depth = 8) {
  std::vector<std::string_view> out;
  const Status st = SplitJsonArray(text, &out, max_depth);
  INFO(st.ToString());
  REQUIRE(st.ok());
  return out;
}

Status SplitStatus(std::string_view text, int max_depth = 8) {
  std::vector<std::string_view> out;
  return SplitJsonArray(text, &out, max_depth);
}

TEST_CASE("SplitJsonArray yields each element's text", "[json]") {
  CHECK(Split("[]").empty());
  CHECK(Split(" [ ] \n").empty());
  const auto e = Split(R"( [ {"a":[1,{"b":"]"}]} , "x,]\"" ,3, [ ] ] )");
  REQUIRE(e.size() == 4);
  CHECK(e[0] == R"({"a":[1,{"b":"]"}]})");
  CHECK(e[1] == R"("x,]\"")");
  CHECK(e[2] == "3");
  CHECK(e[3] == "[ ]");
}

TEST_CASE("SplitJsonArray refuses what is not one array", "[json]") {
  for (const char* bad : {"", "{}", "[", "[1,]", "[,1]", "[1,,2]", "[1] x", "[1}", R"(["abc])",
                          "[[1]", "]", "[{]}"}) {
    INFO(bad);
    CHECK(SplitStatus(bad).code() == Status::Code::kInvalidArgument);
  }
}

TEST_CASE("issue17: a 100k-deep JSON array is refused without recursion", "[json]") {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  const Status st = SplitStatus(deep, 17);
  CHECK(st.code() == Status::Code::kInvalidArgument);
  CHECK_THAT(st.message(), Catch::Contains("nested deeper than 17"));
  CHECK(SplitStatus(std::string(17, '[') + std::string(17, ']'), 17).ok());
}

TEST_CASE("HasControlCharacter finds C0 controls and DEL only", "[json]") {
  CHECK_FALSE(HasControlCharacter("u42 é \xe2\x82\xac"));
  CHECK(HasControlCharacter(std::string_view("u\0x", 3)));
  CHECK(HasControlCharacter("a\tb"));
  CHECK(HasControlCharacter("a\x7f"));
}

}  // namespace
}  // namespace streamrec
