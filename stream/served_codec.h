// The served log's wire format: what one /v1/recommend returned, as the daemon produces it to
// the `served` topic (one JSON object per message, key = user, or session when anonymous) and
// as the bandits' reward join reads it back:
//
//   {"type":"served","rec_id":"r...","user":"u42","session":"s1","ts":1732960000.123,
//    "items":[{"item":"m7","pos":0,"score":1.93,"source":"bpr"},
//             {"item":"m9","pos":9,"score":0.41,"source":"explore:linucb","propensity":0.83}]}
//
// `session` is present only when the request named one; `propensity` only on explored items
// (the probability with which the policy chose that item: the propensity log of off-policy
// evaluation). `ts` is the serving time, seconds since the epoch.
//
// Thread safety: EncodeServed has no shared state; a ServedDecoder is used by one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "common/status.h"

namespace streamrec::stream {

struct ServedItem {
  std::string_view item;
  uint32_t pos = 0;
  float score = 0.0f;
  std::string_view source;
  // < 0: not an explored item (no propensity logged).
  double propensity = -1.0;
};

struct ServedView {
  std::string_view rec_id;
  std::string_view user;     // empty for an anonymous (session-only) request
  std::string_view session;  // empty when the request named none
  double ts_seconds = 0.0;
  std::span<const ServedItem> items;
};

// Appends the record's JSON (no newline) to *out.
void EncodeServed(const ServedView& served, std::string* out);

// Parses served records, reusing its buffers (no allocation once warm). Views stay valid until
// the next Decode.
class ServedDecoder {
 public:
  ServedDecoder();
  ~ServedDecoder();
  ServedDecoder(const ServedDecoder&) = delete;
  ServedDecoder& operator=(const ServedDecoder&) = delete;

  // InvalidArgument naming the problem (bad JSON, a missing or mistyped field, more than 1000
  // items, an oversized message); never throws or crashes on any input.
  Status Decode(std::string_view json, ServedView* out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace streamrec::stream
