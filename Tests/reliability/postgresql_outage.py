"""PostgreSQL as the store (`store.backend: postgresql`) under the running binary, against a real server.

A cluster is made with initdb in a work directory and started with pg_ctl on a Unix socket there (no port taken; as
the `postgres` user when this runs as root, since initdb refuses root). Checks, in order:
  - `latchkey serve` refuses an un-migrated database, naming `latchkey db migrate`; `db migrate` applies the schema
    and a second run applies nothing; a second instance on the same database serves too, and waits for the work
    lease the first holds (`/readyz`: `work_lease` held and waiting);
  - under load (signed deliveries from several threads), PostgreSQL is stopped with `pg_ctl stop -m immediate`:
    while it is away deliveries answer 503 with Retry-After and /readyz 503; once it is started again /readyz turns
    200 and deliveries are accepted WITHOUT restarting Latchkey, and the refused ones are accepted when re-sent;
  - every delivery that was acknowledged (2xx), before, during or after the outage, answers 200 with its first
    answer when re-sent, also after Latchkey is killed and started again: nothing acknowledged was lost;
  - the fake Seam converges to exactly the groups the bookings call for, with no duplicate group.

Knobs: PG_OUTAGE_DELIVERIES (total, default 240), PG_OUTAGE_SECONDS (how long PostgreSQL stays down, default 3),
PG_BIN (default /usr/lib/postgresql/15/bin).
"""

from __future__ import annotations

import collections
import os
import pwd
import random
import subprocess
import sys
import threading
import time

import requests

sys.path.insert(0, os.path.dirname(__file__))
import harness as h  # noqa: E402

PG_BIN = os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin")


