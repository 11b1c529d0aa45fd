// streamrec: one binary; subcommands serve, broker, gen, eval, replay, inspect. main blocks the
// stop signals (so every thread inherits the mask and `serve` can sigwait for them), registers
// the subcommands of tools/ and daemon/ (which do not know one another), parses the command
// line, hands over and returns the exit status the subcommand recorded (common/exit_code.h).
#include <signal.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "common/exit_code.h"
#include "daemon/commands.h"
#include "tools/commands.h"

namespace {
// Overwrites the value of --admin-token in the process's own argv, which /proc/PID/cmdline (and
// so ps) shows to every user of the machine. CLI11 parses the copy it is given.
void HideSecretArguments(int argc, char** argv) {
  constexpr std::string_view kFlag = "--admin-token";
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    char* value = nullptr;
    if (arg == kFlag && i + 1 < argc) {
      value = argv[i + 1];
    } else if (arg.size() > kFlag.size() && arg.substr(0, kFlag.size() + 1) == "--admin-token=") {
      value = argv[i] + kFlag.size() + 1;
    }
    if (value != nullptr) std::memset(value, 'x', std::strlen(value));
  }
}
}  // namespace

int main(int argc, char** argv) {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  CLI::App app{"streamrec: a streaming, incremental recommender"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "streamrec 0.1.0");
  streamrec::tools::RegisterCommands(app);
  streamrec::daemon::AddServeCommand(app);
  streamrec::daemon::AddInspectCommand(app);
  app.name(argv[0]);
  std::vector<std::string> args(argv + 1, argv + argc);
  std::reverse(args.begin(), args.end());  // CLI11 takes its arguments last first
  HideSecretArguments(argc, argv);
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return streamrec::ExitCode();
}
