// KafkaOptions: every knob of stream/'s Kafka clients, with its default and why.
// None of these is reloadable: a change takes effect when the consumer/producer is re-created.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace streamrec::stream {

struct KafkaOptions {
  // --- Where -----------------------------------------------------------------------------------

  // bootstrap.servers: comma-separated "host:port" list. The daemon fills it with the embedded
  // broker's address (KafkaBroker::bootstrap_servers()) when it is given no --brokers.
  std::string brokers;
  // The log of record: one JSON event per message, key = user id (DESIGN.md).
  std::string topic = "events";
  // Where invalid events go, wrapped by MakeDeadLetter() (kafka_sink.h); the key is kept.
  std::string dlq_topic = "events.dlq";
  // What the daemon served (the bandits' feedback loop).
  std::string served_topic = "served";
  // Topics the consumer reads besides `topic` (the daemon adds served_topic when it explores:
  // the bandits' rewards join what was served with what users clicked).
  std::vector<std::string> extra_topics;
  // group.id of the consumer group; daemons sharing it split the partitions of `topic`.
  std::string group_id = "streamrec";
  // client.id: shows up in broker logs and metrics.
  std::string client_id = "streamrec";

  // --- The polling loop --------------------------------------------------------------------------

  // Longest block of one KafkaSource::PollBatch() when nothing arrives. Bounds how late the loop
  // notices a stop flag or a batch deadline; 100 ms costs nothing while idle.
  int poll_timeout_ms = 100;
  // A batch (one state WriteBatch) closes at batch_max_messages messages or batch_max_ms after
  // its first message, whichever comes first. Larger batches amortize the RocksDB write; the
  // deadline bounds the staleness of checkpoints and of the served model.
  int batch_max_messages = 2000;
  int batch_max_ms = 50;

  // --- Consumer tuning (librdkafka's names; defaults measured with bench/kafka_consume_bench,
  // numbers in stream/README.md) ------------------------------------------------------------

  // queued.min.messages: librdkafka keeps fetching a partition until this many of its messages
  // wait in the local queue. Too low starves the consumer between refills; measured with
  // bench/kafka_consume_bench (1M-4M ~100 B events, embedded broker, medians): 1000 -> ~0.2-0.4M
  // msg/s, 10000 -> ~0.4-0.8M, 100000 (librdkafka's default) and 1M -> ~2-2.5M (equal within
  // noise). Raised to 1M so that, with small events and few partitions, the count never binds
  // before the byte cap below (100000 x 100 B is only 10 MB per partition); memory stays bounded
  // by queued_max_messages_kbytes, which wins over this count.
  int queued_min_messages = 1000000;
  // queued.max.messages.kbytes: cap on prefetched bytes in the local consumer queue (all
  // partitions together). 64 MiB, librdkafka's default: ~600k of our ~100 B events.
  int queued_max_messages_kbytes = 65536;
  // fetch.max.bytes: most bytes a broker returns to one Fetch request (all partitions). 50 MiB.
  int fetch_max_bytes = 52428800;
  // max.partition.fetch.bytes: most bytes per partition per Fetch. Raised from 1 MiB to 4 MiB
  // so a catching-up consumer of ~100 B events can get ~40k events per partition per round trip
  // from a real broker. (No measurable effect on the embedded mock, which returns one producer
  // batch per partition per Fetch whatever this says.)
  int max_partition_fetch_bytes = 4194304;
  // fetch.wait.max.ms: how long a broker may hold a Fetch waiting for fetch.min.bytes. Lower
  // than librdkafka's 500 so that a quiet topic's first event is seen within ~100 ms.
  int fetch_wait_max_ms = 100;
  // fetch.min.bytes: a real broker answers a Fetch once it has this many bytes (or the wait
  // expires). 1 = lowest latency; raise it (e.g. 65536) to cut request rate when throughput
  // matters more than latency.
  int fetch_min_bytes = 1;
  // session.timeout.ms / heartbeat.interval.ms: how fast the group notices a dead member and
  // how fast a member notices a rebalance. Real Kafka refuses sessions below its
  // group.min.session.timeout.ms (6 s by default). Tests against the mock use 3000 / 100.
  int session_timeout_ms = 10000;
  int heartbeat_interval_ms = 3000;
  // max.poll.interval.ms: the member leaves the group when PollBatch() is not called for this
  // long (a stuck handler). 5 min, librdkafka's default.
  int max_poll_interval_ms = 300000;
  // auto.offset.reset, used when a start offset given on assignment is out of range (e.g. the
  // log was truncated by retention): "earliest" re-reads what is left rather than skip to the
  // end; the jump is logged by librdkafka.
  std::string auto_offset_reset = "earliest";

  // --- Producer tuning -------------------------------------------------------------------------

  // compression.codec for what we produce (dead letters, served, POST /v1/events). lz4 is
  // cheap on CPU and ~3-5x on JSON; it also stretches the embedded broker's ~5 MiB per
  // partition retention (kafka_broker.h).
  std::string compression_codec = "lz4";
  // linger.ms: how long the producer waits to fill a batch. 50 ms: a served record per
  // /v1/recommend at 1k requests/s made batches of ~5 records at 5 ms, and the embedded broker
  // finds a Fetch's offset by walking its partition's batches one by one (librdkafka 2.0.2
  // mock): with 5 ms it took a third of a core at 20k events/s of ingest, with 50 ms far less.
  // POST /v1/events reaches the topic up to 50 ms later.
  int linger_ms = 50;
  // queue.buffering.max.messages / .kbytes: the bounded local produce queue. When full,
  // KafkaSink::Produce() returns Unavailable instead of blocking (unless asked to wait).
  int producer_queue_max_messages = 100000;
  int producer_queue_max_kbytes = 65536;
  // message.timeout.ms: a message not delivered within this time (e.g. broker down) is
  // reported failed and counted in SinkCounters::failed. 0 = retry forever. 5 min.
  int message_timeout_ms = 300000;
  // How long KafkaSource::Close() waits for the group to take the revocation and let the member
  // leave before giving up on it (the partitions are revoked first either way). With the
  // coordinator unreachable librdkafka's own close can wait far beyond session.timeout.ms;
  // giving up only means the group notices the member's absence by its session timeout.
  int consumer_close_timeout_ms = 5000;
  // How long ~KafkaSink waits for queued messages to be delivered before giving up on them
  // (they are then counted as failed and logged).
  int producer_close_flush_ms = 5000;

  // --- Pass-through librdkafka properties (from the config file) -------------------------------

  // Applied last, after everything above, so they override it. `properties` go to both the
  // consumer and the producer; the other two to one client only. Unknown names or bad values
  // make Create() fail with InvalidArgument. Cooperative assignors are refused: KafkaSource
  // implements the eager protocol (rd_kafka_assign on every rebalance).
  std::map<std::string, std::string> properties;
  std::map<std::string, std::string> consumer_properties;
  std::map<std::string, std::string> producer_properties;
};

}  // namespace streamrec::stream
