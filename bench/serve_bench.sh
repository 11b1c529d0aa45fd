#!/usr/bin/env bash
# Whole-process benchmarks of `streamrec serve` (issue bars, quoted in docs/BENCHMARKS.md):
#  1. ingest: events applied/s by the daemon vs. the rate at which a bare librdkafka consumer
#     (kcat) reads the same topic from the same broker, over the whole run and in steady state
#     (bench/rate.py);
#  2. /v1/recommend latency (wrk -t1 -c2 -d10s --latency) with 100k items x 64 dims while a
#     replay feeds ingest: a user alone (BPR), then a user with a live session (session model +
#     BPR blend); both p99s are printed;
#  3. /v1/recommend throughput at 20k items vs. the top-k kernel alone (bench/models_bench);
#  4. what exploration adds to /v1/recommend: p99 with explore=1 (LinUCB, feature dim 32, a
#     pool of >= 10k cold catalog items) vs. explore=0 on the same daemon, alternating rounds.
# Sections 2 and 3 run the daemon's defaults, exploration included (1 slot of 10, LinUCB). Each
# section checkpoints its backlog (settle) before it measures.
# Usage: bench/serve_bench.sh [BUILD_DIR]   (needs kcat, wrk, curl, python3)
#        SECTIONS="2" bench/serve_bench.sh     runs only the sections listed (default "1 2 3 4")
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
bin=$PWD/$build/streamrec
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
# Read from /metrics with awk: polling through python would take a large share of the 2 cores
# the daemon is being measured on.
applied() { curl -s "$1/metrics" | awk '$1 == "streamrec_events_applied_total" {print $2; exit}'; }
# settle URL: a checkpoint now (the admin API; returns once it is written). Called once a
# backlog is applied, so that the wrk runs measure serving under a steady ingest, not the
# one-off checkpoint of the whole backlog (every row at once: ~130 MB at 100k items, seconds of
# two background threads), which would otherwise land inside the first run.
settle() {
  curl -sf -X POST -H "Authorization: Bearer bench" "$1/admin/checkpoint" > /dev/null ||
    echo "settle: the checkpoint failed" >&2
}
now() { date +%s.%N; }
sections=" ${SECTIONS:-1 2 3 4} "
want() { [[ "$sections" == *" $1 "* ]]; }
stop_section() {  # the section's daemon and broker
  kill "$serve_pid" "$(cat "$work/broker.pid")" 2>/dev/null || true
  wait "$serve_pid" 2>/dev/null || true
  rm -f "$work/addr"
}
p99() { awk '$1 == "99%" {print $2}' "$1"; }

start_broker() {
  "$bin" broker --partitions 8 --addr-file "$work/addr" > "$work/broker.log" 2>&1 &
  echo $! > "$work/broker.pid"  # runs in $(...): not a job of this shell
  for _ in $(seq 100); do [ -s "$work/addr" ] && break; sleep 0.1; done
  cat "$work/addr"
}
start_serve() {  # $1 brokers, $2 port, $3 data dir, [$4...] more serve flags
  "$bin" serve --brokers "$1" --http "127.0.0.1:$2" --data-dir "$3" --admin-token bench "${@:4}" \
    > "$work/serve-$2.log" 2>&1 &
  serve_pid=$!
  for _ in $(seq 200); do curl -sf "http://127.0.0.1:$2/healthz" > /dev/null && break; sleep 0.05; done
}

# serve_generated NAME USERS ITEMS SEED [serve flags...]: a broker, 300,000 generated events
# in $work/NAME.jsonl replayed into it, and a daemon ($url) that has applied them all.
serve_generated() {
  brokers=$(start_broker)
  "$bin" gen --users "$2" --items "$3" --events 300000 --seed "$4" --out "$work/$1.jsonl"
  "$bin" replay --data "$work/$1.jsonl" --brokers "$brokers" --quiet
  local port=$((20000 + RANDOM % 20000)) n
  start_serve "$brokers" "$port" "$work/state-$1" "${@:5}"
  url=http://127.0.0.1:$port
  n=$(wc -l < "$work/$1.jsonl")
  while [ "$(applied "$url")" -lt "$n" ]; do sleep 0.1; done
  settle "$url"
}

if want 1; then
echo "== 1. ingest: 1,000,000 generated events, 8 partitions, lz4"
brokers=$(start_broker)
"$bin" gen --users 100000 --items 20000 --events 1000000 --seed 1 --out "$work/events.jsonl"
n=$(wc -l < "$work/events.jsonl")
"$bin" replay --data "$work/events.jsonl" --brokers "$brokers" --quiet
# Both sides are timed two ways (bench/rate.py): over the whole run, and in steady state, from
# the first reading at 10% of the events to the first at 90% (the start-up and the last
# partition's tail left out, for kcat and the daemon alike).
t0=$(now)
kcat -C -b "$brokers" -t events -e -q -o beginning -X queued.min.messages=1000000 |
  python3 bench/rate.py lines "$n" > "$work/kcat.rate"
t1=$(now)
read -r kcat_count kcat_first kcat_steady < "$work/kcat.rate"
kcat_rate=$(python3 -c "print(int($kcat_count / ($t1 - $t0)))")
echo "kcat read $kcat_count messages in $(python3 -c "print(round($t1-$t0,2))") s: $kcat_rate msg/s; first to last message $kcat_first/s; steady (10%-90%) $kcat_steady/s"
port=$((20000 + RANDOM % 20000))
start_serve "$brokers" "$port" "$work/state1"
url=http://127.0.0.1:$port
read -r _ rate steady < <(python3 bench/rate.py metrics "$url" "$n")
echo "streamrec applied $n events: first to last $rate events/s; steady (10%-90%) $steady events/s"
echo "ratio applied/kcat: whole run $(python3 -c "print(round($rate / $kcat_rate, 2))"), steady $(python3 -c "print(round($steady / $kcat_steady, 2))")  (bar >= 0.5)"
stop_section
fi

