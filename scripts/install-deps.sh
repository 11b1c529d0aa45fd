#!/usr/bin/env bash
# Installs what streamrec needs to build, test and run, from Debian's packages (bookworm).
# Idempotent: does nothing when everything is there. Uses sudo when not root.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config ccache git curl
  librdkafka-dev librocksdb-dev libboost-dev libboost-system-dev
  nlohmann-json3-dev libsimdjson-dev libcli11-dev libhnswlib-dev libspdlog-dev libfmt-dev libjemalloc-dev
  libabsl-dev  # absl::flat_hash_map/set: IdMap, FlatCounter, the reward joiner
  catch2 libbenchmark-dev
  clang-14 libclang-rt-14-dev llvm-14  # scripts/fuzz.sh: clang, libFuzzer runtime, llvm-symbolizer
  kcat wrk curl python3
  docker-compose prometheus
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
