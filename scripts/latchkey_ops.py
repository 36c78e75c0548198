"""Shared helpers of the operations checks (scripts/checks/5x-*): start `latchkey serve`, sign deliveries the
way each PMS does, replay a booking scenario, and count results.

Not a check itself (it lives outside scripts/checks/). Standard library only, so any python3 can import it.
"""
import base64
import contextlib
import hashlib
import hmac
import json
import os
import re
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SANDBOX_SECRET = "whsec_bGF0Y2hrZXktc2FuZGJveC1zZWNyZXQtMzJieXRlcyE="
SANDBOX_LISTING = "lst_000048213"
FRONT_DOOR = "11111111-1111-4111-8111-000000000001"
BACK_DOOR = "11111111-1111-4111-8111-000000000002"
GARAGE = "11111111-1111-4111-8111-000000000003"


class Results:
    """Counts assertions and prints the closing "N passed, N failed" line."""

    def __init__(self, name):
        self.name, self.passed, self.failed = name, 0, 0

    def check(self, ok, what, detail=""):
        if ok:
            self.passed += 1
            print(f"ok   {what}")
        else:
            self.failed += 1
            print(f"FAIL {what}{': ' + str(detail) if detail else ''}")
        return ok

    def finish(self):
        print(f"{self.name}: {self.passed} passed, {self.failed} failed")
        return 1 if self.failed else 0


def binary():
    path = os.environ.get("LATCHKEY_BIN") or os.path.join(ROOT, ".build", "debug", "latchkey")
    if not os.access(path, os.X_OK):
        raise SystemExit(f"no latchkey binary at {path}: run `swift build --product latchkey` or set LATCHKEY_BIN")
    return path


class Latchkey:
    """`latchkey serve` on 127.0.0.1 with a free port, a temporary data directory and JSON logs in a file."""

    def __init__(self, config=None, env=None, log_level="info", data_dir=None, bind="127.0.0.1:0"):
        self.workdir = tempfile.mkdtemp(prefix="latchkey-ops-")
        self.data_dir = data_dir or os.path.join(self.workdir, "data")
        self.log_path = os.path.join(self.workdir, "latchkey.log")
        self.config, self.bind = config, bind
        self.env = dict(os.environ, LOG_FORMAT="json", LOG_LEVEL=log_level, **(env or {}))
        self.process, self.url, self.fake_seam = None, None, None

    def start(self, timeout=60):
        args = [binary(), "serve", "--bind", self.bind, "--data-dir", self.data_dir]
        if self.config:
            args += ["--config", self.config]
        self.log = open(self.log_path, "ab")
        self.process = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, env=self.env)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"latchkey serve exited {self.process.returncode}:\n{self.logs()[-3000:]}")
            for record in self.records():
                if record.get("message") == "Latchkey is listening":
                    self.url = "http://" + record["listen"]
                    match = re.search(r"built-in fake Seam at (http://[0-9.:]+)", record.get("seam", ""))
                    self.fake_seam = match.group(1) if match else None
                    return self
            time.sleep(0.1)
        raise RuntimeError(f"latchkey serve did not start in {timeout} s:\n{self.logs()[-3000:]}")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process:
            self.log.close()
        return self.process.returncode if self.process else None

    def logs(self):
        with open(self.log_path, "rb") as handle:
            return handle.read().decode("utf-8", "replace")

    def records(self):
        out = []
        for line in self.logs().splitlines():
            with contextlib.suppress(ValueError):
                out.append(json.loads(line))
        return out

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def request(method, url, body=None, headers=None, timeout=15):
    """Sends one request; returns (status, headers, body bytes) for any status."""
    data = body.encode() if isinstance(body, str) else body
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def get_json(url, headers=None):
    status, _, body = request("GET", url, headers=headers)
    return status, (json.loads(body) if body else None)


# MARK: signing, as each PMS does it

