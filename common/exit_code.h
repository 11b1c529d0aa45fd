// The exit status of the subcommand the `streamrec` binary ran. A subcommand's callback (CLI11
// callbacks return nothing) records it with SetExitCode; main returns ExitCode(). It lives here
// so that the folders providing subcommands (tools/, daemon/) need not know one another.
//
// Thread safety: not synchronized; set by the one subcommand that runs, read by main after it.
#pragma once

namespace streamrec {

// Exit status of the subcommand that ran (0 when none has failed).
int ExitCode();
// Records the exit status of a subcommand's run.
void SetExitCode(int code);

}  // namespace streamrec
