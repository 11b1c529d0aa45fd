// The event codec: wire JSON (one object per Kafka message, DESIGN.md "Events") <-> EventView.
//
// Decoding validates everything the rest of the daemon relies on; a message that fails is
// rejected with an InvalidArgument Status whose message names the field and the reason, ready to
// be written to the dead-letter topic. Encoding produces the canonical JSON of an event, so
// that Decode(Encode(e)) == e.
//
// Accepted input (one JSON object; fields in any order):
//   type     string, required: rating | click | view | purchase | add_to_cart | impression |
//            item | forget_user.
//   user     id, required by every type except item.
//   item     id, required by rating, the implicit types and item.
//   items    non-empty array of ids, required by impression.
//   value    number in [rating_min, rating_max], required by rating.
//   ts       number, seconds since the epoch in [0, max_ts_seconds]; optional.
//   session  id, optional on rating, implicit types and impression.
//   rec_id   id, optional on rating, implicit types and impression.
//   features object of name -> number | true | false | string, optional on item.
// An id is a non-empty string of at most max_id_bytes bytes (after unescaping).
// Policies:
//   - Unknown fields are ignored (forward compatibility), but must still be well-formed JSON.
//   - Known fields that do not apply to the event's type are validated, then left out of the view.
//   - `null` for an optional field means absent. A required field must not be null.
//   - A known field given twice is rejected ("duplicate field 'user'"), as is a feature key or a
//     feature name that occurs twice: different JSON parsers disagree on which duplicate wins.
//   - Anything after the object other than whitespace is rejected.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "common/json.h"
#include "common/status.h"
#include "common/types.h"

namespace streamrec::stream {

// Limits enforced by EventDecoder. Every limit bounds work and memory per message; the decoder
// allocates its buffers for max_event_bytes once, at construction. Not reloadable: build a new
// decoder to change them.
struct DecoderOptions {
  // Largest accepted message, in bytes. Default 64 KiB; the decoder's buffers are this big.
  size_t max_event_bytes = 65536;
  // Longest id (user, item, session, rec_id, each element of items) after unescaping, in bytes.
  size_t max_id_bytes = 256;
  // Most ids in the `items` array of an impression.
  size_t max_items = 1000;
  // Most entries in the `features` object of an item event.
  size_t max_features = 256;
  // Longest feature name, in bytes; for a string feature this is the composed "key=value".
  size_t max_feature_name_bytes = 256;
  // Accepted range of a rating's `value`, inclusive.
  double rating_min = 0.0;
  double rating_max = 10.0;
  // Largest accepted `ts`, in seconds since the epoch. Default 2100-01-01T00:00:00Z, which also
  // catches timestamps sent in milliseconds by mistake.
  double max_ts_seconds = 4102444800.0;
  // Deepest nesting of arrays/objects accepted anywhere in the message (the event object itself
  // is depth 1). Bounds the recursion spent validating unknown fields.
  int max_depth = 16;
};

// A feature of an item event. A JSON string value v under key k becomes {"k=v", 1}; true and
// false become 1 and 0.
struct Feature {
  std::string_view name;
  float value = 0.0f;
};

// A decoded event. The views point into the decoder that produced it (or into whatever the
// caller built it from) and stay valid until the next Decode call on the same decoder.
// Fields that do not apply to `type` are empty / zero.
struct EventView {
  EventType type = EventType::kClick;
  std::string_view user;
  std::string_view item;
  // Empty when absent.
  std::string_view session;
  std::string_view rec_id;
  // Rating value for kRating; 0 otherwise.
  float value = 0.0f;
  // Event time in seconds since the epoch; 0 when absent (the daemon then uses the Kafka
  // message timestamp).
  double ts_seconds = 0.0;
  // The shown items of a kImpression, in order; empty otherwise.
  std::span<const std::string_view> items;
  // Catalog features of a kItem, in input order; empty otherwise.
  std::span<const Feature> features;
};

// Decodes wire JSON into EventViews, reusing its buffers: after warm-up, Decode allocates
// nothing. Uses simdjson On-Demand.
//
// Thread safety: not thread-safe; use one decoder per thread. Views returned by Decode point into
// this object's buffers. A moved-from decoder may only be destroyed or assigned to.
class EventDecoder {
 public:
  explicit EventDecoder(DecoderOptions options = DecoderOptions());
  ~EventDecoder();
  EventDecoder(EventDecoder&&) noexcept;
  EventDecoder& operator=(EventDecoder&&) noexcept;
  EventDecoder(const EventDecoder&) = delete;
  EventDecoder& operator=(const EventDecoder&) = delete;

  // Parses and validates one message. On success fills *out, whose views stay valid until the
  // next Decode call on this decoder. On failure returns InvalidArgument with a short reason
  // naming the field (e.g. "missing field 'user'") and leaves *out empty. Never throws or crashes
  // on any input.
  Status Decode(std::string_view json, EventView* out);

  const DecoderOptions& options() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The bound on event time (DESIGN.md "Events"): Ok unless `ts_seconds` is more than
// `max_future_s` ahead of both the wall clock `now_micros` and `watermark_micros` (the largest
// event time applied so far; 0 when none). One event from a producer whose clock is wrong must
// not move event time years ahead: that would expire every session and decay every trending
// count to nothing. InvalidArgument naming how far ahead the event is otherwise.
Status CheckEventTime(double ts_seconds, int64_t now_micros, int64_t watermark_micros,
                      int64_t max_future_s);

// Appends the canonical JSON of `event` (one object, no newline) to *out: fields in a fixed
// order, only those that apply to the type, optional ones only when set (ts when != 0), strings
// escaped per RFC 8259, numbers in their shortest round-trip form.
// REQUIRES: `event` is valid as Decode would accept it (strings are valid UTF-8, numbers are
// finite); then Decode(Encode(event)) reproduces it field by field.
void EncodeEvent(const EventView& event, std::string* out);

}  // namespace streamrec::stream
