"""Shared pieces of the reliability suite: processes, configuration, signed deliveries, bookings, checks.

Every driver in this directory runs `latchkey fake-seam` and `latchkey serve` as separate processes (so the fake
survives Latchkey being killed), sends signed native deliveries, and checks what the fake Seam holds against what
the bookings call for. Only the standard library and `requests` are used.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.server
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import requests

LATCHKEY_BIN = os.environ.get("LATCHKEY_BIN") or os.path.join(
    os.path.dirname(__file__), "..", "..", ".build", "debug", "latchkey")
NATIVE_SECRET = "whsec_" + base64.b64encode(b"reliability-suite-native-secret!").decode()
# The secret of Latchkey's `POST /seam/webhooks` (Seam's events; Svix-signed), when a driver turns them on.
SEAM_WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"reliability-suite-seam-events!!!").decode()
ADMIN_TOKEN = "reliability-admin-token"
SEAM_KEY = "seam_test_key"

# Seam's per-device limits, per minute (seam-api.md §7; the fake enforces the same).
DEVICE_LIMITS = {"/access_codes/create_multiple": 10, "/access_codes/update_multiple": 10,
                 "/access_codes/update": 10, "/access_codes/delete": 20, "/access_codes/create": 10}


_processes: list[subprocess.Popen] = []
_workdirs: list[str] = []


def _spawn(args: list[str], **kwargs) -> subprocess.Popen:
    """Starts a process that `run` kills if the driver ends early."""
    proc = subprocess.Popen(args, **kwargs)
    _processes.append(proc)
    return proc


def run(main) -> None:
    """Runs a driver's `main`: on an unexpected exception prints it and a failing final line; always kills the
    processes it started; removes the work directories after a clean pass (RELIABILITY_KEEP=1 keeps them)."""
    try:
        code = main()
    except Exception:  # noqa: BLE001 - any crash of the driver is a failed check
        traceback.print_exc()
        print("0 passed, 1 failed", flush=True)
        code = 1
    finally:
        for proc in _processes:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    if code == 0 and os.environ.get("RELIABILITY_KEEP") != "1":
        for path in _workdirs:
            shutil.rmtree(path, ignore_errors=True)
    elif _workdirs:
        print(f"work directories kept: {' '.join(_workdirs)}", flush=True)
    sys.exit(code)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_is_listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


class Tally:
    """Counts passed and failed assertions and prints the final line."""

    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0

    def check(self, ok: bool, what: str) -> bool:
        if ok:
            self.passed += 1
            print(f"  ok   {what}", flush=True)
        else:
            self.failed += 1
            print(f"  FAIL {what}", flush=True)
        return ok

    def finish(self) -> int:
        print(f"{self.passed} passed, {self.failed} failed", flush=True)
        return 0 if self.failed == 0 else 1


# ---------------------------------------------------------------------------------------------------------------
# The world: devices, properties, reservations


def device_id(n: int) -> str:
    return f"22222222-2222-4222-8222-{n:012d}"


@dataclass
class World:
    """Properties of two locks each, on a seed of devices that all share 4–8 digit PINs."""

    properties: int = 24
    locks_per_property: int = 2

    def devices(self, prop: int) -> list[str]:
        return [device_id(prop * self.locks_per_property + i + 1) for i in range(self.locks_per_property)]

    def listing(self, prop: int) -> str:
        return f"lst_rel_{prop:03d}"

    def seed_json(self) -> dict:
        return {"devices": [
            {"device_id": d, "display_name": f"Door {d[-4:]}", "device_type": "august_lock",
             "supported_code_lengths": [4, 5, 6, 7, 8]}
            for p in range(self.properties) for d in self.devices(p)]}


def write_config(path: str, *, port: int, data_dir: str, seam_port: int, world: World, extra_seam: dict | None = None,
                 log_level: str = "warning") -> None:
    """Writes a `latchkey serve` configuration as YAML (written by hand: JSON is YAML)."""
    seam = {"endpoint": f"http://127.0.0.1:{seam_port}", "api_key": {"value": SEAM_KEY},
            "webhook_secret": None, "max_parallel_reservations": 8, "max_attempts": 8,
            "request_timeout_seconds": 2}
    seam.update(extra_seam or {})
    config = {
        "server": {"bind": f"127.0.0.1:{port}", "drain_timeout_seconds": 1},
        "data_dir": data_dir,
        "log_level": log_level,
        "log_format": "json",
        "seam": seam,
        "admin": {"token": {"value": ADMIN_TOKEN}},
        "sources": {"native": {"scheme": "standard_webhooks", "secrets": [{"value": NATIVE_SECRET}]}},
        "properties": [
            {"id": f"prop-{p:03d}", "name": f"Property {p}", "time_zone": "UTC",
             "listings": {"native": [world.listing(p)]}, "device_ids": world.devices(p),
             "buffer_before_check_in_minutes": 0, "buffer_after_check_out_minutes": 0,
             "preferred_code_length": 4, "behavior_when_code_cannot_be_shared": "throw",
             "code_name": "{guest_first} {reservation}"}
            for p in range(world.properties)],
    }
    with open(path, "w") as f:
        json.dump(config, f, indent=1)


@dataclass
class Delivery:
    """One native webhook delivery: a unique id and a fixed body."""

    delivery_id: str
    reservation: str
    body: bytes
    is_final: bool = False


@dataclass
class Reservation:
    rid: str
    prop: int
    events: list[dict] = field(default_factory=list)
    rebooked: bool = False

    @property
    def final(self) -> dict:
        return self.events[-1]


def iso(t: datetime) -> str:
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def make_bookings(world: World, count: int, rng: random.Random, *, updates: tuple[int, int] = (0, 3),
                  cancel_rate: float = 0.35, rebook_rate: float = 0.0,
                  prefix: str = "r") -> tuple[list[Reservation], list[Delivery]]:
    """Reservations with a create, some date moves and maybe a cancel, each a delivery with a unique id.
    A `rebook_rate` share of the cancelled ones is confirmed again afterwards (sometimes with other dates).

    `updated_at` grows along each reservation's events, so the last one wins whatever order they arrive in.
    """
    base = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) + timedelta(days=20)
    reservations: list[Reservation] = []
    deliveries: list[Delivery] = []
    for i in range(count):
        rid = f"{prefix}{i:05d}"
        prop = i % world.properties
        res = Reservation(rid, prop)
        check_in = base + timedelta(days=rng.randint(0, 60), hours=rng.randint(0, 23))
        nights = rng.randint(1, 7)
        stamp = datetime(2026, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=i)
        kinds = ["booking.created"] + ["booking.updated"] * rng.randint(*updates)
        if rng.random() < cancel_rate:
            kinds.append("booking.cancelled")
            # Drawn only when asked for, so drivers without re-bookings keep their random sequence.
            if rebook_rate > 0 and rng.random() < rebook_rate:
                kinds.append("booking.rebooked")
                res.rebooked = True
        for n, kind in enumerate(kinds):
            if kind == "booking.rebooked":
                # Confirmed again after the cancellation: half the time the same stay, else other dates.
                if rng.random() < 0.5:
                    check_in += timedelta(days=rng.choice([1, 2]))
                kind = "booking.updated"
            elif kind == "booking.updated":
                check_in += timedelta(hours=rng.choice([-5, -2, 1, 3, 24]))
                nights = max(1, nights + rng.choice([-1, 0, 1]))
            status = "cancelled" if kind == "booking.cancelled" else "confirmed"
            event = {
                "event": kind,
                "booking": {"id": rid, "listing_id": world.listing(prop), "status": status,
                            "check_in": iso(check_in), "check_out": iso(check_in + timedelta(days=nights)),
                            "guest": {"name": f"Guest{i} Test"},
                            "updated_at": iso(stamp + timedelta(days=n))},
            }
            res.events.append(event)
            body = json.dumps(event, separators=(",", ":")).encode()
            deliveries.append(Delivery(f"msg_{rid}_{n}_{uuid.uuid4().hex[:8]}", rid, body, n == len(kinds) - 1))
        reservations.append(res)
    return reservations, deliveries


def interleave(deliveries: list[Delivery], rng: random.Random) -> list[Delivery]:
    """A shuffled order that keeps each reservation's own events mostly in order (a few swapped on purpose)."""
    by_res: dict[str, list[Delivery]] = {}
    for d in deliveries:
        by_res.setdefault(d.reservation, []).append(d)
    queues = list(by_res.values())
    out: list[Delivery] = []
    while queues:
        q = rng.choice(queues)
        if len(q) >= 2 and rng.random() < 0.05:
            out.append(q.pop(1))  # out of order: the later event first
        else:
            out.append(q.pop(0))
        if not q:
            queues.remove(q)
    return out


