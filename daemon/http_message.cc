#include "daemon/http_message.h"

#include <charconv>
#include <cmath>

namespace streamrec::daemon {
namespace {

template <typename Float>
void AppendFloat(std::string& out, Float v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  if (ec != std::errc()) {
    out += "null";  // cannot happen with 64 bytes
    return;
  }
  out.append(buf, end);
}

}  // namespace

HttpResponse JsonError(int status, std::string_view message) {
  HttpResponse res;
  res.status = status;
  res.body.reserve(48 + message.size());
  res.body += "{\"error\":{\"code\":";
  res.body += std::to_string(status);
  res.body += ",\"message\":";
  AppendJsonString(message, &res.body);
  res.body += "}}";
  return res;
}

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 202:
      return "Accepted";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 413:
      return "Payload Too Large";
    case 415:
      return "Unsupported Media Type";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Unknown";
  }
}

void AppendJsonNumber(std::string& out, float v) { AppendFloat(out, v); }
void AppendJsonNumber(std::string& out, double v) { AppendFloat(out, v); }

}  // namespace streamrec::daemon
