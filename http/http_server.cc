#include "http/http_server.h"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <exception>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <unordered_set>
#include <vector>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "common/log.h"
#include "http/http_server_probe.h"

namespace streamrec::http {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using ErrorCode = beast::error_code;

// Bytes asked of the kernel for the first read of a request.
constexpr size_t kFirstReadBytes = 4096;
// Lingering close: after an error response, read and discard what the client still sends for
// at most this long / this much, so that it sees the response instead of a reset.
constexpr auto kLingerTime = std::chrono::milliseconds(1000);
constexpr size_t kLingerMaxBytes = 8 << 20;
// Pause before accepting again after an accept error (EMFILE), so the loop does not spin.
constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(50);

constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr std::string_view kBusyResponse =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: close\r\n"
    "Content-Length: 70\r\n\r\n"
    "{\"error\":{\"code\":503,\"message\":\"too many connections, retry later.\"}}\n";

std::string_view ToStd(beast::string_view s) { return {s.data(), s.size()}; }

class Session;

// State shared by the listener, the sessions and the server; sessions keep it alive through a
// shared_ptr, so a session that outlives HttpServer::Stop (its handler still queued) is safe.
struct ServerCore {
  HttpServerOptions options;
  HttpHandler* handler = nullptr;  // borrowed; outlives the server threads

  // Its metrics live in the registry HttpServer was given, or in HttpServer::Impl's own.
  std::unique_ptr<HttpServerProbe> probe;
  net::thread_pool* blocking_pool = nullptr;  // owned by HttpServer::Impl; outlives the threads
  std::atomic<size_t> blocking_in_flight{0};

  std::atomic<bool> stopping{false};
  std::atomic<size_t> active{0};

  bool IsReservedPath(std::string_view target) const {
    const std::string_view path = target.substr(0, target.find('?'));
    for (const std::string& p : options.reserved_paths) {
      if (path == p) return true;
    }
    return false;
  }

  std::mutex mu;
  std::condition_variable sessions_empty;
  // Live sessions, for Stop to close them. A session adds itself in Run and removes itself in
  // its destructor, both under mu.
  std::unordered_set<Session*> sessions;  // GUARDED_BY(mu)
};

// One connection. All handlers run on the connection's strand (the socket's executor), so the
// members need no lock. Lifetime: owned by the shared_ptrs bound into its pending handlers.
//
// Timeouts: each step (idle wait, request, response, linger) only moves deadline_; one timer
// per connection wakes every check_ (a quarter of the shorter timeout) or at the deadline, and
// closes the connection once the deadline has passed. Re-arming a timer per step (Beast's
// tcp_stream::expires_after) cost two timerfd_settime calls a request.
class Session : public std::enable_shared_from_this<Session> {
 public:
  // `reserved`: accepted beyond max_connections, for one request to a reserved path.
  Session(tcp::socket&& socket, std::shared_ptr<ServerCore> core, bool reserved)
      : stream_(std::move(socket)),
        timer_(stream_.get_executor()),
        reserved_(reserved),
        core_(std::move(core)),
        check_(std::chrono::milliseconds(std::max<int64_t>(
            1, std::min(core_->options.idle_timeout_ms, core_->options.request_timeout_ms) / 4))) {
    core_->active.fetch_add(1, std::memory_order_relaxed);
    core_->probe->OnSessionOpened();
    ErrorCode ec;
    const tcp::endpoint peer = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_address_ = peer.address().to_string(ec);
  }

  ~Session() {
    core_->probe->OnSessionClosed();
    std::lock_guard<std::mutex> lock(core_->mu);
    core_->sessions.erase(this);
    core_->active.fetch_sub(1, std::memory_order_relaxed);
    if (core_->sessions.empty()) core_->sessions_empty.notify_all();
  }

