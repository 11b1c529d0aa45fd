// streamrec: one binary, subcommands gen, eval (and, as they land, serve, broker, replay,
// inspect). main only parses the command line and hands over (STYLE.md b20).
#include <CLI/CLI.hpp>

#include "tools/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"streamrec: a streaming, incremental recommender"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "streamrec 0.1.0");
  streamrec::tools::RegisterCommands(app);
  CLI11_PARSE(app, argc, argv);
  return streamrec::tools::ExitCode();
}
