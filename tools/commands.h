// The offline subcommands of the `streamrec` binary. Each Add*Command registers its flags and
// a callback on the CLI11 app; the callback reports its exit status through SetExitCode
// (common/exit_code.h).
#pragma once

#include <CLI/CLI.hpp>

namespace streamrec::tools {

// Registers every subcommand this library provides.
void RegisterCommands(CLI::App& app);
// `gen`: writes a synthetic event stream (tools/gen.h).
void AddGenCommand(CLI::App& app);
// `broker`: runs the embedded (in-memory, test/demo) Kafka broker (tools/broker.cc).
void AddBrokerCommand(CLI::App& app);
void AddReplayCommand(CLI::App& app);

}  // namespace streamrec::tools