def standard_webhooks_headers(body, secret, msg_id, timestamp=None, prefix="webhook"):
    timestamp = int(timestamp if timestamp is not None else time.time())
    key = base64.b64decode(secret.split("_", 1)[1])
    mac = hmac.new(key, f"{msg_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return {f"{prefix}-id": msg_id, f"{prefix}-timestamp": str(timestamp),
            f"{prefix}-signature": "v1," + base64.b64encode(mac).decode(), "Content-Type": "application/json"}


def hmac_hex_headers(body, secret, header="Signature", prefix=""):
    mac = hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()
    return {header: prefix + mac, "Content-Type": "application/json"}


def basic_headers(username, password):
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": "Basic " + token, "Content-Type": "application/json"}


def native_body(event, reservation, status, check_in, check_out, guest, updated, listing=SANDBOX_LISTING):
    return json.dumps({"event": event, "booking": {
        "id": reservation, "listing_id": listing, "status": status, "check_in": check_in, "check_out": check_out,
        "guest": {"name": guest, "phone": "+15550100", "email": "guest@example.com"}, "updated_at": updated}},
        separators=(",", ":"), sort_keys=True)


def native_scenario(base_url, secret=SANDBOX_SECRET, source="native", listing=SANDBOX_LISTING, prefix="ops"):
    """Replays a short story through the native source. Returns (statuses, signature header values sent).

    statuses: name → HTTP status. Steps: r1 created (202), r2 created (202), r1 moved (202), r2 cancelled
    (202), r1 moved again re-sent with the same id (200 duplicate), a bad signature (401).
    """
    url = f"{base_url}/webhooks/{source}"
    steps = [
        ("r1 created", native_body("booking.created", f"{prefix}_r1", "confirmed", "2030-07-14T15:00:00", "2030-07-19T11:00:00", "Ada Lovelace", "2030-01-01T10:00:00Z", listing)),
        ("r2 created", native_body("booking.created", f"{prefix}_r2", "confirmed", "2030-07-20T15:00:00", "2030-07-22T11:00:00", "Grace Hopper", "2030-01-01T10:01:00Z", listing)),
        ("r1 moved", native_body("booking.updated", f"{prefix}_r1", "confirmed", "2030-07-14T12:00:00", "2030-07-19T11:00:00", "Ada Lovelace", "2030-01-02T10:00:00Z", listing)),
        ("r2 cancelled", native_body("booking.cancelled", f"{prefix}_r2", "cancelled", "2030-07-20T15:00:00", "2030-07-22T11:00:00", "Grace Hopper", "2030-01-03T10:00:00Z", listing)),
    ]
    statuses, signatures = {}, []
    for index, (name, body) in enumerate(steps):
        headers = standard_webhooks_headers(body, secret, f"msg_{prefix}_{index}")
        signatures.append(headers["webhook-signature"])
        statuses[name] = request("POST", url, body, headers)[0]
    body = steps[2][1]
    headers = standard_webhooks_headers(body, secret, f"msg_{prefix}_2")
    signatures.append(headers["webhook-signature"])
    statuses["r1 moved, duplicate"] = request("POST", url, body, headers)[0]
    bad = standard_webhooks_headers(body, "whsec_" + base64.b64encode(b"not-the-secret-not-the-secret!!").decode(), f"msg_{prefix}_bad")
    signatures.append(bad["webhook-signature"])
    statuses["bad signature"] = request("POST", url, body, bad)[0]
    return statuses, signatures


def fake_state(fake_seam_url):
    return get_json(f"{fake_seam_url}/_fake/state")[1]


def wait_until(predicate, timeout=30, interval=0.2):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


def access_codes(state):
    """The fake Seam's access codes, from /_fake/state, whatever the nesting."""
    if isinstance(state, dict):
        if isinstance(state.get("access_codes"), list):
            return state["access_codes"]
        for value in state.values():
            found = access_codes(value)
            if found:
                return found
    return []

