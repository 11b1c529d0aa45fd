// Core value types shared by every folder: dense indices and event kinds.
#pragma once

#include <cstdint>
#include <limits>
#include <string_view>

namespace streamrec {

// Dense indices assigned by IdMap to external string ids; stable for the life of the state.
using UserIndex = uint32_t;
using ItemIndex = uint32_t;
inline constexpr uint32_t kNoIndex = std::numeric_limits<uint32_t>::max();

enum class EventType : uint8_t {
  kRating = 0,
  kClick,
  kView,
  kPurchase,
  kAddToCart,
  kImpression,
  kItem,
  kForgetUser,
};
inline constexpr int kNumEventTypes = 8;

// "rating", "click", ... as in the wire format of DESIGN.md.
std::string_view EventTypeName(EventType type);
// Parses a wire name; false when unknown.
bool ParseEventType(std::string_view name, EventType* out);
// True for the implicit-feedback kinds (click, view, purchase, add_to_cart).
inline bool IsImplicit(EventType t) { return t >= EventType::kClick && t <= EventType::kAddToCart; }

// Weight of each implicit event type as a positive for the ranking models (configurable).
struct ImplicitWeights {
  float click = 1.0f;
  float view = 0.5f;
  float add_to_cart = 2.0f;
  float purchase = 3.0f;
  // Weight of a rating event as an implicit positive (every rating counts, as in the
  // published ranking benchmarks).
  float rating = 1.0f;

  float Of(EventType t) const {
    switch (t) {
      case EventType::kClick:
        return click;
      case EventType::kView:
        return view;
      case EventType::kAddToCart:
        return add_to_cart;
      case EventType::kPurchase:
        return purchase;
      case EventType::kRating:
        return rating;
      default:
        return 0.0f;
    }
  }
};

// One user-item interaction in dense indices, as the models consume it.
struct Interaction {
  UserIndex user = 0;
  ItemIndex item = 0;
  // Rating value for explicit events; 0 for implicit ones.
  float value = 0.0f;
  // Importance of the event as an implicit positive (configurable per event type).
  float weight = 1.0f;
  // Event time, seconds since the epoch.
  int64_t ts_seconds = 0;
  bool is_rating = false;
};

}  // namespace streamrec
