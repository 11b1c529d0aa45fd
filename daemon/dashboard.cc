#include "daemon/dashboard.h"

namespace streamrec::daemon {
namespace {

// Everything the browser needs is inline: the daemon's network may be closed. Ids coming from
// the model are inserted with textContent only (never innerHTML), so odd ids cannot inject.
constexpr std::string_view kDashboardHtml = R"html(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>streamrec</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 0; background: #f4f5f7; color: #1d2330; }
  header { background: #1d2330; color: #fff; padding: 10px 20px; display: flex; gap: 16px;
           align-items: center; }
  header h1 { font-size: 18px; margin: 0; }
  #ready { padding: 2px 10px; border-radius: 10px; background: #777; font-size: 12px; }
  #ready.ok { background: #2e8b57; } #ready.bad { background: #c0392b; }
  #updated { margin-left: auto; font-size: 12px; opacity: .7; }
  main { display: grid; grid-template-columns: repeat(auto-fit, minmax(360px, 1fr)); gap: 14px;
         padding: 14px 20px; }
  section { background: #fff; border-radius: 6px; padding: 12px 14px;
            box-shadow: 0 1px 2px rgba(0,0,0,.12); }
  h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .05em; color: #5b6478;
       margin: 0 0 8px; }
  .cards { display: grid; grid-template-columns: repeat(3, 1fr); gap: 8px; }
  .card .v { font-size: 22px; font-weight: 600; font-variant-numeric: tabular-nums; }
  .card .l { font-size: 12px; color: #5b6478; }
  table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
  th, td { text-align: left; padding: 3px 6px; border-bottom: 1px solid #eceef2; }
  th { font-size: 12px; color: #5b6478; font-weight: 500; }
  td.n { text-align: right; }
  canvas { width: 100%; height: 70px; margin-top: 8px; }
  form { display: flex; gap: 6px; margin-bottom: 8px; }
  input { padding: 4px 6px; border: 1px solid #c8ccd6; border-radius: 4px; min-width: 0; }
  input[name=user] { flex: 1; } input[name=k] { width: 56px; }
  button { padding: 4px 12px; border: 0; border-radius: 4px; background: #3558c9; color: #fff; }
  .muted { color: #8a92a6; font-size: 12px; } .err { color: #c0392b; }
</style>
</head>
<body>
<header><h1>streamrec</h1><span id="ready">?</span><span id="updated">connecting…</span></header>
<main>
  <section>
    <h2>Events</h2>
    <div class="cards">
      <div class="card"><div class="v" id="applied_rate">–</div><div class="l">applied / s</div></div>
      <div class="card"><div class="v" id="applied">–</div><div class="l">applied total</div></div>
      <div class="card"><div class="v" id="invalid">–</div><div class="l">invalid total</div></div>
    </div>
    <canvas id="spark" width="600" height="70"></canvas>
    <div class="muted">events applied per second, last 2 minutes</div>
  </section>
  <section>
    <h2>Lag per partition</h2>
    <table><thead><tr><th>metric</th><th>partition</th><th class="n">lag</th></tr></thead>
    <tbody id="lag"><tr><td colspan="3" class="muted">no lag metrics yet</td></tr></tbody></table>
  </section>
  <section>
    <h2>Model and state (/v1/info)</h2>
    <table><tbody id="info"><tr><td class="muted">loading…</td></tr></tbody></table>
  </section>
  <section>
    <h2>HTTP requests</h2>
    <table><thead><tr><th>route</th><th class="n">req/s</th><th class="n">total</th>
      <th class="n">p50 ms</th><th class="n">p99 ms</th></tr></thead>
    <tbody id="routes"></tbody></table>
  </section>
  <section>
    <h2>Try /v1/recommend</h2>
    <form id="try"><input name="user" placeholder="user id" required>
      <input name="k" type="number" min="1" max="1000" value="10">
      <button>Recommend</button></form>
    <div id="recmeta" class="muted"></div>
    <table><thead><tr><th>#</th><th>item</th><th class="n">score</th><th>source</th></tr></thead>
    <tbody id="recs"></tbody></table>
  </section>
</main>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
let prev = null, prevTime = 0;
const history = [];

// Prometheus text format -> [{name, labels, value}].
function parseMetrics(text) {
  const out = [];
  for (const line of text.split("\n")) {
    if (!line || line[0] === "#") continue;
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/);
    if (!m) continue;
    const labels = {};
    for (const l of (m[2] || "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1]] = l[2].replace(/\\n/g, "\n").replace(/\\(.)/g, "$1");
    }
    out.push({name: m[1], labels, value: parseFloat(m[3])});
  }
  return out;
}
const sum = (ms, name, pred) => ms.filter((s) => s.name === name && (!pred || pred(s)))
  .reduce((a, s) => a + s.value, 0);
const fmt = (v, d = 0) => Number.isFinite(v) ? v.toLocaleString(undefined,
  {maximumFractionDigits: d, minimumFractionDigits: d}) : "–";

function row(cells, numeric) {
  const tr = document.createElement("tr");
  cells.forEach((c, i) => {
    const td = document.createElement("td");
    td.textContent = c;
    if (numeric && numeric.includes(i)) td.className = "n";
    tr.appendChild(td);
  });
  return tr;
}
function fill(tbody, rows, numeric, empty) {
  tbody.replaceChildren(...rows.map((r) => row(r, numeric)));
  if (!rows.length && empty) tbody.appendChild(row([empty]));
}

// Quantile from cumulative buckets [{le, count}] (linear inside the bucket, like PromQL).
function quantile(q, buckets) {
  const total = buckets.length ? buckets[buckets.length - 1].count : 0;
  if (!total) return NaN;
  const rank = q * total;
  let lo = 0, loCount = 0;
  for (const b of buckets) {
    if (b.count >= rank) {
      if (!Number.isFinite(b.le)) return lo;
      return lo + (b.le - lo) * (rank - loCount) / Math.max(b.count - loCount, 1);
    }
    lo = b.le; loCount = b.count;
  }
  return lo;
}

function render(ms, dt) {
  const applied = sum(ms, "streamrec_events_applied_total");
  const invalid = sum(ms, "streamrec_events_invalid_total");
  const appliedPrev = prev ? sum(prev, "streamrec_events_applied_total") : applied;
  const rate = dt > 0 ? Math.max(0, applied - appliedPrev) / dt : 0;
  $("applied_rate").textContent = prev ? fmt(rate, 1) : "–";
  $("applied").textContent = fmt(applied);
  $("invalid").textContent = fmt(invalid);
  if (prev) { history.push(rate); if (history.length > 120) history.shift(); }
  drawSpark();

  const lag = ms.filter((s) => /lag/.test(s.name) && !/_bucket$|_sum$|_count$/.test(s.name));
  fill($("lag"), lag.map((s) => [s.name.replace(/^streamrec_/, ""),
    s.labels.partition ?? Object.values(s.labels).join(","), fmt(s.value)]), [2],
    "no lag metrics yet");

  const routes = {};
  for (const s of ms) {
    const r = s.labels.route;
    if (!r) continue;
    routes[r] ??= {total: 0, prevTotal: 0, buckets: []};
    if (s.name === "streamrec_http_requests_total") routes[r].total += s.value;
    if (s.name === "streamrec_http_request_duration_seconds_bucket") {
      routes[r].buckets.push({le: parseFloat(s.labels.le), count: s.value});
    }
  }
  for (const s of prev || []) {
    if (s.name === "streamrec_http_requests_total" && routes[s.labels.route]) {
      routes[s.labels.route].prevTotal += s.value;
    }
  }
  const rows = Object.entries(routes).filter(([, r]) => r.total > 0)
    .sort((a, b) => b[1].total - a[1].total).map(([name, r]) => {
      r.buckets.sort((a, b) => a.le - b.le);
      const rps = prev && dt > 0 ? (r.total - r.prevTotal) / dt : NaN;
      return [name, fmt(rps, 1), fmt(r.total), fmt(quantile(0.5, r.buckets) * 1e3, 2),
              fmt(quantile(0.99, r.buckets) * 1e3, 2)];
    });
  fill($("routes"), rows, [1, 2, 3, 4], "no requests yet");
}

function drawSpark() {
  const c = $("spark"), g = c.getContext("2d");
  c.width = c.clientWidth; c.height = c.clientHeight;  // draw at the displayed size
  g.clearRect(0, 0, c.width, c.height);
  if (history.length < 2) return;
  const max = Math.max(1, ...history), w = c.width / 119;
  g.beginPath();
  history.forEach((v, i) => {
    const x = (120 - history.length + i) * w, y = c.height - 4 - (v / max) * (c.height - 10);
    i ? g.lineTo(x, y) : g.moveTo(x, y);
  });
  g.strokeStyle = "#3558c9"; g.lineWidth = 2; g.stroke();
  g.fillStyle = "#5b6478"; g.font = "11px sans-serif"; g.fillText(fmt(max, 1) + "/s", 4, 12);
}

// Flattens /v1/info into [key, value] rows ("model.items", "12345").
function flatten(obj, prefix, out) {
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? prefix + "." + k : k;
    if (v && typeof v === "object" && out.length < 60) flatten(v, key, out);
    else out.push([key, typeof v === "number" ? fmt(v, Number.isInteger(v) ? 0 : 3) : String(v)]);
  }
  return out;
}

async function poll() {
  try {
    const [mres, ires, rres] = await Promise.all(
      [fetch("/metrics"), fetch("/v1/info"), fetch("/readyz")]);
    const now = performance.now() / 1000;
    const ms = parseMetrics(await mres.text());
    render(ms, prev ? now - prevTime : 0);
    prev = ms; prevTime = now;
    if (ires.ok) fill($("info"), flatten(await ires.json(), "", []), [1]);
    $("ready").textContent = rres.ok ? "ready" : "not ready";
    $("ready").className = rres.ok ? "ok" : "bad";
    $("updated").textContent = "updated " + new Date().toLocaleTimeString();
  } catch (e) {
    $("updated").textContent = "unreachable: " + e;
    $("ready").className = "bad";
  }
}

$("try").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = new FormData(ev.target);
  const q = new URLSearchParams({user: f.get("user"), k: f.get("k") || "10"});
  $("recmeta").className = "muted";
  try {
    const res = await fetch("/v1/recommend?" + q);
    const body = await res.json();
    if (!res.ok) throw new Error(body.error ? body.error.message : res.status);
    $("recmeta").textContent = "rec_id " + body.rec_id + " · " + body.items.length + " items";
    fill($("recs"), body.items.map((it, i) => [String(i + 1), it.item, fmt(it.score, 3),
                                               it.source]), [2]);
  } catch (e) {
    $("recmeta").textContent = "error: " + e.message;
    $("recmeta").className = "err";
    $("recs").replaceChildren();
  }
});

// "/#user=u42&k=5" opens the page with that recommendation shown.
const preset = new URLSearchParams(location.hash.slice(1));
if (preset.get("user")) {
  $("try").user.value = preset.get("user");
  if (preset.get("k")) $("try").k.value = preset.get("k");
  $("try").requestSubmit();
}
poll();
setInterval(poll, 1000);
</script>
</body>
</html>
)html";

}  // namespace

std::string_view DashboardHtml() { return kDashboardHtml; }

}  // namespace streamrec::daemon
