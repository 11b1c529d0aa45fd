// Application: the lifecycle of `streamrec serve` in one place. Start() brings
// the pieces up in dependency order (config, store, model restore, broker, producer, consumer
// thread, HTTP); Stop() takes them down in reverse, with a final checkpoint.
//
// Thread safety: Start, Stop and Run are called from one thread. The accessors are safe from
// any thread once Start has returned OK.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/metrics.h"
#include "common/status.h"
#include "daemon/application_probe.h"
#include "daemon/config.h"
#include "stream/kafka_source.h"

namespace streamrec::http {
class HttpServer;
}
namespace streamrec::state {
class StateStore;
}
namespace streamrec::stream {
class KafkaBroker;
class KafkaSink;
class KafkaSource;
}  // namespace streamrec::stream

namespace streamrec::daemon {

class ModelState;
class EventApplier;
class KafkaDeadLetterSink;
class DaemonService;
class HttpRouter;

class Application {
 public:
  explicit Application(Config config);
  ~Application();  // Stop()s if needed

  // Brings everything up; a clear error (and nothing left running) when a piece fails.
  Status Start();
  // Blocks until SIGINT or SIGTERM, then stops. Returns the process exit code.
  // REQUIRES: Start() returned OK; the signals are blocked in every thread (main does it).
  int WaitForSignalAndStop();
  // Stops in reverse order; idempotent.
  void Stop();

  uint16_t http_port() const;
  const std::string& bootstrap_servers() const { return config_.kafka.brokers; }
  bool embedded_broker() const { return broker_ != nullptr; }
  uint64_t events_applied() const;

 private:
  // Ok, or Unavailable with the reason /readyz gives (any thread).
  Status Readiness() const;
  void ConsumerLoop();
  std::string InfoJson();
  void PublishLag();

  Config config_;
  std::string fingerprint_;  // config_.Fingerprint(), computed once at Start
  SystemClock clock_;
  MetricsRegistry metrics_;
  ApplicationProbe probe_{metrics_};
  std::unique_ptr<state::StateStore> store_;
  std::unique_ptr<ModelState> model_;
  std::unique_ptr<stream::KafkaBroker> broker_;
  std::unique_ptr<stream::KafkaSink> sink_;         // dead letters, the served log
  std::unique_ptr<stream::KafkaSink> ingest_sink_;  // POST /v1/events, forget_user
  // The applier's dead letters, produced with sink_.
  std::unique_ptr<KafkaDeadLetterSink> dead_letters_;
  std::unique_ptr<EventApplier> applier_;
  std::unique_ptr<stream::KafkaSource> source_;
  std::unique_ptr<DaemonService> service_;
  std::unique_ptr<HttpRouter> router_;
  std::unique_ptr<http::HttpServer> http_;
  std::thread consumer_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> consumer_failed_{false};
  bool started_ = false;

  // Written by the consumer thread about once a second; read by metrics and /v1/info.
  mutable std::mutex snapshot_mu_;
  std::vector<stream::PartitionLag> lag_;  // GUARDED_BY(snapshot_mu_)
  Status consumer_status_;                 // GUARDED_BY(snapshot_mu_)
};

}  // namespace streamrec::daemon
