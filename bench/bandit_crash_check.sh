#!/usr/bin/env bash
# Exploration's exactly-once delivery, end to end with real processes: kill -9 during a bandit
# replay through the daemon loses no reward and double-counts none.
#
# The replay is MovieLens-100k in time order, as bandit-sim sees it: each item enters the
# catalog at its first rating as an `item` event with its genres and year; every 5th rating is
# also a request whose exploration slot showed a catalog item (a served record on `served`,
# rec_id b<N>, one second after the rating); when that user rated the shown item >= 4
# anywhere, a click naming the rec_id follows 30 s later on `events`. Both topics are produced
# with kcat (lz4, one partition each) before the daemon starts, so it consumes them in whatever
# interleaving librdkafka fetches. cold_threshold is huge (items never graduate), so the
# expected rewards are exact: one 1 per click, and every other impression a 0 once event time
# passes its window.
#
# Runs: a clean one, and one killed with SIGKILL three times mid-stream and restarted. Checked:
# rewards(1) == clicks produced, rewards(1) + rewards(0) + open == impressions (open: not settled
# yet, or served after the last event's time and so still waiting for event time), none late, both
# runs equal, and (Thompson: its posteriors do not depend on the order rewards arrive in)
# `inspect --checksum` equal.
# Usage: bench/bandit_crash_check.sh [BUILD_DIR] [POLICY]   (kcat, curl, python3, ML-100k)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
policy=${2:-thompson}
bin=$PWD/$build/streamrec
ml=${STREAMREC_DATA:-../shared/data}/movielens-100k
[ -f "$ml/u.data" ] || { echo "MovieLens-100k not found at $ml (set STREAMREC_DATA)"; exit 2; }
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
bandit() { curl -s "$1/v1/info" | python3 -c 'import json,sys; b=json.load(sys.stdin)["bandit"]; print(b["rewards_one"], b["rewards_zero"], b["open_impressions"] + b["served_held"], b["late_served"])'; }

"$bin" broker --partitions 1 --addr-file "$work/addr" > "$work/broker.log" 2>&1 &
for _ in $(seq 100); do [ -s "$work/addr" ] && break; sleep 0.1; done
brokers=$(cat "$work/addr")
python3 - "$ml" "$work" > "$work/expected" <<'PY'
import json, sys
ml, work = sys.argv[1], sys.argv[2]
rows = [l.rstrip('\n').split('\t') for l in open(ml + '/u.data')]
rows = sorted(((int(ts), u, i, float(r)) for u, i, r, ts in rows), key=lambda x: x[0])
likes = {(u, i) for _, u, i, r in rows if r >= 4}
genres = ['unknown', 'Action', 'Adventure', 'Animation', 'Children', 'Comedy', 'Crime',
          'Documentary', 'Drama', 'Fantasy', 'Film-Noir', 'Horror', 'Musical', 'Mystery',
          'Romance', 'Sci-Fi', 'Thriller', 'War', 'Western']
feats = {}
for l in open(ml + '/u.item', encoding='latin-1'):
    f = l.rstrip('\n').split('|')
    d = {'genre:' + g: 1 for g, x in zip(genres, f[5:]) if x == '1'}
    if f[2][-4:].isdigit():
        d['year'] = (int(f[2][-4:]) - 1990) / 10.0
    feats[f[0]] = d
dumps = lambda o: json.dumps(o, separators=(',', ':'))
events, served, catalog, seen = [], [], [], set()
clicks = 0
for n, (ts, u, i, r) in enumerate(rows):
    if i not in seen:
        seen.add(i)
        catalog.append(i)
        events.append((ts, len(events), i, dumps({'type': 'item', 'item': i, 'features': feats.get(i, {}), 'ts': ts})))
    events.append((ts, len(events), u, dumps({'type': 'rating', 'user': u, 'item': i, 'value': r, 'ts': ts})))
    if n % 5 == 0:
        x = catalog[(n * 2654435761) % len(catalog)]
        rec = 'b%d' % n
        served.append(u + '\t' + dumps({'type': 'served', 'rec_id': rec, 'user': u, 'ts': ts + 1,
            'items': [{'item': x, 'pos': 9, 'score': 0, 'source': 'explore:x', 'propensity': 1.0 / len(catalog)}]}))
        if (u, x) in likes:
            clicks += 1
            events.append((ts + 31, len(events), u, dumps({'type': 'click', 'user': u, 'item': x, 'rec_id': rec, 'ts': ts + 31})))
