#include "http/http_message.h"

namespace streamrec::http {

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

}  // namespace streamrec::http
