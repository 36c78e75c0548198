"""Disk faults under the running binary, through the faultfs LD_PRELOAD shim (Tests/reliability/faultfs.c).

For each kind (ENOSPC, EIO on write, EIO on fsync/fdatasync, a short write followed by ENOSPC, plain short
writes): while the fault is on, deliveries answer 503 with Retry-After (short writes alone are completed by the
store's write loop and answer 202), nothing that answered 2xx is lost, and /readyz turns 503; once the fault
clears, service resumes WITHOUT a restart (the store re-opens its files from disk after a failed write or
fsync), /readyz is 200 again, and the refused deliveries are accepted when re-sent. At the end Latchkey is killed
and restarted without the shim: every acknowledged delivery is found exactly once, `store verify` is clean and the
fake Seam converges to the bookings.

Knobs: DISK_FAULT_DELIVERIES (deliveries sent per fault, default 20), DISK_FAULT_SECONDS (how long each fault
stays on, default 3).
"""

from __future__ import annotations

import collections
import os
import random
import subprocess
import sys
import time

import requests

sys.path.insert(0, os.path.dirname(__file__))
import harness as h  # noqa: E402

KINDS = ["enospc", "eio", "fsync_eio", "short_enospc", "short"]


def main() -> int:
    per_fault = h.env_int("DISK_FAULT_DELIVERIES", 20)
    fault_seconds = h.env_float("DISK_FAULT_SECONDS", 3)
    tally = h.Tally()
    started = time.monotonic()
    work = h.workdir("disk")
    shim = h.compile_shim(work)

    world = h.World(properties=40)
    rng = random.Random(7)
    reservations, deliveries = h.make_bookings(world, 30 + per_fault * len(KINDS), rng, updates=(0, 0),
                                               cancel_rate=0)
    fake = h.FakeSeam(work, world)
    port = h.free_port()
    data_dir = os.path.join(work, "data")
    control = os.path.join(work, "faultfs.control")
    fault_log = os.path.join(work, "faultfs.log")
    with open(control, "w") as f:
        f.write("off\n")
    config = os.path.join(work, "latchkey.yaml")
    h.write_config(config, port=port, data_dir=data_dir, seam_port=fake.port, world=world)
    lk = h.Latchkey(config, port, work, env={
        "LD_PRELOAD": shim, "FAULTFS_DIR": data_dir, "FAULTFS_CONTROL": control, "FAULTFS_LOG": fault_log})
    lk.start()
    session = requests.Session()
    acked: dict[str, tuple[h.Delivery, bytes]] = {}
    queue = collections.deque(deliveries)

    def send(d: h.Delivery) -> requests.Response:
        r = h.post_delivery(session, port, d, timeout=10)
        if r.status_code in (200, 202) and d.delivery_id not in acked:
            acked[d.delivery_id] = (d, r.content)
        return r

    def readyz() -> int:
        return session.get(f"{lk.url}/readyz", timeout=5).status_code

    baseline = [send(queue.popleft()).status_code for _ in range(10)]
    tally.check(baseline == [202] * 10 and readyz() == 200, f"before any fault: 10 deliveries 202, /readyz 200")
    figures = {}
    for kind in KINDS:
        with open(control, "w") as f:
            f.write(kind + "\n")
        statuses = collections.Counter()
        retry_after = True
        refused = []
        fault_started = time.monotonic()
        batch = [queue.popleft() for _ in range(per_fault)]
        for d in batch:
            r = send(d)
            statuses[r.status_code] += 1
            if r.status_code == 503:
                refused.append(d)
                retry_after &= bool(r.headers.get("Retry-After"))
        ready_during = readyz()
        time.sleep(max(0, fault_seconds - (time.monotonic() - fault_started)))
        with open(control, "w") as f:
            f.write("off\n")
        cleared = time.monotonic()
        # /readyz must recover on its own: a balancer that waits for it sends no traffic until then.
        try:
            h.wait_until(lambda: readyz() == 200, 10, "/readyz 200 after the fault", interval=0.1)
        except TimeoutError:
            pass
        ready_after = readyz()
        resumed = time.monotonic() - cleared
        # Service resumes without a restart: the refused deliveries are re-sent (a PMS retries on 503).
        resent = collections.Counter(send(d).status_code for d in refused)
        figures[kind] = (dict(statuses), dict(resent), resumed)
        if kind == "short":
            tally.check(statuses == {202: per_fault}, f"short writes: completed by the write loop, all 202 {dict(statuses)}")
            continue
        tally.check(statuses == {503: per_fault}, f"{kind}: every delivery answered 503 while the fault was on {dict(statuses)}")
        tally.check(retry_after, f"{kind}: every 503 carried Retry-After")
        tally.check(ready_during == 503, f"{kind}: /readyz answered {ready_during} during the fault (want 503)")
        tally.check(resent == {202: len(refused)}, f"{kind}: refused deliveries accepted when re-sent after the fault {dict(resent)}")
        tally.check(ready_after == 200, f"{kind}: /readyz 200 again {resumed:.1f} s after the fault cleared, before any new delivery, no restart")

    # Deliveries left over, then converge with the shim still loaded (no faults).
    while queue:
        send(queue.popleft())
    report, converge_seconds = h.converge(fake, lk, world, reservations, 120)
    print(f"converged without a restart in {converge_seconds:.1f} s")
    tally.check(report.converged, f"converged without a restart in {converge_seconds:.1f} s {report.problems[:3]}")

    # Restart without the shim: everything acknowledged is there, exactly once.
    lk.kill()
    lk.env = {k: v for k, v in lk.env.items() if not k.startswith(("LD_PRELOAD", "FAULTFS"))}
    lk.start()
    resend = h.resend_all(port, acked)
    report, converge_seconds = h.converge(fake, lk, world, reservations, 120)
    dead = lk.admin("/v1/dead-letters")["dead_letters"]
    lk.stop()
    verified, verify_text = h.store_verify(data_dir)
    injected = collections.Counter()
    if os.path.exists(fault_log):
        with open(fault_log) as f:
            for line in f:
                injected[line.strip()] += 1

    print("faults injected (mode call: count): " + ", ".join(f"{k}: {v}" for k, v in sorted(injected.items())))
    for kind, (statuses, resent, resumed) in figures.items():
        print(f"  {kind}: answers during the fault {statuses}, re-sent after {resent}, ready again after {resumed:.1f} s")
    print(f"acknowledged {len(acked)}; after restart {resend['duplicate_same_body']} found exactly once, "
          f"{resend['accepted_again']} lost; groups expected {report.expected} found {report.found} "
          f"duplicates {report.duplicates}; converged in {converge_seconds:.1f} s")
    print(f"duration: {time.monotonic() - started:.0f} s")
    tally.check(all(injected[f"{k} " + c] > 0 for k, c in [("enospc", "pwrite"), ("eio", "pwrite")])
                and any(k.startswith("fsync_eio") for k in injected), "the shim injected ENOSPC, EIO and fsync EIO")
    tally.check(resend["duplicate_same_body"] == len(acked), f"every acknowledged delivery survived ({resend['examples'][:3]})")
    tally.check(verified, f"store verify is clean: {verify_text.splitlines()[:1]}")
    tally.check(report.converged and report.duplicates == 0, f"Seam converged after the restart {report.problems[:3]}")
    tally.check(not dead, f"no dead letters {[d.get('message') for d in dead[:2]]}")
    fake.stop()
    return tally.finish()


if __name__ == "__main__":
    h.run(main)
