// Minimal logging shared by every folder: one line per message on stderr, with a UTC timestamp
// and a level. Thread-safe (one fprintf per line).
#pragma once

#include <string_view>

namespace streamrec {

enum class LogLevel { kInfo, kWarn, kError };
void Log(LogLevel level, std::string_view message);
inline void LogInfo(std::string_view m) { Log(LogLevel::kInfo, m); }
inline void LogWarn(std::string_view m) { Log(LogLevel::kWarn, m); }
inline void LogError(std::string_view m) { Log(LogLevel::kError, m); }

}  // namespace streamrec
