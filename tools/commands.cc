#include "tools/commands.h"

#include "tools/eval.h"

namespace streamrec::tools {
namespace {
int g_exit_code = 0;
}  // namespace

int ExitCode() { return g_exit_code; }
void SetExitCode(int code) { g_exit_code = code; }

void RegisterCommands(CLI::App& app) {
  AddEvalCommand(app);
  AddGenCommand(app);
  AddBrokerCommand(app);
  AddReplayCommand(app);
}

}  // namespace streamrec::tools
