// http_router_fuzz: the HTTP request path without sockets. The input is split on NUL bytes into
//   method \0 target \0 content-type \0 authorization \0 body
// (missing parts are empty; the body is the rest and may hold NULs) and goes to three lanes:
//   1. HttpRouter::Handle (daemon/http_router.h) over FakeRecommendService
//      (tests/daemon/fake_service.h): routing, query parsing, percent-decoding, bearer tokens,
//      the POST /v1/events checks and the JSON rendering of every answer.
//   2. The body into SplitJsonArray (common/json.h), POST /v1/events' JSON-array splitting,
//      against nlohmann, then each element into the daemon's EventDecoder.
//   3. The body into DaemonService::PostEvents (daemon/service_impl.h), the daemon's own
//      POST /v1/events path (splitting, decoding, event-time and new-id checks), over an empty
//      in-memory model; valid events are produced, and acknowledged, through a real KafkaSink to
//      an in-process embedded broker (librdkafka's mock cluster).
// Oracle: a known status code; every application/json answer is valid JSON and an error answer
// is {"error":{"code":<status>,"message":...}}; 405 carries Allow, 401 WWW-Authenticate, 429
// and 503 Retry-After. The split agrees with nlohmann: a body nlohmann reads as an array nested
// at most as deep as the daemon allows splits into the same elements, and every split element
// is a piece of the body, in order. PostEvents returns a result or InvalidArgument/Unavailable
// whose counts add up. Any other outcome aborts; ASan and UBSan watch the rest.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/json.h"
#include "common/metrics.h"
#include "daemon/config.h"
#include "daemon/http_router.h"
#include "daemon/model_state.h"
#include "daemon/service_impl.h"
#include "fuzz/fuzz_check.h"
#include "stream/event_codec.h"
#include "stream/kafka_broker.h"
#include "stream/kafka_sink.h"
#include "tests/daemon/fake_service.h"

namespace streamrec::daemon {
namespace {

using ::streamrec::http::HttpRequest;
using ::streamrec::http::HttpResponse;

// Tokens the router is configured with (seeds send them).
constexpr std::string_view kAdminToken = "fuzz-admin";
constexpr std::string_view kIngestToken = "fuzz-ingest";
// Every request comes from this client.
constexpr std::string_view kClient = "127.0.0.1";

bool HasHeader(const HttpResponse& res, std::string_view name) {
  return std::any_of(res.headers.begin(), res.headers.end(),
                     [&](const auto& h) { return h.first == name; });
}

// 1. The router over the fake service.
struct RouterLane {
  RouterLane() : router(service, metrics, Options()) {}
  static RouterOptions Options() {
    RouterOptions o;
    o.admin_token = std::string(kAdminToken);
    o.ingest_token = std::string(kIngestToken);
    o.max_id_bytes = 64;
    // Not the rate limit under test: past the default burst every post would be a 429.
    o.ingest_requests_per_s = 1e12;
    o.ingest_burst = 1e12;
    return o;
  }

  void Run(const HttpRequest& request) {
    const HttpResponse res = router.Handle(request);
    static constexpr int kKnown[] = {200, 202, 400, 401, 403, 404, 405, 415, 429, 500, 503};
    FUZZ_CHECK(std::find(std::begin(kKnown), std::end(kKnown), res.status) != std::end(kKnown),
               std::to_string(res.status));
    if (res.content_type == "application/json") {
      const nlohmann::json j = nlohmann::json::parse(res.body, nullptr, /*allow_exceptions=*/false);
      FUZZ_CHECK(!j.is_discarded(), "answer is not JSON: " + res.body);
      if (res.status >= 400) {
        FUZZ_CHECK(j.is_object() && j.contains("error") && j["error"].is_object() &&
                       j["error"].value("code", 0) == res.status &&
                       j["error"].contains("message") && j["error"]["message"].is_string(),
                   "error answer without error.code/message: " + res.body);
      }
    }
    if (res.status == 405) FUZZ_CHECK(HasHeader(res, "Allow"), "405 without Allow");
    if (res.status == 401) FUZZ_CHECK(HasHeader(res, "WWW-Authenticate"), "401 without challenge");
    if (res.status == 429) FUZZ_CHECK(HasHeader(res, "Retry-After"), "429 without Retry-After");
  }

  testing::FakeRecommendService service;
  MetricsRegistry metrics;
  HttpRouter router;
};

// 2. SplitJsonArray against nlohmann, and the decoder on what it splits.
struct SplitLane {
  void Run(std::string_view body) {
    // As DaemonService::PostEvents: a body whose first non-blank byte is '[' is an array.
    const size_t first = body.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos || body[first] != '[') return;
    const int max_depth = decoder.options().max_depth + 1;  // the array is depth 1
    const Status st = SplitJsonArray(body, &elements, max_depth);
    if (!st.ok()) {
      FUZZ_CHECK(st.code() == Status::Code::kInvalidArgument && !st.message().empty(),
                 st.ToString());
    } else {
      const char* next = body.data();  // where the next element may start
      for (const std::string_view e : elements) {
        FUZZ_CHECK(e.data() >= next && e.data() + e.size() <= body.data() + body.size(),
                   "element outside the body or out of order");
        next = e.data() + e.size();
        stream::EventView view;
        const Status decoded = decoder.Decode(e, &view);
        FUZZ_CHECK(decoded.ok() || decoded.code() == Status::Code::kInvalidArgument,
                   decoded.ToString());
      }
    }
    // nlohmann's reading, with containers deeper than max_depth discarded (never built). It
    // takes a NUL byte between tokens for the end of the text: no comparison then.
    if (body.find('\0') != std::string_view::npos) return;
    bool too_deep = false;
    const nlohmann::json::parser_callback_t bound = [&](int depth,
                                                        nlohmann::json::parse_event_t event,
                                                        nlohmann::json&) {
      using Event = nlohmann::json::parse_event_t;
      if ((event == Event::object_start || event == Event::array_start) && depth + 1 > max_depth) {
        too_deep = true;
        return false;
      }
      return true;
    };
    const nlohmann::json j = nlohmann::json::parse(body, bound, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_array() || too_deep) return;
    FUZZ_CHECK(st.ok(), "nlohmann reads an array, the split says " + st.ToString() +
                            "\n body: " + std::string(body.substr(0, 2000)));
    FUZZ_CHECK(elements.size() == j.size(), "split into " + std::to_string(elements.size()) +
                                                " elements, nlohmann reads " +
                                                std::to_string(j.size()));
    for (size_t i = 0; i < elements.size(); ++i) {
      const nlohmann::json e = nlohmann::json::parse(elements[i], nullptr, false);
      FUZZ_CHECK(!e.is_discarded() && e == j[i],
                 "element " + std::to_string(i) + " differs: " + std::string(elements[i]));
    }
  }

