#include "models/user_history.h"

namespace streamrec::models {
namespace {
constexpr uint32_t kMagic = Magic("SRUH");
constexpr uint32_t kVersion = 1;
}  // namespace

bool UserHistory::Add(UserIndex user, ItemIndex item) {
  if (user >= users_.size()) users_.resize(static_cast<size_t>(user) + 1);
  Entry& e = users_[user];
  auto it = std::lower_bound(e.sorted.begin(), e.sorted.end(), item);
  if (it != e.sorted.end() && *it == item) return false;
  e.sorted.insert(it, item);
  e.ordered.push_back(item);
  ++total_;
  return true;
}

void UserHistory::Clear(UserIndex user) {
  if (user >= users_.size()) return;
  total_ -= users_[user].ordered.size();
  users_[user] = Entry{};
}

void UserHistory::SaveUser(UserIndex user, ByteWriter* w) const {
  auto items = Items(user);
  w->PutVarint(items.size());
  for (ItemIndex i : items) w->PutVarint(i);
}

Status UserHistory::LoadUser(UserIndex user, ByteReader* r) {
  uint64_t n;
  if (!r->GetVarint(&n) || n > r->remaining()) return Status::Corruption("user history: truncated");
  Clear(user);
  for (uint64_t k = 0; k < n; ++k) {
    uint64_t item;
    if (!r->GetVarint(&item) || item >= kNoIndex)
      return Status::Corruption("user history: truncated");
    if (!Add(user, static_cast<ItemIndex>(item)))
      return Status::Corruption("user history: duplicate item");
  }
  return Status::Ok();
}

void UserHistory::Save(ByteWriter* w) const {
  w->PutHeader(kMagic, kVersion);
  w->PutVarint(users_.size());
  for (const Entry& e : users_) {
    w->PutVarint(e.ordered.size());
    for (ItemIndex i : e.ordered) w->PutVarint(i);
  }
}

Status UserHistory::Load(ByteReader* r) {
  uint32_t version;
  STREAMREC_RETURN_IF_ERROR(r->ExpectHeader(kMagic, kVersion, "user history", &version));
  uint64_t n_users;
  if (!r->GetVarint(&n_users) || n_users > r->remaining()) {
    return Status::Corruption("user history: bad user count");
  }
  UserHistory h;
  h.users_.resize(n_users);
  for (uint64_t u = 0; u < n_users; ++u) {
    uint64_t n;
    if (!r->GetVarint(&n) || n > r->remaining())
      return Status::Corruption("user history: truncated");
    for (uint64_t k = 0; k < n; ++k) {
      uint64_t item;
      if (!r->GetVarint(&item) || item >= kNoIndex) {
        return Status::Corruption("user history: truncated");
      }
      if (!h.Add(static_cast<UserIndex>(u), static_cast<ItemIndex>(item))) {
        return Status::Corruption("user history: duplicate item");
      }
    }
  }
  *this = std::move(h);
  return Status::Ok();
}

}  // namespace streamrec::models
