#include "stream/kafka_broker.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <string>

#include "stream/kafka_conf.h"

namespace streamrec::stream {

Result<std::unique_ptr<KafkaBroker>> KafkaBroker::Start(int num_brokers) {
  if (num_brokers < 1) return Status::InvalidArgument("a broker needs at least 1 node");
  KafkaOptions options;  // only for the log routing; this handle never connects anywhere
  options.client_id = "streamrec-broker";
  Result<internal::ConfPtr> conf = internal::MakeConf(options, internal::ClientRole::kProducer);
  if (!conf.ok()) return conf.status();
  // Errors only: this handle has no bootstrap.servers on purpose, which librdkafka warns about.
  STREAMREC_RETURN_IF_ERROR(internal::SetProperty(conf->get(), "log_level", "3"));

  std::unique_ptr<KafkaBroker> broker(new KafkaBroker());
  char errstr[512];
  broker->rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf->get(), errstr, sizeof(errstr));
  if (broker->rk_ == nullptr) return Status::IOError(std::string("broker handle: ") + errstr);
  conf->release();  // rd_kafka_new() took it

  broker->cluster_ = rd_kafka_mock_cluster_new(broker->rk_, num_brokers);
  if (broker->cluster_ == nullptr) {
    return Status::IOError("could not start the mock cluster (librdkafka logged why)");
  }
  broker->num_brokers_ = num_brokers;
  broker->bootstrap_servers_ = rd_kafka_mock_cluster_bootstraps(broker->cluster_);
  return broker;
}

KafkaBroker::~KafkaBroker() {
  if (cluster_ != nullptr) rd_kafka_mock_cluster_destroy(cluster_);
  if (rk_ != nullptr) rd_kafka_destroy(rk_);
}

Status KafkaBroker::CreateTopic(std::string_view topic, int partitions, int replication_factor) {
  if (topic.empty() || partitions < 1 || replication_factor < 1) {
    return Status::InvalidArgument("CreateTopic: need a name, >= 1 partition, replication >= 1");
  }
  const std::string name(topic);
  rd_kafka_resp_err_t err =
      rd_kafka_mock_topic_create(cluster_, name.c_str(), partitions, replication_factor);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Status::InvalidArgument("create topic " + name + ": " + rd_kafka_err2str(err));
  }
  return Status::Ok();
}

Status KafkaBroker::SetBrokerDown(int32_t broker_id) {
  if (rd_kafka_resp_err_t err = rd_kafka_mock_broker_set_down(cluster_, broker_id); err != 0) {
    return Status::InvalidArgument("broker " + std::to_string(broker_id) +
                                   " down: " + rd_kafka_err2str(err));
  }
  return Status::Ok();
}

Status KafkaBroker::SetBrokerUp(int32_t broker_id) {
  if (rd_kafka_resp_err_t err = rd_kafka_mock_broker_set_up(cluster_, broker_id); err != 0) {
    return Status::InvalidArgument("broker " + std::to_string(broker_id) +
                                   " up: " + rd_kafka_err2str(err));
  }
  return Status::Ok();
}

Status KafkaBroker::SetBrokerRtt(int32_t broker_id, int rtt_ms) {
  if (rd_kafka_resp_err_t err = rd_kafka_mock_broker_set_rtt(cluster_, broker_id, rtt_ms);
      err != 0) {
    return Status::InvalidArgument("broker " + std::to_string(broker_id) +
                                   " rtt: " + rd_kafka_err2str(err));
  }
  return Status::Ok();
}

}  // namespace streamrec::stream
