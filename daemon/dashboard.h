// The live dashboard served at GET /: one self-contained HTML page (inline CSS and JS, no
// external resources) that polls /metrics, /v1/info and /readyz every second and shows event
// rates, lag per partition, model sizes and request latency, plus a form to try /v1/recommend.
//
// Thread safety: returns a view of a constant; call from anywhere.
#pragma once

#include <string_view>

namespace streamrec::daemon {

// The page's HTML; valid for the program's lifetime.
std::string_view DashboardHtml();

}  // namespace streamrec::daemon
