#include "tools/bandit_eval.h"

namespace streamrec::tools {

Result<nlohmann::json> RunBanditSim(const EvalOptions&, const std::string&) {
  return Status::InvalidArgument("bandit-sim is not built yet");
}
Result<nlohmann::json> RunOpe(const EvalOptions&, const std::string&) {
  return Status::InvalidArgument("ope is not built yet");
}

}  // namespace streamrec::tools
