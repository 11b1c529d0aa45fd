#!/usr/bin/env bash
# Clang's thread-safety analysis over the daemon library: every member of the live model is
# annotated with the lock that guards it (daemon/live_model.h, Abseil's ABSL_GUARDED_BY and
# friends), and `clang++ -Wthread-safety -Werror` proves each access holds it. A test of the
# suite runs this. It first checks that the analysis does report the deliberate violations of
# tests/daemon/thread_safety_violation.cc, so a passing run is known to mean something.
set -euo pipefail
cd "$(dirname "$0")/.."
CXX=${CLANGXX:-$(command -v clang++-14 || command -v clang++ || true)}
if [ -z "$CXX" ]; then
  echo "thread_safety.sh: no clang++ (scripts/install-deps.sh installs clang-14)" >&2
  exit 1
fi
flags=(-std=c++20 -fsyntax-only -Wthread-safety -I.)

out=$("$CXX" "${flags[@]}" tests/daemon/thread_safety_violation.cc 2>&1 || true)
want=3
got=$(grep -c "warning: .*requires holding" <<<"$out" || true)
if [ "$got" -ne "$want" ]; then
  echo "thread_safety.sh: the analysis reported $got of the $want deliberate violations:" >&2
  echo "$out" >&2
  exit 1
fi
echo "the analysis reports all $want deliberate violations"

ls daemon/*.cc | xargs -P"$(nproc)" -n1 "$CXX" "${flags[@]}" -Werror
echo "daemon/: $(ls daemon/*.cc | wc -l) files, no thread-safety warnings"
