// Internal to stream/ (not for daemon/): librdkafka configuration from KafkaOptions, RAII
// handles for librdkafka's C objects, and the rate-limited logging every client uses.
#pragma once

#include <librdkafka/rdkafka.h>

#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"
#include "stream/kafka_options.h"

namespace streamrec::stream::internal {

struct ConfDeleter {
  void operator()(rd_kafka_conf_t* conf) const { rd_kafka_conf_destroy(conf); }
};
struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* list) const {
    rd_kafka_topic_partition_list_destroy(list);
  }
};
using ConfPtr = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;
using PartitionListPtr = std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter>;

enum class ClientRole { kConsumer, kProducer };

// A configuration for one client: bootstrap.servers, client.id, the role's tuning from
// `options`, then options.properties and the role's own map (which override). Also routes
// librdkafka's log lines through Log(). InvalidArgument names the offending property.
Result<ConfPtr> MakeConf(const KafkaOptions& options, ClientRole role);

// Sets one property; InvalidArgument("name=value: librdkafka's reason") on failure.
Status SetProperty(rd_kafka_conf_t* conf, const std::string& name, const std::string& value);

// Writes "streamrec kafka: <message>" to stderr. Thread-safe. Rate-limited per `key` (a static
// string naming the call site): at most one line per second per key; the next line printed
// for that key says how many were suppressed.
void Log(const char* key, const char* format, ...) __attribute__((format(printf, 2, 3)));

}  // namespace streamrec::stream::internal