  // Registers the session and starts reading on its strand.
  void Run() {
    bool stopping;
    {
      std::lock_guard<std::mutex> lock(core_->mu);
      stopping = core_->stopping.load();
      if (!stopping) core_->sessions.insert(this);
    }
    if (stopping) return;  // destroyed when the last reference goes
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      self->SetDeadline(std::chrono::milliseconds(self->IdleTimeoutMs()));
      self->ArmTimer();
      self->DoRead();
    });
  }

  // When the connection started waiting for its next request (steady clock, ns); 0 while a
  // request is read, handled or answered. Any thread.
  int64_t idle_since_ns() const { return idle_since_ns_.load(std::memory_order_relaxed); }

  // Server stop: close now unless a response is being written, then close after it.
  void RequestClose() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      if (self->writing_) {
        self->close_requested_ = true;  // OnWrite closes
      } else {
        self->CloseNow();  // idle, mid-request, or lingering
      }
    });
  }

 private:
  void DoRead() {
    parser_.emplace();
    parser_->body_limit(core_->options.max_body_bytes);
    parser_->header_limit(static_cast<uint32_t>(core_->options.max_header_bytes));
    if (buffer_.size() > 0) {
      // Pipelined bytes of the next request are already here.
      ReadHeader();
      return;
    }
    // Idle: wait for the first byte under the idle timeout.
    SetDeadline(std::chrono::milliseconds(IdleTimeoutMs()));
    idle_since_ns_.store(std::chrono::steady_clock::now().time_since_epoch().count(),
                         std::memory_order_relaxed);
    stream_.async_read_some(buffer_.prepare(kFirstReadBytes),
                            beast::bind_front_handler(&Session::OnFirstBytes, shared_from_this()));
  }

  void OnFirstBytes(ErrorCode ec, size_t bytes) {
    idle_since_ns_.store(0, std::memory_order_relaxed);
    if (ec) return CloseNow();  // eof, timeout, reset or stop: nothing to answer
    buffer_.commit(bytes);
    ReadHeader();
  }

  void ReadHeader() {
    SetDeadline(std::chrono::milliseconds(core_->options.request_timeout_ms));
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Session::OnReadHeader, shared_from_this()));
  }

  void OnReadHeader(ErrorCode ec, size_t /*bytes*/) {
    if (ec) return OnRead(ec, 0);
    if (parser_->is_done()) return OnRead(ec, 0);  // no body
    if (beast::iequals(parser_->get()[http::field::expect], "100-continue")) {
      // The client waits for this before sending the body (curl does for large bodies).
      net::async_write(stream_, net::buffer(kContinue.data(), kContinue.size()),
                       beast::bind_front_handler(&Session::OnContinueWritten, shared_from_this()));
      return;
    }
    ReadBody();
  }

  void OnContinueWritten(ErrorCode ec, size_t /*bytes*/) {
    if (ec) return CloseNow();
    ReadBody();
  }

  void ReadBody() {
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::OnRead, shared_from_this()));
  }

  void OnRead(ErrorCode ec, size_t /*bytes*/) {
    if (ec == http::error::end_of_stream || ec == net::error::operation_aborted) {
      return CloseNow();  // also a timeout: OnTimer closed the socket and counted it
    }
    if (ec == http::error::body_limit) {
      core_->probe->OnError(HttpServerProbe::Error::kBodyLimit);
      return Respond(JsonError(413, "request body larger than " +
                                        std::to_string(core_->options.max_body_bytes) + " bytes"),
                     /*close=*/true);
    }
    if (ec == http::error::header_limit) {
      core_->probe->OnError(HttpServerProbe::Error::kHeaderLimit);
      return Respond(JsonError(431, "request header larger than " +
                                        std::to_string(core_->options.max_header_bytes) + " bytes"),
                     /*close=*/true);
    }
    if (ec && ec.category() == http::make_error_code(http::error::bad_target).category()) {
      core_->probe->OnError(HttpServerProbe::Error::kBadRequest);
      return Respond(JsonError(400, "malformed HTTP request: " + ec.message()), /*close=*/true);
    }
    if (ec) return CloseNow();  // reset by peer and friends

    const auto& req = parser_->get();
    HttpRequest request;
    request.method = ToStd(req.method_string());
    request.target = ToStd(req.target());
    request.content_type = ToStd(req[http::field::content_type]);
    request.authorization = ToStd(req[http::field::authorization]);
    request.body = req.body();
    request.remote_address = remote_address_;
    version_ = req.version();
    head_ = req.method() == http::verb::head;
    // A connection beyond the cap serves one request.
    const bool close = !req.keep_alive() || reserved_;

    if (req.version() >= 11 && req.find(http::field::host) == req.end()) {
      core_->probe->OnError(HttpServerProbe::Error::kBadRequest);
      return Respond(JsonError(400, "HTTP/1.1 request without a Host header"), /*close=*/true);
    }
    if (reserved_ && !core_->IsReservedPath(request.target)) {
      core_->probe->OnRejected();
      return Respond(JsonError(503, "too many connections, retry later"), /*close=*/true);
    }
    if (core_->handler->MayBlock(request)) return HandleBlocking(request, close);
    Respond(CallHandler(request), close);
  }

  // The session boundary: nothing thrown by the handler escapes into Asio.
  HttpResponse CallHandler(const HttpRequest& request) {
    try {
      return core_->handler->Handle(request);
    } catch (const std::exception& e) {
      core_->probe->OnError(HttpServerProbe::Error::kHandlerException);
      return JsonError(500, std::string("internal error: ") + e.what());
    } catch (...) {
      core_->probe->OnError(HttpServerProbe::Error::kHandlerException);
      return JsonError(500, "internal error");
    }
  }

  // Runs the handler on the blocking pool, then answers on the connection's strand. The
  // request's views stay valid: parser_ is kept until Respond.
  void HandleBlocking(const HttpRequest& request, bool close) {
    if (core_->blocking_in_flight.fetch_add(1, std::memory_order_relaxed) >=
        core_->options.max_blocking_requests) {
      core_->blocking_in_flight.fetch_sub(1, std::memory_order_relaxed);
      core_->probe->OnBlockingRejected();
      return Respond(JsonError(503, "too many slow requests in flight, retry later"), close);
    }
    SetDeadline(std::chrono::milliseconds(core_->options.request_timeout_ms));
    net::post(*core_->blocking_pool, [self = shared_from_this(), request, close] {
      HttpResponse res = self->CallHandler(request);
      self->core_->blocking_in_flight.fetch_sub(1, std::memory_order_relaxed);
      net::post(self->stream_.get_executor(), [self, res = std::move(res), close]() mutable {
        if (self->closed_) return;  // timed out or stopped meanwhile
        self->Respond(std::move(res), close);
      });
    });
  }

  int64_t IdleTimeoutMs() const {
    return reserved_
               ? std::min(core_->options.idle_timeout_ms, core_->options.reserved_idle_timeout_ms)
               : core_->options.idle_timeout_ms;
  }

  void Respond(HttpResponse res, bool close) {
    close = close || close_requested_ || core_->stopping.load(std::memory_order_relaxed);
    res_ = {};
    res_.version(version_);
    res_.result(static_cast<unsigned>(res.status));
    res_.set(http::field::server, "streamrec");
    res_.set(http::field::content_type, res.content_type);
    for (const auto& [name, value] : res.headers) res_.set(name, value);
    res_.keep_alive(!close);
    res_.body() = std::move(res.body);
    res_.prepare_payload();
    if (head_) {  // the headers of the GET answer, Content-Length included, and no body
      const auto length = res_.body().size();
      res_.body().clear();
      res_.content_length(length);
    }
    // The parsed request is done with; its body may be large.
    parser_.reset();

    writing_ = true;
    SetDeadline(std::chrono::milliseconds(core_->options.request_timeout_ms));
    http::async_write(stream_, res_,
                      beast::bind_front_handler(&Session::OnWrite, shared_from_this(), close));
  }

  void OnWrite(bool close, ErrorCode ec, size_t /*bytes*/) {
    writing_ = false;
    if (ec || close_requested_) return CloseNow();
    if (close) return LingeringClose();
    res_ = {};
    version_ = 11;
    head_ = false;
    DoRead();
  }

  // Half-closes, then discards what the peer still sends until it closes, the linger time
  // passes or the byte cap is reached; then closes.
  void LingeringClose() {
    ErrorCode ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    SetDeadline(kLingerTime);
    lingering_ = true;
    DoDrain();
  }

  void DoDrain() {
    buffer_.consume(buffer_.size());
    stream_.async_read_some(buffer_.prepare(kFirstReadBytes),
                            beast::bind_front_handler(&Session::OnDrain, shared_from_this()));
  }

  void OnDrain(ErrorCode ec, size_t bytes) {
    drained_bytes_ += bytes;
    if (ec || drained_bytes_ > kLingerMaxBytes) return CloseNow();
    DoDrain();
  }

  void CloseNow() {
    ErrorCode ignored;
    if (!lingering_) stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
    timer_.cancel();
    closed_ = true;
  }

  void SetDeadline(std::chrono::steady_clock::duration d) {
    deadline_ = std::chrono::steady_clock::now() + d;
  }
  void ArmTimer() {
    timer_.expires_at(std::min(deadline_, std::chrono::steady_clock::now() + check_));
    timer_.async_wait(beast::bind_front_handler(&Session::OnTimer, shared_from_this()));
  }
  void OnTimer(ErrorCode ec) {
    if (ec || closed_) return;  // cancelled: the connection is closing
    if (std::chrono::steady_clock::now() < deadline_) return ArmTimer();
    if (!lingering_)
      core_->probe->OnError(HttpServerProbe::Error::kTimeout);  // a lingering close simply ends
    CloseNow();  // the pending read or write completes with operation_aborted
  }

  beast::tcp_stream stream_;
  net::steady_timer timer_;
  std::chrono::steady_clock::time_point deadline_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> res_;
  unsigned version_ = 11;
  bool head_ = false;                      // the request being answered is a HEAD
  const bool reserved_;                    // accepted beyond max_connections (see Session())
  std::string remote_address_;             // the peer's address, for per-client limits
  std::atomic<int64_t> idle_since_ns_{0};  // see idle_since_ns()
  bool writing_ = false;                   // an async_write is in flight
  bool close_requested_ = false;           // server stopping: close after the current response
  bool lingering_ = false;
  size_t drained_bytes_ = 0;
  bool closed_ = false;
  const std::shared_ptr<ServerCore> core_;
  const std::chrono::steady_clock::duration check_;  // the timer's longest sleep
};

