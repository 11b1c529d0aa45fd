// Test support: child processes (the real binary) and HTTP over loopback with curl.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace streamrec::testing {

// A child process; SIGKILLed by the destructor if still running.
class Child {
 public:
  // Starts `argv` with stderr (and stdout) appended to `log_path`.
  Child(const std::vector<std::string>& argv, const std::string& log_path);
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  void Signal(int sig);
  // Waits for exit; returns the exit code, or 128+signal.
  int Wait();
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

// Path of the streamrec binary (STREAMREC_BINARY, set by ctest).
std::string Binary();
// A TCP port that was free a moment ago on 127.0.0.1.
int FreePort();
// Runs a shell command, returns its stdout; *exit_code gets the status.
std::string Run(const std::string& command, int* exit_code = nullptr);
// HTTP with curl: returns the body; *status gets the HTTP code (0 when no connection).
std::string Http(const std::string& method, const std::string& url, int* status,
                 const std::string& body = "", const std::string& header = "");
// Polls `ready` every 50 ms up to timeout_ms; true when it returned true.
template <typename Fn>
bool WaitFor(Fn ready, int timeout_ms);

}  // namespace streamrec::testing

#include <chrono>
#include <thread>
template <typename Fn>
bool streamrec::testing::WaitFor(Fn ready, int timeout_ms) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < end) {
    if (ready()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return ready();
}
