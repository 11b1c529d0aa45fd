#include "daemon/model_state.h"

namespace streamrec::daemon {

Result<std::unique_ptr<ModelState>> ModelState::Create(const Config& config) {
  auto live = LiveModel::Create(config);
  if (!live.ok()) return live.status();
  return std::unique_ptr<ModelState>(new ModelState(std::move(*live)));
}

ModelState::ModelState(std::unique_ptr<LiveModel> live)
    : live_(std::move(live)), checkpoint_(*live_), ranker_(*live_), write_(*live_) {}

Status ModelState::Restore(const state::StateReader& store) {
  STREAMREC_RETURN_IF_ERROR(checkpoint_.Restore(store));
  write_.Publish();
  return Status::Ok();
}

}  // namespace streamrec::daemon
