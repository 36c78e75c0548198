"""Two ACTIVE Latchkey instances on one PostgreSQL database behind nginx, either one killed with SIGKILL again and
again while deliveries keep coming.

Both instances listen, verify, commit deliveries to PostgreSQL and answer 202 (a repeat reaching the other one
answers 200 with the first answer). One of them holds the work lease (`/readyz` says `"work_lease": "held"`, the
other `"waiting"`) and runs the reconciler (the Seam calls), the notifications and the periodic jobs; the other
passes the bookings it takes to the holder through PostgreSQL. When the holder dies the other takes the lease over
(it polls for it every 250 ms), re-reads every booking and record and adopts what was in flight.

The run: nginx in front, with the upstreams of deploy/nginx/latchkey-two-instances.conf (both instances in one;
the admin API and the console on one of their own) and `proxy_next_upstream error timeout http_503 non_idempotent`
(1 s connect timeout), as deploy/postgresql.md says. Sender threads post deliveries through nginx the whole time,
as PMSs do (a delivery is done once answered 2xx or 4xx, posted again otherwise), paced so that the load lasts
until the last kill. A killer SIGKILLs one instance at random (seeded): sometimes the lease holder, sometimes the
other; each time it starts the killed one again and waits for its `/readyz`. A sampler reads both `/readyz` all
along. The fake Seam sends its webhooks through nginx, so they land on either instance, and a few Seam events are
posted straight to the instance without the lease.
Checks:
  - each kill of the holder: the survivor's `/readyz` says `held` within LEASE_TAKEOVER_LIMIT s of the kill
    (printed: median and max); each restarted instance comes back `waiting`;
  - never two `held` at once: two consecutive samples from different instances both `held` is an overlap, unless
    the earlier one came from an instance killed between the two reads (it answered before it died, the other
    took over after: a handover, not an overlap). Any overlap lasting longer than one sampling step is seen;
  - no instance ends by itself (one that loses the lease it thought it held exits 75);
  - the log: one `work lease: taken` line per holder (the first, then one per holder kill), terms increasing;
    Seam events taken by the instance without the lease recorded by the holder;
    `latchkey_work_lease_held` 1 on the holder, 0 on the other;
  - both instances acknowledged deliveries (nginx's access log names the upstream that answered);
  - the admin API answers 503 `not_the_working_instance` with `Retry-After` on the instance without the lease,
    and through nginx always reaches the holder;
  - at the end: every acknowledged delivery found exactly once, the fake Seam holds exactly one group per booking
    (no duplicate group), nothing left in the outbox, no dead letters.

Knobs: FAILOVER_KILLS (default 5; the issue's long version is 100), FAILOVER_DELIVERIES (default 60 per kill
+ 60), FAILOVER_SEED (the killer's choices, default 63), LEASE_TAKEOVER_LIMIT (seconds, default 5),
FAILOVER_CONVERGE_SECONDS (default 240), PG_BIN (default /usr/lib/postgresql/15/bin).
"""

from __future__ import annotations

import collections
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

import requests

sys.path.insert(0, os.path.dirname(__file__))
import harness as h  # noqa: E402
from postgresql_outage import Cluster, with_cluster  # noqa: E402

TAKEOVER_LINE = "work lease: taken"
INBOX_LINE = "Seam event recorded (received by another instance)"


def main() -> int:
    if not (shutil.which("nginx") or os.path.exists("/usr/sbin/nginx")):
        print("skipped: nginx is not installed (Debian's nginx-light: scripts/setup test)")
        print("0 passed, 0 failed")
        return 0
    kills = h.env_int("FAILOVER_KILLS", 5)
    total = h.env_int("FAILOVER_DELIVERIES", 60 * (kills + 1))
    return with_cluster("pgfo", lambda cluster, work, tally, started: run(cluster, work, kills, total, tally, started))


SNIPPET = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "deploy", "nginx",
                       "latchkey-two-instances.conf")