def sign(delivery_id: str, body: bytes, secret: str = NATIVE_SECRET) -> dict:
    key = base64.b64decode(secret[len("whsec_"):])
    stamp = str(int(time.time()))
    mac = hmac.new(key, f"{delivery_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
    return {"webhook-id": delivery_id, "webhook-timestamp": stamp,
            "webhook-signature": "v1," + base64.b64encode(mac).decode(), "Content-Type": "application/json"}


def post_delivery(session: requests.Session, port: int, d: Delivery, timeout: float = 5) -> requests.Response:
    return session.post(f"http://127.0.0.1:{port}/webhooks/native", data=d.body, headers=sign(d.delivery_id, d.body),
                        timeout=timeout)


# ---------------------------------------------------------------------------------------------------------------
# Processes


class FakeSeam:
    """`latchkey fake-seam` in its own process, with a seed of many locks."""

    def __init__(self, workdir: str, world: World, faults: dict | None = None,
                 webhook_url: str | None = None) -> None:
        """`webhook_url`: where the fake sends Seam's access-code events (signed with SEAM_WEBHOOK_SECRET)."""
        self.port = free_port()
        seed = os.path.join(workdir, "seed.json")
        with open(seed, "w") as f:
            json.dump(world.seed_json(), f)
        args = [LATCHKEY_BIN, "fake-seam", "--port", str(self.port), "--seed", seed]
        if faults is not None:
            path = os.path.join(workdir, "faults.json")
            with open(path, "w") as f:
                json.dump(faults, f)
            args += ["--faults", path]
        if webhook_url:
            args += ["--webhook-url", webhook_url, "--webhook-secret", SEAM_WEBHOOK_SECRET]
        self.log = open(os.path.join(workdir, "fake-seam.log"), "ab")
        self.proc = _spawn(args, stdout=self.log, stderr=self.log)
        self.url = f"http://127.0.0.1:{self.port}"
        wait_until(lambda: port_is_listening(self.port), 20, "fake Seam to listen")

    def set_faults(self, faults: dict) -> None:
        r = requests.post(f"{self.url}/_fake/faults", json=faults, timeout=5)
        r.raise_for_status()

    def state(self) -> dict:
        r = requests.get(f"{self.url}/_fake/state", timeout=30)
        r.raise_for_status()
        return r.json()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Latchkey:
    """`latchkey serve --config X`, started, killed and restarted at will."""

    def __init__(self, config: str, port: int, workdir: str, env: dict | None = None,
                 args: list[str] | None = None) -> None:
        self.config = config
        self.args = list(args or [])
        self.port = port
        self.env = dict(os.environ, **(env or {}))
        self.log = open(os.path.join(workdir, "latchkey.log"), "ab")
        self.proc: subprocess.Popen | None = None
        self.url = f"http://127.0.0.1:{port}"

    def spawn(self) -> None:
        """Starts the process without waiting for it to listen."""
        self.proc = _spawn([LATCHKEY_BIN, "serve", "--config", self.config, *self.args], stdout=self.log,
                           stderr=self.log, env=self.env)

    def start(self, timeout: float = 60) -> float:
        """Starts and waits until `/healthz` answers; returns the seconds it took."""
        started = time.monotonic()
        self.spawn()
        deadline = started + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"latchkey exited with {self.proc.returncode} at start (see latchkey.log)")
            try:
                if requests.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return time.monotonic() - started
            except requests.RequestException:
                pass
            time.sleep(0.02)
        raise RuntimeError("latchkey did not answer /healthz in time")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> int | None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode if self.proc else None

    def admin(self, path: str) -> dict:
        r = requests.get(f"{self.url}{path}", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=10)
        r.raise_for_status()
        return r.json()

    def metrics(self) -> str:
        return requests.get(f"{self.url}/metrics", timeout=10).text


