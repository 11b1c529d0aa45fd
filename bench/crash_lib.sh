# Sourced by bench/crash_check.sh and bench/bandit_crash_check.sh: the process plumbing of a
# kill -9 check. Needs $bin, $brokers and $work; SERVE_FLAGS (array) adds serve flags.
applied() { curl -s "$1/v1/info" | python3 -c 'import json,sys; print(json.load(sys.stdin)["model"]["events_applied"])' 2>/dev/null || echo 0; }
checksum_of() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])["checksum"])' "$1"; }

run() {  # $1 data dir, $2 port; starts serve in the background ($serve_pid)
  "$bin" serve --brokers "$brokers" --data-dir "$1" --http "127.0.0.1:$2" --group "g-$(basename "$1")" \
    "${SERVE_FLAGS[@]}" >> "$work/serve.log" 2>&1 &
  serve_pid=$!
  for _ in $(seq 200); do curl -sf "http://127.0.0.1:$2/healthz" > /dev/null && break; sleep 0.05; done
}

stop() {  # SIGTERM: the daemon writes its final checkpoint and exits (not in a $(...) subshell)
  kill "$serve_pid"; wait "$serve_pid" 2>/dev/null || true
}
inspect() { "$bin" inspect --checksum --data-dir "$1"; }

kill_three_times() {  # $1 data dir, $2 port, $3.. applied-event targets: SIGKILL at each
  local dir=$1 port=$2 target
  shift 2
  for target in "$@"; do
    run "$dir" "$port"
    while [ "$(applied "http://127.0.0.1:$port")" -lt "$target" ]; do sleep 0.02; done
    kill -9 "$serve_pid"
    wait "$serve_pid" 2>/dev/null || true
    echo "killed after >= $target applied"
  done
  run "$dir" "$port"
}
