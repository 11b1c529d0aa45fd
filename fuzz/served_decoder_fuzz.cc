// served_decoder_fuzz: arbitrary bytes into ServedDecoder::Decode (stream/served_codec.h), the
// reader of the `served` topic behind the bandits' reward join. Oracle:
//   - a rejection is InvalidArgument with a reason;
//   - for an accepted record, EncodeServed(view) is valid JSON (nlohmann agrees), decodes again
//     to the same fields, and re-encoding that gives the same bytes.
// (The accepted input itself need not be valid JSON: the decoder skips the values of keys it
// does not know without validating them, as simdjson On-Demand does. The served topic is
// written by the daemon's own EncodeServed.)
// Any other outcome aborts; ASan and UBSan watch the rest. The input is any bytes, not
// NUL-terminated.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "stream/served_codec.h"

namespace streamrec::stream {
namespace {

// The decoder's size limit (served_codec.cc): an encoding longer than this cannot be read back.
constexpr size_t kMaxServedBytes = 1 << 20;

// Empty when `a` and `b` have the same fields (views compared by content), else the first
// difference.
std::string Difference(const ServedView& a, const ServedView& b) {
  if (a.rec_id != b.rec_id) return "rec_id";
  if (a.user != b.user) return "user";
  if (a.session != b.session) return "session";
  if (a.ts_seconds != b.ts_seconds) return "ts";
  if (a.items.size() != b.items.size()) return "items.size";
  for (size_t i = 0; i < a.items.size(); ++i) {
    const ServedItem& x = a.items[i];
    const ServedItem& y = b.items[i];
    const std::string at = "items[" + std::to_string(i) + "].";
    if (x.item != y.item) return at + "item";
    if (x.pos != y.pos) return at + "pos";
    if (x.score != y.score) return at + "score";
    if (x.source != y.source) return at + "source";
    if (x.propensity != y.propensity) return at + "propensity";
  }
  return {};
}

}  // namespace
}  // namespace streamrec::stream

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace streamrec;
  using namespace streamrec::stream;
  static ServedDecoder decoder;
  static ServedDecoder check;
  static std::string encoded, reencoded;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  ServedView v;
  const Status st = decoder.Decode(input, &v);
  if (!st.ok()) {
    FUZZ_CHECK(st.code() == Status::Code::kInvalidArgument, st.ToString());
    FUZZ_CHECK(!st.message().empty(), "empty reason");
    return 0;
  }
  encoded.clear();
  EncodeServed(v, &encoded);
  FUZZ_CHECK(nlohmann::json::accept(encoded), "encoding is not JSON: " + encoded);
  // Encoding adds the fields the input left out and may spell numbers longer: near the size
  // limit it can exceed it, which is not a round-trip failure.
  if (encoded.size() > kMaxServedBytes) return 0;
  ServedView back;
  const Status again = check.Decode(encoded, &back);
  FUZZ_CHECK(again.ok(),
             again.ToString() + "\n input: " + std::string(input) + "\n encoded: " + encoded);
  const std::string diff = Difference(v, back);
  FUZZ_CHECK(diff.empty(), "round trip changed " + diff + "\n input: " + std::string(input) +
                               "\n encoded: " + encoded);
  reencoded.clear();
  EncodeServed(back, &reencoded);
  FUZZ_CHECK(reencoded == encoded,
             "not canonical\n encoded: " + encoded + "\n re-encoded: " + reencoded);
  return 0;
}
