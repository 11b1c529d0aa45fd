// Bandit protocols of `streamrec eval`: bandit-sim (cold-start exploration on
// MovieLens in time order) and ope (off-policy estimates on the Open Bandit sample).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "common/status.h"
#include "tools/eval.h"

namespace streamrec::tools {

// Each returns the report JSON (protocol, data, model/policy, params, metrics) like RunEval.
Result<nlohmann::json> RunBanditSim(const EvalOptions& options, const std::string& data_path);
Result<nlohmann::json> RunOpe(const EvalOptions& options, const std::string& data_path);

}  // namespace streamrec::tools
