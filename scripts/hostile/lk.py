"""Shared helpers of the hostile-input checks (scripts/checks/7x-*, scripts/soak/*): start `latchkey serve` on
a free loopback port with a temporary data directory, sign native (Standard Webhooks) deliveries, talk HTTP
over raw sockets, read /metrics and /proc/PID/status. Standard library only.
"""
import base64
import hashlib
import hmac
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SANDBOX_SECRET = "whsec_bGF0Y2hrZXktc2FuZGJveC1zZWNyZXQtMzJieXRlcyE="
SANDBOX_LISTING = "lst_000048213"


class Checks:
    """Counts assertions and prints `ok`/`FAIL` lines and the final "N passed, N failed" line."""

    def __init__(self, name):
        self.name, self.passed, self.failed = name, 0, 0

    def check(self, title, condition, detail=""):
        if condition:
            self.passed += 1
            print(f"ok   {title}", flush=True)
        else:
            self.failed += 1
            print(f"FAIL {title}" + (f": {detail}" if detail else ""), flush=True)
        return condition

    def finish(self):
        print(f"{self.name}: {self.passed} passed, {self.failed} failed", flush=True)
        sys.exit(0 if self.failed == 0 else 1)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def latchkey_bin():
    path = os.environ.get("LATCHKEY_BIN") or os.path.join(os.path.dirname(__file__), "../../.build/debug/latchkey")
    if not os.access(path, os.X_OK):
        sys.exit(f"no latchkey binary at {path}; build it (swift build --product latchkey) or set LATCHKEY_BIN")
    return os.path.abspath(path)


class Latchkey:
    """One `latchkey serve` process: sandbox (no config) or `config`, on 127.0.0.1:<free port>."""

    def __init__(self, data_dir=None, config=None, env=None, binary=None, log_path=None):
        self.binary = binary or latchkey_bin()
        self.owned_dir = None
        if data_dir is None:
            self.owned_dir = tempfile.mkdtemp(prefix="latchkey-hostile-")
            data_dir = os.path.join(self.owned_dir, "data")
        self.data_dir = data_dir
        self.config = config
        self.env = dict(os.environ, LOG_FORMAT="json", **(env or {}))
        self.log_path = log_path or os.path.join(self.owned_dir or os.path.dirname(data_dir), f"serve-{os.getpid()}-{id(self)}.log")
        self.process = None
        self.port = None

    def start(self, timeout=30):
        for _ in range(3):
            self.port = free_port()
            args = [self.binary, "serve", "--bind", f"127.0.0.1:{self.port}", "--data-dir", self.data_dir]
            if self.config:
                args += ["--config", self.config]
            self.log = open(self.log_path, "ab")
            self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log, env=self.env)
            deadline = time.time() + timeout
            while time.time() < deadline and self.process.poll() is None:
                try:
                    status, _, _ = request(self.port, "GET", "/healthz", timeout=1)
                    if status == 200:
                        return self
                except OSError:
                    pass
                time.sleep(0.1)
            self.stop()
        raise RuntimeError(f"latchkey serve did not start; log: {self.log_text()[-2000:]}")

    @property
    def pid(self):
        return self.process.pid

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def fake_seam_url(self):
        match = re.search(r"built-in fake Seam at (http://[0-9.:]+)", self.log_text())
        return match.group(1) if match else None

    def peak_rss_kb(self):
        return proc_status(self.pid, "VmHWM")

    def rss_kb(self):
        return proc_status(self.pid, "VmRSS")

    def stop(self, timeout=20):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if getattr(self, "log", None):
            self.log.close()

    def metrics(self):
        return request(self.port, "GET", "/metrics")[2].decode()

    def remove_data(self):
        """Stops the process and deletes the temporary directory this object made (if it made one)."""
        self.stop()
        if self.owned_dir:
            shutil.rmtree(self.owned_dir, ignore_errors=True)


def proc_status(pid, field):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def metric_sum(text, name, **labels):
    """Sum of the samples of `name` whose labels include `labels`."""
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name) or line.startswith("#"):
            continue
        match = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)", line)
        if not match or match.group(1) != name:
            continue
        have = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(3) or ""))
        if all(have.get(k) == v for k, v in labels.items()):
            total += float(match.group(4))
    return total


def request(port, method, path, body=b"", headers=None, timeout=10):
    """One request on a fresh connection; returns (status, headers dict lower-cased, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def raw_exchange(port, data, timeout=5.0, read_for=1.0):
    """Sends `data` on one connection, reads until the peer closes or `read_for` seconds pass without data.
    Returns (all bytes received, closed_by_peer)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    received, closed = b"", False
    try:
        sock.sendall(data)
        sock.settimeout(read_for)
        while True:
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                closed = True
                break
            if not chunk:
                closed = True
                break
            received += chunk
    finally:
        sock.close()
    return received, closed


def statuses(received):
    """The status codes of every HTTP response in `received`, in order."""
    return [int(m) for m in re.findall(rb"HTTP/1\.[01] (\d{3}) ", received)]


def standard_key(secret):
    return base64.b64decode(secret[len("whsec_"):])


def sign_standard(body, secret=SANDBOX_SECRET, delivery_id=None, timestamp=None):
    """Standard Webhooks headers for `body`."""
    delivery_id = delivery_id or "msg_" + os.urandom(8).hex()
    timestamp = int(time.time()) if timestamp is None else int(timestamp)
    mac = hmac.new(standard_key(secret), f"{delivery_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return {
        "webhook-id": delivery_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": "v1," + base64.b64encode(mac).decode(),
        "content-type": "application/json",
    }


def native_body(reservation, listing=SANDBOX_LISTING, event="booking.created", status="confirmed",
                check_in="2027-03-01", check_out="2027-03-04", guest="Ada Lovelace"):
    return json.dumps({
        "event": event,
        "booking": {
            "id": reservation, "listing_id": listing, "status": status,
            "check_in": check_in, "check_out": check_out,
            "guest": {"name": guest, "phone": "+15550100", "email": "ada@example.com"},
            "updated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        },
    }, separators=(",", ":")).encode()


def signed_delivery(port, reservation, secret=SANDBOX_SECRET, source="native", **kwargs):
    body = native_body(reservation, **kwargs)
    return request(port, "POST", f"/webhooks/{source}", body, sign_standard(body, secret))


def percentile(values, p):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]