// Accepts connections; each accepted socket gets its own strand and session on the next
// io_context, round robin (one io_context a thread: a connection's handlers all run on one
// thread, and no thread wakes another through the scheduler, which costs futex calls a request).
// Runs on its own strand of the first; lifetime: owned by HttpServer::Impl and the pending
// accept handler.
class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(std::vector<net::io_context*> iocs, std::shared_ptr<ServerCore> core)
      : iocs_(std::move(iocs)),
        acceptor_(net::make_strand(*iocs_.front())),
        retry_timer_(acceptor_.get_executor()),
        core_(std::move(core)) {}

  Status Open(const tcp::endpoint& endpoint) {
    ErrorCode ec;
    const std::string where =
        endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) return Status::IOError("http listen on " + where + ": " + ec.message());
    port_ = acceptor_.local_endpoint(ec).port();
    if (ec) return Status::IOError("http local_endpoint: " + ec.message());
    return Status::Ok();
  }

  uint16_t port() const { return port_; }

  void Run() {
    net::dispatch(acceptor_.get_executor(),
                  beast::bind_front_handler(&Listener::DoAccept, shared_from_this()));
  }

  // Closes the listening socket on its strand; the pending accept completes with
  // operation_aborted and the listener is released.
  void Close() {
    net::post(acceptor_.get_executor(), [self = shared_from_this()] {
      ErrorCode ignored;
      self->acceptor_.close(ignored);
      self->retry_timer_.cancel();
    });
  }

 private:
  void DoAccept() {
    if (!acceptor_.is_open()) return;
    net::io_context& ioc = *iocs_[next_++ % iocs_.size()];
    acceptor_.async_accept(net::make_strand(ioc),
                           beast::bind_front_handler(&Listener::OnAccept, shared_from_this()));
  }

  void OnAccept(ErrorCode ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor_.is_open() || core_->stopping.load()) {
      return;
    }
    if (ec) {
      // EMFILE and friends: try again shortly instead of spinning.
      LogWarn("http: accept: " + ec.message());
      retry_timer_.expires_after(kAcceptRetryDelay);
      retry_timer_.async_wait([self = shared_from_this()](ErrorCode wait_ec) {
        if (!wait_ec) self->DoAccept();
      });
      return;
    }
    const size_t active = core_->active.load(std::memory_order_relaxed);
    const bool reserved = active >= core_->options.max_connections;
    // Every slot taken: the connection that has waited longest for a request makes room (a
    // flood of idle connections must not keep a probe out), unless none is idle.
    if (active >= core_->options.max_connections + core_->options.reserved_connections &&
        !EvictLongestIdle()) {
      core_->probe->OnRejected();
      // Best effort: one non-blocking write of a canned 503, then close.
      ErrorCode ignored;
      socket.non_blocking(true, ignored);
      socket.write_some(net::buffer(kBusyResponse.data(), kBusyResponse.size()), ignored);
      socket.shutdown(tcp::socket::shutdown_both, ignored);
      socket.close(ignored);
    } else {
      core_->probe->OnAccepted(reserved);
      ErrorCode ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      std::make_shared<Session>(std::move(socket), core_, reserved)->Run();
    }
    DoAccept();
  }

  // Closes the session that has waited longest for its next request; false when none waits.
  bool EvictLongestIdle() {
    std::shared_ptr<Session> victim;
    {
      std::lock_guard<std::mutex> lock(core_->mu);
      int64_t oldest = std::numeric_limits<int64_t>::max();
      Session* pick = nullptr;
      for (Session* s : core_->sessions) {
        const int64_t since = s->idle_since_ns();
        if (since > 0 && since < oldest) {
          oldest = since;
          pick = s;
        }
      }
      if (pick != nullptr) victim = pick->weak_from_this().lock();
    }
    if (victim == nullptr) return false;
    core_->probe->OnEvicted();
    victim->RequestClose();
    return true;
  }

  const std::vector<net::io_context*> iocs_;
  size_t next_ = 0;  // the io_context of the next connection (on the acceptor's strand)
  tcp::acceptor acceptor_;
  net::steady_timer retry_timer_;
  const std::shared_ptr<ServerCore> core_;
  uint16_t port_ = 0;
};

}  // namespace

