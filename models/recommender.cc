#include "models/recommender.h"

#include <cmath>

#include "models/bpr.h"
#include "models/item_knn.h"
#include "models/mf.h"
#include "models/popularity.h"

namespace streamrec::models {

float Recommender::PredictRating(UserIndex, ItemIndex) const { return std::nanf(""); }

namespace {
template <typename Model, typename Options>
Result<std::unique_ptr<Recommender>> Make(const ParamMap& params, ParamMap* effective) {
  Options options;
  Status st = options.Apply(params, effective);
  if (!st.ok()) return st;
  return std::unique_ptr<Recommender>(std::make_unique<Model>(options));
}
}  // namespace

Result<std::unique_ptr<Recommender>> MakeRecommender(std::string_view name, const ParamMap& params,
                                                     ParamMap* effective) {
  if (name == "mf") return Make<BiasedMF, MFOptions>(params, effective);
  if (name == "bpr") return Make<BPR, BPROptions>(params, effective);
  if (name == "pop" || name == "popular")
    return Make<Popularity, PopularityOptions>(params, effective);
  if (name == "itemknn") return Make<ItemKNN, ItemKNNOptions>(params, effective);
  return Status::InvalidArgument("unknown model '" + std::string(name) +
                                 "' (known: mf, bpr, pop, itemknn)");
}

}  // namespace streamrec::models
