#include "tests/support/test_data.h"

#include <cstdlib>
#include <filesystem>
#include <random>

namespace fs = std::filesystem;

namespace streamrec::testing {

std::optional<std::string> DataDir() {
  if (const char* env = std::getenv("STREAMREC_DATA"); env && *env) {
    if (fs::is_directory(env)) return std::string(env);
    return std::nullopt;
  }
  const fs::path guess = fs::path(STREAMREC_SOURCE_DIR) / ".." / "shared" / "data";
  if (fs::is_directory(guess)) return fs::canonical(guess).string();
  return std::nullopt;
}

std::optional<std::string> DataFile(const std::string& relative) {
  auto dir = DataDir();
  if (!dir) return std::nullopt;
  fs::path p = fs::path(*dir) / relative;
  if (!fs::exists(p)) return std::nullopt;
  return p.string();
}

TempDir::TempDir() {
  std::random_device rd;
  for (;;) {
    fs::path p = fs::temp_directory_path() / ("streamrec-test-" + std::to_string(rd()));
    if (fs::create_directory(p)) {
      path_ = p.string();
      return;
    }
  }
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

}  // namespace streamrec::testing
