// The daemon's subcommands: `serve` (the long-running process) and `inspect` (a store's
// contents, offsets and checksum).
#pragma once

#include <CLI/CLI.hpp>

namespace streamrec::daemon {

void AddServeCommand(CLI::App& app);
void AddInspectCommand(CLI::App& app);

}  // namespace streamrec::daemon
