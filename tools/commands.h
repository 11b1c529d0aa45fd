// The offline subcommands of the `streamrec` binary. Each Add*Command registers its flags and
// a callback on the CLI11 app; the callback's exit status is reported through ExitCode().
#pragma once

#include <CLI/CLI.hpp>

namespace streamrec::tools {

// Registers every subcommand this library provides.
void RegisterCommands(CLI::App& app);
// Exit status of the subcommand that ran (0 when none has failed).
int ExitCode();
// Records the exit status of a subcommand's run.
void SetExitCode(int code);
// `gen`: writes a synthetic event stream (tools/gen.h).
void AddGenCommand(CLI::App& app);
// `broker`: runs the embedded (in-memory, test/demo) Kafka broker (tools/broker.cc).
void AddBrokerCommand(CLI::App& app);
void AddReplayCommand(CLI::App& app);

}  // namespace streamrec::tools
