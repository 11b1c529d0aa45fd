#include "models/embedding_session_model.h"

#include <algorithm>
#include <string>

namespace streamrec::models {

EmbeddingSessionModel::EmbeddingSessionModel(uint32_t dim, float init_std, bool user_term,
                                             uint32_t max_len, const SessionHeadOptions& head,
                                             uint64_t user_salt, uint64_t input_salt,
                                             uint64_t head_salt)
    : user_term_(user_term),
      p_(dim, init_std, user_salt),
      e_(dim, init_std, input_salt),
      head_(dim, init_std, head_salt, max_len, head) {}

void EmbeddingSessionModel::EnsureUsers(uint32_t n) {
  if (n > p_.rows()) {
    dirty_users_.MarkRange(p_.rows(), n);
    p_.EnsureRows(n);
  }
}

void EmbeddingSessionModel::EnsureItems(uint32_t n) {
  dirty_items_.MarkRange(std::min(e_.rows(), head_.items()), n);
  if (n > e_.rows()) e_.EnsureRows(n);
  head_.EnsureItems(n);
}

void EmbeddingSessionModel::ScoreNext(UserIndex user, std::span<const ItemIndex> recent,
                                      std::span<float> out) const {
  thread_local std::vector<float> h;
  h.resize(head_.stride());
  Query(user, recent, h.data());
  head_.Score(h.data(), recent, out);
}

void EmbeddingSessionModel::ForgetUser(UserIndex user) {
  if (user >= p_.rows()) return;
  p_.ResetRow(user);
  dirty_users_.Mark(user);
}

void EmbeddingSessionModel::SaveSharedGlobals(ByteWriter* w) const {
  w->PutU32(p_.rows());
  head_.SaveGlobals(w);
}

Status EmbeddingSessionModel::LoadSharedGlobals(ByteReader* r, uint32_t* users) {
  if (!r->GetU32(users)) return Status::Corruption(std::string(name()) + " globals: truncated");
  return head_.LoadGlobals(r);
}

void EmbeddingSessionModel::FinishLoadGlobals(uint32_t users) {
  EnsureUsers(users);
  EnsureItems(head_.items());
}

void EmbeddingSessionModel::SaveUserRow(UserIndex u, ByteWriter* w) const {
  if (u >= p_.rows()) return;
  w->PutFloats({p_.Row(u), p_.dim()});
}

Status EmbeddingSessionModel::LoadUserRow(UserIndex u, ByteReader* r) {
  EnsureUsers(u + 1);
  if (!r->GetFloats({p_.Row(u), p_.dim()})) {
    return Status::Corruption(std::string(name()) + " user row: truncated");
  }
  return Status::Ok();
}

void EmbeddingSessionModel::SaveItemRow(ItemIndex i, ByteWriter* w) const {
  if (i >= head_.items()) return;
  w->PutFloats({e_.Row(i), e_.dim()});
  head_.SaveItemRow(i, w);
}

Status EmbeddingSessionModel::LoadItemRow(ItemIndex i, ByteReader* r) {
  EnsureItems(i + 1);
  if (!r->GetFloats({e_.Row(i), e_.dim()})) {
    return Status::Corruption(std::string(name()) + " item row: truncated");
  }
  return head_.LoadItemRow(i, r);
}

void EmbeddingSessionModel::TakeDirty(std::vector<UserIndex>* users,
                                      std::vector<ItemIndex>* items) {
  dirty_users_.Take(users);
  dirty_items_.Take(items);
}

}  // namespace streamrec::models
