#!/usr/bin/env python3
"""The ten hostile-input and fault scenarios, run from outside against the real binary.

Starts `streamrec broker` and `streamrec serve` as processes, plays a hostile client, a buggy
producer (kcat), a connection flood, a vanished broker, a full disk (a tmpfs, when run as root)
and a damaged store, and prints one line per scenario with what it measured. Exits 1 when any
bar is missed.

Usage: bench/hostile_check.py [BUILD_DIR]    (needs curl-free Python 3 stdlib, kcat; root for
the disk scenario, which is skipped otherwise)
"""
import http.client
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

BUILD = sys.argv[1] if len(sys.argv) > 1 else "build"
BIN = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", BUILD, "streamrec"))
WORK = tempfile.mkdtemp(prefix="hostile-")
PROCS = []
RESULTS = []


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(args, log):
    p = subprocess.Popen([BIN] + args, stdout=open(log, "w"), stderr=subprocess.STDOUT)
    PROCS.append(p)
    return p


def request(port, method, path, body=None, headers=None, timeout=30):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, r.read()
    except (ConnectionError, OSError) as e:
        return 0, str(e).encode()
    finally:
        c.close()


def wait_for(fn, timeout_s):
    end = time.time() + timeout_s
    while time.time() < end:
        if fn():
            return True
        time.sleep(0.1)
    return False


def metric(port, name):
    _, body = request(port, "GET", "/metrics")
    for line in body.decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def applied(port):
    """Events the model holds (restored and applied since), from /v1/info."""
    st, body = request(port, "GET", "/v1/info")
    return json.loads(body)["model"]["events_applied"] if st == 200 else -1


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return -1


def record(n, name, ok, measured):
    RESULTS.append((n, name, ok, measured))
    print(f"{n:>2}  {'PASS' if ok else 'FAIL'}  {name}: {measured}", flush=True)


def click(user, item, ts):
    return json.dumps({"type": "click", "user": user, "item": item, "ts": int(ts)})


def start_broker():
    addr = os.path.join(WORK, f"addr-{time.time()}")
    b = start(["broker", "--partitions", "2", "--addr-file", addr], os.path.join(WORK, "broker.log"))
    assert wait_for(lambda: os.path.exists(addr) and os.path.getsize(addr) > 0, 10)
    return b, open(addr).read().strip()


def kcat(brokers, lines):
    subprocess.run(["kcat", "-P", "-b", brokers, "-t", "events", "-K", "\t"],
                   input="\n".join(lines) + "\n", text=True, check=True)


def start_daemon(brokers, data_dir, config, port, extra=()):
    d = start(["serve", "--brokers", brokers, "--data-dir", data_dir, "--config", config,
               "--http", f"127.0.0.1:{port}"] + list(extra), os.path.join(WORK, f"serve-{port}.log"))
    assert wait_for(lambda: request(port, "GET", "/healthz")[0] == 200, 20), "daemon did not start"
    return d


