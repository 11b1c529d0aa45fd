#include "daemon/live_model.h"

namespace streamrec::daemon {

Result<std::unique_ptr<LiveModel>> LiveModel::Create(const Config& config) {
  models::MFOptions mf;
  models::BPROptions bpr;
  models::PopularityOptions pop;
  STREAMREC_RETURN_IF_ERROR(mf.Apply(config.mf));
  STREAMREC_RETURN_IF_ERROR(bpr.Apply(config.bpr));
  STREAMREC_RETURN_IF_ERROR(pop.Apply(config.pop));
  auto sessions = SessionState::Create(config.session);
  if (!sessions.ok()) return sessions.status();
  auto m = std::make_unique<LiveModel>(config);
  // Nothing else can see the model yet; the locks only satisfy the analysis.
  WriteLock l(m->lock);
  WriteLock lb(m->bpr_lock);
  WriteLock ls(m->session_lock);
  m->mf = std::make_unique<models::BiasedMF>(mf);
  m->pop = std::make_unique<models::Popularity>(pop);
  m->bpr = std::make_unique<models::BPR>(bpr);
  m->sessions = std::move(*sessions);
  if (config.bandit.enabled()) {
    auto explore = Exploration::Create(config.bandit, &m->bpr->users());
    if (!explore.ok()) return explore.status();
    m->explore = std::move(*explore);
    m->bandit_policy = std::string(m->explore->policy());
  } else {
    m->bandit_policy = "none";
  }
  m->exploring = m->explore != nullptr;
  models::SessionModel* const sm = m->sessions->model();
  m->session_model_name = sm != nullptr ? std::string(sm->name()) : "none";
  m->embedding_model = dynamic_cast<models::EmbeddingSessionModel*>(sm);
  const uint32_t head_dim = m->embedding_model != nullptr ? m->embedding_model->head().dim() : 0;
  if (config.scoring_snapshot) {
    m->snapshot = std::make_unique<ScoringSnapshot>(m->bpr->items().dim(), head_dim);
  }
  return m;
}

}  // namespace streamrec::daemon
