#include "daemon/scoring_snapshot.h"

#include <utility>

namespace streamrec::daemon {

ScoringSnapshot::ScoringSnapshot(uint32_t bpr_dim, uint32_t head_dim) : has_head_(head_dim > 0) {
  for (int side = 0; side < 2; ++side) {
    sides_.Write([&](ScoringTables& t, int) {
      t.bpr = models::ScoreTable(bpr_dim);
      t.head = models::ScoreTable(head_dim);
    });
  }
}

template <typename RowFn>
void ScoringSnapshot::Sync(models::ScoreTable& table, uint32_t rows, const Changes& changes,
                           RowFn set) {
  const uint32_t old = table.rows();
  if (rows > old) {
    table.Resize(rows);
    for (uint32_t r = old; r < rows; ++r) set(r);
  }
  for (const std::vector<ItemIndex>* list : {&changes.last, &changes.now}) {
    for (ItemIndex r : *list) {
      if (r < old && r < rows) set(r);
    }
  }
}

void ScoringSnapshot::Publish(models::BPR& bpr, models::EmbeddingSessionModel* head) {
  bpr_.now.clear();
  head_.now.clear();
  bpr.TakeScoreDirty(&bpr_.now);
  if (has_head_ && head != nullptr) head->TakeScoreDirty(&head_.now);
  const models::SessionHead* h = has_head_ && head != nullptr ? &head->head() : nullptr;
  sides_.Write([&](ScoringTables& t, int) {
    Sync(t.bpr, bpr.items().rows(), bpr_,
         [&](ItemIndex i) { t.bpr.Set(i, bpr.items().Row(i), bpr.item_bias(i)); });
    if (h != nullptr) {
      Sync(t.head, h->items(), head_,
           [&](ItemIndex i) { t.head.Set(i, h->outputs().Row(i), h->ScoreBias(i)); });
    }
  });
  std::swap(bpr_.last, bpr_.now);
  std::swap(head_.last, head_.now);
}

}  // namespace streamrec::daemon
