#!/usr/bin/env bash
# The AddressSanitizer + UndefinedBehaviorSanitizer build of the tests, into
# ${BUILD_DIR:-build-asan}, and all of them: the integration tests too (they run the ASan build
# of the streamrec binary with librdkafka and RocksDB, which ASan handles, unlike TSan), and the
# ML-100k quality tests (under 40 s each; the whole suite took 3.5 min on 2 cores). The first
# ASan report, leak or undefined behaviour (-fno-sanitize-recover) fails the test that hit it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
BUILD_DIR=${BUILD_DIR:-build-asan}
BUILD_DIR=$BUILD_DIR scripts/build.sh -DSTREAMREC_SANITIZE=address,undefined \
  -DSTREAMREC_BUILD_BENCH=OFF
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:detect_leaks=1:check_initialization_order=1:strict_init_order=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
cd "$BUILD_DIR"
ctest --output-on-failure -j"$(nproc)" --timeout 900