if want 2; then
echo "== 2. /v1/recommend p99 with 100k items x 64 dims while a replay feeds ingest"
brokers=$(start_broker)
"$bin" gen --users 50000 --items 100000 --events 600000 --seed 2 --out "$work/big.jsonl"
head -n 400000 "$work/big.jsonl" > "$work/big-a.jsonl"
tail -n +400001 "$work/big.jsonl" > "$work/big-b.jsonl"
"$bin" replay --data "$work/big-a.jsonl" --brokers "$brokers" --quiet
port=$((20000 + RANDOM % 20000))
# The replay moves event time ~26 h in 10 s: with the default session gap (30 min) the session
# queried below would be cut within a second, and its requests would measure the BPR path. A
# two-day gap and TTL keep it live for the run (the latency of a blend does not depend on them).
# SERVE2_JSON replaces that config (e.g. to add "ingest_nice").
default2='{"session": {"gap_s": 172800, "ttl_s": 172800}}'
echo "${SERVE2_JSON:-$default2}" > "$work/serve2.json"
start_serve "$brokers" "$port" "$work/state2" --config "$work/serve2.json"
url=http://127.0.0.1:$port
while [ "$(applied "$url")" -lt 400000 ]; do sleep 0.1; done
settle "$url"
echo "items: $(curl -s "$url/v1/info" | json 'd["model"]["items"]')"
user=$(grep -m1 -o '"user":"u[0-9]*"' "$work/big-a.jsonl" | cut -d'"' -f4)
# A live session: the last one of the part already applied, and its user.
read -r suser session < <(tail -n 2000 "$work/big-a.jsonl" | python3 -c '
import json, sys
last = [json.loads(l) for l in sys.stdin if "\"session\"" in l][-1]
print(last["user"], last["session"])')
session_url="$url/v1/recommend?user=$suser&session=$session&k=10"
echo "session URL: $session_url -> sources $(curl -s "$session_url" | json '",".join(sorted(set(i["source"] for i in d["items"])))')"
"$bin" replay --data "$work/big-b.jsonl" --brokers "$brokers" --rate 20000 --quiet &
replay_pid=$!
wrk -t1 -c2 -d10s --latency "$url/v1/recommend?user=$user&k=10" | tee "$work/wrk2.txt"
echo "applied during the run: $(applied "$url") of $(wc -l < "$work/big.jsonl")"
wait "$replay_pid" 2>/dev/null || true
# The same run against the session-aware URL, under the same ingest (big-b replayed again).
"$bin" replay --data "$work/big-b.jsonl" --brokers "$brokers" --rate 20000 --quiet &
replay_pid=$!
wrk -t1 -c2 -d10s --latency "$session_url" | tee "$work/wrk2s.txt"
echo "applied during the run: $(applied "$url") of $(( $(wc -l < "$work/big.jsonl") + $(wc -l < "$work/big-b.jsonl") ))"
wait "$replay_pid" 2>/dev/null || true
echo "session URL after the run -> sources $(curl -s "$session_url" | json '",".join(sorted(set(i["source"] for i in d["items"])))')"
echo "p99 /v1/recommend under ingest: user only $(p99 "$work/wrk2.txt"), user + session $(p99 "$work/wrk2s.txt")"
stop_section
fi

if want 3; then
echo "== 3. /v1/recommend throughput at 20k items vs. the top-k kernel alone"
serve_generated mid 20000 20000 3
user=$(grep -m1 -o '"user":"u[0-9]*"' "$work/mid.jsonl" | cut -d'"' -f4)
wrk -t1 -c2 -d10s --latency "$url/v1/recommend?user=$user&k=10" | tee "$work/wrk3.txt"
"$build/bench/models_bench" --benchmark_filter='BM_TopK/20000/64' --benchmark_min_time=2 2>/dev/null | grep BM_TopK
stop_section
fi

if want 4; then
echo "== 4. what exploration adds: /v1/recommend p99, explore=1 (LinUCB, dim 32) vs explore=0"
echo '{"bandit": {"policy": "linucb", "feature_dim": 32}}' > "$work/serve4.json"
serve_generated cold 20000 13000 4 --config "$work/serve4.json"
echo "items: $(curl -s "$url/v1/info" | json 'd["model"]["items"]'), cold items in the pool: $(curl -s "$url/v1/info" | json 'd["bandit"]["pool_size"]')"
user=$(grep -m1 -o '"user":"u[0-9]*"' "$work/cold.jsonl" | cut -d'"' -f4)
echo "explore=1 answer: $(curl -s "$url/v1/recommend?user=$user&k=10&explore=1" | json 'd["items"][-1]')"
for round in 1 2 3 4; do
  for e in 0 1; do
    wrk -t1 -c2 -d10s --latency "$url/v1/recommend?user=$user&k=10&explore=$e" > "$work/wrk4-$e-$round.txt"
    echo "round $round explore=$e: p50 $(awk '$1 == "50%" {print $2}' "$work/wrk4-$e-$round.txt") p99 $(p99 "$work/wrk4-$e-$round.txt") $(grep Requests/sec "$work/wrk4-$e-$round.txt")"
  done
done
stop_section
fi