struct HttpServer::Impl {
  Impl(HttpServerOptions options, HttpHandler& handler, MetricsRegistry* metrics)
      : core(std::make_shared<ServerCore>()) {
    // One single-threaded io_context a thread (concurrency hint 1: no scheduler locking).
    for (int i = 0; i < std::max(1, options.threads); ++i) {
      iocs.push_back(std::make_unique<net::io_context>(1));
      // Keeps run() going while the io_context has no connection yet.
      work.push_back(net::make_work_guard(*iocs.back()));
    }
    MetricsRegistry& m = metrics != nullptr ? *metrics : own_metrics;
    core->options = std::move(options);
    core->handler = &handler;
    core->probe = std::make_unique<HttpServerProbe>(m);
    blocking_pool = std::make_unique<net::thread_pool>(
        static_cast<size_t>(std::max(1, core->options.blocking_threads)));
    core->blocking_pool = blocking_pool.get();
  }

  // Declared first so that it is destroyed last: the core's probe's metrics may live here.
  MetricsRegistry own_metrics;
  std::vector<std::unique_ptr<net::io_context>> iocs;
  std::vector<net::executor_work_guard<net::io_context::executor_type>> work;
  std::unique_ptr<net::thread_pool> blocking_pool;
  std::shared_ptr<ServerCore> core;
  std::shared_ptr<Listener> listener;
  std::vector<std::thread> threads;

