#include "common/ids.h"

#include <catch2/catch.hpp>
#include <map>
#include <set>

#include "common/rng.h"

namespace streamrec {

TEST_CASE("IdMap assigns dense indices in order of first sight", "[ids]") {
  IdMap m;
  CHECK(m.Intern("u42") == 0);
  CHECK(m.Intern("u7") == 1);
  CHECK(m.Intern("u42") == 0);
  CHECK(m.Find("u7") == 1);
  CHECK(m.Find("nope") == kNoIndex);
  CHECK(m.Name(1) == "u7");
  CHECK(m.size() == 2);
}

TEST_CASE("IdMap erase retires an index and never reuses it", "[ids]") {
  IdMap m;
  m.Intern("a");
  m.Intern("b");
  CHECK(m.Erase("a"));
  CHECK_FALSE(m.Erase("a"));
  CHECK(m.Find("a") == kNoIndex);
  CHECK(m.Intern("a") == 2);
  CHECK(m.live() == 2);
  CHECK(m.size() == 3);
}

TEST_CASE("IdMap restores ids one by one in index order", "[ids]") {
  IdMap m;
  REQUIRE(m.PushRestored("a").ok());
  REQUIRE(m.PushRestored("").ok());  // an erased index
  REQUIRE(m.PushRestored("c").ok());
  CHECK(m.Find("c") == 2);
  CHECK(m.Intern("d") == 3);
  CHECK_FALSE(m.PushRestored("a").ok());
  CHECK(m.size() == 4);  // the refused duplicate took no index
  CHECK(m.Find("a") == 0);
}

TEST_CASE("IdMap copies and moves as a value", "[ids]") {
  // The index compares candidates with the names of the map it belongs to: a copy or a moved-to
  // map must answer from its own names, also after either side changes.
  IdMap a;
  for (int i = 0; i < 5000; ++i) a.Intern("u" + std::to_string(i));
  IdMap copy = a;
  CHECK(copy.Erase("u1"));
  CHECK(copy.Intern("new") == 5000);
  for (int i = 5000; i < 20'000; ++i) a.Intern("u" + std::to_string(i));  // grows a only
  CHECK(a.Find("u1") == 1);
  CHECK(a.Find("new") == kNoIndex);
  CHECK(copy.Find("u1") == kNoIndex);
  CHECK(copy.Find("u4999") == 4999);
  CHECK(copy.Find("u5000") == kNoIndex);
  CHECK(copy.Find("new") == 5000);

  IdMap moved = std::move(a);
  a = IdMap();
  CHECK(a.Find("u7") == kNoIndex);
  CHECK(a.Intern("x") == 0);
  for (uint32_t i = 0; i < 20'000; i += 97) REQUIRE(moved.Find("u" + std::to_string(i)) == i);
  CHECK(moved.Intern("u19999") == 19999);
  CHECK(moved.Intern("y") == 20'000);
  copy = moved;
  CHECK(copy.Find("y") == 20'000);
  CHECK(copy.live() == moved.live());
}

TEST_CASE("IdMap save/load round trip, and corrupt input is refused", "[ids]") {
  IdMap m;
  for (int i = 0; i < 1000; ++i) m.Intern("item-" + std::to_string(i * 7));
  m.Erase("item-14");
  std::string bytes;
  m.Save(&bytes);

  IdMap back;
  REQUIRE(back.Load(bytes).ok());
  CHECK(back.size() == m.size());
  CHECK(back.Find("item-21") == m.Find("item-21"));
  CHECK(back.Find("item-14") == kNoIndex);
  std::string again;
  back.Save(&again);
  CHECK(again == bytes);

  for (size_t cut : {size_t{0}, size_t{5}, bytes.size() / 2, bytes.size() - 1}) {
    IdMap bad;
    CHECK_FALSE(bad.Load(std::string_view(bytes).substr(0, cut)).ok());
  }
  CHECK_FALSE(IdMap().Load(bytes + "x").ok());
}

TEST_CASE("IdMap agrees with a reference map through growth, erasures and reloads", "[ids]") {
  // Random interns, finds and erases over 20k ids (many rehashes, many tombstones), checked
  // op by op against std::map; then a save/load round trip must keep every answer.
  Rng rng(11);
  IdMap ids;
  std::map<std::string, uint32_t> ref;
  std::set<std::string> erased;
  uint32_t next = 0;
  for (int op = 0; op < 200'000; ++op) {
    const std::string id = "id" + std::to_string(rng.Uniform(20'000));
    switch (rng.Uniform(4)) {
      case 0:
      case 1: {
        if (erased.count(id)) break;  // an erased id is never interned again in this test
        const uint32_t idx = ids.Intern(id);
        auto [it, inserted] = ref.emplace(id, next);
        if (inserted) ++next;
        REQUIRE(idx == it->second);
        break;
      }
      case 2: {
        auto it = ref.find(id);
        REQUIRE(ids.Find(id) == (it == ref.end() ? kNoIndex : it->second));
        break;
      }
      case 3: {
        const bool had = ref.erase(id) > 0;
        REQUIRE(ids.Erase(id) == had);
        if (had) erased.insert(id);
        break;
      }
    }
  }
  REQUIRE(ids.live() == ref.size());
  REQUIRE(ids.size() == next);
  std::string bytes;
  ids.Save(&bytes);
  IdMap loaded;
  REQUIRE(loaded.Load(bytes).ok());
  for (const auto& [id, idx] : ref) REQUIRE(loaded.Find(id) == idx);
  for (const auto& id : erased) REQUIRE(loaded.Find(id) == kNoIndex);
  CHECK(loaded.live() == ref.size());
}

}  // namespace streamrec
