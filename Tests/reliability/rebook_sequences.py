"""The three sequences that once left a re-booked guest without a code (issue 18), each reproduced against the real
processes: `latchkey fake-seam` holds back the answer to one chosen Seam call (a scripted crash-after-commit) and
Latchkey is SIGKILLed at that moment; after the restart Seam answers 503 for a moment while its events arrive.

1. A confirmed booking's group is on locks A and B. It is cancelled: the delete on A is answered, the delete on B is
   made in Seam but its answer is lost to the kill. Seam's events for B arrive, then the booking is confirmed again.
2. The same with A's delete lost, the code deleted before it reached the lock (Seam sends only `deleted`), and the
   booking confirmed again with other dates; then a later date change.
3. A lock's code is deleted in Seam's console while the booking stands: it is put back inside the group.

Each of 1 and 2 runs three times: with Seam's webhooks off, with `access_code.deleted` only, and with
`removed_from_device` then `deleted`. After each: one linked group on both locks (same PIN, same common_code_key),
Latchkey's record naming exactly Seam's codes, phase converged, nothing left to read back, no dead letter.
The events are posted to `/seam/webhooks` signed with the official `standardwebhooks` library.
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone

import requests

sys.path.insert(0, os.path.dirname(__file__))
import harness as h  # noqa: E402

EVENT_ORDERS = {
    "webhooks off": [],
    "deleted only": ["access_code.deleted"],
    "removed_from_device then deleted": ["access_code.removed_from_device", "access_code.deleted"],
}


class Run:
    def __init__(self) -> None:
        self.work = h.workdir("rebook")
        self.world = h.World(properties=8)
        self.fake = h.FakeSeam(self.work, self.world)
        self.port = h.free_port()
        self.data_dir = os.path.join(self.work, "data")
        config = os.path.join(self.work, "latchkey.yaml")
        h.write_config(config, port=self.port, data_dir=self.data_dir, seam_port=self.fake.port, world=self.world,
                       extra_seam={"webhook_secret": {"value": h.SEAM_WEBHOOK_SECRET}}, log_level="info")
        self.lk = h.Latchkey(config, self.port, self.work)
        self.lk.start()
        self.stamp = datetime(2026, 1, 1, tzinfo=timezone.utc)
        self.kills = 0
        self.events_posted = 0

    def send(self, rid: str, prop: int, status: str, check_in: datetime, nights: int = 3) -> h.Reservation:
        self.stamp += timedelta(minutes=1)
        event = {"event": "booking.updated", "booking": {
            "id": rid, "listing_id": self.world.listing(prop), "status": status, "check_in": h.iso(check_in),
            "check_out": h.iso(check_in + timedelta(days=nights)), "guest": {"name": "Rebook Test"},
            "updated_at": h.iso(self.stamp)}}
        body = json.dumps(event, separators=(",", ":")).encode()
        delivery = h.Delivery(f"msg_{rid}_{uuid.uuid4().hex[:12]}", rid, body, True)
        for _ in range(100):
            try:
                r = h.post_delivery(requests.Session(), self.port, delivery)
                if r.status_code in (200, 202):
                    break
            except requests.RequestException:
                pass
            time.sleep(0.1)
        else:
            raise RuntimeError(f"delivery for {rid} not acknowledged")
        reservation = h.Reservation(rid, prop)
        reservation.events.append(event)
        return reservation

    def codes(self, rid: str) -> list[dict]:
        marker = h.marker(rid)
        return [c for c in self.fake.state()["access_codes"] if marker in (c.get("name") or "")]

    def kill_and_restart_into_an_outage(self) -> None:
        self.lk.kill()
        self.kills += 1
        # After the restart, Seam answers 503 to every access-code call for a moment.
        self.fake.set_faults({"server_error_rate": 1.0, "routes": [
            "/access_codes/list", "/access_codes/delete", "/access_codes/create", "/access_codes/create_multiple",
            "/access_codes/update_multiple", "/access_codes/update"]})
        self.lk.start()

    def post_events(self, names: list[str], code: dict) -> None:
        for name in names:
            r = h.post_seam_event(self.port, name, code["access_code_id"], code["device_id"])
            if r.status_code != 200:
                raise RuntimeError(f"{name}: {r.status_code} {r.text}")
            self.events_posted += 1

    def converged(self, reservation: h.Reservation, timeout: float = 90) -> tuple[bool, str]:
        deadline = time.monotonic() + timeout
        detail = ""
        while time.monotonic() < deadline:
            state = self.fake.state()
            marker = h.marker(reservation.rid)
            own = dict(state, access_codes=[c for c in state["access_codes"] if marker in (c.get("name") or "")])
            groups = h.compare_groups(own, self.world, [reservation])
            records = h.compare_records(self.lk, state, [reservation])
            if groups.converged and not records.disagreements and not records.unconverged:
                return True, ""
            detail = f"{groups.problems} {records.disagreements} {records.unconverged}"
            time.sleep(0.5)
        return False, detail


def on_lock(code: dict) -> bool:
    """Whether the code reached its lock: set, or (a future stay) scheduled on it."""
    return code["status"] == "set" or bool(code.get("is_scheduled_on_device"))


def wait_for(predicate, what: str, timeout: float = 30) -> None:
    h.wait_until(predicate, timeout, what, interval=0.1)


def lost_delete(run: Run, tally: h.Tally, n: int, order: str, lost: str) -> None:
    """Sequence 1 (`lost` = B, the second delete) or 2 (`lost` = A, the first, before the code reached the lock)."""
    rid, prop = f"seq{n}", n % run.world.properties
    # Within 72 h (Seam preloads a scheduled code on the lock 72 h ahead), outside the 48 h pre-arrival check.
    check_in = datetime.now(timezone.utc).replace(microsecond=0, second=0, minute=0) + timedelta(hours=50 + n)
    run.send(rid, prop, "confirmed", check_in)
    wait_for(lambda: len([c for c in run.codes(rid) if c["status"] != "removing"]) == 2, f"{rid}'s group")
    if lost == "B":
        # Sequence 1: both codes on their locks first (Seam then reports removed_from_device).
        wait_for(lambda: all(on_lock(c) for c in run.codes(rid)), f"{rid}'s codes on the locks", timeout=30)
    codes = {c["device_id"]: c for c in run.codes(rid)}
    devices = run.world.devices(prop)
    victim = codes[devices[1] if lost == "B" else devices[0]]
    scripted = [{"kind": "crash_after_commit", "route": "/access_codes/delete"}]
    if lost == "B":
        scripted.insert(0, {"kind": "pass", "route": "/access_codes/delete"})
    run.fake.set_faults({"scripted": scripted})
    run.send(rid, prop, "cancelled", check_in)
    # Seam made the lost delete; Latchkey never heard. Kill it right then.
    wait_for(lambda: all(c["access_code_id"] != victim["access_code_id"] or c["status"] == "removing"
                         for c in run.codes(rid)), f"{rid}'s lost delete to reach Seam")
    run.kill_and_restart_into_an_outage()
    run.post_events(EVENT_ORDERS[order], victim)
    new_check_in = check_in + timedelta(days=1) if lost == "A" else check_in
    reservation = run.send(rid, prop, "confirmed", new_check_in)
    time.sleep(1)
    run.fake.set_faults({})
    ok, detail = run.converged(reservation)
    seq = 1 if lost == "B" else 2
    tally.check(ok, f"sequence {seq} ({order}): one linked group on both locks, the record agrees with Seam {detail}")
    if lost == "A" and ok:
        later = run.send(rid, prop, "confirmed", new_check_in, nights=4)
        ok, detail = run.converged(later)
        tally.check(ok, f"sequence 2 ({order}): a later date change moves every lock {detail}")


def repair_in_group(run: Run, tally: h.Tally, n: int) -> None:
    """Sequence 3: a lock's code deleted in Seam's console is put back inside the group."""
    rid, prop = f"seq{n}", n % run.world.properties
    # Within 72 h (Seam preloads a scheduled code on the lock 72 h ahead), outside the 48 h pre-arrival check.
    check_in = datetime.now(timezone.utc).replace(microsecond=0, second=0, minute=0) + timedelta(hours=50 + n)
    reservation = run.send(rid, prop, "confirmed", check_in)
    wait_for(lambda: len(run.codes(rid)) == 2 and all(on_lock(c) for c in run.codes(rid)),
             f"{rid}'s codes on the locks", timeout=30)
    codes = {c["device_id"]: c for c in run.codes(rid)}
    back = codes[run.world.devices(prop)[1]]
    r = requests.post(f"{run.fake.url}/access_codes/delete", json={"access_code_id": back["access_code_id"]},
                      headers={"Authorization": f"Bearer {h.SEAM_KEY}"}, timeout=10)
    r.raise_for_status()
    run.post_events(["access_code.deleted", "access_code.removed_from_device"], back)
    ok, detail = run.converged(reservation)
    tally.check(ok, f"sequence 3: the deleted lock's code is back inside the group {detail}")
    if ok:
        live = [c for c in run.codes(rid) if c["status"] != "removing"]
        keys = {c.get("common_code_key") for c in live}
        tally.check(len(keys) == 1 and None not in keys and back["access_code_id"] not in
                    {c["access_code_id"] for c in live}, "sequence 3: the repaired code carries the group's key")
        moved = run.send(rid, prop, "confirmed", check_in + timedelta(hours=2))
        ok, detail = run.converged(moved)
        tally.check(ok, f"sequence 3: a date change then moves both with update_multiple {detail}")


def main() -> int:
    tally = h.Tally()
    started = time.monotonic()
    run = Run()
    n = 0
    for order in EVENT_ORDERS:
        lost_delete(run, tally, n, order, "B")
        n += 1
    for order in EVENT_ORDERS:
        lost_delete(run, tally, n, order, "A")
        n += 1
    repair_in_group(run, tally, n)
    metrics = run.lk.metrics()
    stuck = [line for line in metrics.splitlines() if line.startswith("latchkey_reconciler_stuck_reservations_total")]
    tally.check(stuck == ["latchkey_reconciler_stuck_reservations_total 0"], f"no stuck reservation counted {stuck}")
    dead = run.lk.admin("/v1/dead-letters")["dead_letters"]
    tally.check(not dead, f"no dead letters {dead[:2]}")
    run.lk.stop()
    verified, _ = h.store_verify(run.data_dir)
    tally.check(verified, "latchkey store verify is clean")
    run.fake.stop()
    print(f"sequences: {n + 1} runs, {run.kills} SIGKILLs at a lost answer, {run.events_posted} Seam events posted, "
          f"{time.monotonic() - started:.0f} s")
    return tally.finish()


if __name__ == "__main__":
    h.run(main)
