#!/usr/bin/env bash
# Grid search over `streamrec eval` hyper-parameters; one JSON result per line on stdout.
# Usage: scripts/tune.sh PROTOCOL DATA MODEL "name=v1,v2 name=v1,v2 ..." [extra eval flags]
# Example: scripts/tune.sh ranking-split movielens-100k bpr "lr=0.02,0.05 reg=0.01,0.03"
set -euo pipefail
protocol=$1 data=$2 model=$3 grid=$4
shift 4
bin=${STREAMREC_BIN:-build/streamrec}
combos=("")
for axis in $grid; do
  name=${axis%%=*}
  IFS=, read -r -a values <<<"${axis#*=}"
  next=()
  for c in "${combos[@]}"; do
    for v in "${values[@]}"; do
      if [ "$name" = epochs ]; then next+=("$c --epochs $v"); else next+=("$c --param $name=$v"); fi
    done
  done
  combos=("${next[@]}")
done
for c in "${combos[@]}"; do
  # shellcheck disable=SC2086
  "$bin" eval --protocol "$protocol" --data "$data" --model "$model" --quiet $c "$@" | tail -n 1
done
