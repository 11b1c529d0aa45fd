#include "stream/kafka_conf.h"

#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <map>
#include <mutex>
#include <string_view>

#include "common/log.h"

namespace streamrec::stream::internal {
namespace {

struct LogState {
  std::mutex mu;
  struct PerKey {
    std::chrono::steady_clock::time_point last;
    int64_t suppressed = 0;
  };
  std::map<std::string, PerKey> keys;  // GUARDED_BY(mu)
};

LogState& State() {
  static auto* state = new LogState();  // never destroyed: librdkafka threads may log late
  return *state;
}

void VLog(const char* key, const char* format, va_list args) {
  char line[1024];
  std::vsnprintf(line, sizeof(line), format, args);
  LogState& state = State();
  std::lock_guard<std::mutex> lock(state.mu);
  auto now = std::chrono::steady_clock::now();
  auto [it, inserted] = state.keys.try_emplace(key);
  LogState::PerKey& per_key = it->second;
  if (!inserted && now - per_key.last < std::chrono::seconds(1)) {
    ++per_key.suppressed;
    return;
  }
  std::string msg = std::string("kafka: ") + line;
  if (per_key.suppressed > 0) {
    msg += " (" + std::to_string(per_key.suppressed) + " similar lines suppressed)";
  }
  streamrec::Log(LogLevel::kWarn, msg);
  per_key.last = now;
  per_key.suppressed = 0;
}

// librdkafka's log lines (from its own threads), rate-limited per facility.
void LogCallback(const rd_kafka_t* rk, int level, const char* facility, const char* message) {
  constexpr int kSyslogWarning = 4;
  if (level > kSyslogWarning) {
    // librdkafka only emits info/debug when log_level or debug is raised on purpose: print
    // all of it (the timestamp has milliseconds to read timings).
    streamrec::Log(LogLevel::kInfo,
                   std::string("kafka: [") + rd_kafka_name(rk) + "] " + facility + ": " + message);
    return;
  }
  Log(facility, "[%s] %s: %s", rd_kafka_name(rk), facility, message);
}

Status SetAll(rd_kafka_conf_t* conf, const std::map<std::string, std::string>& properties) {
  for (const auto& [name, value] : properties) {
    STREAMREC_RETURN_IF_ERROR(SetProperty(conf, name, value));
  }
  return Status::Ok();
}

}  // namespace

void Log(const char* key, const char* format, ...) {
  va_list args;
  va_start(args, format);
  VLog(key, format, args);
  va_end(args);
}

Status SetProperty(rd_kafka_conf_t* conf, const std::string& name, const std::string& value) {
  char errstr[512];
  if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), errstr, sizeof(errstr)) !=
      RD_KAFKA_CONF_OK) {
    return Status::InvalidArgument(name + "=" + value + ": " + errstr);
  }
  return Status::Ok();
}

Result<ConfPtr> MakeConf(const KafkaOptions& options, ClientRole role) {
  ConfPtr conf(rd_kafka_conf_new());
  rd_kafka_conf_set_log_cb(conf.get(), LogCallback);
  const bool consumer = role == ClientRole::kConsumer;
  std::map<std::string, std::string> props = {
      {"bootstrap.servers", options.brokers},
      {"client.id", options.client_id},
      // Reconnect quickly after a broker comes back (defaults 100 ms .. 10 s).
      {"reconnect.backoff.max.ms", "1000"},
  };
  if (consumer) {
    props.insert({
        {"group.id", options.group_id},
        {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
        {"enable.partition.eof", "false"},
        {"partition.assignment.strategy", "range"},
        {"auto.offset.reset", options.auto_offset_reset},
        {"queued.min.messages", std::to_string(options.queued_min_messages)},
        {"queued.max.messages.kbytes", std::to_string(options.queued_max_messages_kbytes)},
        {"fetch.max.bytes", std::to_string(options.fetch_max_bytes)},
        {"max.partition.fetch.bytes", std::to_string(options.max_partition_fetch_bytes)},
        {"fetch.wait.max.ms", std::to_string(options.fetch_wait_max_ms)},
        {"fetch.min.bytes", std::to_string(options.fetch_min_bytes)},
        {"session.timeout.ms", std::to_string(options.session_timeout_ms)},
        {"heartbeat.interval.ms", std::to_string(options.heartbeat_interval_ms)},
        {"max.poll.interval.ms", std::to_string(options.max_poll_interval_ms)},
    });
  } else {
    props.insert({
        {"compression.codec", options.compression_codec},
        {"linger.ms", std::to_string(options.linger_ms)},
        {"queue.buffering.max.messages", std::to_string(options.producer_queue_max_messages)},
        {"queue.buffering.max.kbytes", std::to_string(options.producer_queue_max_kbytes)},
        {"message.timeout.ms", std::to_string(options.message_timeout_ms)},
    });
  }
  STREAMREC_RETURN_IF_ERROR(SetAll(conf.get(), props));
  STREAMREC_RETURN_IF_ERROR(SetAll(conf.get(), options.properties));
  STREAMREC_RETURN_IF_ERROR(
      SetAll(conf.get(), consumer ? options.consumer_properties : options.producer_properties));

  if (consumer) {
    char strategy[256];
    size_t size = sizeof(strategy);
    if (rd_kafka_conf_get(conf.get(), "partition.assignment.strategy", strategy, &size) ==
            RD_KAFKA_CONF_OK &&
        std::string_view(strategy).find("cooperative") != std::string_view::npos) {
      return Status::InvalidArgument(
          std::string("partition.assignment.strategy=") + strategy +
          ": KafkaSource implements the eager protocol only (use range or roundrobin)");
    }
  }
  return conf;
}

}  // namespace streamrec::stream::internal