  std::mutex lifecycle_mu;  // serializes Start and Stop
  bool started = false;     // GUARDED_BY(lifecycle_mu)
  bool stopped = false;     // GUARDED_BY(lifecycle_mu)
  std::atomic<uint16_t> port{0};
};

HttpServer::HttpServer(HttpServerOptions options, HttpHandler& handler, MetricsRegistry* metrics)
    : impl_(std::make_unique<Impl>(std::move(options), handler, metrics)) {}

HttpServer::~HttpServer() {
  Stop();
  // Sessions whose handlers were still queued when the io_context stopped are destroyed with
  // it, before the listener and the core.
}

Status HttpServer::Start() {
  std::lock_guard<std::mutex> lock(impl_->lifecycle_mu);
  if (impl_->started) return Status::FailedPrecondition("http server already started");
  const HttpServerOptions& o = impl_->core->options;
  if (o.threads < 1 || o.max_connections < 1 || o.idle_timeout_ms < 1 || o.request_timeout_ms < 1 ||
      o.max_header_bytes < 64 || o.max_header_bytes > std::numeric_limits<uint32_t>::max()) {
    return Status::InvalidArgument(
        "http options: threads, max_connections and timeouts must be positive, "
        "max_header_bytes in [64, 4 GiB)");
  }
  ErrorCode ec;
  const auto address = net::ip::make_address(o.bind_address, ec);
  if (ec)
    return Status::InvalidArgument("http bind address '" + o.bind_address + "': " + ec.message());
  std::vector<net::io_context*> iocs;
  for (auto& ioc : impl_->iocs) iocs.push_back(ioc.get());
  auto listener = std::make_shared<Listener>(std::move(iocs), impl_->core);
  STREAMREC_RETURN_IF_ERROR(listener->Open(tcp::endpoint(address, o.port)));
  impl_->port.store(listener->port());
  impl_->listener = listener;
  impl_->started = true;
  listener->Run();
  for (auto& ioc : impl_->iocs) {
    impl_->threads.emplace_back([ioc = ioc.get()] {
      pthread_setname_np(pthread_self(), "http");
      for (;;) {
        try {
          ioc->run();
          return;
        } catch (const std::exception& e) {
          // Handlers catch their own errors; this is the last line of defence.
          LogError(std::string("http: uncaught exception in io thread: ") + e.what());
        }
      }
    });
  }
  return Status::Ok();
}

