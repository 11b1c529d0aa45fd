#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ (clang 14, ASan + UBSan) into ${BUILD_DIR:-build-fuzz} and
# runs each for SECONDS (default 60) from a scratch copy of its seed corpus, so the checkout is
# never modified. Prints one line per target (runs, exec/s, result); exits non-zero when any
# target crashed, leaked, timed out or failed its oracle. Crash inputs and logs stay in the
# scratch dir ($FUZZ_WORK, default a new /tmp/streamrec-fuzz.*), whose path is printed.
#   scripts/fuzz.sh [SECONDS] [TARGET...]
# Reproduce a crash: build-fuzz/fuzz/<target> <crash file>.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(event_decoder_fuzz served_decoder_fuzz http_router_fuzz)
fi

scripts/install-deps.sh
BUILD_DIR=${BUILD_DIR:-build-fuzz}
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
# Only the targets and what they link are built (not the tests, benches or the binary).
cmake -S . -B "$BUILD_DIR" -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSTREAMREC_FUZZ=ON -DSTREAMREC_BUILD_TESTS=OFF -DSTREAMREC_BUILD_BENCH=OFF "${launcher[@]}" \
  >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)" --target "${targets[@]}"

work=${FUZZ_WORK:-$(mktemp -d /tmp/streamrec-fuzz.XXXXXX)}
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
if command -v llvm-symbolizer-14 >/dev/null; then
  export ASAN_SYMBOLIZER_PATH=${ASAN_SYMBOLIZER_PATH:-$(command -v llvm-symbolizer-14)}
fi

# Longest input per target: the event decoder's limit is 64 KiB (70000 also covers the
# "message larger than" path); HTTP bodies are capped at 1 MiB by the server.
max_len() {
  case "$1" in
    http_router_fuzz) echo 1048576 ;;
    *) echo 70000 ;;
  esac
}

# http_router_fuzz: the embedded broker's threads allocate and free while an input runs, so
# libFuzzer's per-input leak check (which fires when mallocs and frees do not match) would
# scan the whole heap after nearly every input: three quarters of the time. Leaks are still
# reported when the run ends, as a failure without a crash input.
extra_flags() {
  extra=()
  if [ "$1" = http_router_fuzz ]; then extra=(-detect_leaks=0); fi
}

summary=()
failed=0
for t in "${targets[@]}"; do
  dir="$work/$t"
  mkdir -p "$dir/corpus" "$dir/artifacts"
  cp fuzz/corpus/"$t"/* "$dir/corpus/"
  seeds=$(find "$dir/corpus" -type f | wc -l)
  echo "fuzz: $t for ${seconds} s (log: $dir/log)"
  rc=0
  extra_flags "$t"
  "$BUILD_DIR/fuzz/$t" "$dir/corpus" -max_total_time="$seconds" -max_len="$(max_len "$t")" \
    -timeout=30 -print_final_stats=1 -artifact_prefix="$dir/artifacts/" "${extra[@]}" \
    >"$dir/log" 2>&1 || rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$dir/log" | tail -1)
  inputs=$(find "$dir/corpus" -type f | wc -l)
  artifacts=$(find "$dir/artifacts" -type f | wc -l)
  if [ "$rc" -eq 0 ] && [ "$artifacts" -eq 0 ]; then
    result="ok"
  else
    failed=1
    result="FAILED (exit $rc): $(grep -m1 -E 'ERROR|FUZZ_CHECK|Sanitizer' "$dir/log" || true)"
    result="$result; inputs in $dir/artifacts/, log $dir/log"
    tail -n 60 "$dir/log" >&2
  fi
  summary+=("$(printf 'fuzz: %-20s %10s runs  %7s exec/s  corpus %s -> %s  %s' \
    "$t" "${runs:-?}" "${rate:-?}" "$seeds" "$inputs" "$result")")
done

printf '%s\n' "${summary[@]}"
echo "fuzz: scratch dir $work"
exit "$failed"
