#!/usr/bin/env bash
# One command for the whole test suite on a fresh Debian machine: install, build, run ctest.
# Tests that need ../shared/data (or $STREAMREC_DATA) skip with a message when it is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
cd "${BUILD_DIR:-build}"
ctest --output-on-failure -j"$(nproc)" --timeout 900
