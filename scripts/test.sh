#!/usr/bin/env bash
# One command for the whole test suite on a fresh Debian machine: install, build, run ctest;
# then the fuzz targets for 60 s each (scripts/fuzz.sh) and every test again under ASan and
# UBSan (scripts/asan.sh), whose ctest summary is the last thing printed. Any failure stops it
# with a non-zero exit. STREAMREC_QUICK=1 runs the normal suite only.
# Tests that need ../shared/data (or $STREAMREC_DATA) skip with a message when it is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
(cd "${BUILD_DIR:-build}" && ctest --output-on-failure -j"$(nproc)" --timeout 900)
if [ "${STREAMREC_QUICK:-0}" = 1 ]; then exit 0; fi
BUILD_DIR=build-fuzz scripts/fuzz.sh 60
BUILD_DIR=build-asan scripts/asan.sh
