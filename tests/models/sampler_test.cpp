#include <catch2/catch.hpp>
#include <map>
#include <vector>

#include "common/rng.h"
#include "models/flat_counter.h"
#include "models/sampler.h"
#include "models/user_history.h"

namespace streamrec::models {

TEST_CASE("WeightedSampler draws in proportion to weight, across growth and updates", "[sampler]") {
  WeightedSampler s;
  s.Set(0, 1.0);
  s.Set(2, 3.0);
  s.Set(9, 6.0);  // grows past a power of two
  s.Set(0, 0.0);
  s.Set(0, 2.0);
  CHECK(s.total() == Approx(11.0));
  Rng rng(5);
  std::vector<int> hits(10, 0);
  const int n = 200000;
  for (int i = 0; i < n; ++i) ++hits[s.Sample(rng)];
  CHECK(hits[1] == 0);
  CHECK(hits[0] / double(n) == Approx(2.0 / 11).margin(0.01));
  CHECK(hits[2] / double(n) == Approx(3.0 / 11).margin(0.01));
  CHECK(hits[9] / double(n) == Approx(6.0 / 11).margin(0.01));
}

TEST_CASE("FlatCounter matches std::map on random operations", "[sampler]") {
  FlatCounter fc;
  std::map<ItemIndex, float> ref;
  Rng rng(11);
  for (int i = 0; i < 20000; ++i) {
    const ItemIndex k = rng.Uniform(3000);
    fc.Add(k, 1.0f);
    ref[k] += 1.0f;
  }
  CHECK(fc.size() == ref.size());
  for (const auto& [k, v] : ref) CHECK(fc.Get(k) == v);
  CHECK(fc.Get(5000) == 0.0f);
  size_t seen = 0;
  fc.ForEach([&](ItemIndex k, float v) {
    ++seen;
    CHECK(ref.at(k) == v);
  });
  CHECK(seen == ref.size());
}

TEST_CASE("UserHistory keeps order and membership, and round-trips save/load", "[history]") {
  UserHistory h;
  CHECK(h.Add(3, 10));
  CHECK(h.Add(3, 5));
  CHECK_FALSE(h.Add(3, 10));
  CHECK(h.Contains(3, 5));
  CHECK_FALSE(h.Contains(2, 5));
  CHECK(h.Items(3).size() == 2);
  CHECK(h.Items(3)[0] == 10);
  CHECK(h.Items(99).empty());
  std::string bytes;
  ByteWriter w(&bytes);
  h.Save(&w);
  UserHistory back;
  ByteReader r(bytes);
  REQUIRE(back.Load(&r).ok());
  CHECK(back.Items(3)[1] == 5);
  CHECK(back.total() == 2);
  std::string row;
  ByteWriter rw(&row);
  h.SaveUser(3, &rw);
  UserHistory one;
  ByteReader rr(row);
  REQUIRE(one.LoadUser(3, &rr).ok());
  CHECK(one.Items(3)[0] == 10);
  CHECK(one.Contains(3, 5));
  h.Clear(3);
  CHECK(h.total() == 0);
  CHECK_FALSE(h.Contains(3, 5));
}

}  // namespace streamrec::models
