# streamrec: multi-stage Debian build. The runtime image holds the binary and the shared
# libraries it links, runs as a non-root user, keeps RocksDB state on a volume, and answers
# /healthz for the orchestrator.
FROM debian:bookworm AS build
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config librdkafka-dev librocksdb-dev libboost-dev \
      libboost-system-dev nlohmann-json3-dev libsimdjson-dev libcli11-dev libhnswlib-dev \
      libspdlog-dev libfmt-dev libjemalloc-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# Portable code (no -march=native): the image may run on another CPU than the one that built it.
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DSTREAMREC_NATIVE=OFF \
      -DSTREAMREC_BUILD_TESTS=OFF -DSTREAMREC_BUILD_BENCH=OFF \
    && cmake --build build -j"$(nproc)" --target streamrec

FROM debian:bookworm-slim
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      librdkafka1 librocksdb7.8 libsimdjson14 libjemalloc2 curl ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/streamrec --create-home streamrec
COPY --from=build /src/build/streamrec /usr/local/bin/streamrec
USER streamrec
WORKDIR /var/lib/streamrec
VOLUME /var/lib/streamrec
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
  CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["streamrec"]
CMD ["serve", "--data-dir", "/var/lib/streamrec/state", "--http", "0.0.0.0:8080"]
