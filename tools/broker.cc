// `streamrec broker`: the embedded broker (stream/kafka_broker.h) as a standalone local process,
// for demos and tests: topics are created up front, the address is printed and written to a
// file, and the process runs until SIGINT/SIGTERM.
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "common/exit_code.h"
#include "stream/kafka_broker.h"
#include "tools/commands.h"

namespace streamrec::tools {
namespace {

struct BrokerArgs {
  int partitions = 8;
  int nodes = 1;
  std::vector<std::string> topics = {"events", "events.dlq", "served"};
  std::string addr_file;
};

// Writes `content` to `path` atomically (temporary file + rename), so that a reader polling for
// the file never sees half an address.
bool WriteFileAtomically(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << content;
    if (!out.flush()) return false;
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  return !ec;
}

int RunBroker(const BrokerArgs& args) {
  // Block the stop signals before librdkafka starts its threads (they inherit the mask), then
  // take them synchronously with sigwait(): no async-signal-safety concerns.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigset_t old_mask;
  pthread_sigmask(SIG_BLOCK, &stop_signals, &old_mask);
  struct RestoreMask {
    sigset_t mask;
    ~RestoreMask() { pthread_sigmask(SIG_SETMASK, &mask, nullptr); }
  } restore{old_mask};

  Result<std::unique_ptr<stream::KafkaBroker>> broker = stream::KafkaBroker::Start(args.nodes);
  if (!broker.ok()) {
    std::fprintf(stderr, "streamrec broker: %s\n", broker.status().ToString().c_str());
    return 1;
  }
  for (const std::string& topic : args.topics) {
    if (Status st = (*broker)->CreateTopic(topic, args.partitions); !st.ok()) {
      std::fprintf(stderr, "streamrec broker: %s\n", st.ToString().c_str());
      return 1;
    }
  }
  const std::string& address = (*broker)->bootstrap_servers();
  if (!args.addr_file.empty() && !WriteFileAtomically(args.addr_file, address + "\n")) {
    std::fprintf(stderr, "streamrec broker: cannot write %s\n", args.addr_file.c_str());
    return 1;
  }
  std::printf("bootstrap: %s\n", address.c_str());
  std::fflush(stdout);
  std::fprintf(stderr,
               "streamrec broker: %d node(s), %zu topic(s) x %d partitions; in-memory test "
               "broker, Ctrl-C to stop\n",
               args.nodes, args.topics.size(), args.partitions);

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  std::fprintf(stderr, "streamrec broker: %s, stopping\n", strsignal(signal_number));
  broker->reset();  // the mock cluster and its listeners go away here
  if (!args.addr_file.empty()) {
    std::error_code ec;
    std::filesystem::remove(args.addr_file, ec);  // a stale address helps nobody
  }
  return 0;
}

}  // namespace

void AddBrokerCommand(CLI::App& app) {
  auto args = std::make_shared<BrokerArgs>();
  CLI::App* cmd = app.add_subcommand(
      "broker",
      "Run a local Kafka broker for tests and demos. It is librdkafka's mock cluster: real Kafka "
      "protocol on 127.0.0.1, but messages live in memory only (about 5 MiB per partition, "
      "older ones are dropped) and vanish on exit. Production uses a real Kafka cluster.");
  cmd->add_option("--partitions", args->partitions, "Partitions per topic")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  cmd->add_option("--topics", args->topics, "Topics to create up front (comma-separated)")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--nodes", args->nodes, "Number of broker nodes (ids 1..N)")
      ->check(CLI::Range(1, 16))
      ->capture_default_str();
  cmd->add_option("--addr-file", args->addr_file,
                  "Also write the bootstrap address (host:port[,...]) to this file; removed on "
                  "exit");
  cmd->callback([args] { SetExitCode(RunBroker(*args)); });
}

}  // namespace streamrec::tools
