// `streamrec gen`: a synthetic event stream with planted structure, in the wire format of
// DESIGN.md (one JSON object per line), for demos, benchmarks and tests of the learners.
//
// The planted structure (what a good recommender should find):
//   - `clusters` latent clusters; every item belongs to one, round-robin over a random order.
//   - Item popularity is Zipf(`zipf`) over a random ranking of the items.
//   - Each user prefers one cluster (85% of sessions) or two (60% / 30%); the rest of the
//     sessions go to a uniformly random cluster.
//   - User activity is Zipf(`user_zipf`): a user's mean gap between sessions is
//     session_gap_s / activity, activity normalized to a mean of 1.
//   - A session (id "s<N>") is a burst of 1 + Geometric events seconds to minutes apart, in one
//     cluster. Its first item is drawn by popularity within the cluster; each next item is, with
//     probability 0.55, the successor of the previous one in a planted order of the cluster's
//     items (a next-item model can learn it), else a popular item of the cluster (0.35) or of
//     the whole catalog (0.10). An add_to_cart is followed by a purchase of the same item 40% of
//     the time.
//   - Event types: about `rating_fraction` ratings, the rest click 70%, view 15%,
//     add_to_cart 10%, purchase 5%. A rating is an integer 1..5 that grows with the user's
//     preference for the item's cluster, plus an item quality, a user bias and noise. A user
//     never rates an item twice (such a draw becomes a click instead).
// Output: first one `item` event per item ("i<N>", features "genre:c<K>":1 and "year"), at
// start_ts, then `events` user events ("u<N>") sorted by timestamp (integer seconds, never
// decreasing). Deterministic for a given GenOptions (seed included).
#pragma once

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>

#include "common/status.h"

namespace streamrec::tools {

// Parameters of the synthetic stream. Validate() before use.
struct GenOptions {
  // Number of users, ids u0..u<users-1>. In [1, 50'000'000].
  uint32_t users = 1000;
  // Number of items, ids i0..i<items-1>. In [1, 50'000'000].
  uint32_t items = 1000;
  // Number of user events (ratings and implicit events), after the `items` item events.
  uint64_t events = 100000;
  // Seed of every random draw; the same options give byte-identical output.
  uint64_t seed = 1;
  // Approximate fraction of user events that are ratings, in [0, 1].
  double rating_fraction = 0.2;
  // Number of latent clusters, in [1, items].
  uint32_t clusters = 20;
  // Zipf exponent of item popularity, in [0, 4]; 0 is uniform, larger is more skewed.
  double zipf = 1.0;
  // Zipf exponent of user activity, in [0, 4].
  double user_zipf = 0.8;
  // Mean gap between two sessions of a user of average activity, in seconds (> 0).
  double session_gap_s = 86400.0;
  // Mean number of events of a session, in [1, 1000].
  double mean_session_events = 6.0;
  // Timestamp of the item events; user events follow. Seconds since the epoch.
  int64_t start_ts = 1700000000;

  // InvalidArgument naming the flag (e.g. "--users must be in [1, 50000000]") when out of range,
  // including when the stream would not end before the year 2100.
  Status Validate() const;
};

// Produces the stream one line at a time. Memory is O(users + items + ratings); no allocation
// per event once the output string has grown.
//
// Thread safety: not thread-safe.
class EventGenerator {
 public:
  // REQUIRES: options.Validate().ok().
  explicit EventGenerator(const GenOptions& options);
  ~EventGenerator();
  EventGenerator(const EventGenerator&) = delete;
  EventGenerator& operator=(const EventGenerator&) = delete;

  // Appends the next event as one JSON line, '\n' included, to *out. Returns false (appending
  // nothing) once items + events lines have been produced.
  bool Next(std::string* out);

  // Lines produced so far.
  uint64_t lines() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Validates `options` and writes the whole stream to `out` in large chunks. IOError when the
// stream fails.
Status Generate(const GenOptions& options, std::ostream& out);

}  // namespace streamrec::tools
