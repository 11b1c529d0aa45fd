#include "models/session_model.h"

#include "models/fpmc.h"
#include "models/sasrec_lite.h"
#include "models/session_knn.h"

namespace streamrec::models {
namespace {
template <typename Model, typename Options>
Result<std::unique_ptr<SessionModel>> Make(const ParamMap& params, ParamMap* effective) {
  Options options;
  Status st = options.Apply(params, effective);
  if (!st.ok()) return st;
  return std::unique_ptr<SessionModel>(std::make_unique<Model>(options));
}
}  // namespace

bool IsSessionModel(std::string_view name) {
  return name == "fpmc" || name == "sasrec-lite" || name == "sknn";
}

Result<std::unique_ptr<SessionModel>> MakeSessionModel(std::string_view name,
                                                       const ParamMap& params,
                                                       ParamMap* effective) {
  if (name == "fpmc") return Make<FPMC, FPMCOptions>(params, effective);
  if (name == "sasrec-lite") return Make<SASRecLite, SASRecLiteOptions>(params, effective);
  if (name == "sknn") return Make<SessionKNN, SessionKNNOptions>(params, effective);
  return Status::InvalidArgument("unknown session model '" + std::string(name) +
                                 "' (known: fpmc, sasrec-lite, sknn)");
}

}  // namespace streamrec::models