def lease_state(lk: Latchkey, timeout: float = 1.0, session: requests.Session | None = None) -> str:
    """What `GET /readyz` says of the work lease (PostgreSQL store): `held` (this instance runs the reconciler),
    `waiting` (it serves deliveries only), `not_ready` (any other answer, e.g. 503) or `down` (no answer)."""
    try:
        r = (session or requests).get(f"{lk.url}/readyz", timeout=timeout)
    except requests.RequestException:
        return "down"
    if r.status_code != 200:
        return "not_ready"
    try:
        state = r.json().get("work_lease")
    except ValueError:
        return "not_ready"
    return state if state in ("held", "waiting") else "not_ready"


def wait_until(predicate, timeout: float, what: str, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out waiting for {what}")


def store_verify(data_dir: str) -> tuple[bool, str]:
    out = subprocess.run([LATCHKEY_BIN, "store", "verify", "--data-dir", data_dir], capture_output=True, text=True)
    return out.returncode == 0, (out.stdout + out.stderr).strip()


# ---------------------------------------------------------------------------------------------------------------
# Checks


def marker(rid: str) -> str:
    return f"[lk:native:{rid}]"


@dataclass
class GroupReport:
    expected: int = 0
    found: int = 0
    duplicates: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def converged(self) -> bool:
        return not self.problems


def compare_groups(state: dict, world: World, reservations: list[Reservation]) -> GroupReport:
    """What the fake holds against what each reservation's final booking calls for.

    Confirmed: exactly one live code per lock of the property, the same PIN and `common_code_key` on every lock,
    the final window. Cancelled: no live code. Codes being removed (`removing`) count as gone.
    """
    live: dict[tuple[str, str], list[dict]] = {}
    for code in state["access_codes"]:
        if code.get("status") == "removing":
            continue
        name = code.get("name") or ""
        start = name.find("[lk:native:")
        if start < 0:
            continue
        rid = name[start + len("[lk:native:"):name.find("]", start)]
        live.setdefault((rid, code["device_id"]), []).append(code)
    report = GroupReport()
    known = {r.rid for r in reservations}
    for (rid, dev), codes in live.items():
        if rid not in known:
            report.problems.append(f"codes for unknown reservation {rid}")
    for r in reservations:
        booking = r.final["booking"]
        devices = world.devices(r.prop)
        per_device = {d: live.get((r.rid, d), []) for d in devices}
        extra = sum(max(0, len(c) - 1) for c in per_device.values())
        report.duplicates += extra
        if booking["status"] == "cancelled":
            left = sum(len(c) for c in per_device.values())
            if left:
                report.problems.append(f"{r.rid} cancelled but {left} codes remain")
            continue
        report.expected += 1
        if extra:
            report.problems.append(f"{r.rid}: {extra} extra codes (a second group)")
        firsts = [c[0] for c in per_device.values() if c]
        if len(firsts) != len(devices):
            report.problems.append(f"{r.rid}: codes on {len(firsts)} of {len(devices)} locks")
            continue
        pins = {c.get("code") for c in firsts}
        keys = {c.get("common_code_key") for c in firsts}
        windows = {(c.get("starts_at"), c.get("ends_at")) for c in firsts}
        want = (booking["check_in"], booking["check_out"])
        if len(pins) != 1 or None in pins:
            report.problems.append(f"{r.rid}: PINs differ across locks")
        elif len(keys) != 1:
            report.problems.append(f"{r.rid}: not one linked group ({len(keys)} common_code_keys)")
        elif not all(_same_instant(s, want[0]) and _same_instant(e, want[1]) for s, e in windows):
            report.problems.append(f"{r.rid}: window {sorted(windows)} != {want}")
        else:
            report.found += 1
    return report


@dataclass
class RecordReport:
    """Latchkey's record of each reservation (admin API) against the codes the fake Seam holds."""

    checked: int = 0
    disagreements: list[str] = field(default_factory=list)
    unconverged: list[str] = field(default_factory=list)


def compare_records(lk: Latchkey, state: dict, reservations: list[Reservation]) -> RecordReport:
    """For every reservation: the ids of the codes Latchkey's record says are present must be exactly the live codes
    carrying its marker in Seam, each linked to the group when the booking is confirmed; and the reservation must be at
    rest (converged, or no access), with nothing left to read back and no dead letter."""
    live: dict[str, set[str]] = {}
    for code in state["access_codes"]:
        if code.get("status") == "removing":
            continue
        name = code.get("name") or ""
        start = name.find("[lk:native:")
        if start >= 0:
            rid = name[start + len("[lk:native:"):name.find("]", start)]
            live.setdefault(rid, set()).add(code["access_code_id"])
    report = RecordReport()
    for r in reservations:
        report.checked += 1
        resp = requests.get(f"{lk.url}/v1/reservations/native/{r.rid}",
                            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=10)
        if resp.status_code == 404:
            record = {"phase": "no_access", "locks": []}
        else:
            resp.raise_for_status()
            record = resp.json()
        present = {lock["access_code_id"] for lock in record["locks"] if lock.get("present")}
        if present != live.get(r.rid, set()):
            report.disagreements.append(
                f"{r.rid}: record {sorted(present)} vs Seam {sorted(live.get(r.rid, set()))}")
        confirmed = r.final["booking"]["status"] == "confirmed"
        if confirmed and not all(lock.get("linked") for lock in record["locks"]):
            report.disagreements.append(f"{r.rid}: a lock's code is not linked to the group")
        at_rest = record["phase"] == ("converged" if confirmed else "no_access")
        if not at_rest or record.get("read_back_reason") or record.get("dead_letter_id"):
            report.unconverged.append(
                f"{r.rid}: phase {record['phase']}, read back {record.get('read_back_reason')}, "
                f"dead letter {record.get('dead_letter_id')}")
    return report


def post_seam_event(port: int, event_type: str, access_code_id: str, device_id: str) -> requests.Response:
    """Posts one Seam access-code event to Latchkey's `/seam/webhooks`, signed as Seam (Svix) signs, with the official
    `standardwebhooks` library."""
    from standardwebhooks.webhooks import Webhook

    body = json.dumps({"event_id": str(uuid.uuid4()), "event_type": event_type, "access_code_id": access_code_id,
                       "device_id": device_id, "workspace_id": str(uuid.uuid4()),
                       "occurred_at": iso(datetime.now(timezone.utc)), "created_at": iso(datetime.now(timezone.utc))})
    msg_id = f"msg_{uuid.uuid4().hex}"
    now = datetime.now(timezone.utc)
    signature = Webhook(SEAM_WEBHOOK_SECRET).sign(msg_id, now, body)
    headers = {"webhook-id": msg_id, "webhook-timestamp": str(int(now.timestamp())),
               "webhook-signature": signature, "Content-Type": "application/json"}
    return requests.post(f"http://127.0.0.1:{port}/seam/webhooks", data=body, headers=headers, timeout=10)


def _same_instant(a: str | None, b: str) -> bool:
    if not a:
        return False
    parse = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))
    return abs((parse(a) - parse(b)).total_seconds()) < 1


