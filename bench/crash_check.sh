#!/usr/bin/env bash
# The daemon's delivery bars on MovieLens-100k, end to end with real processes:
#  - 100,000 ratings produced with kcat (lz4) to ONE partition, with 1,000 malformed messages
#    mixed in;
#  - a clean run: /metrics reaches 100,000 applied and 1,000 invalid, events.dlq holds exactly
#    1,000 records, top-10 excludes seen items; `inspect --checksum`;
#  - a run killed with SIGKILL three times mid-stream and restarted: the same checksum.
# Usage: bench/crash_check.sh [BUILD_DIR]   (needs kcat, curl, python3, $STREAMREC_DATA or ../shared/data)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
bin=$PWD/$build/streamrec
data=${STREAMREC_DATA:-../shared/data}/movielens-100k/u.data
[ -f "$data" ] || { echo "MovieLens-100k not found at $data (set STREAMREC_DATA)"; exit 2; }
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
metric() { curl -s "$1/metrics" | awk -v m="$2" '$1 == m {print int($2)}'; }

"$bin" broker --partitions 1 --addr-file "$work/addr" > "$work/broker.log" 2>&1 &
for _ in $(seq 100); do [ -s "$work/addr" ] && break; sleep 0.1; done
brokers=$(cat "$work/addr")
python3 - "$data" > "$work/events.kv" <<'PY'
import json, sys
bad = ['not json', '{"type":"rating","user":"u1","item":"m1"}', '{"type":"click","user":""}',
       '{"type":"warp","user":"u1","item":"m1"}', '{"type":"rating","user":"u1","item":"m1","value":99}']
rows = [l.split('\t') for l in open(sys.argv[1])]
rows.sort(key=lambda r: int(r[3]))
for i, (u, it, r, ts) in enumerate(rows):
    print(u + '\t' + json.dumps({"type": "rating", "user": u, "item": it, "value": float(r), "ts": int(ts)}, separators=(',', ':')))
    if i % 100 == 50:
        print('bad\t' + bad[(i // 100) % len(bad)])
PY
echo "producing $(wc -l < "$work/events.kv") messages with kcat to $brokers (1 partition, lz4)"
kcat -P -b "$brokers" -t events -K $'\t' -z lz4 -X linger.ms=50 < "$work/events.kv"

SERVE_FLAGS=()
. bench/crash_lib.sh

echo "== clean run"
run "$work/a" 28401
url=http://127.0.0.1:28401
while [ "$(applied $url)" -lt 100000 ]; do sleep 0.1; done
sleep 0.5
echo "applied $(metric $url streamrec_events_applied_total), invalid $(metric $url streamrec_events_invalid_total), healthz $(curl -s $url/healthz)"
dlq=$(kcat -C -b "$brokers" -t events.dlq -e -q -o beginning | wc -l)
echo "events.dlq holds $dlq records"
python3 - "$data" "$url" <<'PY'
import json, sys, urllib.request
seen = {}
for l in open(sys.argv[1]):
    u, i = l.split('\t')[:2]
    seen.setdefault(u, set()).add(i)
bad = 0
for u in ['1', '196', '405', '655']:
    rec = json.load(urllib.request.urlopen(sys.argv[2] + '/v1/recommend?user=%s&k=10' % u))
    items = [x['item'] for x in rec['items']]
    bad += sum(i in seen[u] for i in items)
    print('user %s top-10 %s (%s)' % (u, items, rec['items'][0]['source']))
print('seen items in any top-10:', bad)
PY
stop
clean=$(inspect "$work/a")
echo "clean:   $clean"

echo "== run killed with SIGKILL three times"
kill_three_times "$work/b" 28402 25000 50000 75000
while [ "$(applied http://127.0.0.1:28402)" -lt 100000 ]; do sleep 0.1; done
stop
crashed=$(inspect "$work/b")
echo "crashed: $crashed"
if [ "$(checksum_of "$clean")" = "$(checksum_of "$crashed")" ] && [ "$dlq" = 1000 ]; then
  echo "PASS: checksums equal ($(checksum_of "$clean")), 1000 dead letters"
else
  echo "FAIL"; exit 1
fi
