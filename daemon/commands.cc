#include "daemon/commands.h"

#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "common/exit_code.h"
#include "common/log.h"
#include "daemon/application.h"
#include "daemon/config_keys.h"
#include "daemon/state_layout.h"
#include "state/rocksdb_store.h"

namespace streamrec::daemon {
namespace {

// FNV-1a, 64 bit: a stable hash of the store's logical content.
struct Fnv64 {
  uint64_t h = 0xcbf29ce484222325ULL;
  void Add(std::string_view bytes) {
    for (unsigned char c : bytes) h = (h ^ c) * 0x100000001b3ULL;
  }
  void AddLength(size_t n) {
    char buf[8];
    for (int i = 0; i < 8; ++i) buf[i] = static_cast<char>(n >> (8 * i));
    Add({buf, 8});
  }
};

int RunInspect(const std::string& data_dir, bool checksum) {
  state::StateOptions so;
  so.create_if_missing = false;
  so.config_fingerprint = "";  // inspect reads any configuration
  so.schema_version = layout::kSchemaVersion;
  std::unique_ptr<state::StateStore> store;
  if (Status st = state::RocksDBStore::Open(so, data_dir, &store); !st.ok()) {
    std::cerr << "streamrec inspect: " << st.message() << "\n";
    return 2;
  }
  nlohmann::json out;
  out["data_dir"] = data_dir;
  Fnv64 hash;
  nlohmann::json keys = nlohmann::json::object();
  nlohmann::json family_sums = nlohmann::json::object();
  for (size_t f = 0; f < state::kNumFamilies; ++f) {
    const auto family = static_cast<state::Family>(f);
    uint64_t n = 0;
    Fnv64 family_hash;
    Status st = store->ForEach(family, "", [&](std::string_view k, std::string_view v) {
      ++n;
      // The checksum covers the learned state and offsets, not store metadata.
      if (checksum && family != state::Family::kMeta) {
        for (Fnv64* h : {&hash, &family_hash}) {
          h->AddLength(f);
          h->AddLength(k.size());
          h->Add(k);
          h->AddLength(v.size());
          h->Add(v);
        }
      }
      return true;
    });
    if (checksum && family != state::Family::kMeta) {
      char buf[17];
      std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(family_hash.h));
      family_sums[std::string(state::FamilyName(family))] = buf;
    }
    if (!st.ok()) {
      std::cerr << "streamrec inspect: " << st.message() << "\n";
      return 2;
    }
    keys[std::string(state::FamilyName(family))] = n;
  }
  out["keys"] = keys;
  state::OffsetMap offsets;
  if (Status st = store->ReadOffsets(&offsets); !st.ok()) {
    std::cerr << "streamrec inspect: " << st.message() << "\n";
    return 2;
  }
  nlohmann::json offs = nlohmann::json::object();
  int64_t total = 0;
  for (const auto& [tp, next] : offsets) {
    offs[tp.first + "/" + std::to_string(tp.second)] = next;
    total += next;
  }
  out["offsets"] = offs;
  out["offsets_total"] = total;
  if (checksum) {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(hash.h));
    out["checksum"] = buf;
    out["family_checksums"] = family_sums;  // which part differs, when two stores differ
  }
  std::cout << out.dump() << std::endl;
  store->Close().IgnoreError();
  return 0;
}

}  // namespace

void AddServeCommand(CLI::App& app) {
  struct Flags {
    std::string config_file, brokers, topic, group, data_dir, http, admin_token;
    std::string admin_token_file, ingest_token_file;
    int partitions = 0;
    int64_t checkpoint_interval_ms = 0;
    bool help_config = false;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand(
      "serve", "Run the daemon: consume events, learn online, checkpoint to RocksDB, serve HTTP");
  cmd->add_option("--config", f->config_file,
                  "JSON config file; every key, its default and bounds: --help-config");
  cmd->add_flag("--help-config", f->help_config,
                "print every key of the config file (type, default, bounds, environment "
                "variable, flag; the text of docs/CONFIG.md) and exit");
  cmd->add_option("--brokers", f->brokers,
                  "Kafka bootstrap servers HOST:PORT; none = start the embedded broker "
                  "(test/demo only: in memory)");
  cmd->add_option("--topic", f->topic, "events topic (default events)");
  cmd->add_option("--group", f->group, "consumer group id (default streamrec)");
  cmd->add_option("--data-dir", f->data_dir, "RocksDB state directory (default ./data/state)");
  cmd->add_option("--http", f->http, "listen address HOST:PORT (default 127.0.0.1:8080)");
  cmd->add_option("--partitions", f->partitions, "partitions of the embedded broker's topics");
  cmd->add_option("--admin-token-file", f->admin_token_file,
                  "file holding the bearer token of the admin API (or STREAMREC_ADMIN_TOKEN)");
  cmd->add_option("--ingest-token-file", f->ingest_token_file,
                  "file holding the bearer token POST /v1/events requires (or "
                  "STREAMREC_INGEST_TOKEN)");
  cmd->add_option("--admin-token", f->admin_token,
                  "bearer token of the admin API; visible to every user of the machine in ps: "
                  "prefer --admin-token-file");
  cmd->add_option("--checkpoint-interval-ms", f->checkpoint_interval_ms, "checkpoint period");
  cmd->callback([f] {
    if (f->help_config) {
      std::cout << ConfigReference();
      return;
    }
    Config config;
    auto fail = [](const Status& st) {
      std::cerr << "streamrec serve: " << st.message() << "\n";
      SetExitCode(2);
    };
    if (!f->config_file.empty()) {
      if (Status st = config.LoadFile(f->config_file); !st.ok()) return fail(st);
    }
    if (Status st = config.LoadEnv(); !st.ok()) return fail(st);
    if (!f->brokers.empty()) config.kafka.brokers = f->brokers;
    if (!f->topic.empty()) config.kafka.topic = f->topic;
    if (!f->group.empty()) config.kafka.group_id = f->group;
    if (!f->data_dir.empty()) config.data_dir = f->data_dir;
    if (!f->http.empty()) config.http = f->http;
    if (!f->admin_token.empty()) {
      LogWarn(
          "--admin-token is visible in the process list; use --admin-token-file or "
          "STREAMREC_ADMIN_TOKEN");
      config.admin_token = f->admin_token;
    }
    if (!f->admin_token_file.empty()) {
      if (Status st = ReadSecretFile(f->admin_token_file, &config.admin_token); !st.ok()) {
        return fail(st);
      }
    }
    if (!f->ingest_token_file.empty()) {
      if (Status st = ReadSecretFile(f->ingest_token_file, &config.ingest.token); !st.ok()) {
        return fail(st);
      }
    }
    if (f->partitions > 0) config.embedded_partitions = f->partitions;
    if (f->checkpoint_interval_ms > 0) config.checkpoint_interval_ms = f->checkpoint_interval_ms;
    Application application(std::move(config));
    if (Status st = application.Start(); !st.ok()) return fail(st);
    SetExitCode(application.WaitForSignalAndStop());
  });
}

void AddInspectCommand(CLI::App& app) {
  auto data_dir = std::make_shared<std::string>();
  auto checksum = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand(
      "inspect",
      "Print a state store's key counts and offsets as JSON (the daemon must be stopped)");
  cmd->add_option("--data-dir", *data_dir, "RocksDB state directory")->required();
  cmd->add_flag("--checksum", *checksum,
                "add a hash of the whole learned state and offsets (and one per column family)");
  cmd->callback([=] { SetExitCode(RunInspect(*data_dir, *checksum)); });
}

}  // namespace streamrec::daemon
