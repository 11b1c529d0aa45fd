#!/usr/bin/env bash
# The demo on a fresh Debian machine: install what is missing, build, start the daemon on its
# embedded broker with RocksDB under ./data, feed it a realistic event stream through Kafka,
# and ask it for recommendations. The daemon keeps running (dashboard at http://HOST:PORT/)
# until Ctrl-C; DEMO_EXIT=1 stops it at the end instead.
#   PORT=8080          HTTP port
#   STREAMREC_DATA=... replay MovieLens-100k from there instead of a generated stream
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
bin=$PWD/${BUILD_DIR:-build}/streamrec
port=${PORT:-8080}
url=http://127.0.0.1:$port
mkdir -p data
rm -rf data/demo-state

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
get() { echo "\$ curl -s '$url$1'"; curl -s "$url$1"; echo; }

say "streamrec serve (embedded broker: librdkafka's mock cluster, in memory, for demos and tests)"
"$bin" serve --data-dir data/demo-state --http "127.0.0.1:$port" > data/demo-serve.log 2>&1 &
serve_pid=$!
cleanup() { kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null; }
trap cleanup EXIT
up=
for _ in $(seq 100); do curl -sf "$url/healthz" >/dev/null && up=1 && break; sleep 0.1; done
if [ -z "$up" ]; then
  echo "streamrec serve did not come up on $url; its log (data/demo-serve.log) ends:" >&2
  tail -n 5 data/demo-serve.log >&2
  exit 1
fi
brokers=$(curl -s "$url/v1/info" | python3 -c 'import json,sys; print(json.load(sys.stdin)["brokers"])')
echo "daemon up on $url, broker at $brokers (log: data/demo-serve.log)"

if [ -n "${STREAMREC_DATA:-}" ] && [ -f "$STREAMREC_DATA/movielens-100k/u.data" ]; then
  say "streamrec replay: MovieLens-100k (100,000 ratings) into topic 'events'"
  "$bin" replay --data "$STREAMREC_DATA/movielens-100k/u.data" --brokers "$brokers" --quiet
  user=196 item=50 total=100000
else
  say "streamrec gen: 2,000 users, 1,000 items, 200,000 events -> data/demo.jsonl; replay into 'events'"
  "$bin" gen --users 2000 --items 1000 --events 200000 --seed 7 --out data/demo.jsonl
  "$bin" replay --data data/demo.jsonl --brokers "$brokers" --quiet
  user=u42 item=i7 total=$(wc -l < data/demo.jsonl)
fi
applied() { curl -s "$url/v1/info" | python3 -c 'import json,sys; print(json.load(sys.stdin)["model"]["events_applied"])'; }
for _ in $(seq 300); do [ "$(applied)" -ge "$total" ] && break; sleep 0.2; done
echo "events applied: $(applied) of $total"

say "Top-10 for user $user (seen items excluded; source = the model that ranked it)"
get "/v1/recommend?user=$user&k=10"
say "An unknown user gets what is trending"
get "/v1/recommend?user=someone-new&k=5"
say "Items similar to $item, and a predicted rating"
get "/v1/similar?item=$item&k=5"
get "/v1/predict?user=$user&item=$item"
say "Sessions: what people viewed next after $item, and an anonymous session's next items"
get "/v1/next?item=$item&k=5"
if [ -f data/demo.jsonl ] && [ -z "${STREAMREC_DATA:-}" ]; then
  session=$(grep -o '"session":"[^"]*"' data/demo.jsonl | tail -1 | cut -d'"' -f4)
  [ -n "$session" ] && get "/v1/recommend?session=$session&k=5"
fi
say "Produce your own events: POST /v1/events (or kcat) -- Kafka stays the log of record"
echo "\$ curl -s -X POST -H 'Content-Type: application/x-ndjson' --data-binary @- $url/v1/events"
printf '%s\n' '{"type":"click","user":"demo-user","item":"'"$item"'"}' \
  '{"type":"purchase","user":"demo-user","item":"'"$item"'"}' |
  curl -s -X POST -H 'Content-Type: application/x-ndjson' --data-binary @- "$url/v1/events"; echo
echo "  or: echo 'demo-user:{\"type\":\"click\",\"user\":\"demo-user\",\"item\":\"$item\"}' | kcat -P -b $brokers -t events -K:"
sleep 1
get "/v1/recommend?user=demo-user&k=5"
say "Cold start: a new catalog item is explorable at once; 1 slot of 10 explores (LinUCB)"
post() { curl -s -X POST -H 'Content-Type: application/x-ndjson' --data-binary @- "$url/v1/events"; echo; }
echo '{"type":"item","item":"brand-new","features":{"genre:Drama":1,"year":2026}}' | post
sleep 1
rec=$(curl -s "$url/v1/recommend?user=demo-user&k=10&explore=2")
echo "\$ curl -s '$url/v1/recommend?user=demo-user&k=10&explore=2'  (the last 2 slots explore)"
echo "$rec" | python3 -c 'import json,sys; d=json.load(sys.stdin); [print("  ", i) for i in d["items"][-3:]]'
explored=$(echo "$rec" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][-1]["item"])')
rec_id=$(echo "$rec" | python3 -c 'import json,sys; print(json.load(sys.stdin)["rec_id"])')
echo "demo-user clicks the explored $explored, naming the rec_id: the daemon joins it with the served log"
echo '{"type":"click","user":"demo-user","item":"'"$explored"'","rec_id":"'"$rec_id"'"}' | post
sleep 1.5
say "Metrics (Prometheus text at $url/metrics)"
curl -s "$url/metrics" | grep -E '^streamrec_(events_applied_total|events_invalid_total|checkpoints_total|model_users|model_items|bandit_rewards_total|bandit_pool_size)[ {]'

if [ "${DEMO_EXIT:-0}" = 1 ]; then exit 0; fi
say "Dashboard: $url/   -- Ctrl-C stops the daemon (it checkpoints first)"
wait "$serve_pid"