def converge(fake: FakeSeam, lk: Latchkey | None, world: World, reservations: list[Reservation], timeout: float,
             tally: Tally | None = None) -> tuple[GroupReport, float]:
    """Polls the fake's state (and Latchkey's outbox) until the groups match or `timeout`; returns the last report
    and the seconds it took."""
    started = time.monotonic()
    report = GroupReport(problems=["not checked"])
    outbox: list | str = []
    while time.monotonic() - started < timeout:
        report = compare_groups(fake.state(), world, reservations)
        outbox = []
        if lk is not None:
            try:
                outbox = lk.admin("/v1/outbox")["intents"]
            except requests.RequestException as error:
                outbox = f"admin API: {error}"
        if report.converged and not outbox:
            return report, time.monotonic() - started
        time.sleep(1)
    report.problems.append(f"outbox after {timeout:.0f} s: {str(outbox)[:300]}")
    return report, time.monotonic() - started


def device_rate_violations(state: dict) -> list[str]:
    """Routes whose calls exceeded Seam's per-device limit within one minute of the fake's clock."""
    bad = []
    for c in state["calls"]:
        limit = DEVICE_LIMITS.get(c["route"])
        if limit and c.get("device_id") and c["count"] > limit:
            bad.append(f"{c['route']} on {c['device_id']} minute {c['minute']}: {c['count']} > {limit}")
    return bad


