// ScoringSnapshot: what /v1/recommend scores every item against without the model lock:
// int8 copies (ScoreTable) of BPR's item table and of the session head's, kept in two sides
// (LeftRight). HTTP threads score the active side while the consumer thread brings the other up
// to date and flips it, so the catalog-wide passes — nearly all of a request's time — never wait
// for the writer, and the writer never waits for them (only, rarely, for a reader still on the
// side it is about to write, one that began before the previous flip).
//
// Freshness: the consumer publishes every 250 ms while events flow (longer when a publish is
// costly: 25 times its duration, ~0.5 s at 100k items) and at once when it goes idle
// (EventApplier::Publish), and counts an event as applied only once it is published.
// Scores read from a side are approximate (int8); the read path rescores its best
// candidates exactly from the live model (ModelState::Recommend).
#pragma once

#include <cstdint>
#include <vector>

#include "common/types.h"
#include "daemon/left_right.h"
#include "models/bpr.h"
#include "models/embedding_session_model.h"
#include "models/score_table.h"

namespace streamrec::daemon {

struct ScoringTables {
  models::ScoreTable bpr;  // BPR: q_i with the item bias
  models::ScoreTable
      head;  // the session head: f_i with its bias (empty without an embedding model)
};

class ScoringSnapshot {
 public:
  // `head_dim` 0: no session head is copied.
  ScoringSnapshot(uint32_t bpr_dim, uint32_t head_dim);

  // Any thread: a hold on the active side, released when the guard goes.
  LeftRight<ScoringTables>::Guard Read() const { return sides_.Read(); }

  // Writer thread only (it alone mutates the models): copies every item row whose scores
  // changed since the inactive side was last written, and rows the tables grew by, then makes
  // that side active. `head` may be null.
  void Publish(models::BPR& bpr, models::EmbeddingSessionModel* head);

 private:
  // One table's rows taken at the previous publish (written into one side only) and now.
  struct Changes {
    std::vector<ItemIndex> last, now;
  };
  template <typename RowFn>
  static void Sync(models::ScoreTable& table, uint32_t rows, const Changes& changes, RowFn set);

  LeftRight<ScoringTables> sides_;
  Changes bpr_, head_;
  bool has_head_;
};

}  // namespace streamrec::daemon