  stream::EventDecoder decoder;  // the daemon's default limits
  std::vector<std::string_view> elements;
};

// 3. DaemonService::PostEvents producing to an in-process embedded broker. The service gets
// no applier: PostEvents never uses it.
struct PostEventsLane {
  PostEventsLane() {
    Result<std::unique_ptr<stream::KafkaBroker>> b = stream::KafkaBroker::Start(1);
    if (!b.ok()) Die("embedded broker: " + b.status().ToString());
    broker = std::move(*b);
    config.kafka.brokers = broker->bootstrap_servers();
    config.ingest.new_ids_per_s = 1e12;  // every id is new to the empty model
    if (Status st = broker->CreateTopic(config.kafka.topic, 1); !st.ok()) Die(st.ToString());
    Result<std::unique_ptr<ModelState>> m = ModelState::Create(config);
    if (!m.ok()) Die("model: " + m.status().ToString());
    model = std::move(*m);
    Result<std::unique_ptr<stream::KafkaSink>> s = stream::KafkaSink::Create(config.kafka);
    if (!s.ok()) Die("sink: " + s.status().ToString());
    sink = std::move(*s);
    stream::KafkaOptions ingest_options = config.kafka;  // as Application: acks from all replicas
    ingest_options.linger_ms = 1;
    ingest_options.producer_properties.emplace("acks", "all");
    Result<std::unique_ptr<stream::KafkaSink>> i = stream::KafkaSink::Create(ingest_options);
    if (!i.ok()) Die("ingest sink: " + i.status().ToString());
    ingest = std::move(*i);
    service = std::make_unique<DaemonService>(
        config, model.get(), /*applier=*/nullptr, sink.get(), ingest.get(), &metrics,
        [] { return std::string("{}"); }, [] { return Status::Ok(); });
  }

  [[noreturn]] static void Die(const std::string& what) {
    std::fprintf(stderr, "http_router_fuzz: cannot set up: %s\n", what.c_str());
    std::exit(1);
  }

  void Run(std::string_view body) {
    const Result<PostEventsResult> r = service->PostEvents(body, kClient);
    if (!r.ok()) {
      const Status::Code code = r.status().code();
      FUZZ_CHECK(code == Status::Code::kInvalidArgument || code == Status::Code::kUnavailable,
                 r.status().ToString());
      FUZZ_CHECK(!r.status().message().empty(), "empty reason");
      return;
    }
    FUZZ_CHECK(r->rejected.size() <= r->rejected_count &&
                   r->rejected.size() <= PostEventsResult::kMaxListedRejections,
               "rejections listed and counted disagree");
    size_t next = 0;  // the smallest index the next rejection may have
    for (const auto& [index, reason] : r->rejected) {
      FUZZ_CHECK(index >= next, "rejected indices not increasing");
      FUZZ_CHECK(!reason.empty(), "rejected without a reason");
      next = index + 1;
    }
    FUZZ_CHECK(next <= r->accepted + r->failed + r->rejected_count,
               "rejected index past the last event");
  }

  Config config;
  MetricsRegistry metrics;
  std::unique_ptr<stream::KafkaBroker> broker;
  std::unique_ptr<ModelState> model;
  std::unique_ptr<stream::KafkaSink> sink;
  std::unique_ptr<stream::KafkaSink> ingest;
  std::unique_ptr<DaemonService> service;
};

// Splits off the part of `*rest` before the next NUL (all of it when there is none).
std::string_view NextPart(std::string_view* rest) {
  const size_t nul = rest->find('\0');
  const std::string_view part = rest->substr(0, nul);
  rest->remove_prefix(nul == std::string_view::npos ? rest->size() : nul + 1);
  return part;
}

}  // namespace
}  // namespace streamrec::daemon

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace streamrec::daemon;
  // Built on first use and never destroyed: the broker's threads would outlive the static
  // destructors, and libFuzzer exits without unwinding.
  static RouterLane* router = new RouterLane();
  static SplitLane* split = new SplitLane();
  static PostEventsLane* post_events = new PostEventsLane();
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  HttpRequest request;
  request.method = NextPart(&rest);
  request.target = NextPart(&rest);
  request.content_type = NextPart(&rest);
  request.authorization = NextPart(&rest);
  request.body = rest;
  request.remote_address = kClient;
  router->Run(request);
  split->Run(request.body);
  post_events->Run(request.body);
  return 0;
}
