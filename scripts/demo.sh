#!/usr/bin/env bash
# The demo on a fresh Debian machine: install what is missing, build, generate a realistic
# synthetic event stream, and evaluate the online models on it (test-then-train, in time order).
# With $STREAMREC_DATA (or ../shared/data) present it also runs the MovieLens-100k benchmarks.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
bin=${BUILD_DIR:-build}/streamrec
mkdir -p data
echo "== streamrec gen: 5,000 users, 2,000 items, 300,000 events -> data/demo.jsonl"
"$bin" gen --users 5000 --items 2000 --events 300000 --seed 7 --out data/demo.jsonl
head -n 2 data/demo.jsonl
grep -m 2 '"type":"click"' data/demo.jsonl
summarize() { python3 -c '
import json, sys
r = json.loads(sys.stdin.readlines()[-1])
vals = "  ".join("%s %.4f" % (k, v) for k, v in r["metrics"].items() if isinstance(v, float))
print("  %-8s %s  (%s events/s)" % (r["model"], vals, format(int(r["events_per_s"]), ",")))'; }
echo "== streamrec eval --protocol prequential (every event: rank top-10 for its user, then learn from it)"
for model in pop itemknn bpr; do
  "$bin" eval --protocol prequential --data data/demo.jsonl --model "$model" --quiet | summarize
done
if "$bin" eval --protocol prequential --data movielens-100k --model pop --quiet >/dev/null 2>&1; then
  echo "== MovieLens-100k (published anchors in docs/EVAL.md)"
  "$bin" eval --protocol rating-cv --data movielens-100k --model mf --quiet | summarize
  "$bin" eval --protocol ranking-split --data movielens-100k --model bpr --quiet | summarize
fi
