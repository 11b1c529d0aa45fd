#include "daemon/route_helpers.h"

#include <string>
#include <utility>

#include "common/json.h"

namespace streamrec::daemon {

using http::HttpResponse;
using http::JsonError;

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

int HttpStatusOf(const Status& status) {
  switch (status.code()) {
    case Status::Code::kInvalidArgument:
      return 400;
    case Status::Code::kNotFound:
      return 404;
    case Status::Code::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

HttpResponse ErrorFromStatus(const Status& status) {
  return JsonError(HttpStatusOf(status), status.message());
}

HttpResponse JsonOk(std::string body, int status) {
  HttpResponse res;
  res.status = status;
  res.body = std::move(body);
  return res;
}

const std::string* FindParam(const QueryParams& params, std::string_view key) {
  for (const auto& [k, v] : params) {
    if (k == key) return &v;
  }
  return nullptr;
}

Status ValidateId(std::string_view name, std::string_view value, size_t max_bytes) {
  if (value.size() > max_bytes) {
    return Status::InvalidArgument("parameter '" + std::string(name) + "' is longer than " +
                                   std::to_string(max_bytes) + " bytes");
  }
  if (!IsValidUtf8(value)) {
    return Status::InvalidArgument("parameter '" + std::string(name) + "' is not valid UTF-8");
  }
  if (HasControlCharacter(value)) {
    return Status::InvalidArgument("parameter '" + std::string(name) +
                                   "' contains a control character");
  }
  return Status::Ok();
}

Result<std::string> OptionalId(const QueryParams& params, std::string_view name, size_t max_bytes) {
  const std::string* v = FindParam(params, name);
  if (v == nullptr) return std::string();
  STREAMREC_RETURN_IF_ERROR(ValidateId(name, *v, max_bytes));
  return *v;
}

Result<std::string> RequiredId(const QueryParams& params, std::string_view name, size_t max_bytes) {
  Result<std::string> id = OptionalId(params, name, max_bytes);
  if (id.ok() && id->empty()) {
    return Status::InvalidArgument("missing parameter '" + std::string(name) + "'");
  }
  return id;
}

std::optional<int64_t> ParseBoundedInt(std::string_view s, int64_t lo, int64_t hi) {
  if (s.empty() || s.size() > 9) return std::nullopt;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  if (v < lo || v > hi) return std::nullopt;
  return v;
}

void AppendItems(std::string& out, const std::vector<ScoredId>& items) {
  out += '[';
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ',';
    out += "{\"item\":";
    AppendJsonString(items[i].item, &out);
    out += ",\"score\":";
    AppendJsonNumber(out, items[i].score);
    out += ",\"source\":";
    AppendJsonString(items[i].source, &out);
    if (items[i].propensity >= 0.0) {
      out += ",\"propensity\":";
      AppendJsonNumber(out, items[i].propensity);
    }
    out += '}';
  }
  out += ']';
}

std::string MediaType(std::string_view content_type) {
  content_type = content_type.substr(0, content_type.find(';'));
  while (!content_type.empty() && (content_type.front() == ' ' || content_type.front() == '\t')) {
    content_type.remove_prefix(1);
  }
  while (!content_type.empty() && (content_type.back() == ' ' || content_type.back() == '\t')) {
    content_type.remove_suffix(1);
  }
  std::string out(content_type);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool IsBlank(std::string_view s) {
  for (char c : s) {
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return false;
  }
  return true;
}

bool BearerMatches(std::string_view authorization, std::initializer_list<std::string_view> tokens) {
  constexpr std::string_view kBearer = "bearer ";
  bool scheme_ok = authorization.size() > kBearer.size();
  for (size_t i = 0; scheme_ok && i < kBearer.size(); ++i) {
    const char c = authorization[i];
    scheme_ok = (c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c) == kBearer[i];
  }
  if (!scheme_ok) return false;
  bool match = false;
  for (std::string_view token : tokens) {
    match |= !token.empty() && ConstantTimeEquals(authorization.substr(kBearer.size()), token);
  }
  return match;
}

HttpResponse Unauthorized() {
  HttpResponse res = JsonError(401, "missing or wrong bearer token");
  res.headers.emplace_back("WWW-Authenticate", "Bearer");
  return res;
}

Result<std::string> PercentDecode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size()) {
        return Status::InvalidArgument("bad percent-encoding: truncated escape");
      }
      const int h = HexValue(s[i + 1]);
      const int l = HexValue(s[i + 2]);
      if (h < 0 || l < 0) return Status::InvalidArgument("bad percent-encoding: non-hex escape");
      c = static_cast<char>(h * 16 + l);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      c = ' ';
    }
    if (c == '\0') return Status::InvalidArgument("NUL byte");
    out += c;
  }
  return out;
}

Result<QueryParams> ParseQuery(std::string_view query) {
  QueryParams params;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    Result<std::string> key = PercentDecode(pair.substr(0, eq), /*plus_is_space=*/true);
    if (!key.ok()) return key.status();
    Result<std::string> value = eq == std::string_view::npos
                                    ? Result<std::string>(std::string())
                                    : PercentDecode(pair.substr(eq + 1), /*plus_is_space=*/true);
    if (!value.ok()) {
      std::string name = *key;
      if (name.size() > 64) name.resize(64);
      return Status::InvalidArgument(value.status().message() + " in parameter '" + name + "'");
    }
    params.emplace_back(std::move(*key), std::move(*value));
  }
  return params;
}

std::string RenderRecommendationJson(const Recommendation& rec) {
  std::string out;
  out.reserve(64 + rec.user.size() + rec.rec_id.size() + rec.items.size() * 64);
  out += "{\"user\":";
  AppendJsonString(rec.user, &out);
  out += ",\"rec_id\":";
  AppendJsonString(rec.rec_id, &out);
  out += ",\"items\":";
  AppendItems(out, rec.items);
  out += '}';
  return out;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  const size_t n = a.size() > b.size() ? a.size() : b.size();
  unsigned diff = a.size() == b.size() ? 0u : 1u;
  for (size_t i = 0; i < n; ++i) {
    const unsigned char ca = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char cb = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned>(ca ^ cb);
  }
  return diff == 0;
}

}  // namespace streamrec::daemon