def start_nginx(work: str, port: int, upstreams: list[int]) -> str:
    """nginx on `port` with the upstreams of deploy/nginx/latchkey-two-instances.conf (the two instances' addresses
    put in) and its locations as deploy/postgresql.md says; returns its access log's path (`$upstream_addr|
    $upstream_status|$status|$uri` a line)."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    prefix = os.path.join(work, "nginx")
    os.makedirs(os.path.join(prefix, "logs"), exist_ok=True)
    with open(SNIPPET) as f:
        snippet = f.read()
    for placeholder, p in zip(("10.0.0.11:8080", "10.0.0.12:8080"), upstreams):
        snippet = snippet.replace(placeholder, f"127.0.0.1:{p}")
    access_log = os.path.join(prefix, "logs", "access.log")
    config = os.path.join(prefix, "nginx.conf")
    with open(config, "w") as f:
        f.write(f"""daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log;
events {{}}
http {{
    log_format upstreams '$upstream_addr|$upstream_status|$status|$uri';
    access_log {access_log} upstreams;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
{snippet}
    server {{
        listen 127.0.0.1:{port};
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_connect_timeout 1s;
        proxy_read_timeout 30s;
        location /webhooks/ {{
            proxy_pass http://latchkey;
            proxy_next_upstream error timeout http_503 non_idempotent;
        }}
        location = /seam/webhooks {{
            proxy_pass http://latchkey;
            proxy_next_upstream error timeout http_503 non_idempotent;
        }}
        location /v1/ {{
            proxy_pass http://latchkey_admin;
            proxy_next_upstream error timeout http_503 non_idempotent;
        }}
        location /console {{
            proxy_pass http://latchkey_admin;
            proxy_next_upstream error timeout http_503 non_idempotent;
        }}
    }}
}}
""")
    h._spawn([nginx, "-p", prefix, "-c", config], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    h.wait_until(lambda: h.port_is_listening(port), 10, "nginx to listen")
    return access_log


@dataclass
class Sample:
    """One read of an instance's `/readyz`: when it was sent and answered (monotonic), and the lease state."""

    start: float
    end: float
    name: str
    state: str


@dataclass
class Kill:
    name: str
    role: str  # "holder" or "other"
    start: float  # just before SIGKILL
    end: float  # the process is reaped
    takeover: float | None = None  # seconds from `end` to the survivor's `held`
    in_flight: int = 0  # deliveries being posted when it was killed


