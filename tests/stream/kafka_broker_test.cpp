// The embedded broker: addresses, topics, the mock's retention limit, and the `streamrec broker`
// subcommand run as a real process.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <fstream>
#include <set>
#include <string>

#include "tests/stream/kafka_test_support.h"
#include "tests/support/test_data.h"

extern char** environ;

namespace streamrec::stream {
namespace {

using testing::AtLeast;
using testing::ConsumeUntil;
using testing::OffsetStore;
using testing::ProduceN;
using testing::Record;
using testing::StoreListener;
using testing::Watermarks;

TEST_CASE("kafka_broker: addresses, topics and broker ids", "[kafka]") {
  Result<std::unique_ptr<KafkaBroker>> one = KafkaBroker::Start();
  Result<std::unique_ptr<KafkaBroker>> three = KafkaBroker::Start(3);
  REQUIRE(one.ok());
  REQUIRE(three.ok());
  const std::string a = (*one)->bootstrap_servers();
  const std::string b = (*three)->bootstrap_servers();
  REQUIRE(a.rfind("127.0.0.1:", 0) == 0);
  REQUIRE(a.find(',') == std::string::npos);
  REQUIRE(std::count(b.begin(), b.end(), ',') == 2);
  REQUIRE(a != b.substr(0, b.find(',')));  // kernel-chosen ports: no fixed port

  REQUIRE((*one)->CreateTopic("events", 8).ok());
  REQUIRE((*one)->CreateTopic("events", 8).code() == Status::Code::kInvalidArgument);
  REQUIRE((*one)->CreateTopic("", 8).code() == Status::Code::kInvalidArgument);
  REQUIRE((*one)->CreateTopic("x", 0).code() == Status::Code::kInvalidArgument);
  REQUIRE((*three)->SetBrokerDown(2).ok());
  REQUIRE((*three)->SetBrokerUp(2).ok());
  REQUIRE((*three)->SetBrokerDown(7).code() == Status::Code::kInvalidArgument);
  REQUIRE((*three)->SetBrokerRtt(-1, 5).ok());
  REQUIRE(KafkaBroker::Start(0).status().code() == Status::Code::kInvalidArgument);
}

// Pins down the limit documented in kafka_broker.h: the 2.0.2 mock keeps ~5 MiB of message sets
// per partition and silently drops older ones; compression stretches it.
TEST_CASE("kafka_broker: the mock keeps about 5 MiB per partition", "[kafka]") {
  Result<std::unique_ptr<KafkaBroker>> broker = KafkaBroker::Start();
  REQUIRE(broker.ok());
  REQUIRE((*broker)->CreateTopic("plain", 1).ok());
  REQUIRE((*broker)->CreateTopic("lz4", 1).ok());
  // ~80-90 B each on the wire uncompressed (the payload alone is ~80 B): ~7 MB, well past the
  // mock's 5 MiB whatever the producer's batching (of 60,000 it usually kept under 55k, but
  // once 58.6k, dropping only 1.4k, in a parallel test run).
  constexpr int kMessages = 80000;

  for (const std::string codec : {"none", "lz4"}) {
    KafkaOptions options =
        testing::TestOptions((*broker)->bootstrap_servers(), codec == "none" ? "plain" : "lz4");
    options.compression_codec = codec;
    options.linger_ms = 20;
    Result<std::unique_ptr<KafkaSink>> sink = KafkaSink::Create(options);
    REQUIRE(sink.ok());
    char payload[128];
    for (int i = 0; i < kMessages; ++i) {
      std::snprintf(payload, sizeof(payload),
                    R"({"type":"click","user":"u%d","item":"m%d","ts":%d,"session":"s%d"})",
                    i % 5000, i * 7919 % 20000, 978300000 + i, i % 977);
      REQUIRE((*sink)->Produce(options.topic, "", payload, 5000).ok());
    }
    REQUIRE((*sink)->Flush(10000).ok());
    REQUIRE((*sink)->counters().delivered == kMessages);
    const auto [low, high] = Watermarks((*broker)->bootstrap_servers(), options.topic, 0);
    INFO(codec << ": log " << low << ".." << high);
    REQUIRE(high == kMessages);
    if (codec == "none") {
      REQUIRE(low > 0);                             // older message sets were dropped
      REQUIRE(high - low <= 5 * 1024 * 1024 / 80);  // at most 5 MiB of >= 80 B records
    } else {
      REQUIRE(low == 0);  // lz4 batches: all kept
    }
  }
}

// Reads one line from fd, waiting up to timeout_ms.
std::string ReadLine(int fd, int timeout_ms) {
  std::string line;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, 100) <= 0) continue;
    char c;
    if (::read(fd, &c, 1) != 1) break;
    if (c == '\n') return line;
    line.push_back(c);
  }
  return line;
}

// Waits up to timeout_ms for pid; its wait status, or -1 if it is still running.
int WaitFor(pid_t pid, int timeout_ms) {
  for (int waited = 0; waited < timeout_ms; waited += 20) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) return status;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return -1;
}

TEST_CASE("kafka_broker: `streamrec broker` serves clients and exits 0 on SIGTERM", "[kafka]") {
  const char* binary = std::getenv("STREAMREC_BINARY");
  if (binary == nullptr || ::access(binary, X_OK) != 0) {
    STREAMREC_SKIP("STREAMREC_BINARY (build/streamrec) is not built");
  }
  streamrec::testing::TempDir dir;
  const std::string addr_file = dir.path() + "/addr";

  int out[2];
  REQUIRE(::pipe(out) == 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, out[0]);
  std::vector<std::string> args = {binary, "broker", "--partitions", "4", "--addr-file", addr_file};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, binary, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  REQUIRE(spawned == 0);
  struct Reaper {  // never leave the broker running, even when an assertion fails
    pid_t pid;
    int fd;
    ~Reaper() {
      ::close(fd);
      if (pid > 0 && WaitFor(pid, 0) == -1) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
      }
    }
  } reaper{pid, out[0]};

  const std::string line = ReadLine(out[0], 10000);
  REQUIRE(line.rfind("bootstrap: 127.0.0.1:", 0) == 0);
  const std::string bootstrap = line.substr(std::string("bootstrap: ").size());
  std::ifstream in(addr_file);
  std::string from_file;
  std::getline(in, from_file);
  REQUIRE(from_file == bootstrap);

  {
    KafkaOptions options = testing::TestOptions(bootstrap);
    REQUIRE(testing::EndOffsets(bootstrap, "events", 4).size() == 4);
    REQUIRE(testing::EndOffsets(bootstrap, "served", 4).size() == 4);
    ProduceN(options, 40);
    OffsetStore store;
    StoreListener listener("A", &store);
    Result<std::unique_ptr<KafkaSource>> source = KafkaSource::Create(options, &listener);
    REQUIRE(source.ok());
    std::vector<Record> records = ConsumeUntil(source->get(), &listener, AtLeast(40), 15000);
    REQUIRE((*source)->Close().ok());
    REQUIRE(records.size() == 40);
    for (const Record& r : records) REQUIRE(r.partition < 4);
  }

  REQUIRE(::kill(pid, SIGTERM) == 0);
  const int status = WaitFor(pid, 10000);
  REQUIRE(status != -1);
  reaper.pid = 0;  // reaped
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
}

}  // namespace
}  // namespace streamrec::stream
