#include "common/types.h"

#include <array>

namespace streamrec {
namespace {
constexpr std::array<std::string_view, kNumEventTypes> kNames = {
    "rating", "click", "view", "purchase", "add_to_cart", "impression", "item", "forget_user"};
}  // namespace

std::string_view EventTypeName(EventType type) { return kNames[static_cast<int>(type)]; }

bool ParseEventType(std::string_view name, EventType* out) {
  for (int i = 0; i < kNumEventTypes; ++i) {
    if (kNames[i] == name) {
      *out = static_cast<EventType>(i);
      return true;
    }
  }
  return false;
}

}  // namespace streamrec
