#!/usr/bin/env python3
"""Throughput of a stream of N records, whole and in steady state, for bench/serve_bench.sh.

  kcat ... | rate.py lines N        counts newline-terminated records on stdin
  rate.py metrics URL N             polls URL/metrics for streamrec_events_applied_total

Prints one line: "<records> <whole-run rate> <steady rate>". The whole-run rate runs from the
first record seen to the N-th; the steady rate from the first reading at or past 10% of N to the
first at or past 90%, using the counts actually read there, so the start (connection, group
join, the first fetches) and the end (the last partition's tail, a final publish) are left out of
it. The daemon's counter moves when it publishes (every 250 ms while busy), so the metrics mode
polls every 20 ms over one kept-alive connection and measures between two publishes.
"""
import http.client
import os
import sys
import time
import urllib.parse


def rates(samples, n):
    """samples: [(time, count)], counts ascending. Returns (whole, steady) records/s."""
    first = next(s for s in samples if s[1] > 0)
    last = next(s for s in samples if s[1] >= n)
    lo = next(s for s in samples if s[1] >= 0.1 * n)
    hi = next(s for s in samples if s[1] >= 0.9 * n)
    whole = n / max(last[0] - first[0], 1e-9)
    steady = (hi[1] - lo[1]) / max(hi[0] - lo[0], 1e-9)
    return whole, steady


def lines(n):
    samples, count = [], 0
    stdin = sys.stdin.buffer
    while True:
        chunk = stdin.read1(1 << 20)
        if not chunk:
            break
        count += chunk.count(b"\n")
        samples.append((time.monotonic(), count))
    return count, samples


def applied(conn, path):
    conn.request("GET", path)
    body = conn.getresponse().read().decode()
    for line in body.splitlines():
        if line.startswith("streamrec_events_applied_total "):
            return int(float(line.split()[1]))
    return 0


def metrics(url, n):
    u = urllib.parse.urlparse(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    samples = []
    while True:
        count = applied(conn, "/metrics")
        samples.append((time.monotonic(), count))
        if count >= n:
            return count, samples
        time.sleep(0.02)


def main():
    mode = sys.argv[1]
    if mode == "lines":
        n = int(sys.argv[2])
        count, samples = lines(n)
    else:
        n = int(sys.argv[3])
        count, samples = metrics(sys.argv[2], n)
    if count < n:
        sys.exit(f"rate.py: only {count} of {n} records")
    if os.environ.get("RATE_TRACE"):
        with open(os.environ["RATE_TRACE"], "w") as f:
            for t, c in samples:
                f.write(f"{t - samples[0][0]:.3f} {c}\n")
    whole, steady = rates(samples, n)
    print(count, int(whole), int(steady))


if __name__ == "__main__":
    main()
