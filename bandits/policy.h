// Policy: the interface every exploration policy implements (Thompson sampling, hybrid LinUCB,
// ε-greedy, uniform random). A policy keeps one arm per slot of the ExplorationPool (slots are
// dense indices the pool assigns to cold items) and chooses which arms fill a request's
// exploration slots. Policies are pure computation: randomness comes from a caller-seeded Rng,
// time is passed in (microseconds since the epoch), nothing does I/O or starts threads.
//
// Thread safety: Select and Mean are const and may run concurrently with each other, each
// caller with its own SelectScratch; ResetArm, Update and Load* need exclusive access (the
// daemon's model lock).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bandits/feature_hasher.h"
#include "common/coding.h"
#include "common/rng.h"
#include "common/status.h"
#include "common/topk.h"

namespace streamrec::bandits {

// Dense arm index (the ExplorationPool's slot of a cold item).
using ArmIndex = uint32_t;

// Hyper-parameters by name, as given by flags or a config file (same shape as models' ParamMap).
using BanditParams = std::map<std::string, double>;

// What a policy may know about the user of a request.
struct UserContext {
  // The user's ranking-model embedding (BPR row, `dim` floats); empty for an unknown user.
  std::span<const float> embedding;
};

// One chosen arm.
struct Selection {
  ArmIndex arm = 0;
  // The policy's score (posterior draw, UCB, mean, or uniform draw), for debugging.
  float score = 0.0f;
  // Probability that this arm was among the chosen ones, given what the policy documents it
  // conditions on (see each policy), for off-policy estimates from the served log.
  double propensity = 1.0;
};

// Per-call buffers, one per serving thread: grown on first use, reused afterwards so that a
// request allocates nothing in steady state.
struct SelectScratch {
  std::vector<float> scores;
  std::vector<ScoredItem> top;
  std::vector<uint32_t> order;
  std::vector<float> arm_scores;  // a policy's scores of all its arms (LinUCB)
  // Used by ExplorationPool: candidate arms, and exclusion marks by slot (== epoch: excluded).
  std::vector<ArmIndex> candidates;
  std::vector<uint32_t> mark;
  uint32_t epoch = 0;
  std::vector<Selection> selections;
};

class Policy {
 public:
  virtual ~Policy() = default;

  // "thompson", "linucb", "egreedy", "random"; the HTTP `source` is "explore:" + name().
  virtual std::string_view name() const = 0;

  // Makes slot `arm` a fresh arm at the prior, for an item whose hashed features are `f`.
  // Grows the policy's arrays when `arm` is new.
  virtual void ResetArm(ArmIndex arm, const SparseFeatures& f) = 0;

  // Appends to *out min(k, candidates.size()) distinct arms of `candidates`, best first.
  // `now_micros` is the request time (decay). Every random draw comes from `rng`.
  virtual void Select(const UserContext& user, std::span<const ArmIndex> candidates, uint32_t k,
                      int64_t now_micros, Rng& rng, SelectScratch* scratch,
                      std::vector<Selection>* out) const = 0;

  // One reward (1 = clicked, 0 = not within the attribution window) of `arm` shown to `user`;
  // `ts_micros` is the time of the impression.
  virtual void Update(const UserContext& user, ArmIndex arm, float reward, int64_t ts_micros) = 0;

  // The policy's point estimate of the arm's click probability for `user` (posterior mean, or
  // the linear prediction for LinUCB), for reports and tests.
  virtual double Mean(const UserContext& user, ArmIndex arm, int64_t now_micros) const = 0;

  // Persistence. Globals hold the options that shape the state and any shared state (LinUCB's
  // A0, b0); one record per arm holds that arm's posterior. LoadGlobals first, then the arms
  // (each after ResetArm with its features, which the pool stores). Same inputs, same bytes.
  virtual void SaveGlobals(ByteWriter* w) const = 0;
  virtual Status LoadGlobals(ByteReader* r) = 0;
  virtual void SaveArm(ArmIndex arm, ByteWriter* w) const = 0;
  virtual Status LoadArm(ArmIndex arm, ByteReader* r) = 0;
};

// Builds a policy by name ("thompson", "linucb", "egreedy", "random") with defaults overridden
// by `params` (names as in each policy's Options::Apply). `feature_dim` is the dimension items'
// features are hashed into (the pool's). InvalidArgument for an unknown name or parameter; when
// `effective` is given it receives every hyper-parameter's value as used.
Result<std::unique_ptr<Policy>> MakePolicy(std::string_view name, const BanditParams& params,
                                           uint32_t feature_dim, uint32_t embedding_dim,
                                           BanditParams* effective = nullptr);

// Reads named parameters into option fields and reports unknown or out-of-range ones.
class BanditParamReader {
 public:
  BanditParamReader(const BanditParams& params, BanditParams* effective)
      : params_(params), effective_(effective) {}
  void Read(const std::string& name, double* field, double min, double max);
  void Read(const std::string& name, uint32_t* field, uint32_t min, uint32_t max);
  // Names this reader has taken (for callers that split one map between components).
  const std::vector<std::string>& used() const { return used_; }
  // InvalidArgument naming the out-of-range parameters; Ok otherwise.
  Status Finish(std::string_view what) const;

 private:
  const BanditParams& params_;
  BanditParams* effective_;
  std::vector<std::string> used_;
  std::string errors_;
};

}  // namespace streamrec::bandits