SEAM_OUTCOMES = ["success", "server_error", "rate_limited", "timeout", "transport_error", "circuit_open", "client_error"]


def seam_outcomes(metrics_text: str) -> dict[str, float]:
    """`latchkey_seam_requests_total` summed over routes, by outcome."""
    totals = dict.fromkeys(SEAM_OUTCOMES, 0.0)
    for line in metrics_text.splitlines():
        if line.startswith("latchkey_seam_requests_total{"):
            outcome = line.split('outcome="', 1)[1].split('"', 1)[0] if 'outcome="' in line else "?"
            totals[outcome] = totals.get(outcome, 0.0) + float(line.rsplit(" ", 1)[1])
    return totals


def resend_all(port: int, acked: dict[str, tuple[Delivery, bytes]], workers: int = 4) -> dict:
    """Re-sends every acknowledged delivery; each must answer 200 with the first answer's body."""
    results = {"duplicate_same_body": 0, "accepted_again": 0, "other": 0, "examples": []}
    lock = threading.Lock()
    items = list(acked.values())

    def work(chunk):
        s = requests.Session()
        for d, first_body in chunk:
            r = post_delivery(s, port, d, timeout=30)
            with lock:
                if r.status_code == 200 and r.content == first_body:
                    results["duplicate_same_body"] += 1
                elif r.status_code == 202:
                    results["accepted_again"] += 1
                    results["examples"].append(f"{d.delivery_id}: 202 again (lost)")
                else:
                    results["other"] += 1
                    results["examples"].append(f"{d.delivery_id}: {r.status_code} {r.text[:120]}")

    threads = [threading.Thread(target=work, args=(items[i::workers],)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def compile_shim(out_dir: str) -> str:
    """Compiles faultfs.c into `out_dir` with the first C compiler found (cc, clang, gcc)."""
    source = os.path.join(os.path.dirname(os.path.abspath(__file__)), "faultfs.c")
    shim = os.path.join(out_dir, "faultfs.so")
    for compiler in ("cc", "clang", "gcc"):
        if shutil.which(compiler):
            subprocess.run([compiler, "-shared", "-fPIC", "-O2", "-o", shim, source, "-ldl"], check=True)
            return shim
    raise RuntimeError("no C compiler (cc, clang or gcc) to build the faultfs shim")


def workdir(name: str) -> str:
    base = os.environ.get("RELIABILITY_TMP") or tempfile.gettempdir()
    path = tempfile.mkdtemp(prefix=f"latchkey-{name}-", dir=base)
    _workdirs.append(path)
    return path


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


def fail_fast(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
    print("0 passed, 1 failed", flush=True)
    sys.exit(1)


# Latchkey's `notifications:` endpoint secret in the checks (Standard Webhooks).
RECEIVER_SECRET = "whsec_" + base64.b64encode(b"notification-receiver-secret-32b").decode()


class NotificationReceiver:
    """A webhook receiver: answers as `mode` says (200, 503, 410), holds each answer `delay` seconds, verifies every
    request with the official `standardwebhooks` library and keeps what arrived (notification checks 65, 66)."""

    def __init__(self) -> None:
        from standardwebhooks.webhooks import Webhook, WebhookVerificationError
        self.mode, self.delay = 200, 0.0
        self.lock = threading.Lock()
        self.requests: list[dict] = []  # every request: id, type, verified, status answered
        self.verifier = Webhook(RECEIVER_SECRET)
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the http.server API
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                try:
                    payload = receiver.verifier.verify(body, headers)
                    verified = True
                except WebhookVerificationError:
                    payload, verified = json.loads(body or b"{}"), False
                with receiver.lock:
                    status, delay = receiver.mode, receiver.delay
                if delay:
                    time.sleep(delay)
                with receiver.lock:
                    receiver.requests.append({
                        "id": headers.get("webhook-id"), "type": payload.get("type"), "verified": verified,
                        "status": status, "data": payload.get("data", {})})
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def set(self, mode: int, delay: float = 0.0) -> None:
        with self.lock:
            self.mode, self.delay = mode, delay

    def snapshot(self) -> list[dict]:
        with self.lock:
            return list(self.requests)

    def of(self, reservation: str, type_: str | None = None, delivered: bool = False) -> list[dict]:
        return [r for r in self.snapshot() if r["data"].get("reservation_id") == reservation
                and (type_ is None or r["type"] == type_) and (not delivered or r["status"] == 200)]
