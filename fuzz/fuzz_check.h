// FUZZ_CHECK: the oracle of the fuzz targets. A failed check prints what failed and aborts, so
// libFuzzer records the input as a crash (like an ASan or UBSan report).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace streamrec::fuzz {

[[noreturn]] inline void CheckFailed(const char* file, int line, const char* what,
                                     std::string_view detail) {
  std::fprintf(stderr, "%s:%d: FUZZ_CHECK(%s) failed: %.*s\n", file, line, what,
               static_cast<int>(detail.size() > 2000 ? 2000 : detail.size()), detail.data());
  std::abort();
}

}  // namespace streamrec::fuzz

// `detail` is anything convertible to std::string_view, printed (cut at 2000 bytes) on failure.
#define FUZZ_CHECK(cond, detail)                                                    \
  do {                                                                              \
    if (!(cond)) ::streamrec::fuzz::CheckFailed(__FILE__, __LINE__, #cond, detail); \
  } while (0)