class Load:
    """Sender threads posting deliveries through nginx, as PMSs do, at a rate the killer adjusts."""

    def __init__(self, proxy: int, deliveries: list[h.Delivery], senders: int = 4) -> None:
        self.proxy = proxy
        self.queue = collections.deque(deliveries)
        self.lock = threading.Lock()
        self.acked: dict[str, tuple[h.Delivery, bytes]] = {}
        self.answers: collections.Counter = collections.Counter()
        self.refused: list[str] = []
        self.in_flight = 0
        self.rate = 20.0  # deliveries taken from the queue per second; None: as fast as they go
        self.next_slot = time.monotonic()
        self.threads = [threading.Thread(target=self._send, daemon=True) for _ in range(senders)]
        for t in self.threads:
            t.start()

    def _take(self) -> h.Delivery | None:
        with self.lock:
            if not self.queue:
                return None
            d = self.queue.popleft()
            wait = 0.0
            if self.rate:
                now = time.monotonic()
                slot = max(now, self.next_slot)
                self.next_slot = slot + 1 / self.rate
                wait = slot - now
        if wait > 0:
            time.sleep(wait)
        return d

    def _send(self) -> None:
        session = requests.Session()
        while (d := self._take()) is not None:
            while True:  # a PMS posts a delivery until it gets an answer it takes as final
                with self.lock:
                    self.in_flight += 1
                try:
                    r = h.post_delivery(session, self.proxy, d, timeout=30)
                    status = r.status_code
                except requests.RequestException as error:
                    r, status = None, f"error {type(error).__name__}"
                with self.lock:
                    self.in_flight -= 1
                    self.answers[status] += 1
                    if r is not None and status in (200, 202):
                        self.acked.setdefault(d.delivery_id, (d, r.content))
                    elif r is not None and 400 <= status < 500:
                        self.refused.append(f"{d.delivery_id}: {status} {r.text[:120]}")
                if r is not None and (200 <= status < 300 or 400 <= status < 500):
                    break
                time.sleep(0.2)

    def remaining(self) -> int:
        with self.lock:
            return len(self.queue)

    def set_rate(self, rate: float | None) -> None:
        with self.lock:
            self.rate = rate
            self.next_slot = time.monotonic()

    def join(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        for t in self.threads:
            t.join(max(0.0, deadline - time.monotonic()))
        return not any(t.is_alive() for t in self.threads)


class Sampler:
    """Reads both instances' `/readyz` in turn, all along the run."""

    def __init__(self, instances: dict[str, h.Latchkey]) -> None:
        self.instances = instances
        self.samples: list[Sample] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        sessions = {name: requests.Session() for name in self.instances}
        while not self.stopping.is_set():
            for name, lk in self.instances.items():
                start = time.monotonic()
                state = h.lease_state(lk, timeout=1, session=sessions[name])
                self.samples.append(Sample(start, time.monotonic(), name, state))
                time.sleep(0.01)

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join()

    def overlaps(self, kills: list[Kill]) -> tuple[list[str], int]:
        """Consecutive samples of different instances both `held`: overlaps, and how many were handovers (the
        earlier read from an instance killed between the two reads)."""
        found, handovers = [], 0
        for earlier, later in zip(self.samples, self.samples[1:]):
            if earlier.name == later.name or earlier.state != "held" or later.state != "held":
                continue
            if any(k.name == earlier.name and k.start < later.end and k.end > earlier.start for k in kills):
                handovers += 1
                continue
            found.append(f"{earlier.name} held at {earlier.start:.2f}-{earlier.end:.2f}, "
                         f"{later.name} held at {later.start:.2f}-{later.end:.2f}")
        return found, handovers


def takeover_lines(paths: list[str]) -> list[tuple[str, int]]:
    """The `work lease: taken` log lines of both instances: (time, term), in time order."""
    lines = []
    for path in paths:
        with open(path, errors="replace") as f:
            for line in f:
                if TAKEOVER_LINE not in line:
                    continue
                try:
                    record = json.loads(line)
                    term = next((v for k, v in record.items() if k == "term" or k.endswith(".term")), -1)
                    lines.append((record.get("time", ""), int(term)))
                except (ValueError, TypeError):
                    lines.append(("?", -1))
    return sorted(lines)


def acknowledged_by(access_log: str, ports: dict[int, str]) -> collections.Counter:
    """Deliveries answered 2xx, by the instance that answered (the last upstream nginx tried)."""
    counts: collections.Counter = collections.Counter()
    with open(access_log, errors="replace") as f:
        for line in f:
            addresses, _, status, uri = (line.rstrip("\n").split("|") + ["", "", "", ""])[:4]
            if not uri.startswith("/webhooks/") or status not in ("200", "202"):
                continue
            last = addresses.replace(" : ", ", ").split(", ")[-1]
            port = int(last.rsplit(":", 1)[1]) if ":" in last else -1
            counts[ports.get(port, last)] += 1
    return counts


def back_in_rotation(access_log: str, port: int, ready_at: float, load: Load, timeout: float = 5) -> None:
    """Waits (up to `timeout`, and only while deliveries are still to be sent) until nginx's access log shows a
    delivery answered 2xx by the instance on `port`, logged after `ready_at`."""
    with open(access_log, errors="replace") as f:
        f.seek(0, os.SEEK_END)
        while time.monotonic() - ready_at < timeout and load.remaining():
            for line in f.readlines():
                fields = line.split("|")
                if len(fields) >= 4 and fields[0].endswith(f":{port}") and fields[2] in ("200", "202"):
                    return
            time.sleep(0.02)


def metric(lk: h.Latchkey, name: str) -> float | None:
    for line in lk.metrics().splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    return None


def run(cluster: Cluster, work: str, kills: int, total: int, tally: h.Tally, started: float) -> int:
    url = cluster.createdb("latchkey")
    rng = random.Random(23)  # the bookings
    killer = random.Random(h.env_int("FAILOVER_SEED", 63))  # which one and when: holder, holder, other, holder…
    limit = h.env_float("LEASE_TAKEOVER_LIMIT", 5)
    bookings = max(1, total // 2)
    # Enough locks that Seam's per-device limits (10 creates a minute) do not pace the run.
    world = h.World(properties=max(40, bookings // 8))
    reservations, deliveries = h.make_bookings(world, bookings, rng, updates=(0, 2), cancel_rate=0.3)
    deliveries = h.interleave(deliveries, rng)
    proxy = h.free_port()
    # Seam's webhooks go through nginx, so they land on either instance.
    fake = h.FakeSeam(work, world, webhook_url=f"http://127.0.0.1:{proxy}/seam/webhooks")
    instances: dict[str, h.Latchkey] = {}
    logs = []
    for name in ("a", "b"):
        port = h.free_port()
        config = os.path.join(work, f"latchkey-{name}.yaml")
        h.write_config(config, port=port, data_dir=os.path.join(work, f"data-{name}"), seam_port=fake.port,
                       world=world, extra_seam={"webhook_secret": {"value": h.SEAM_WEBHOOK_SECRET}}, log_level="info")
        with open(config) as f:
            document = json.load(f)
        document["store"] = {"backend": "postgresql", "postgresql": {"url": {"value": url}, "pool_size": 4}}
        with open(config, "w") as f:
            json.dump(document, f, indent=1)
        lk = h.Latchkey(config, port, work)
        logs.append(os.path.join(work, f"latchkey-{name}.log"))
        lk.log = open(logs[-1], "ab")
        instances[name] = lk
    migrate = subprocess.run([h.LATCHKEY_BIN, "db", "migrate", "--config", instances["a"].config],
                             capture_output=True, text=True)
    tally.check(migrate.returncode == 0, f"db migrate: {migrate.stdout.strip()} {migrate.stderr.strip()[:200]}")

    def states() -> dict[str, str]:
        return {name: h.lease_state(lk) for name, lk in instances.items()}

    def holder() -> str:
        """The one instance that says `held` while the other says `waiting`; waits up to 15 s for that."""
        def settled() -> str | None:
            seen = states()
            if sorted(seen.values()) != ["held", "waiting"]:
                return None
            return next(name for name, state in seen.items() if state == "held")

        return h.wait_until(settled, 15, "one instance holding the work lease and the other waiting")

    access_log = start_nginx(work, proxy, [lk.port for lk in instances.values()])
    instances["a"].start()
    h.wait_until(lambda: h.lease_state(instances["a"]) == "held", 30, "the first instance to take the work lease")
    instances["b"].start()
    h.wait_until(lambda: h.lease_state(instances["b"]) == "waiting", 30, "the second instance to be ready, waiting")
    tally.check(states() == {"a": "held", "b": "waiting"},
                f"both instances ready, the first holding the work lease: {states()}")

    sampler = Sampler(instances)
    load = Load(proxy, deliveries)
    h.wait_until(lambda: len(load.acked) >= min(20, total // 10), 60, "the first deliveries acknowledged")
    done: list[Kill] = []
    exits: list[str] = []  # instances that ended without being killed
    restarts_waiting = 0
    cycle_seconds: list[float] = []
    run_started = time.monotonic()
    for n in range(kills):
        cycle_start = time.monotonic()
        # Pace the load so that it lasts until after the last kill (the cycle's length is measured as we go).
        per_cycle = statistics.mean(cycle_seconds) if cycle_seconds else 2.5
        load.set_rate(max(5.0, min(200.0, load.remaining() / ((kills - n + 0.5) * per_cycle))))
        time.sleep(killer.uniform(0.2, 1.0))
        for x, lk in instances.items():
            if lk.proc.poll() is not None:  # e.g. exit 75: it lost the work lease while it thought it held it
                exits.append(f"{x} before kill {n + 1}: exit {lk.proc.returncode}")
                lk.spawn()
        try:
            current = holder()
        except TimeoutError:
            tally.check(False, f"kill {n + 1}: no single lease holder before it {states()}")
            break
        role = "holder" if killer.random() < 0.5 else "other"
        if n == kills - 1 and kills > 1 and len({k.role for k in done}) == 1:
            role = "other" if done[0].role == "holder" else "holder"  # both kinds at least once
        name = current if role == "holder" else next(x for x in instances if x != current)
        survivor = next(x for x in instances if x != name)
        aim = time.monotonic() + 1
        while load.in_flight == 0 and load.remaining() and time.monotonic() < aim:
            time.sleep(0.002)  # kill while a delivery is on its way, when there is one within a second
        kill = Kill(name, role, time.monotonic(), 0.0, in_flight=load.in_flight)
        instances[name].kill()
        kill.end = time.monotonic()
        done.append(kill)
        if role == "holder":
            try:
                h.wait_until(lambda: h.lease_state(instances[survivor], timeout=2) == "held", 60,
                             "the survivor to take the work lease", interval=0.02)
                kill.takeover = time.monotonic() - kill.end
            except TimeoutError:
                tally.check(False, f"kill {n + 1}: {survivor} did not take the work lease within 60 s")
                break
        instances[name].spawn()
        try:
            h.wait_until(lambda: h.lease_state(instances[name]) in ("held", "waiting"), 60,
                         f"{name} to be ready again")
        except TimeoutError:
            tally.check(False, f"kill {n + 1}: {name} not ready within 60 s of its restart")
            break
        restarts_waiting += h.lease_state(instances[name]) == "waiting"
        # nginx's checks are passive: an instance back from the dead gets requests again only once its rest is
        # over (fail_timeout, 1 s in the snippet, counted by nginx in whole seconds); killing the other before then
        # would leave nginx no upstream to use. So wait until nginx has sent it a delivery again.
        back_in_rotation(access_log, instances[name].port, ready_at=time.monotonic(), load=load)
        h.log(f"kill {n + 1}/{kills}: {name} ({role}) killed with {kill.in_flight} deliveries in flight"
              + (f", lease taken over in {kill.takeover:.2f} s" if kill.takeover is not None else "")
              + f"; {len(load.acked)} acknowledged, {load.remaining()} queued")
        cycle_seconds.append(time.monotonic() - cycle_start)
    kill_phase = time.monotonic() - run_started
    load.set_rate(None)
    finished = load.join(300)
    tally.check(finished, f"every delivery answered 2xx or 4xx ({load.remaining()} left in the queue)")

    holder_kills = [k for k in done if k.role == "holder"]
    takeovers = [k.takeover for k in holder_kills if k.takeover is not None]
    tally.check(len(done) == kills, f"{len(done)} of {kills} kills ({len(holder_kills)} of the lease holder, "
                f"{len(done) - len(holder_kills)} of the other), each restarted, in {kill_phase:.0f} s")
    tally.check(restarts_waiting == len(done),
                f"{restarts_waiting} of {len(done)} restarted instances came back waiting for the lease")
    if takeovers:
        print(f"lease taken over after SIGKILL of the holder: median {statistics.median(takeovers):.2f} s, "
              f"max {max(takeovers):.2f} s over {len(takeovers)}")
    tally.check(len(takeovers) == len(holder_kills) and all(t < limit for t in takeovers),
                f"each of {len(holder_kills)} holder kills: lease taken over within {limit:.0f} s "
                f"(slowest {max(takeovers, default=0):.2f} s)")
    under_load = sum(1 for k in done if k.in_flight > 0)
    print(f"kills with deliveries in flight: {under_load} of {len(done)}; answers through nginx "
          f"{dict(load.answers)}")
    tally.check(not load.refused, f"no delivery refused 4xx {load.refused[:3]}")
    by_instance = acknowledged_by(access_log, {lk.port: name for name, lk in instances.items()})
    tally.check(all(by_instance[name] > 0 for name in instances),
                f"both instances acknowledged deliveries: {dict(by_instance)}")

    # Seam's events straight to the instance without the lease: taken there, for the holder.
    current = holder()
    other = next(x for x in instances if x != current)
    codes = [c for c in fake.state()["access_codes"] if c.get("status") != "removing"][:3]
    seam_answers = []
    for code in codes:
        for event in ("access_code.set_on_device", "access_code.changed"):
            seam_answers.append(h.post_seam_event(instances[other].port, event, code["access_code_id"],
                                                  code["device_id"]).status_code)
    tally.check(bool(codes) and all(200 <= s < 300 for s in seam_answers),
                f"Seam events posted to the instance without the lease ({other}) accepted: {seam_answers}")

    check = h.resend_all(proxy, load.acked)
    tally.check(check["duplicate_same_body"] == len(load.acked),
                f"all {len(load.acked)} acknowledged deliveries found exactly once ({check['examples'][:3]})")
    report, converge_seconds = h.converge(fake, instances[current], world, reservations,
                                          h.env_int("FAILOVER_CONVERGE_SECONDS", 240))
    tally.check(report.converged and report.duplicates == 0,
                f"groups expected {report.expected} found {report.found} duplicates {report.duplicates} "
                f"in {converge_seconds:.1f} s {report.problems[:3]}")
    dead = instances[current].admin("/v1/dead-letters")["dead_letters"]
    tally.check(not dead, f"no dead letters {[d.get('message') for d in dead[:2]]}")

    # The admin API: 503 on the instance without the lease, the holder through nginx.
    r = requests.get(f"{instances[other].url}/v1/outbox", headers={"Authorization": f"Bearer {h.ADMIN_TOKEN}"},
                     timeout=10)
    error_type = r.json().get("error", {}).get("type") if r.headers.get("Content-Type", "").startswith(
        "application/json") else None
    tally.check(r.status_code == 503 and error_type == "not_the_working_instance" and r.headers.get("Retry-After"),
                f"the admin API on the instance without the lease: {r.status_code} {error_type} "
                f"Retry-After {r.headers.get('Retry-After')}")
    through = [requests.get(f"http://127.0.0.1:{proxy}/v1/dead-letters",
                            headers={"Authorization": f"Bearer {h.ADMIN_TOKEN}"}, timeout=10).status_code
               for _ in range(6)]
    tally.check(all(s == 200 for s in through), f"the admin API through nginx reaches the holder: {through}")
    held_metric = {name: metric(lk, "latchkey_work_lease_held") for name, lk in instances.items()}
    tally.check(held_metric[current] == 1 and held_metric[other] == 0,
                f"latchkey_work_lease_held: {held_metric} ({current} holds the lease)")

    sampler.stop()
    overlaps, handovers = sampler.overlaps(done)
    tally.check(not overlaps, f"never two instances holding the lease: {len(sampler.samples)} /readyz samples, "
                f"{handovers} handovers at a kill, overlaps {overlaps[:3]}")
    exits += [f"{x} at the end: exit {lk.proc.returncode}" for x, lk in instances.items() if lk.proc.poll() is not None]
    tally.check(not exits, f"no instance ended by itself {exits[:3]}")
    for lk in instances.values():
        lk.stop()
    relayed = sum(open(path, errors="replace").read().count(INBOX_LINE) for path in logs)
    tally.check(relayed > 0, f"Seam events taken by the instance without the lease recorded by the holder: {relayed}")
    lines = takeover_lines(logs)
    terms = [term for _, term in lines]
    tally.check(len(lines) == 1 + len(holder_kills) and all(a < b for a, b in zip(terms, terms[1:])),
                f"'{TAKEOVER_LINE}' logged {len(lines)} times (want {1 + len(holder_kills)}), terms {terms[:12]}")
    fake.stop()
    print(f"acknowledged {len(load.acked)} of {len(deliveries)} deliveries ({len(reservations)} bookings); "
          f"{len(done)} kills; duration {time.monotonic() - started:.0f} s")
    return tally.finish()


if __name__ == "__main__":
    h.run(main)