def main():
    resource.setrlimit(resource.RLIMIT_NOFILE, (4096, 4096))
    token_file = os.path.join(WORK, "admin.token")
    with open(token_file, "w") as f:
        f.write("s3cret\n")
    config = os.path.join(WORK, "config.json")
    with open(config, "w") as f:
        json.dump({"admin_token_file": token_file, "limits": {"max_items": 5000},
                   "ingest": {"delivery_timeout_ms": 2000}}, f)
    broker, brokers = start_broker()
    now = time.time()
    # A warm model: 200 users, 1,000 items, m0 the most clicked.
    warm = []
    for i in range(20000):
        u = f"u{i % 200}"
        it = "m0" if i % 4 == 0 else f"m{i % 1000}"
        warm.append(u + "\t" + click(u, it, now - 3600 + i * 0.1))
    kcat(brokers, warm)
    port = free_port()
    # The token on the command line too: ps must not show it.
    d = start_daemon(brokers, os.path.join(WORK, "state"), config, port,
                     ["--admin-token", "t0ps3cret"])
    assert wait_for(lambda: metric(port, "streamrec_events_applied_total") == 20000, 60)
    sessions0 = metric(port, "streamrec_sessions_live")
    top0 = json.loads(request(port, "GET", "/v1/popular?k=3")[1])["items"]

    # 1. A 100k-deep JSON array.
    deep = b"[" * 100000 + b"]" * 100000
    st, body = request(port, "POST", "/v1/events", deep, {"Content-Type": "application/json"})
    alive = request(port, "GET", "/healthz")[0] == 200
    record(1, "100k-deep JSON array", st == 400 and alive, f"HTTP {st}, daemon up: {alive}")

    # 2. forget_user without the admin token.
    users0 = metric(port, "streamrec_model_users")
    st, body = request(port, "POST", "/v1/events", b'{"type":"forget_user","user":"u1"}',
                       {"Content-Type": "application/json"})
    time.sleep(1)
    users1 = metric(port, "streamrec_model_users")
    record(2, "forget_user over POST /v1/events", st == 400 and users1 == users0,
           f"HTTP {st}, users {users0:.0f} -> {users1:.0f}")

    # 3. One far-future event, over HTTP and produced to Kafka.
    st, _ = request(port, "POST", "/v1/events", click("u1", "evil", 4102444000).encode(),
                    {"Content-Type": "application/json"})
    kcat(brokers, ["u1\t" + click("u1", "evil", 4102444000)] * 50)
    wait_for(lambda: metric(port, "streamrec_events_invalid_total") >= 50, 20)
    top1 = json.loads(request(port, "GET", "/v1/popular?k=3")[1])["items"]
    sessions1 = metric(port, "streamrec_sessions_live")
    same = [x["item"] for x in top0] == [x["item"] for x in top1]
    record(3, "far-future ts (HTTP and Kafka)", st == 400 and same and sessions1 == sessions0,
           f"HTTP {st}, dead letters {metric(port, 'streamrec_events_invalid_total'):.0f}, "
           f"trending top-3 unchanged: {same}, live sessions {sessions0:.0f} -> {sessions1:.0f}")

    # 4. 20 posts of 10,000 clicks on new items from one client.
    items0, rss0 = metric(port, "streamrec_model_items"), rss_mib(d.pid)
    t0 = time.time()
    accepted = 0
    for p in range(20):
        body = "\n".join(click("u1", f"x{p}-{i}", now) for i in range(10000)).encode()
        st, ans = request(port, "POST", "/v1/events", body, {"Content-Type": "application/x-ndjson"})
        if st in (200, 400):
            accepted += json.loads(ans)["accepted"]
    time.sleep(2)
    items1, rss1 = metric(port, "streamrec_model_items"), rss_mib(d.pid)
    # The budget: a burst of 10 s worth, then ingest.new_ids_per_s (100 by default).
    budget = 1000 + 100 * (time.time() - t0)
    record(4, "200k new item ids from one client", items1 - items0 <= budget,
           f"accepted {accepted} of 200000 in {time.time() - t0:.1f} s, items {items0:.0f} -> "
           f"{items1:.0f}, RSS {rss0:.0f} -> {rss1:.0f} MiB")

    # 5. Response amplification: 1 MB of bad lines, 40 clients that never read.
    bad = b'{"type":"click","user":1}\n' * 38000
    st, ans = request(port, "POST", "/v1/events", bad, {"Content-Type": "application/x-ndjson"})
    rss_a = rss_mib(d.pid)
    socks = []
    for _ in range(40):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\n"
                  b"Content-Length: %d\r\n\r\n" % len(bad) + bad)
        socks.append(s)
    time.sleep(3)
    rss_b = rss_mib(d.pid)
    for s in socks:
        s.close()
    record(5, "1 MB of bad lines", st == 400 and len(ans) < 16384 and rss_b - rss_a < 200,
           f"HTTP {st}, answer {len(ans)} bytes for {len(bad)} bytes; 40 non-reading clients: "
           f"RSS {rss_a:.0f} -> {rss_b:.0f} MiB")

    # 6. Connection flood: the 1,024 cap full of idle connections.
    flood = []
    for _ in range(1100):
        try:
            flood.append(socket.create_connection(("127.0.0.1", port)))
        except OSError:
            break
    time.sleep(0.5)
    probes = [request(port, "GET", p)[0] for p in ("/healthz", "/readyz", "/metrics")]
    other = request(port, "GET", "/v1/popular?k=1")[0]
    for s in flood:
        s.close()
    record(6, "1,100 idle connections", probes == [200, 200, 200],
           f"/healthz, /readyz, /metrics -> {probes}; /v1/popular -> {other}")

    # 10 (part). Ids with control characters, odd numbers, HEAD, no Host, the token in ps.
    st_nul, _ = request(port, "POST", "/v1/events",
                        b'{"type":"click","user":"u\\u0000x","item":"m1"}',
                        {"Content-Type": "application/json"})
    st_inf, ans_inf = request(port, "POST", "/v1/events",
                              b'{"type":"rating","user":"u1","item":"m1","value":-Infinity}',
                              {"Content-Type": "application/json"})
    st_head, _ = request(port, "HEAD", "/healthz")
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\n\r\n")
        no_host = s.recv(100).split(b" ")[1].decode()
    cmdline = open(f"/proc/{d.pid}/cmdline", "rb").read()
    reason = json.loads(ans_inf)["rejected"][0]["reason"]
    ok10 = (st_nul == 400 and "not number" not in reason and st_head == 200 and no_host == "400"
            and b"t0ps3cret" not in cmdline)
    record(10, "smaller ones", ok10,
           f"NUL id HTTP {st_nul}; -Infinity: '{reason}'; HEAD {st_head}; no Host {no_host}; "
           f"--admin-token in ps: {b't0ps3cret' in cmdline}")

    # 7. The broker gone: a post is a 503 within the delivery timeout, counted.
    broker.send_signal(signal.SIGKILL)
    broker.wait()
    t0 = time.time()
    st, ans = request(port, "POST", "/v1/events", click("u1", "m1", now).encode(),
                      {"Content-Type": "application/json"})
    took = time.time() - t0
    failed = metric(port, "streamrec_http_events_failed_total")
    record(7, "POST with the broker gone", st == 503 and failed == 1,
           f"HTTP {st} after {took:.1f} s, streamrec_http_events_failed_total {failed:.0f}")
    d.send_signal(signal.SIGTERM)
    d.wait(timeout=60)

    # 9. A damaged store: every SST file (a clean stop flushed the state into them) with bytes
    # flipped a third of the way in.
    state = os.path.join(WORK, "state")
    ssts = [n for n in os.listdir(state) if n.endswith(".sst")]
    for name in ssts:
        if name.endswith(".sst"):
            path = os.path.join(state, name)
            with open(path, "r+b") as f:
                size = os.path.getsize(path)
                f.seek(size // 3)
                f.write(b"\xde\xad\xbe\xef" * 64)
    port9 = free_port()
    try:
        p = subprocess.run([BIN, "serve", "--brokers", "127.0.0.1:1", "--data-dir", state,
                            "--http", f"127.0.0.1:{port9}"], capture_output=True, text=True,
                           timeout=30)
    except subprocess.TimeoutExpired as e:
        p = subprocess.CompletedProcess(e.cmd, 0, "", (e.stderr or b"").decode() + "still running")
    last = (p.stderr.strip().splitlines() or [""])[-1][:200]
    record(9, "corrupted store", len(ssts) > 0 and p.returncode != 0 and "backup" in p.stderr,
           f"{len(ssts)} SST files damaged; exit {p.returncode}: {last}")

    # 8. A full disk under the daemon (root: a 192 MiB tmpfs).
    disk_check()
    return report()


def report():

    failed = [r for r in RESULTS if not r[2]]
    print(f"{len(RESULTS) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


def disk_check():
    if os.geteuid() != 0:
        record(8, "full disk", True, "skipped: needs root to mount a tmpfs")
        return
    mnt = os.path.join(WORK, "small")
    os.makedirs(mnt)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=192m", "tmpfs", mnt]).returncode != 0:
        record(8, "full disk", True, "skipped: cannot mount a tmpfs")
        return
    try:
        broker, brokers = start_broker()
        config = os.path.join(WORK, "disk.json")
        with open(config, "w") as f:
            json.dump({"checkpoint_interval_ms": 200}, f)
        port = free_port()
        d = start_daemon(brokers, os.path.join(mnt, "state"), config, port)
        now, produced = time.time(), 0

        def produce(n):
            nonlocal produced
            kcat(brokers, [f"n{produced + i}\t" + click(f"n{produced + i}", f"m{i % 300}", now - 600)
                           for i in range(n)])
            produced += n

        produce(5000)
        assert wait_for(lambda: applied(port) == produced, 60), "no ingest before the disk fills"
        subprocess.run(["dd", "if=/dev/zero", f"of={mnt}/filler", "bs=1M", "count=256"],
                       stderr=subprocess.DEVNULL)
        why, peak = b"", 0
        for _ in range(60):
            produce(5000)
            st, why = request(port, "GET", "/readyz")
            peak = max(peak, rss_mib(d.pid))
            if st == 503:
                break
        for _ in range(10):
            time.sleep(1)
            peak = max(peak, rss_mib(d.pid))
        alive = d.poll() is None
        os.remove(f"{mnt}/filler")
        t0 = time.time()
        back = wait_for(lambda: request(port, "GET", "/readyz")[0] == 200, 90)
        resumed = time.time() - t0
        applied_ok = wait_for(lambda: applied(port) == produced, 90)
        d.send_signal(signal.SIGKILL)
        d.wait()
        d = start_daemon(brokers, os.path.join(mnt, "state"), config, port)
        wait_for(lambda: applied(port) == produced, 90)
        time.sleep(1)
        held = applied(port)
        reason = json.loads(why or b"{}").get("error", {}).get("message", "")[:90]
        record(8, "full disk", alive and back and applied_ok and held == produced,
               f"/readyz 503 '{reason}...'; peak RSS {peak:.0f} MiB; no abort: {alive}; ready "
               f"{resumed:.1f} s after space returned; applied {held} of {produced} "
               f"after kill -9 and restart")
        d.send_signal(signal.SIGTERM)
        d.wait(timeout=60)
        broker.send_signal(signal.SIGTERM)
    finally:
        for p in PROCS:
            if p.poll() is None:
                p.kill()
                p.wait()
        subprocess.run(["umount", "-l", mnt])


if __name__ == "__main__":
    try:
        code = disk_check() or report() if os.environ.get("ONLY_DISK") else main()
    finally:
        for p in PROCS:
            if p.poll() is None:
                p.kill()
                p.wait()
        if os.environ.get("KEEP"):
            print("work dir kept:", WORK)
        else:
            shutil.rmtree(WORK, ignore_errors=True)
    sys.exit(code)
