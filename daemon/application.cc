#include "daemon/application.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "common/log.h"
#include "daemon/dead_letter_sink.h"
#include "daemon/event_applier.h"
#include "daemon/http_router.h"
#include "daemon/model_state.h"
#include "daemon/service_impl.h"
#include "daemon/state_layout.h"
#include "http/http_server.h"
#include "state/rocksdb_store.h"
#include "stream/kafka_broker.h"
#include "stream/kafka_sink.h"

namespace streamrec::daemon {
namespace {
constexpr int kLagPublishMs = 1000;
}  // namespace

Application::Application(Config config) : config_(std::move(config)) {}

Application::~Application() { Stop(); }

Status Application::Start() {
  STREAMREC_RETURN_IF_ERROR(config_.Validate());

  // State: open the store (refuses an incompatible one) and restore the model from it.
  state::StateOptions so;
  so.schema_version = layout::kSchemaVersion;
  fingerprint_ = config_.Fingerprint();
  so.config_fingerprint = fingerprint_;
  so.low_priority_background = config_.background_nice > 0;
  STREAMREC_RETURN_IF_ERROR(state::RocksDBStore::Open(so, config_.data_dir, &store_));
  auto model = ModelState::Create(config_);
  if (!model.ok()) return model.status();
  model_ = std::move(*model);
  STREAMREC_RETURN_IF_ERROR(model_->Restore(*store_));
  // The offsets are read again at every assignment; a store whose offsets cannot be read must
  // not start and serve a model it cannot continue.
  state::OffsetMap offsets;
  if (Status st = store_->ReadOffsets(&offsets); !st.ok()) {
    return Status::Corruption("cannot read the stored offsets of " + config_.data_dir + " (" +
                              st.message() +
                              "): the store is damaged; restore the data dir from a backup, or "
                              "move it away to rebuild the state from the topic");
  }
  const ModelSizes sizes = model_->Sizes();
  LogInfo("state restored from " + config_.data_dir + ": " + std::to_string(sizes.users) +
          " users, " + std::to_string(sizes.items) + " items, " +
          std::to_string(sizes.events_applied) + " events applied");

  // Kafka: the embedded broker when no brokers are given.
  if (config_.kafka.brokers.empty()) {
    auto broker = stream::KafkaBroker::Start();
    if (!broker.ok()) return broker.status();
    broker_ = std::move(*broker);
    for (const std::string& topic :
         {config_.kafka.topic, config_.kafka.dlq_topic, config_.kafka.served_topic}) {
      STREAMREC_RETURN_IF_ERROR(broker_->CreateTopic(topic, config_.embedded_partitions));
    }
    config_.kafka.brokers = broker_->bootstrap_servers();
    LogInfo("embedded broker (test/demo only, in memory) at " + config_.kafka.brokers);
  }
  auto sink = stream::KafkaSink::Create(config_.kafka);
  if (!sink.ok()) return sink.status();
  sink_ = std::move(*sink);
  // POST /v1/events answers once Kafka acknowledged (all in-sync replicas), or 503 after the
  // delivery timeout: a producer of its own, so that neither the served log's batching nor
  // the dead letters' endless retries decide how long a post waits.
  stream::KafkaOptions ingest = config_.kafka;
  ingest.message_timeout_ms = config_.ingest.delivery_timeout_ms;
  ingest.linger_ms = 5;
  ingest.producer_properties.emplace("acks", "all");
  ingest.client_id = config_.kafka.client_id + "-ingest";
  auto ingest_sink = stream::KafkaSink::Create(ingest);
  if (!ingest_sink.ok()) return ingest_sink.status();
  ingest_sink_ = std::move(*ingest_sink);
  dead_letters_ = std::make_unique<KafkaDeadLetterSink>(sink_.get());
  applier_ = std::make_unique<EventApplier>(config_, model_.get(), store_.get(),
                                            dead_letters_.get(), &metrics_, &clock_);
  applier_->set_stop_flag(&stop_);
  stream::KafkaOptions consume = config_.kafka;
  if (config_.bandit.enabled()) consume.extra_topics.push_back(config_.kafka.served_topic);
  auto source = stream::KafkaSource::Create(consume, applier_.get());
  if (!source.ok()) return source.status();
  source_ = std::move(*source);
  applier_->set_source(source_.get());

  // Metrics computed at scrape time, and the model's lock timings.
  probe_.WatchModel(*model_);
  if (config_.bandit.enabled()) probe_.WatchExploration(*model_, *applier_);
  model_->set_lock_wait_histogram(probe_.recommend_lock_wait());
  model_->set_lane_hold_histograms(probe_.bpr_lane_hold(), probe_.session_lane_hold());
  consumer_ = std::thread([this] { ConsumerLoop(); });

  // HTTP last: it serves what is above.
  service_ = std::make_unique<DaemonService>(
      config_, model_.get(), applier_.get(), sink_.get(), ingest_sink_.get(), &metrics_,
      [this] { return InfoJson(); }, [this] { return Readiness(); });
  RouterOptions ro;
  ro.admin_token = config_.admin_token;
  ro.max_id_bytes = config_.decoder.max_id_bytes;
  ro.ingest_token = config_.ingest.token;
  ro.ingest_requests_per_s = config_.ingest.requests_per_s;
  ro.ingest_burst = config_.ingest.burst;
  router_ = std::make_unique<HttpRouter>(*service_, metrics_, ro);
  http::HttpServerOptions ho;
  STREAMREC_RETURN_IF_ERROR(ParseHostPort(config_.http, &ho.bind_address, &ho.port));
  ho.threads = config_.http_threads;
  http_ = std::make_unique<http::HttpServer>(ho, *router_, &metrics_);
  if (Status st = http_->Start(); !st.ok()) {
    Stop();
    return st;
  }
  started_ = true;
  LogInfo("serving HTTP on " + ho.bind_address + ":" + std::to_string(http_->port()) +
          ", consuming '" + config_.kafka.topic + "' from " + config_.kafka.brokers);
  return Status::Ok();
}

Status Application::Readiness() const {
  if (consumer_failed_.load()) return Status::Unavailable("the consumer stopped");
  if (applier_->checkpoint_failing()) {
    return Status::Unavailable("checkpoints are failing, ingest is paused until one succeeds: " +
                               applier_->checkpoint_error());
  }
  if (!applier_->assigned()) {
    return Status::Unavailable("restoring state or waiting for partitions");
  }
  return Status::Ok();
}

void Application::ConsumerLoop() {
  pthread_setname_np(pthread_self(), "consumer");  // as ps, top -H and perf show it
  std::vector<stream::Message> batch;
  auto last_lag = std::chrono::steady_clock::now();
  bool paused = false;
  auto next_retry = std::chrono::steady_clock::now();
  while (!stop_.load(std::memory_order_relaxed)) {
    // A failed checkpoint (a full disk) pauses ingest, so that memory stays bounded by what was
    // applied before it, and retries every second; the first that succeeds resumes ingest.
    if (applier_->checkpoint_failing() != paused) {
      paused = !paused;
      if (Status st = source_->SetPaused(paused); !st.ok()) LogWarn(st.ToString());
      if (paused) {
        LogError("checkpoint failed, ingest paused until one succeeds: " +
                 applier_->checkpoint_error());
      } else {
        LogInfo("checkpoint succeeded, ingest resumed");
      }
    }
    Status st =
        source_->PollBatch(config_.kafka.batch_max_messages, config_.kafka.poll_timeout_ms, &batch);
    if (!st.ok()) {
      LogError("consumer stopped, the daemon exits: " + st.ToString());
      {
        std::lock_guard l(snapshot_mu_);
        consumer_status_ = st;
      }
      consumer_failed_.store(true);
      // Not a zombie that answers from a model it can no longer update: stop (exit code 1),
      // so that the orchestrator sees it and restarts it.
      kill(getpid(), SIGTERM);
      break;
    }
    if (paused && std::chrono::steady_clock::now() >= next_retry) {
      next_retry = std::chrono::steady_clock::now() + std::chrono::seconds(1);
      applier_->MaybeCheckpoint(/*force=*/true).IgnoreError();  // the failure is the state
    }
    if (!batch.empty()) {
      applier_->Handle(batch);
      batch.clear();
    } else {
      applier_->Publish(/*force=*/true);  // idle: what a full batch left unpublished
    }
    applier_->UpdateServedProgress();
    if (Status cp = applier_->MaybeCheckpoint(); !cp.ok()) {
      LogWarn("checkpoint failed, retried with the next one: " + cp.ToString());
    }
    if (std::chrono::steady_clock::now() - last_lag > std::chrono::milliseconds(kLagPublishMs)) {
      PublishLag();
      last_lag = std::chrono::steady_clock::now();
    }
  }
  // Final checkpoint, then leave the group (its revoke callback checkpoints again: a no-op).
  if (!consumer_failed_.load()) {
    if (Status cp = applier_->MaybeCheckpoint(/*force=*/true); !cp.ok()) {
      LogWarn("final checkpoint: " + cp.ToString());
    }
  }
  source_->Close().IgnoreError();
}

void Application::PublishLag() {
  auto lag = source_->Lag();
  // A gauge per partition, registered the first time the partition is seen (consumer thread).
  for (const auto& p : lag) {
    const int32_t partition = p.partition;
    probe_.OnPartitionLag(partition, [this, partition] {
      std::lock_guard l(snapshot_mu_);
      for (const auto& x : lag_) {
        if (x.partition == partition) return static_cast<double>(x.lag);
      }
      return -1.0;  // not assigned to this instance now
    });
  }
  std::lock_guard l(snapshot_mu_);
  lag_ = std::move(lag);
}

std::string Application::InfoJson() {
  nlohmann::json j;
  j["version"] = "0.1.0";
  j["brokers"] = config_.kafka.brokers;
  j["embedded_broker"] = broker_ != nullptr;
  j["topic"] = config_.kafka.topic;
  j["dlq_topic"] = config_.kafka.dlq_topic;
  j["served_topic"] = config_.kafka.served_topic;
  j["group"] = config_.kafka.group_id;
  j["data_dir"] = config_.data_dir;
  j["config_fingerprint"] = fingerprint_;
  const ModelSizes s = model_->Sizes();
  j["model"] = {{"users", s.users},
                {"items", s.items},
                {"interactions", s.interactions},
                {"events_applied", s.events_applied}};
  j["sessions"] = {{"model", std::string(model_->session_model_name())},
                   {"live", s.sessions},
                   {"weight", config_.session.weight}};
  const ExplorationStats b = model_->BanditStats();
  j["bandit"] = {{"policy", std::string(model_->bandit_policy())},
                 {"explore", config_.bandit.explore},
                 {"cold_threshold", config_.bandit.cold_threshold},
                 {"window_s", config_.bandit.window_s},
                 {"pool_size", b.pool_size},
                 {"graduated", b.graduated},
                 {"rewards_one", b.rewards_one},
                 {"rewards_zero", b.rewards_zero},
                 {"open_impressions", b.open_impressions},
                 {"late_served", b.late_served},
                 {"served_held", applier_->served_held()}};
  nlohmann::json parts = nlohmann::json::array();
  {
    std::lock_guard l(snapshot_mu_);
    for (const auto& p : lag_) {
      parts.push_back({{"partition", p.partition},
                       {"next_offset", p.next_offset},
                       {"high_watermark", p.high_watermark},
                       {"lag", p.lag}});
    }
    if (!consumer_status_.ok()) j["consumer_error"] = consumer_status_.ToString();
  }
  j["partitions"] = std::move(parts);
  return j.dump();
}

int Application::WaitForSignalAndStop() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int sig = 0;
  sigwait(&set, &sig);
  LogInfo(std::string("received ") + (sig == SIGINT ? "SIGINT" : "SIGTERM") + ", stopping");
  const bool failed = consumer_failed_.load();
  Stop();
  return failed ? 1 : 0;
}

void Application::Stop() {
  // Reverse of Start.
  if (http_) http_->Stop();
  stop_.store(true);
  if (consumer_.joinable()) consumer_.join();
  if (sink_) sink_->Flush(5000).IgnoreError();
  http_.reset();
  router_.reset();
  service_.reset();
  source_.reset();
  applier_.reset();
  dead_letters_.reset();
  ingest_sink_.reset();
  sink_.reset();
  broker_.reset();
  if (store_) {
    // Memtables to files: the next start replays no log.
    if (Status st = store_->Flush(); !st.ok()) LogWarn("flushing the store: " + st.ToString());
    if (Status st = store_->Close(); !st.ok()) LogError("closing the store: " + st.ToString());
    store_.reset();
  }
  if (started_) LogInfo("stopped");
  started_ = false;
}

uint16_t Application::http_port() const { return http_ ? http_->port() : 0; }

uint64_t Application::events_applied() const { return applier_ ? applier_->events_applied() : 0; }

}  // namespace streamrec::daemon
