// Transport-neutral HTTP request/response values, the handler interface the server calls, and
// the small JSON writers the routes use to build bodies. No Beast, no sockets:
// the session converts Beast messages to and from these.
//
// Thread safety: HttpRequest/HttpResponse are plain values; the free functions are pure.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/json.h"

namespace streamrec::http {

// One parsed request. The views borrow from the transport's buffers and are valid only for the
// duration of HttpHandler::Handle.
struct HttpRequest {
  std::string_view method;  // "GET", "POST", "DELETE", ... as sent
  std::string_view target;  // origin-form: "/v1/recommend?user=u1&k=10"
  std::string_view content_type;
  std::string_view authorization;
  std::string_view body;
  // The peer's address ("127.0.0.1"); keys per-client limits. Empty when unknown.
  std::string_view remote_address;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  // Extra headers (Allow, WWW-Authenticate, Cache-Control). The transport adds Server,
  // Content-Length, Content-Type and Connection.
  std::vector<std::pair<std::string, std::string>> headers;
};

// What the server calls for every complete request.
// Thread safety: Handle is called concurrently from all server threads.
class HttpHandler {
 public:
  virtual ~HttpHandler() = default;
  // Must not throw; the session still catches anything and answers 500.
  virtual HttpResponse Handle(const HttpRequest& request) = 0;
  // True when handling `request` may wait (on a broker, a disk): the server then calls Handle
  // on a thread of its own rather than on a network thread, whose other connections would wait
  // too. Called on a network thread; must be cheap.
  virtual bool MayBlock(const HttpRequest& /*request*/) const { return false; }
};

// `{"error":{"code":<status>,"message":"<message>"}}` with that status.
HttpResponse JsonError(int status, std::string_view message);

// The standard reason phrase of `status` ("Not Found"), or "Unknown".
std::string_view ReasonPhrase(int status);

// The JSON number writer (shortest round-trip form, non-finite as null) is common/json.h's.
using streamrec::AppendJsonNumber;

}  // namespace streamrec::http
