#!/usr/bin/env python3
"""Floods against `latchkey serve` directly (sandbox, temporary data directory, loopback only):

  slowloris     N connections trickling a request head, one byte a second (N = 1,000)
  slow-bodies   N connections with a full head trickling the body, one byte a second
  bad-sigs      a burst of M deliveries signed with a wrong secret (M = 10,000), 8 keep-alive connections
  oversize      K requests announcing a 2 MiB body (limit 1 MiB), plus K/10 chunked ones that run over

During each, a second client sends valid signed deliveries one after another: every one must be answered 202;
their p99 latency is printed. Latchkey's peak RSS (VmHWM) is read from /proc after each flood and must stay under
a bound. Every loop is bounded in count and time.

Usage: floods.py [--scale S] [--hold SECONDS] [--rss-limit-mb MB]
  --scale multiplies N, M and K (default 1); --hold is how long the slow floods trickle (default 14 s, past
  Latchkey's 10 s head and body-idle deadlines); --rss-limit-mb is the peak RSS allowed (default 400).
"""
import argparse
import os
import resource
import selectors
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lk  # noqa: E402

WRONG_SECRET = "whsec_" + "d3Jvbmcgc2VjcmV0IG9mIHRoaXJ0eS10d28gYnl0ZXMh"


class ValidClient(threading.Thread):
    """Sends signed deliveries back to back until stopped; records latency and any non-202 answer."""

    def __init__(self, port, tag, max_count=100_000):
        super().__init__(daemon=True)
        self.port, self.tag, self.max_count = port, tag, max_count
        self.latencies, self.failures = [], []
        self.stopping = threading.Event()

    def run(self):
        n = 0
        while not self.stopping.is_set() and n < self.max_count:
            n += 1
            started = time.monotonic()
            try:
                status, _, body = lk.signed_delivery(self.port, f"{self.tag}-{n}")
            except OSError as error:
                status, body = None, str(error).encode()
            self.latencies.append(time.monotonic() - started)
            if status != 202:
                self.failures.append((status, body[:200]))
            time.sleep(0.02)

    def stop(self):
        self.stopping.set()
        self.join(30)


def open_connections(port, count, deadline):
    socks = []
    for _ in range(count):
        if time.monotonic() > deadline:
            break
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.setblocking(False)
            socks.append(s)
        except OSError:
            break
    return socks


def trickle(socks, first, byte, hold):
    """Sends `first` on every socket, then `byte` on each once a second for `hold` seconds. Returns how many
    connections the server closed (EOF/reset or a response) during that time."""
    closed = set()
    for s in socks:
        try:
            s.send(first)
        except OSError:
            closed.add(s)
    selector = selectors.DefaultSelector()
    for s in socks:
        selector.register(s, selectors.EVENT_READ)
    end = time.monotonic() + hold
    next_tick = time.monotonic() + 1
    while time.monotonic() < end:
        for key, _ in selector.select(timeout=0.2):
            s = key.fileobj
            try:
                data = s.recv(4096)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if s not in closed:
                closed.add(s)
                selector.unregister(s)
            _ = data
        if time.monotonic() >= next_tick:
            next_tick += 1
            for s in socks:
                if s in closed:
                    continue
                try:
                    s.send(byte)
                except (BlockingIOError, OSError):
                    pass
    selector.close()
    for s in socks:
        s.close()
    return len(closed)


def bad_signature_burst(port, total, connections=8):
    answers = {}
    lock = threading.Lock()
    per = total // connections
    body = lk.native_body("bad-sig")

    def worker():
        import http.client
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        local = {}
        for _ in range(per):
            try:
                conn.request("POST", "/webhooks/native", body, lk.sign_standard(body, WRONG_SECRET))
                response = conn.getresponse()
                response.read()
                local[response.status] = local.get(response.status, 0) + 1
                if response.getheader("connection", "").lower() == "close":
                    conn.close()
            except OSError:
                local["error"] = local.get("error", 0) + 1
                conn.close()
        conn.close()
        with lock:
            for k, v in local.items():
                answers[k] = answers.get(k, 0) + v

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    return answers


def oversize_flood(port, count, min_seconds=5.0):
    """`count` requests announcing 2 MiB, then `count // 10` chunked ones running over 1 MiB; repeated until
    `min_seconds` have passed (at most 100 rounds) so the valid client overlaps it."""
    answers = {}
    started = time.monotonic()
    for _ in range(100):
        one_oversize_round(port, count, answers)
        if time.monotonic() - started >= min_seconds:
            break
    return answers


