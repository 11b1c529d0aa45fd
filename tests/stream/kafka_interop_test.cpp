// Interoperability with another Kafka client: kcat (librdkafka's CLI) produces what KafkaSource
// consumes and consumes what KafkaSink produces. Skipped, with a warning, without kcat.
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>

#include "tests/stream/kafka_test_support.h"
#include "tests/support/test_data.h"

namespace streamrec::stream {
namespace {

using testing::AtLeast;
using testing::ConsumeUntil;
using testing::OffsetStore;
using testing::ProduceN;
using testing::Record;
using testing::StoreListener;

bool HaveKcat() { return std::system("command -v kcat >/dev/null 2>&1") == 0; }

TEST_CASE("kafka_source: consumes what kcat produced", "[kafka]") {
  if (!HaveKcat()) STREAMREC_SKIP("kcat is not on PATH");
  auto cluster = testing::StartCluster(4);
  const std::string cmd =
      "kcat -P -q -b " + cluster.options.brokers + " -t events -K: >/dev/null 2>&1";
  FILE* kcat = popen(cmd.c_str(), "w");
  REQUIRE(kcat != nullptr);
  for (int i = 0; i < 200; ++i) std::fprintf(kcat, "user%d:{\"i\":%d}\n", i % 10, i);
  REQUIRE(pclose(kcat) == 0);

  OffsetStore store;
  StoreListener listener("A", &store);
  Result<std::unique_ptr<KafkaSource>> source = KafkaSource::Create(cluster.options, &listener);
  REQUIRE(source.ok());
  std::vector<Record> records = ConsumeUntil(source->get(), &listener, AtLeast(200), 15000);
  REQUIRE((*source)->Close().ok());
  REQUIRE(records.size() == 200);
  std::set<std::string> seen;
  for (const Record& r : records) {
    const int i = std::stoi(r.payload.substr(5));
    REQUIRE(r.key == testing::Cat("user", i % 10));
    REQUIRE(r.payload == testing::Cat("{\"i\":", i) + "}");
    seen.insert(r.payload);
  }
  REQUIRE(seen.size() == 200);
}

TEST_CASE("kafka_sink: kcat consumes what we produced", "[kafka]") {
  if (!HaveKcat()) STREAMREC_SKIP("kcat is not on PATH");
  auto cluster = testing::StartCluster(4);
  ProduceN(cluster.options, 200, "payload-", 10);
  const std::string cmd = "kcat -C -q -e -o beginning -b " + cluster.options.brokers +
                          " -t events -f '%k:%s\\n' 2>/dev/null";
  FILE* kcat = popen(cmd.c_str(), "r");
  REQUIRE(kcat != nullptr);
  std::set<std::string> lines;
  char line[256];
  while (std::fgets(line, sizeof(line), kcat) != nullptr) {
    std::string s(line);
    if (!s.empty() && s.back() == '\n') s.pop_back();
    lines.insert(s);
  }
  REQUIRE(pclose(kcat) == 0);
  REQUIRE(lines.size() == 200);
  for (int i = 0; i < 200; ++i) {
    std::string expected = testing::Cat("k", i % 10);
    expected += testing::Cat(":payload-", i);
    REQUIRE(lines.count(expected) == 1);
  }
}

}  // namespace
}  // namespace streamrec::stream
