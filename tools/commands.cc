#include "tools/commands.h"

#include "tools/eval.h"

namespace streamrec::tools {
void RegisterCommands(CLI::App& app) {
  AddEvalCommand(app);
  AddGenCommand(app);
  AddBrokerCommand(app);
  AddReplayCommand(app);
}

}  // namespace streamrec::tools