class Cluster:
    """A throwaway PostgreSQL cluster listening only on a Unix socket in `directory`."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.data = os.path.join(directory, "data")
        os.makedirs(directory, exist_ok=True)
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chmod(os.path.dirname(directory), 0o711)
            os.chown(directory, user.pw_uid, user.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self._run("initdb", "-D", self.data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")

    def _run(self, tool: str, *args: str) -> None:
        out = subprocess.run(self.as_user + [os.path.join(PG_BIN, tool), *args], capture_output=True, text=True,
                             cwd="/tmp")
        if out.returncode != 0:
            raise RuntimeError(f"{tool} failed: {out.stdout}{out.stderr}")

    def start(self) -> None:
        self._run("pg_ctl", "-D", self.data, "-l", os.path.join(self.directory, "server.log"), "-w",
                  "-o", f"-c listen_addresses='' -k {self.directory} -p 5432", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", self.data, "-m", mode, "-w", "stop")

    def createdb(self, name: str) -> str:
        subprocess.run([os.path.join(PG_BIN, "createdb"), "-h", self.directory, "-p", "5432", "-U", "postgres", name],
                       check=True, capture_output=True)
        return f"postgresql:///{name}?host={self.directory}&port=5432&user=postgres"


def write_pg_config(path: str, url: str) -> None:
    """Adds `store: {backend: postgresql, …}` to a configuration written by the harness (JSON, which is YAML)."""
    import json

    with open(path) as f:
        config = json.load(f)
    config["store"] = {"backend": "postgresql",
                       "postgresql": {"url": {"value": url}, "pool_size": 4, "connect_timeout_seconds": 2}}
    with open(path, "w") as f:
        json.dump(config, f, indent=1)


def with_cluster(name: str, body) -> int:
    """Runs `body(cluster, work, tally, started)` with a fresh cluster in a work directory, stopping it afterwards;
    skips (exit 0, saying why) when PostgreSQL or the `postgres` user is missing."""
    if not os.path.exists(os.path.join(PG_BIN, "initdb")):
        print(f"skipped: PostgreSQL's initdb is not in {PG_BIN} (install Debian's postgresql: scripts/setup test)")
        print("0 passed, 0 failed")
        return 0
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            print("skipped: running as root and there is no postgres user to run initdb as")
            print("0 passed, 0 failed")
            return 0
    started = time.monotonic()
    work = h.workdir(name)
    cluster = Cluster(os.path.join(work, "pg"))
    cluster.start()
    try:
        return body(cluster, work, h.Tally(), started)
    finally:
        try:
            cluster.stop("immediate")
        except RuntimeError:
            pass


def main() -> int:
    total = h.env_int("PG_OUTAGE_DELIVERIES", 240)
    outage_seconds = h.env_float("PG_OUTAGE_SECONDS", 3)
    return with_cluster("pg", lambda cluster, work, tally, started: run(cluster, work, total, outage_seconds, tally,
                                                                       started))


def bookings_on_a_fresh_database(cluster: Cluster, work: str, bookings: int, properties: int, seed: int):
    """The database `latchkey`, a world of `properties`, `bookings` bookings (0–2 updates each, 30 % cancelled) as
    interleaved deliveries, and a fake Seam for the world: (url, world, reservations, deliveries, fake)."""
    url = cluster.createdb("latchkey")
    world = h.World(properties=properties)
    rng = random.Random(seed)
    reservations, deliveries = h.make_bookings(world, bookings, rng, updates=(0, 2), cancel_rate=0.3)
    return url, world, reservations, h.interleave(deliveries, rng), h.FakeSeam(work, world)


def run(cluster: Cluster, work: str, total: int, outage_seconds: float, tally: h.Tally, started: float) -> int:
    url, world, reservations, deliveries, fake = bookings_on_a_fresh_database(cluster, work, total // 2, 40, 17)
    port = h.free_port()
    config = os.path.join(work, "latchkey.yaml")
    h.write_config(config, port=port, data_dir=os.path.join(work, "data"), seam_port=fake.port, world=world)
    write_pg_config(config, url)

    # An un-migrated database is refused at start, naming the command.
    refused = subprocess.run([h.LATCHKEY_BIN, "serve", "--config", config], capture_output=True, text=True,
                             timeout=60)
    tally.check(refused.returncode != 0 and "latchkey db migrate" in refused.stderr + refused.stdout,
                f"serve refuses an un-migrated database naming `latchkey db migrate` (exit {refused.returncode})")
    migrate = subprocess.run([h.LATCHKEY_BIN, "db", "migrate", "--config", config], capture_output=True, text=True)
    again = subprocess.run([h.LATCHKEY_BIN, "db", "migrate", "--config", config], capture_output=True, text=True)
    tally.check(migrate.returncode == 0 and "applied migration 1" in migrate.stdout,
                f"db migrate applies the schema: {migrate.stdout.strip()} {migrate.stderr.strip()[:200]}")
    tally.check(again.returncode == 0 and "nothing to do" in again.stdout, f"db migrate again: {again.stdout.strip()}")

    lk = h.Latchkey(config, port, work)
    lk.start()
    # Every instance on the database serves; the first holds the work lease, a second one waits for it.
    second_port = h.free_port()
    second = subprocess.Popen([h.LATCHKEY_BIN, "serve", "--config", config, "--bind", f"127.0.0.1:{second_port}",
                               "--data-dir", os.path.join(work, "data-second")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        h.wait_until(lambda: h.port_is_listening(second_port), 30, "the second instance to listen")
        leases = [requests.get(f"http://127.0.0.1:{p}/readyz", timeout=5).json().get("work_lease")
                  for p in (port, second_port)]
    finally:
        second.terminate()
        second.wait(timeout=30)
    tally.check(leases == ["held", "waiting"],
                f"a second instance on the same database serves and waits for the work lease ({leases})")
    acked: dict[str, tuple[h.Delivery, bytes]] = {}
    refused_deliveries: list[h.Delivery] = []
    statuses: dict[str, collections.Counter] = {"before": collections.Counter(), "during": collections.Counter(),
                                               "after": collections.Counter()}
    missing_retry_after = []
    phase = ["before"]
    lock = threading.Lock()
    queue = collections.deque(deliveries)

    def sender() -> None:
        session = requests.Session()
        while True:
            with lock:
                if not queue:
                    return
                d = queue.popleft()
                current = phase[0]
            try:
                r = h.post_delivery(session, port, d, timeout=15)
            except requests.RequestException as error:
                with lock:
                    statuses[current][f"error {type(error).__name__}"] += 1
                    refused_deliveries.append(d)
                continue
            with lock:
                statuses[current][r.status_code] += 1
                if r.status_code in (200, 202):
                    acked.setdefault(d.delivery_id, (d, r.content))
                elif r.status_code == 503:
                    refused_deliveries.append(d)
                    if not r.headers.get("Retry-After"):
                        missing_retry_after.append(d.delivery_id)
            if current == "during":
                time.sleep(0.25)  # a PMS does not hammer a 503; leaves deliveries for after the outage

    threads = [threading.Thread(target=sender) for _ in range(4)]
    for t in threads:
        t.start()
    h.wait_until(lambda: len(acked) >= total // 4 or not queue, 60, "a quarter of the deliveries acknowledged")

    with lock:
        phase[0] = "during"
    cluster.stop("immediate")
    stopped_at = time.monotonic()
    time.sleep(0.5)
    session = requests.Session()
    ready_during = session.get(f"{lk.url}/readyz", timeout=5).status_code
    time.sleep(max(0.0, outage_seconds - (time.monotonic() - stopped_at)))
    cluster.start()
    back_at = time.monotonic()
    try:
        h.wait_until(lambda: session.get(f"{lk.url}/readyz", timeout=5).status_code == 200, 30,
                     "/readyz 200 after PostgreSQL is back", interval=0.1)
    except TimeoutError:
        pass
    ready_after = session.get(f"{lk.url}/readyz", timeout=5).status_code
    resumed = time.monotonic() - back_at
    with lock:
        phase[0] = "after"
    for t in threads:
        t.join()
    # A PMS re-sends what got 503 (after its Retry-After): accepted now, without a restart.
    resent = collections.Counter()
    for d in list(refused_deliveries):
        r = h.post_delivery(session, port, d, timeout=15)
        resent[r.status_code] += 1
        if r.status_code in (200, 202):
            acked.setdefault(d.delivery_id, (d, r.content))

    during = statuses["during"]
    print(f"answers before the outage {dict(statuses['before'])}, during {dict(during)}, after {dict(statuses['after'])}; "
          f"re-sent after {dict(resent)}; /readyz {ready_during} during, {ready_after} {resumed:.1f} s after")
    tally.check(during[503] > 0, f"deliveries answered 503 while PostgreSQL was away {dict(during)}")
    tally.check(set(during) <= {503, 200, 202}, f"nothing but 503 (or an answer committed before the stop) during "
                f"the outage {dict(during)}")
    tally.check(not missing_retry_after, f"every 503 carried Retry-After (missing: {missing_retry_after[:3]})")
    tally.check(ready_during == 503, f"/readyz answered {ready_during} while PostgreSQL was away (want 503)")
    tally.check(ready_after == 200, f"/readyz 200 again {resumed:.1f} s after PostgreSQL was back, no restart")
    tally.check(set(resent) <= {200, 202}, f"refused deliveries accepted when re-sent {dict(resent)}")
    tally.check(statuses["after"][202] > 0 and set(statuses["after"]) <= {200, 202},
                f"once /readyz is 200 again every delivery is accepted {dict(statuses['after'])}")

    # Every acknowledged delivery is in PostgreSQL: a re-send answers 200 with the first answer.
    check = h.resend_all(port, acked)
    tally.check(check["duplicate_same_body"] == len(acked),
                f"all {len(acked)} acknowledged deliveries found, without a restart ({check['examples'][:3]})")
    report, converge_seconds = h.converge(fake, lk, world, reservations, 120)
    tally.check(report.converged and report.duplicates == 0,
                f"Seam converged without a restart in {converge_seconds:.1f} s, no duplicate group {report.problems[:3]}")

    # And after a kill and a start, still every one of them.
    lk.kill()
    lk.start()
    h.wait_until(lambda: h.lease_state(lk) == "held", 30, "the restarted instance to take the work lease")
    check = h.resend_all(port, acked)
    tally.check(check["duplicate_same_body"] == len(acked),
                f"after a restart all {len(acked)} acknowledged deliveries found once ({check['examples'][:3]})")
    report, converge_seconds = h.converge(fake, lk, world, reservations, 120)
    dead = lk.admin("/v1/dead-letters")["dead_letters"]
    tally.check(report.converged and report.duplicates == 0,
                f"groups expected {report.expected} found {report.found} duplicates {report.duplicates}")
    tally.check(not dead, f"no dead letters {[d.get('message') for d in dead[:2]]}")
    # The on-call commands read the records from PostgreSQL when the configuration names it (here while it runs).
    shown = subprocess.run([h.LATCHKEY_BIN, "reservations", "show", "native", reservations[0].rid, "--config", config],
                           capture_output=True, text=True, timeout=60)
    tally.check(shown.returncode == 0 and reservations[0].rid in shown.stdout,
                f"`reservations show --config` reads PostgreSQL (exit {shown.returncode}: {shown.stderr.strip()[:200]})")
    lk.stop()
    fake.stop()
    print(f"acknowledged {len(acked)} of {len(deliveries)}; duration {time.monotonic() - started:.0f} s")
    return tally.finish()


if __name__ == "__main__":
    h.run(main)
