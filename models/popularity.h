// Popularity: exponentially decayed interaction counts per item (trending), or plain all-time
// counts when half_life_s is 0. The cold-user fallback and the `pop` baseline.
//
// Decay without touching every item per event: counts are kept in units of a reference time
// t_ref; an event at time t adds w·2^((t - t_ref)/half_life). All items share the factor, so
// ranking uses the stored values directly; they are rescaled (t_ref moved) before they overflow.
#pragma once

#include <vector>

#include "models/recommender.h"

namespace streamrec::models {

struct PopularityOptions {
  // Half-life of an interaction's contribution, seconds; 0 = no decay (all-time counts).
  float half_life_s = 0.0f;
  Status Apply(const ParamMap& params, ParamMap* effective = nullptr);
};

class Popularity final : public Recommender {
 public:
  explicit Popularity(const PopularityOptions& options) : options_(options) {}

  std::string_view name() const override { return "popular"; }
  void Observe(const Interaction& x, const UserHistory& history, uint64_t seed) override;
  // Same list for every user: the decayed counts.
  void ScoreItems(UserIndex user, const UserHistory& history, std::span<float> out) const override;
  void ForgetUser(UserIndex) override {}
  void Save(ByteWriter* w) const override;
  Status Load(ByteReader* r) override;

  void Add(ItemIndex item, float weight, double ts_seconds);
  // Decayed count of `item` as of the latest event time seen.
  double Count(ItemIndex item) const;
  uint32_t items() const { return static_cast<uint32_t>(values_.size()); }

 private:
  PopularityOptions options_;
  std::vector<double> values_;
  double t_ref_ = 0.0;     // reference time of values_, seconds
  double t_latest_ = 0.0;  // latest event time seen
  bool has_ref_ = false;
};

}  // namespace streamrec::models
