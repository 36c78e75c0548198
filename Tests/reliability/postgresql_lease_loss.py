"""The work lease lost while its holder lives: two Latchkey instances on one PostgreSQL database, the holder's lease
session cut from the server's side (`pg_terminate_backend`, as a network cut or a server-side timeout would), again
and again, under load sent to both.

After each cut either the holder takes the lock again first (same term: it goes on), or the other instance takes it
(a new term): then the old holder's next write of the work is refused by the database, and it ends with exit status
75 (EX_TEMPFAIL) saying why; it is started again and waits. Checks: within a few seconds exactly one instance says
`work_lease: held` after each cut; an instance that lost the lease ended with 75 and logged the loss; every
acknowledged delivery is found exactly once; the fake Seam holds exactly one group per booking (no duplicate
group); no dead letters.

Knobs: LEASE_CUTS (default 6), LEASE_DELIVERIES (default 160), PG_BIN (default /usr/lib/postgresql/15/bin).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import requests

sys.path.insert(0, os.path.dirname(__file__))
import harness as h  # noqa: E402
from postgresql_outage import (  # noqa: E402
    PG_BIN, Cluster, bookings_on_a_fresh_database, with_cluster, write_pg_config)

LEASE_LOCK_KEY = 0x4C4B_494E_5354  # PostgresStore.workLeaseLockKey


def main() -> int:
    cuts = h.env_int("LEASE_CUTS", 6)
    total = h.env_int("LEASE_DELIVERIES", 160)
    return with_cluster("pglease", lambda cluster, work, tally, started: run(cluster, work, cuts, total, tally,
                                                                              started))


LEASE_HOLDERS = (f"FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = {LEASE_LOCK_KEY >> 32} "
                 f"AND objid = {LEASE_LOCK_KEY & 0xFFFFFFFF}")


def sql(cluster: Cluster, statement: str) -> str:
    out = subprocess.run([os.path.join(PG_BIN, "psql"), "-h", cluster.directory, "-p", "5432", "-U", "postgres",
                          "-d", "latchkey", "-At", "-c", statement], capture_output=True, text=True)
    return out.stdout.strip()


def cut_lease_session(cluster: Cluster) -> int:
    """Terminates the server process of the session holding the work lease's advisory lock; returns how many."""
    return int(sql(cluster, f"SELECT count(pg_terminate_backend(pid)) {LEASE_HOLDERS}") or "0")


def lock_and_term(cluster: Cluster) -> tuple[int, int]:
    """(sessions holding the lease's lock, the lease's term)."""
    held = int(sql(cluster, f"SELECT count(*) {LEASE_HOLDERS}") or "0")
    return held, int(sql(cluster, "SELECT term FROM latchkey_work_lease WHERE id = 1") or "0")


