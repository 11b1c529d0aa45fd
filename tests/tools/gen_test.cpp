#include "tools/gen.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "stream/event_codec.h"

namespace streamrec::tools {
namespace {

std::vector<std::string> GenerateLines(const GenOptions& o) {
  std::ostringstream out;
  REQUIRE(Generate(o, out).ok());
  std::vector<std::string> lines;
  std::istringstream in(out.str());
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

GenOptions Small() {
  GenOptions o;
  o.users = 200;
  o.items = 500;
  o.events = 20000;
  o.seed = 3;
  return o;
}

TEST_CASE("gen: every line decodes and counts match the options", "[gen]") {
  const GenOptions o = Small();
  const std::vector<std::string> lines = GenerateLines(o);
  REQUIRE(lines.size() == o.items + o.events);
  stream::EventDecoder decoder;
  std::map<EventType, int> by_type;
  std::set<std::string> users, items, item_events;
  for (size_t i = 0; i < lines.size(); ++i) {
    stream::EventView e;
    const Status st = decoder.Decode(lines[i], &e);
    INFO(lines[i] << " -> " << st.ToString());
    REQUIRE(st.ok());
    ++by_type[e.type];
    if (i < o.items) {
      REQUIRE(e.type == EventType::kItem);
      item_events.emplace(e.item);
      REQUIRE(e.features.size() == 2);
      CHECK(e.features[0].name.substr(0, 7) == "genre:c");
      CHECK(e.features[1].name == "year");
      continue;
    }
    REQUIRE(e.type != EventType::kItem);
    REQUIRE(e.user.substr(0, 1) == "u");
    REQUIRE(e.item.substr(0, 1) == "i");
    REQUIRE(e.session.substr(0, 1) == "s");
    users.emplace(e.user);
    items.emplace(e.item);
    if (e.type == EventType::kRating) {
      REQUIRE(e.value >= 1.0f);
      REQUIRE(e.value <= 5.0f);
      REQUIRE(e.value == static_cast<float>(static_cast<int>(e.value)));
    }
  }
  CHECK(item_events.size() == o.items);
  CHECK(users.size() <= o.users);
  CHECK(items.size() <= o.items);
  for (const std::string& item : items) CHECK(item_events.count(item) == 1);
  // Roughly the requested share of ratings; clicks dominate the implicit types.
  const double ratings = by_type[EventType::kRating] / static_cast<double>(o.events);
  CHECK(ratings > 0.15);
  CHECK(ratings < 0.25);
  CHECK(by_type[EventType::kClick] > by_type[EventType::kView]);
  CHECK(by_type[EventType::kView] > 0);
  CHECK(by_type[EventType::kAddToCart] > 0);
  CHECK(by_type[EventType::kPurchase] > 0);
}

TEST_CASE("gen: same seed gives identical output, another seed different", "[gen]") {
  GenOptions o = Small();
  o.events = 3000;
  std::ostringstream a, b, c;
  REQUIRE(Generate(o, a).ok());
  REQUIRE(Generate(o, b).ok());
  o.seed = 4;
  REQUIRE(Generate(o, c).ok());
  CHECK(a.str() == b.str());
  CHECK(a.str() != c.str());
}

TEST_CASE("gen: timestamps never decrease", "[gen]") {
  const std::vector<std::string> lines = GenerateLines(Small());
  stream::EventDecoder decoder;
  double last = 0;
  for (const std::string& line : lines) {
    stream::EventView e;
    REQUIRE(decoder.Decode(line, &e).ok());
    REQUIRE(e.ts_seconds >= last);
    last = e.ts_seconds;
  }
  CHECK(last > static_cast<double>(Small().start_ts));
}

TEST_CASE("gen: item popularity is heavy-tailed", "[gen]") {
  GenOptions o = Small();
  o.users = 2000;
  o.items = 1000;
  o.events = 50000;
  const std::vector<std::string> lines = GenerateLines(o);
  stream::EventDecoder decoder;
  std::unordered_map<std::string, int> count;
  for (size_t i = o.items; i < lines.size(); ++i) {
    stream::EventView e;
    REQUIRE(decoder.Decode(lines[i], &e).ok());
    ++count[std::string(e.item)];
  }
  std::vector<int> counts;
  for (const auto& [item, n] : count) counts.push_back(n);
  counts.resize(o.items, 0);  // items never touched count as zeros
  std::sort(counts.rbegin(), counts.rend());
  long top = 0;
  for (uint32_t i = 0; i < o.items / 10; ++i) top += counts[i];
  const double top_share = static_cast<double>(top) / static_cast<double>(o.events);
  INFO("top 10% share: " << top_share);
  CHECK(top_share > 0.4);
}

TEST_CASE("gen: no user rates an item twice, even when users run out of items", "[gen]") {
  GenOptions o;
  o.users = 50;
  o.items = 200;
  o.events = 20000;  // more than the 50 * 200 possible ratings
  o.rating_fraction = 1.0;
  const std::vector<std::string> lines = GenerateLines(o);
  stream::EventDecoder decoder;
  std::set<std::pair<std::string, std::string>> rated;
  for (size_t i = o.items; i < lines.size(); ++i) {
    stream::EventView e;
    REQUIRE(decoder.Decode(lines[i], &e).ok());
    if (e.type == EventType::kRating) {
      INFO(lines[i]);
      REQUIRE(rated.emplace(std::string(e.user), std::string(e.item)).second);
    }
  }
  CHECK(rated.size() > 1000);
}

TEST_CASE("gen: sessions stay in a cluster and follow a planted order", "[gen]") {
  GenOptions o = Small();
  o.rating_fraction = 0;
  const std::vector<std::string> lines = GenerateLines(o);
  stream::EventDecoder decoder;
  std::unordered_map<std::string, std::string> genre;  // item -> genre feature
  std::unordered_map<std::string, std::string> last_in_session;
  std::map<std::pair<std::string, std::string>, int> transitions;
  int same_cluster = 0, steps = 0;
  for (const std::string& line : lines) {
    stream::EventView e;
    REQUIRE(decoder.Decode(line, &e).ok());
    if (e.type == EventType::kItem) {
      genre[std::string(e.item)] = std::string(e.features[0].name);
      continue;
    }
    auto [it, first] = last_in_session.try_emplace(std::string(e.session), e.item);
    if (!first) {
      if (it->second != e.item) {
        ++steps;
        same_cluster += genre[it->second] == genre[std::string(e.item)];
        ++transitions[{it->second, std::string(e.item)}];
      }
      it->second = std::string(e.item);
    }
  }
  REQUIRE(steps > 1000);
  CHECK(same_cluster > 0.8 * steps);
  // The most frequent successor of an item is a strong signal: the planted successor.
  std::map<std::string, std::pair<int, int>> best_and_total;  // from -> (max count, total)
  for (const auto& [edge, n] : transitions) {
    auto& bt = best_and_total[edge.first];
    bt.first = std::max(bt.first, n);
    bt.second += n;
  }
  long best = 0, total = 0;
  for (const auto& [from, bt] : best_and_total) {
    best += bt.first;
    total += bt.second;
  }
  CHECK(static_cast<double>(best) > 0.4 * static_cast<double>(total));
}

TEST_CASE("gen: Validate names the bad flag", "[gen]") {
  GenOptions o;
  o.users = 0;
  CHECK_THAT(o.Validate().message(), Catch::Contains("--users"));
  o = GenOptions();
  o.items = 10;
  o.clusters = 11;
  CHECK_THAT(o.Validate().message(), Catch::Contains("--clusters"));
  o = GenOptions();
  o.rating_fraction = 1.5;
  CHECK_THAT(o.Validate().message(), Catch::Contains("--rating-fraction"));
  o = GenOptions();
  o.users = 1;
  o.events = 100'000'000;
  CHECK_THAT(o.Validate().message(), Catch::Contains("2100"));
  CHECK(GenOptions().Validate().ok());
  std::ostringstream out;
  o = GenOptions();
  o.zipf = -1;
  CHECK_FALSE(Generate(o, out).ok());
  CHECK(out.str().empty());
}

TEST_CASE("gen: EventGenerator::Next yields items + events lines", "[gen]") {
  GenOptions o;
  o.users = 5;
  o.items = 7;
  o.events = 11;
  EventGenerator gen(o);
  std::string line;
  int n = 0;
  while (gen.Next(&line)) {
    REQUIRE(!line.empty());
    REQUIRE(line.back() == '\n');
    line.clear();
    ++n;
  }
  CHECK(n == 18);
  CHECK(gen.lines() == 18);
  CHECK_FALSE(gen.Next(&line));
  CHECK(line.empty());
}

// Runs a shell command, returning its stdout and exit status.
std::pair<std::string, int> Run(const std::string& command) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  const int status = pclose(pipe);
  return {out, status};
}

TEST_CASE("gen: the streamrec binary writes the stream and rejects bad flags", "[gen][binary]") {
  const char* binary = std::getenv("STREAMREC_BINARY");
  if (binary == nullptr) {
    WARN("SKIPPED: STREAMREC_BINARY is not set (ctest sets it)");
    return;
  }
  const std::string bin = binary;
  auto [out, status] = Run(bin + " gen --users 50 --items 100 --events 1000 --seed 1");
  CHECK(status == 0);
  CHECK(std::count(out.begin(), out.end(), '\n') == 1100);
  auto [again, status2] = Run(bin + " gen --users 50 --items 100 --events 1000 --seed 1");
  CHECK(status2 == 0);
  CHECK(again == out);
  auto [err, bad_status] = Run(bin + " gen --users 0 2>&1");
  CHECK(bad_status != 0);
  CHECK_THAT(err, Catch::Contains("--users must be"));
}

}  // namespace
}  // namespace streamrec::tools
