// Locating the public benchmark data (../shared/data) for tests that need it.
#pragma once

#include <optional>
#include <string>

namespace streamrec::testing {

// Directory of the benchmark data: $STREAMREC_DATA if set, else ../shared/data relative to the
// source tree. Empty when neither exists; tests then SKIP with a message saying how to get it.
std::optional<std::string> DataDir();
// Path of `relative` under DataDir(), if that file exists.
std::optional<std::string> DataFile(const std::string& relative);
// A fresh, empty temporary directory removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace streamrec::testing

// Skips the current Catch2 test (Catch 2.13 has no SKIP): prints why and returns.
#define STREAMREC_SKIP(msg)   \
  do {                        \
    WARN("SKIPPED: " << msg); \
    return;                   \
  } while (0)
