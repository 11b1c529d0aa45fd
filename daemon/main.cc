// streamrec: one binary; subcommands serve, broker, gen, eval, replay, inspect. main blocks the
// stop signals (so every thread inherits the mask and `serve` can sigwait for them), parses the
// command line and hands over (STYLE.md b20).
#include <signal.h>

#include <CLI/CLI.hpp>

#include "daemon/commands.h"
#include "tools/commands.h"

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
  CLI11_PARSE(app, argc, argv);
  return streamrec::tools::ExitCode();
}
