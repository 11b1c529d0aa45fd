#!/usr/bin/env bash
# The ThreadSanitizer build of the tests: every unit test except the single-threaded ML-100k
# quality tests (minutes under TSan, nothing concurrent). Tests that start librdkafka clients
# (label integration) cannot run under TSan: librdkafka's own threads crash it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
BUILD_DIR=${BUILD_DIR:-build-tsan} scripts/build.sh -DSTREAMREC_SANITIZE=thread -DSTREAMREC_BUILD_BENCH=OFF
cd "${BUILD_DIR:-build-tsan}"
ctest -L unit -E "ML-100k" --output-on-failure -j"$(nproc)"