def run(cluster: Cluster, work: str, cuts: int, total: int, tally: h.Tally, started: float) -> int:
    url, world, reservations, deliveries, fake = bookings_on_a_fresh_database(cluster, work, total // 2, 30, 41)
    instances = []
    for name in ("a", "b"):
        directory = os.path.join(work, name)
        os.makedirs(directory)
        port = h.free_port()
        config = os.path.join(directory, "latchkey.yaml")
        h.write_config(config, port=port, data_dir=os.path.join(directory, "data"), seam_port=fake.port, world=world,
                       log_level="notice")
        write_pg_config(config, url)
        instances.append(h.Latchkey(config, port, directory))
    migrate = subprocess.run([h.LATCHKEY_BIN, "db", "migrate", "--config", instances[0].config], capture_output=True,
                             text=True)
    tally.check(migrate.returncode == 0, f"db migrate: {migrate.stdout.strip()} {migrate.stderr.strip()[:200]}")
    for lk in instances:
        lk.start()
    h.wait_until(lambda: sorted(str(h.lease_state(lk)) for lk in instances) == ["held", "waiting"], 10,
                 "one instance to hold the lease")

    acked: dict[str, tuple[h.Delivery, bytes]] = {}
    queue = list(deliveries)
    lock = threading.Lock()
    stop = threading.Event()

    def sender(index: int) -> None:
        """Posts to the instances in turn; a delivery leaves the queue once answered 2xx or 4xx."""
        session = requests.Session()
        turn = index
        while not stop.is_set():
            with lock:
                if not queue:
                    return
                d = queue.pop(0)
            turn += 1
            lk = instances[turn % 2]
            try:
                r = h.post_delivery(session, lk.port, d, timeout=10)
                ok = r.status_code in (200, 202) or 400 <= r.status_code < 500
            except requests.RequestException:
                ok = False
                r = None
            with lock:
                if ok and r is not None and r.status_code in (200, 202):
                    acked.setdefault(d.delivery_id, (d, r.content))
                if not ok:
                    queue.append(d)
            if not ok:
                time.sleep(0.05)
            time.sleep(0.01)

    senders = [threading.Thread(target=sender, args=(i,)) for i in range(3)]
    for t in senders:
        t.start()

    kept, moved, ended_right = 0, 0, 0
    for cut in range(cuts):
        time.sleep(0.4)
        holder = next((lk for lk in instances if h.lease_state(lk) == "held"), None)
        if holder is None:
            tally.check(False, f"cut {cut + 1}: no instance holds the lease before the cut")
            break
        other = instances[1 - instances.index(holder)]
        _, term = lock_and_term(cluster)
        if cut_lease_session(cluster) != 1:
            tally.check(False, f"cut {cut + 1}: the lease's session was not found")
            break
        try:
            # Someone holds the lock again: the holder with its own term, or the other with a new one.
            h.wait_until(lambda: lock_and_term(cluster)[0] == 1, 10, "the lease's lock to be held again",
                         interval=0.05)
        except TimeoutError:
            tally.check(False, f"cut {cut + 1}: nobody took the lease's lock again within 10 s")
            break
        if lock_and_term(cluster)[1] == term:
            kept += 1
            time.sleep(0.5)
            states = [h.lease_state(holder), h.lease_state(other)]
            if holder.proc.poll() is not None or states != ["held", "waiting"]:
                tally.check(False, f"cut {cut + 1}: the holder took the lease again but it is not the one held")
                break
            continue
        moved += 1
        try:
            h.wait_until(lambda: holder.proc.poll() is not None, 10, "the old holder to end", interval=0.05)
        except TimeoutError:
            tally.check(False, f"cut {cut + 1}: the holder whose lease was taken over did not end within 10 s")
            break
        if holder.proc.returncode == 75:
            ended_right += 1
        h.wait_until(lambda: h.lease_state(other) == "held", 10, "the other instance to hold the lease",
                     interval=0.05)
        holder.start()
        h.wait_until(lambda: h.lease_state(holder) == "waiting", 10, "the restarted instance to wait", interval=0.05)
    for t in senders:
        t.join(300)
    stop.set()

    tally.check(kept + moved == cuts, f"after each of {cuts} cuts exactly one instance held the lease "
                                      f"(kept by the holder {kept}, taken by the other {moved})")
    tally.check(ended_right == moved, f"every holder that lost the lease ended with status 75 ({ended_right} of "
                                      f"{moved})")
    logs = "".join(open(os.path.join(work, n, "latchkey.log"), errors="replace").read() for n in ("a", "b"))
    tally.check(moved == 0 or "work lease: lost" in logs, "the lost lease is said in the log")
    holder = next(lk for lk in instances if h.lease_state(lk) == "held")
    check = h.resend_all(holder.port, acked)
    tally.check(check["duplicate_same_body"] == len(acked),
                f"all {len(acked)} acknowledged deliveries found exactly once ({check['examples'][:3]})")
    report, converge_seconds = h.converge(fake, holder, world, reservations, 120)
    tally.check(report.converged and report.duplicates == 0,
                f"groups expected {report.expected} found {report.found} duplicates {report.duplicates} "
                f"in {converge_seconds:.1f} s {report.problems[:3]}")
    dead = holder.admin("/v1/dead-letters")["dead_letters"]
    tally.check(not dead, f"no dead letters {[d.get('message') for d in dead[:2]]}")
    for lk in instances:
        lk.stop()
    fake.stop()
    print(f"cuts {cuts}: kept {kept}, moved {moved}; acknowledged {len(acked)} of {len(deliveries)}; "
          f"duration {time.monotonic() - started:.0f} s")
    return tally.finish()


if __name__ == "__main__":
    h.run(main)