events.sort()
with open(work + '/events.kv', 'w') as f:
    for _, _, k, j in events:
        f.write(k + '\t' + j + '\n')
with open(work + '/served.kv', 'w') as f:
    f.write('\n'.join(served) + '\n')
print(len(events), len(served), clicks)
PY
read -r n_events n_served n_clicks < "$work/expected"
echo "producing $n_events events and $n_served served records ($n_clicks of them clicked) with kcat to $brokers"
kcat -P -b "$brokers" -t events -K $'\t' -z lz4 -X linger.ms=50 < "$work/events.kv"
kcat -P -b "$brokers" -t served -K $'\t' -z lz4 -X linger.ms=50 < "$work/served.kv"
cat > "$work/config.json" <<JSON
{"checkpoint_interval_ms": 200,
 "bandit": {"policy": "$policy", "cold_threshold": 1000000000, "window_s": 600, "lateness_s": 60}}
JSON

SERVE_FLAGS=(--config "$work/config.json")
. bench/crash_lib.sh
finish() {  # $1 url: waits for every event, then for every served record (up to 30 s)
  while [ "$(applied "$1")" -lt "$n_events" ]; do sleep 0.1; done
  for _ in $(seq 300); do
    read -r one zero open late <<< "$(bandit "$1")"
    [ $((one + zero + open + late)) -ge "$n_served" ] && break
    sleep 0.1
  done
}

echo "== clean run ($policy)"
run "$work/a" 28411
finish http://127.0.0.1:28411
read -r one_a zero_a open_a late_a <<< "$(bandit http://127.0.0.1:28411)"
stop
clean=$(inspect "$work/a")
echo "rewards 1: $one_a, 0: $zero_a, open: $open_a, late: $late_a"

echo "== run killed with SIGKILL three times"
kill_three_times "$work/b" 28412 30000 60000 90000
finish http://127.0.0.1:28412
read -r one_b zero_b open_b late_b <<< "$(bandit http://127.0.0.1:28412)"
stop
crashed=$(inspect "$work/b")
echo "rewards 1: $one_b, 0: $zero_b, open: $open_b, late: $late_b"
echo "checksums: clean $(checksum_of "$clean"), crashed $(checksum_of "$crashed")"
echo "clean:   $clean"
echo "crashed: $crashed"
ok=1
[ "$one_a" = "$n_clicks" ] && [ "$one_b" = "$n_clicks" ] || { echo "FAIL: rewards(1) != clicks ($n_clicks)"; ok=0; }
[ $((one_a + zero_a + open_a)) = "$n_served" ] || { echo "FAIL: clean run: 1 + 0 + open != $n_served"; ok=0; }
[ $((one_b + zero_b + open_b)) = "$n_served" ] || { echo "FAIL: crashed run: 1 + 0 + open != $n_served"; ok=0; }
[ "$late_a$late_b" = 00 ] || { echo "FAIL: late served records"; ok=0; }
[ "$zero_a $open_a" = "$zero_b $open_b" ] || { echo "FAIL: runs differ"; ok=0; }
if [ "$policy" = thompson ] && [ "$(checksum_of "$clean")" != "$(checksum_of "$crashed")" ]; then
  echo "FAIL: checksums differ"; ok=0
fi
[ $ok = 1 ] && echo "PASS: $n_served impressions settled once each ($one_a clicked), across 3 kills"
[ $ok = 1 ]
