// What the routes of HttpRouter share: query strings and ids parsed and validated, bearer
// tokens checked, JSON bodies and error responses built. Pure functions of their arguments.
//
// Thread safety: every function is pure and may be called from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "daemon/recommend_service.h"
#include "http/http_message.h"

namespace streamrec::daemon {

// Percent-decodes `s` ("%41" -> "A"; '+' -> ' ' when `plus_is_space`). InvalidArgument on a
// truncated or non-hex escape or a decoded NUL.
Result<std::string> PercentDecode(std::string_view s, bool plus_is_space);

// Decoded key/value pairs of a query string (without the '?'), in order. A pair without '='
// has an empty value; empty pairs ("a=1&&b=2") are skipped.
using QueryParams = std::vector<std::pair<std::string, std::string>>;
Result<QueryParams> ParseQuery(std::string_view query);

// The /v1/recommend body: {"user":..,"rec_id":..,"items":[{"item":..,"score":..,"source":..}]}.
std::string RenderRecommendationJson(const Recommendation& rec);

// True when `a` equals `b`, in time that depends only on their lengths.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// The value of the first parameter named `key`, or null.
const std::string* FindParam(const QueryParams& params, std::string_view key);

// Checks a decoded id: UTF-8, no control character, at most `max_bytes` long.
Status ValidateId(std::string_view name, std::string_view value, size_t max_bytes);

// An id parameter, validated; empty string when absent or empty.
Result<std::string> OptionalId(const QueryParams& params, std::string_view name, size_t max_bytes);

// An id parameter, validated; InvalidArgument when absent or empty.
Result<std::string> RequiredId(const QueryParams& params, std::string_view name, size_t max_bytes);

// Parses a decimal integer made of 1..9 digits (no sign, no spaces) into [lo, hi].
std::optional<int64_t> ParseBoundedInt(std::string_view s, int64_t lo, int64_t hi);

// Appends `items` as a JSON array of {"item","score","source"[,"propensity"]}.
void AppendItems(std::string& out, const std::vector<ScoredId>& items);

// ASCII-lowercase media type of a Content-Type value, without parameters and spaces.
std::string MediaType(std::string_view content_type);

// True when `s` holds only spaces, tabs and line breaks.
bool IsBlank(std::string_view s);

// True when `authorization` is "Bearer <token>" (scheme in any case) for one of the non-empty
// `tokens`, compared in constant time.
bool BearerMatches(std::string_view authorization, std::initializer_list<std::string_view> tokens);

// The HTTP status of a service error: InvalidArgument 400, NotFound 404, Unavailable 503,
// anything else 500.
int HttpStatusOf(const Status& status);

// The JSON error of a service error, with HttpStatusOf's status.
http::HttpResponse ErrorFromStatus(const Status& status);

// A JSON response with `body` and `status`.
http::HttpResponse JsonOk(std::string body, int status = 200);

// 401 with WWW-Authenticate: Bearer.
http::HttpResponse Unauthorized();

}  // namespace streamrec::daemon
