#include "common/log.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace streamrec {

void Log(LogLevel level, std::string_view message) {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  std::tm tm;
  gmtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
  const char* tag = level == LogLevel::kInfo ? "INFO" : level == LogLevel::kWarn ? "WARN" : "ERROR";
  std::fprintf(stderr, "%s.%03dZ %s streamrec: %.*s\n", stamp, static_cast<int>(ms.count()), tag,
               static_cast<int>(message.size()), message.data());
}

}  // namespace streamrec
