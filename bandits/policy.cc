#include "bandits/policy.h"

#include <algorithm>
#include <cmath>

#include "bandits/epsilon_greedy.h"
#include "bandits/lin_ucb.h"
#include "bandits/thompson.h"
#include "bandits/uniform_random.h"

namespace streamrec::bandits {

void BanditParamReader::Read(const std::string& name, double* field, double min, double max) {
  auto it = params_.find(name);
  if (it != params_.end()) {
    used_.push_back(name);
    if (!(it->second >= min && it->second <= max)) {
      errors_ +=
          " " + name + " (must be in [" + std::to_string(min) + ", " + std::to_string(max) + "])";
    } else {
      *field = it->second;
    }
  }
  if (effective_ != nullptr) (*effective_)[name] = *field;
}

void BanditParamReader::Read(const std::string& name, uint32_t* field, uint32_t min, uint32_t max) {
  double v = *field;
  Read(name, &v, min, max);
  if (v != std::floor(v)) {
    errors_ += " " + name + " (must be an integer)";
    return;
  }
  *field = static_cast<uint32_t>(v);
}

Status BanditParamReader::Finish(std::string_view what) const {
  if (errors_.empty()) return Status::Ok();
  return Status::InvalidArgument(std::string(what) + ": bad parameter" + errors_);
}

namespace {
// InvalidArgument naming every parameter no reader took.
Status CheckUnknown(const BanditParams& params, const BanditParams& known, std::string_view what) {
  std::string unknown;
  for (const auto& [name, value] : params) {
    if (!known.count(name)) unknown += " " + name;
  }
  if (unknown.empty()) return Status::Ok();
  return Status::InvalidArgument(std::string(what) + ": unknown parameter" + unknown);
}
}  // namespace

Result<std::unique_ptr<Policy>> MakePolicy(std::string_view name, const BanditParams& params,
                                           uint32_t feature_dim, uint32_t embedding_dim,
                                           BanditParams* effective) {
  BanditParams used;
  std::unique_ptr<Policy> policy;
  if (name == "thompson") {
    ThompsonOptions o;
    STREAMREC_RETURN_IF_ERROR(o.Apply(params, &used));
    policy = std::make_unique<ThompsonPolicy>(o);
  } else if (name == "linucb") {
    LinUcbOptions o;
    o.dim = feature_dim;
    o.embedding_dim = embedding_dim;
    STREAMREC_RETURN_IF_ERROR(o.Apply(params, &used));
    policy = std::make_unique<LinUcbPolicy>(o);
  } else if (name == "egreedy") {
    EpsilonGreedyOptions o;
    STREAMREC_RETURN_IF_ERROR(o.Apply(params, &used));
    policy = std::make_unique<EpsilonGreedyPolicy>(o);
  } else if (name == "random") {
    policy = std::make_unique<UniformRandomPolicy>();
  } else {
    return Status::InvalidArgument("unknown policy '" + std::string(name) +
                                   "' (known: thompson, linucb, egreedy, random)");
  }
  STREAMREC_RETURN_IF_ERROR(CheckUnknown(params, used, name));
  if (effective != nullptr) effective->insert(used.begin(), used.end());
  return policy;
}

}  // namespace streamrec::bandits
