// `streamrec eval`: runs the model code on a dataset with no Kafka, under one of the standard
// offline protocols, and reports metrics as one JSON object.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "common/status.h"
#include "models/params.h"
#include "tools/dataset.h"

namespace streamrec::tools {

struct EvalOptions {
  // prequential | rating-cv | ranking-split | loo-sampled | session-next | bandit-sim | ope
  std::string protocol;
  // Path or name under $STREAMREC_DATA / ../shared/data.
  std::string data;
  DataFormat format = DataFormat::kAuto;
  // mf | bpr | pop | itemknn, or a session model: fpmc | sasrec-lite | sknn (loo-sampled and
  // session-next)
  std::string model = "bpr";
  // Passes of the online update over the training events; 0 = the tuned default for the
  // model and protocol. prequential is always one pass.
  uint32_t epochs = 0;
  uint64_t seed = 42;
  // Model hyper-parameters; unset ones keep the tuned defaults.
  models::ParamMap params;
  // Cut-off of the ranking metrics.
  uint32_t k = 10;
  // ranking-split: fraction of each user's events that go to training.
  double train_ratio = 0.75;
  // loo-sampled: negatives per test item, and most users evaluated.
  uint32_t sampled_negatives = 100;
  uint32_t max_users = 10'000;
  // Progress lines on stderr.
  bool progress = true;
  // session-next: keep training online through the test stream (reported separately).
  bool online = false;
  // bandit-sim: the exploration policy (thompson | linucb | egreedy | random) and the number of
  // exploration slots in each top-k; ope: the logged folder and the evaluated policy's logs.
  std::string policy = "thompson";
  uint32_t explore = 1;
};

// Runs one evaluation; the JSON has protocol, data, model, params, metrics, events_per_s.
Result<nlohmann::json> RunEval(const EvalOptions& options);

// Registers `eval` on the CLI.
void AddEvalCommand(CLI::App& app);

}  // namespace streamrec::tools
