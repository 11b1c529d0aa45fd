#include "common/index_set.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/rng.h"

namespace streamrec {
namespace {

using Names = std::vector<std::string>;
std::string_view NameAt(const Names& names, uint32_t i) { return names[i]; }
using NameSet = IndexSet<Names, std::string_view, &NameAt>;
using Keys = std::vector<uint64_t>;
uint64_t KeyAt(const Keys& keys, uint32_t i) { return keys[i]; }

TEST_CASE("IndexSet: finds each index by the key at it, through growth", "[index_set]") {
  Names names;
  NameSet set;
  for (uint32_t i = 0; i < 50'000; ++i) {
    names.push_back("id" + std::to_string(i));
    bool inserted = false;
    CHECK(set.FindOrInsert(names, names[i], HashKey32(names[i]), i, &inserted) == i);
    CHECK(inserted);
  }
  CHECK(set.size() == 50'000);
  for (uint32_t i = 0; i < 50'000; i += 97)
    CHECK(set.Find(names, names[i], HashKey32(names[i])) == i);
  CHECK(set.Find(names, "id-1", HashKey32("id-1")) == NameSet::kAbsent);
  // A key already there keeps its index.
  bool inserted = true;
  CHECK(set.FindOrInsert(names, "id7", HashKey32("id7"), 99'999, &inserted) == 7);
  CHECK_FALSE(inserted);
}

TEST_CASE("IndexSet: keys whose hashes collide are told apart by the table", "[index_set]") {
  Names names = {"a", "b", "c"};
  NameSet set;
  bool inserted;
  // All three under one hash: the set must compare the keys themselves.
  for (uint32_t i = 0; i < 3; ++i) set.FindOrInsert(names, names[i], 42, i, &inserted);
  CHECK(set.size() == 3);
  CHECK(set.Find(names, "b", 42) == 1);
  CHECK(set.Find(names, "c", 42) == 2);
  CHECK(set.Find(names, "d", 42) == NameSet::kAbsent);
  set.Erase(42, 1);
  CHECK(set.Find(names, "b", 42) == NameSet::kAbsent);
  CHECK(set.Find(names, "a", 42) == 0);
  CHECK(set.Find(names, "c", 42) == 2);
}

TEST_CASE("IndexSet: random inserts and erases agree with std::map", "[index_set]") {
  IndexSet<Keys, uint64_t, &KeyAt> set;
  Keys keys;
  std::map<uint64_t, uint32_t> ref;
  Rng rng(7);
  for (int step = 0; step < 20'000; ++step) {
    const uint64_t key = rng.Next() % 3000;
    const auto it = ref.find(key);
    if (it != ref.end() && rng.Next() % 2 == 0) {
      set.Erase(HashKey32(key), it->second);
      ref.erase(it);
    } else if (it == ref.end()) {
      keys.push_back(key);
      const auto index = static_cast<uint32_t>(keys.size() - 1);
      set.InsertNew(HashKey32(key), index);
      ref[key] = index;
    }
    if (step % 1000 == 0) {
      for (uint64_t k = 0; k < 3000; ++k) {
        const auto r = ref.find(k);
        CHECK(set.Find(keys, k, HashKey32(k)) == (r == ref.end() ? set.kAbsent : r->second));
      }
    }
  }
  CHECK(set.size() == ref.size());
}

TEST_CASE("IndexSet: a copy looks up in the table it is given", "[index_set]") {
  Names names = {"x", "y"};
  NameSet set;
  bool inserted;
  set.FindOrInsert(names, "x", HashKey32("x"), 0, &inserted);
  set.FindOrInsert(names, "y", HashKey32("y"), 1, &inserted);
  const Names copy_names = names;
  const NameSet copy = set;
  names.clear();  // the original table is gone; the copy's lookups use copy_names
  CHECK(copy.Find(copy_names, "y", HashKey32("y")) == 1);
  CHECK(copy.Find(copy_names, "x", HashKey32("x")) == 0);
}

}  // namespace
}  // namespace streamrec