def one_oversize_round(port, count, answers):
    head = (b"POST /webhooks/native HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 2097152\r\n\r\n")
    chunk_head = b"POST /webhooks/native HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    payload = b"x" * 65536
    for i in range(count + count // 10):
        chunked = i >= count
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                if chunked:
                    s.sendall(chunk_head)
                    for _ in range(20):  # 20 × 64 KiB chunks: over 1 MiB
                        s.sendall(b"10000\r\n" + payload + b"\r\n")
                else:
                    s.sendall(head + payload)
                data = s.recv(4096)
                status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else "none"
        except OSError as error:
            status = "reset" if isinstance(error, (ConnectionResetError, BrokenPipeError)) else "error"
        answers[status] = answers.get(status, 0) + 1


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1)
    parser.add_argument("--hold", type=float, default=14)
    parser.add_argument("--rss-limit-mb", type=int, default=400)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = int(3000 * args.scale) + 1000
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(want, soft)), hard))
    checks = lk.Checks("floods")
    server = lk.Latchkey().start()
    print(f"latchkey serve pid {server.pid} on 127.0.0.1:{server.port} ({server.binary}); "
          f"RLIMIT_NOFILE {resource.getrlimit(resource.RLIMIT_NOFILE)[0]}", flush=True)
    n = int(1000 * args.scale)
    phases = []
    try:
        def phase(name, action):
            client = ValidClient(server.port, f"flood-{name}-{os.getpid()}")
            client.start()
            started = time.monotonic()
            result = action()
            elapsed = time.monotonic() - started
            time.sleep(0.5)
            client.stop()
            p99 = lk.percentile(client.latencies, 99) * 1000
            p50 = lk.percentile(client.latencies, 50) * 1000
            peak = (server.peak_rss_kb() or 0) // 1024
            rss = (server.rss_kb() or 0) // 1024
            print(f"     {name}: {result}; {elapsed:.1f} s; valid deliveries {len(client.latencies)}, "
                  f"p50 {p50:.1f} ms, p99 {p99:.1f} ms; RSS {rss} MB, peak {peak} MB", flush=True)
            checks.check(f"{name}: every valid delivery accepted ({len(client.latencies)} sent)",
                         len(client.latencies) > 0 and not client.failures, f"{len(client.failures)} failed, first {client.failures[:2]}")
            checks.check(f"{name}: peak RSS {peak} MB ≤ {args.rss_limit_mb} MB", peak <= args.rss_limit_mb)
            checks.check(f"{name}: Latchkey still running", server.process.poll() is None)
            phases.append((name, len(client.latencies), p50, p99, peak))
            return result

        deadline = lambda: time.monotonic() + 60  # noqa: E731
        closed = phase("slowloris", lambda: trickle(open_connections(server.port, n, deadline()),
                                                    b"POST /webhooks/native HTTP/1.1\r\nHost: x\r\n", b"a", args.hold))
        checks.check(f"slowloris: Latchkey cut the trickling heads off ({closed} of {n} closed within {args.hold:.0f} s)",
                     closed >= n * 0.95 if args.hold > 11 else True)
        closed = phase("slow-bodies", lambda: trickle(
            open_connections(server.port, n, deadline()),
            b"POST /webhooks/native HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{",
            b" ", args.hold))
        print(f"     slow-bodies: {closed} of {n} closed by Latchkey while each sent a byte a second (body deadline is idle-based)")
        m = int(10000 * args.scale)
        answers = phase("bad-sigs", lambda: bad_signature_burst(server.port, m))
        checks.check(f"bad-sigs: all {m} refused with 401 ({answers})", answers.get(401, 0) == (m // 8) * 8)
        k = int(300 * args.scale)
        answers = phase("oversize", lambda: oversize_flood(server.port, k))
        sent = sum(answers.values())
        checks.check(f"oversize: every oversize body refused with 413 or cut ({sent} sent: {answers})",
                     answers.get(413, 0) + answers.get("reset", 0) == sent and answers.get(413, 0) >= k)
        text = server.metrics()
        accepted = lk.metric_sum(text, "latchkey_webhook_deliveries_total", result="accepted")
        print(f"     deliveries accepted in all: {int(accepted)}; signature failures counted: "
              f"{int(lk.metric_sum(text, 'latchkey_webhook_signature_failures_total'))}")
    finally:
        server.remove_data()
    print("phase        valid  p50_ms  p99_ms  peak_rss_mb")
    for name, count, p50, p99, peak in phases:
        print(f"{name:12} {count:5}  {p50:6.1f}  {p99:6.1f}  {peak:6}")
    checks.finish()


if __name__ == "__main__":
    main()