void HttpServer::Stop() {
  std::lock_guard<std::mutex> lock(impl_->lifecycle_mu);
  if (!impl_->started || impl_->stopped) return;
  impl_->stopped = true;
  ServerCore& core = *impl_->core;
  std::vector<std::shared_ptr<Session>> alive;
  {
    std::lock_guard<std::mutex> sessions_lock(core.mu);
    core.stopping.store(true);
    alive.reserve(core.sessions.size());
    for (Session* s : core.sessions) {
      // A session whose destructor is waiting for `mu` has no owner left: skip it.
      if (auto p = s->weak_from_this().lock()) alive.push_back(std::move(p));
    }
  }
  impl_->listener->Close();
  for (auto& s : alive) s->RequestClose();
  // Dropped outside the lock: the last reference runs ~Session, which takes `mu`.
  alive.clear();
  {
    std::unique_lock<std::mutex> sessions_lock(core.mu);
    core.sessions_empty.wait_for(sessions_lock,
                                 std::chrono::milliseconds(core.options.stop_grace_ms),
                                 [&] { return core.sessions.empty(); });
  }
  impl_->work.clear();
  for (auto& ioc : impl_->iocs) ioc->stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
  impl_->blocking_pool->join();  // handlers still blocked finish; their answers are dropped
  impl_->listener.reset();
}

uint16_t HttpServer::port() const { return impl_->port.load(); }

size_t HttpServer::active_connections() const {
  return impl_->core->active.load(std::memory_order_relaxed);
}

}  // namespace streamrec::http
