"""Arrival assurance and drift, end to end: the real `latchkey serve` and `latchkey fake-seam`, Seam faults on, and
one controllable clock for both (the fake's `/_fake/clock`, Latchkey's `serve --unsafe-test-clock-file`).

Part 1, before arrival (drift off, Seam's webhooks off so only the pre-arrival checks can notice anything):
  - r-del: its front lock's code is deleted at the keypad once preloaded; the 48 h check puts it back with the same
    PIN inside the group, a re-check says `repaired`, the 2 h check `passed`.
  - r-off: its back lock is offline from the start, so its code never reaches the lock; the checks repair it (in
    vain), and at the backup point (1 h) a backup code is pulled from the lock's pool and recorded (`failed`).
Part 2, drift (Latchkey restarted with a 2 s drift interval):
  - r-gone: cancelled; a code carrying its marker is put back by hand on its lock → deleted by the reconciliation;
  - a code carrying the marker of a reservation Latchkey never heard of → deleted;
  - a foreign code (no marker) on the same lock → untouched, run after run;
  - r-del's back code given another PIN at the keypad while Latchkey was down → put back with the group's PIN.
Prints the figures (checks run, repairs, backup codes pulled, what the reconciliation found and did) and ends with
"N passed, N failed". ARRIVAL_KEEP=1 (or RELIABILITY_KEEP=1) keeps the work directory.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime, timedelta, timezone

import requests

sys.path.insert(0, os.path.dirname(__file__))
import harness as h  # noqa: E402

FAULTS = {"seed": 66, "server_error_rate": 0.12, "server_error_status": 503, "rate_limit_rate": 0.05,
          "retry_after_seconds": 1, "crash_after_commit_rate": 0.05}


class PoolWorld(h.World):
    """The harness's world, every lock with a backup code pool."""

    def seed_json(self) -> dict:
        seed = super().seed_json()
        for device in seed["devices"]:
            device["supports_backup_access_code_pool"] = True
        return seed


class Clock:
    """Moves the fake's clock and Latchkey's together."""

    def __init__(self, fake: h.FakeSeam, path: str) -> None:
        self.fake = fake
        self.path = path
        self.offset = 0.0
        with open(path, "w") as f:
            f.write("0")

    def advance(self, seconds: float) -> None:
        self.offset += seconds
        with open(self.path + ".tmp", "w") as f:
            f.write(str(self.offset))
        os.replace(self.path + ".tmp", self.path)
        requests.post(f"{self.fake.url}/_fake/clock", json={"advance_seconds": seconds}, timeout=10).raise_for_status()

    def now(self) -> datetime:
        return datetime.now(timezone.utc) + timedelta(seconds=self.offset)

    def advance_to(self, moment: datetime) -> None:
        self.advance(max(0.0, (moment - self.now()).total_seconds()))


class Run:
    def __init__(self) -> None:
        self.work = h.workdir("arrival")
        self.world = PoolWorld(properties=4)
        self.fake = h.FakeSeam(self.work, self.world, faults=FAULTS)
        self.clock = Clock(self.fake, os.path.join(self.work, "clock-offset"))
        self.receiver = h.NotificationReceiver()
        self.port = h.free_port()
        self.data_dir = os.path.join(self.work, "data")
        self.config = os.path.join(self.work, "latchkey.yaml")
        self.write_config(drift_seconds=0)
        self.lk = h.Latchkey(self.config, self.port, self.work, args=["--unsafe-test-clock-file", self.clock.path])
        self.lk.start()
        self.stamp = datetime(2026, 1, 1, tzinfo=timezone.utc)
        self.session = requests.Session()

    def write_config(self, drift_seconds: int) -> None:
        h.write_config(self.config, port=self.port, data_dir=self.data_dir, seam_port=self.fake.port,
                       world=self.world, log_level="info")
        with open(self.config) as f:
            config = json.load(f)
        config["assurance"] = {"check_lead_hours": [48, 2], "backup_code_lead_minutes": 60, "recheck_minutes": 10,
                               "check_every_seconds": 1, "drift_interval_seconds": drift_seconds}
        config["notifications"] = [{"url": f"http://127.0.0.1:{self.receiver.port}/latchkey",
                                    "secret": {"value": h.RECEIVER_SECRET}, "include_pin": True}]
        with open(self.config, "w") as f:
            json.dump(config, f, indent=1)

    def book(self, rid: str, prop: int, status: str, check_in: datetime, nights: int = 3) -> None:
        self.stamp += timedelta(minutes=1)
        event = {"event": "booking.updated", "booking": {
            "id": rid, "listing_id": self.world.listing(prop), "status": status, "check_in": h.iso(check_in),
            "check_out": h.iso(check_in + timedelta(days=nights)), "guest": {"name": "Arrival Test"},
            "updated_at": h.iso(self.stamp)}}
        body = json.dumps(event, separators=(",", ":")).encode()
        delivery = h.Delivery(f"msg_{rid}_{self.stamp.timestamp():.0f}", rid, body)
        response = h.post_delivery(self.session, self.port, delivery)
        assert response.status_code == 202, f"delivery answered {response.status_code}: {response.text[:200]}"

    def record(self, rid: str, include_pin: bool = False) -> dict:
        suffix = "?include_pin=true" if include_pin else ""
        return self.lk.admin(f"/v1/reservations/native/{rid}{suffix}")

    def codes(self, rid: str | None = None) -> list[dict]:
        live = [c for c in self.fake.state()["access_codes"] if c.get("status") != "removing"]
        if rid is None:
            return live
        return [c for c in live if h.marker(rid) in (c.get("name") or "")]

    def check(self, rid: str) -> dict:
        return self.record(rid).get("arrival_check") or {}

    def wait_check(self, rid: str, outcome: str, after: str | None, timeout: float = 90) -> dict:
        """Waits until `rid`'s check has `outcome` and was made after `after` (an ISO time), its work done."""
        def ready():
            check = self.check(rid)
            if check.get("outcome") != outcome or (after and check.get("checked_at", "") <= after):
                return None
            if self.lk.admin("/v1/outbox")["intents"] or self.record(rid)["phase"] != "converged":
                return None
            if any(lock["action"] == "backup_code" and not lock.get("backup_code") for lock in check["locks"]):
                return None
            return check
        return h.wait_until(ready, timeout, f"{rid}: check {outcome}", interval=0.25)

    def metric(self, name: str, labels: str = "") -> float:
        total = 0.0
        for line in self.lk.metrics().splitlines():
            if line.startswith(name + (("{" + labels) if labels else "")) and not line.startswith("#"):
                if line.startswith(name + "{") or line.startswith(name + " "):
                    total += float(line.rsplit(" ", 1)[1])
        return total


def main() -> int:
    tally = h.Tally()
    run = Run()
    t0 = run.clock.now().replace(second=0, microsecond=0)
    arrival = t0 + timedelta(days=5)
    del_devices, off_devices = run.world.devices(0), run.world.devices(1)

    h.log("part 1: two stays arriving in 5 days; r-off's back lock offline from the start")
    requests.post(f"{run.fake.url}/_fake/devices/set_online", json={"device_id": off_devices[1], "online": False},
                  timeout=10).raise_for_status()
    run.book("r-del", 0, "confirmed", arrival)
    run.book("r-off", 1, "confirmed", arrival)
    h.wait_until(lambda: len(run.codes("r-del")) == 2 and len(run.codes("r-off")) == 2
                 and not run.lk.admin("/v1/outbox")["intents"], 90, "both groups created")
    group_pin = run.record("r-del", include_pin=True)["pin"]
    group_key = run.record("r-del")["common_code_key"]

    h.log("the fake's and Latchkey's clocks to 71 h before arrival: codes preloaded on the locks")
    run.clock.advance_to(arrival - timedelta(hours=71))
    front = next(c for c in run.codes("r-del") if c["device_id"] == del_devices[0])
    h.wait_until(lambda: any(c.get("is_scheduled_on_device") for c in run.codes("r-del")), 30, "preloaded")
    tally.check(run.check("r-del") == {}, "no check before the 48 h point")
    gone = requests.post(f"{run.fake.url}/_fake/access_codes/change_at_lock",
                         json={"access_code_id": front["access_code_id"], "change": "deleted"}, timeout=10)
    tally.check(gone.status_code == 200, "r-del's front code deleted at the keypad")

    h.log("47 h before arrival: the 48 h checks")
    run.clock.advance_to(arrival - timedelta(hours=47))
    first = run.wait_check("r-del", "repairing", None)
    front_finding = next(lock for lock in first["locks"] if lock["device_id"] == del_devices[0])
    tally.check(front_finding["problems"] == ["missing"] and front_finding["action"] == "repair",
                f"48 h check found the front code missing and repaired it ({front_finding})")
    put_back = [c for c in run.codes("r-del") if c["device_id"] == del_devices[0]]
    tally.check(len(put_back) == 1 and put_back[0]["code"] == group_pin and put_back[0]["common_code_key"] == group_key,
                "the front lock has the group's PIN again, inside the group")
    back_other = [c for c in run.codes("r-del") if c["device_id"] == del_devices[1]]
    tally.check(len(back_other) == 1 and back_other[0]["access_code_id"] != front["access_code_id"]
                and back_other[0]["code"] == group_pin, "the other lock's code untouched")
    off_first = run.wait_check("r-off", "repairing", None)
    off_back = next(lock for lock in off_first["locks"] if lock["device_id"] == off_devices[1])
    tally.check("errors" in off_back["problems"] and "device_offline" in off_back["error_codes"],
                f"48 h check found r-off's back lock failing ({off_back['problems']}, {off_back['error_codes']})")

    h.log("11 min later: the re-checks")
    h.wait_until(lambda: all(c.get("is_scheduled_on_device") for c in run.codes("r-del")), 60,
                 "the put-back code preloaded on the lock")
    run.clock.advance(11 * 60)
    repaired = run.wait_check("r-del", "repaired", first["checked_at"])
    tally.check(all(not lock["problems"] for lock in repaired["locks"]), "r-del re-check: repaired")

    h.log("90 min before arrival: the 2 h checks")
    run.clock.advance_to(arrival - timedelta(minutes=90))
    passed = run.wait_check("r-del", "passed", repaired["checked_at"])
    tally.check(passed["lead_seconds"] == 7200, "r-del: the 2 h check passed")

    h.log("50 min before arrival: the backup point")
    run.clock.advance_to(arrival - timedelta(minutes=50))
    failed = run.wait_check("r-off", "failed", None, timeout=120)
    off_back = next(lock for lock in failed["locks"] if lock["device_id"] == off_devices[1])
    backup = off_back.get("backup_code") or {}
    tally.check(off_back["action"] == "backup_code" and bool(backup.get("access_code_id")),
                f"r-off: a backup code pulled for the offline lock ({backup.get('access_code_id')})")
    with_pin = next(lock for lock in run.record("r-off", include_pin=True)["arrival_check"]["locks"]
                    if lock["device_id"] == off_devices[1])
    held = next((c for c in run.codes() if c["access_code_id"] == backup.get("access_code_id")), {})
    tally.check(held.get("is_backup") is True and held.get("status") == "set"
                and held.get("code") == (with_pin.get("backup_code") or {}).get("pin"),
                "the backup code is on the lock (set), and its PIN is recorded (admin API, include_pin)")
    tally.check(backup.get("pin") is None, "no PIN in the admin API without include_pin")
    h.wait_until(lambda: any(r["data"].get("backup_code") for r in run.receiver.of("r-off", "access.failed")), 60,
                 "access.failed carrying r-off's backup code")
    notified = run.receiver.of("r-off", "access.failed")
    carrying = [r for r in notified if r["data"].get("backup_code")]
    tally.check(all(r["verified"] for r in notified) and len({r["id"] for r in carrying}) == 1
                and carrying[0]["data"]["backup_code"] == (with_pin.get("backup_code") or {}).get("pin"),
                f"access.failed with the backup code reached the receiver, verified by standardwebhooks "
                f"({len(notified)} access.failed requests, {len({r['id'] for r in notified})} events: "
                f"{sorted({r['data'].get('reason') for r in notified})})")
    ready = run.receiver.of("r-del", "access.ready", delivered=True)
    tally.check(len({r["id"] for r in ready}) >= 1 and all(r["data"].get("pin") == group_pin for r in ready),
                "r-del's access.ready arrived before check-in, with the group's PIN (codes scheduled on the locks)")
    at_backup = run.wait_check("r-del", "passed", passed["checked_at"])
    tally.check(at_backup["lead_seconds"] == 3600, "r-del: the backup point's check passed too")
    other_off = next(lock for lock in failed["locks"] if lock["device_id"] == off_devices[0])
    tally.check(other_off["action"] == "none", "r-off's online lock needed nothing")

    log_text = open(os.path.join(run.work, "latchkey.log"), errors="replace").read()
    tally.check(group_pin not in log_text and (with_pin.get("backup_code") or {}).get("pin", "-") not in log_text,
                "neither the group's PIN nor the backup code's reached the log")

    # The counters follow the reconciler's at each round of checks (every second).
    h.wait_until(lambda: run.metric("latchkey_arrival_backup_codes_pulled_total") >= 1
                 and run.metric("latchkey_arrival_checks_total", 'outcome="failed"') >= 1
                 and run.metric("latchkey_arrival_checks_total", 'outcome="passed"') >= 2, 30, "the metrics")
    checks_run = sum(run.metric("latchkey_arrival_checks_total", f'outcome="{o}"')
                     for o in ("passed", "repairing", "repaired", "failed"))
    figures = {
        "checks_run": checks_run,
        "passed": run.metric("latchkey_arrival_checks_total", 'outcome="passed"'),
        "repairing": run.metric("latchkey_arrival_checks_total", 'outcome="repairing"'),
        "repaired": run.metric("latchkey_arrival_checks_total", 'outcome="repaired"'),
        "failed": run.metric("latchkey_arrival_checks_total", 'outcome="failed"'),
        "lock_repairs": run.metric("latchkey_arrival_repairs_total"),
        "backup_codes_pulled": run.metric("latchkey_arrival_backup_codes_pulled_total"),
    }
    outcomes = h.seam_outcomes(run.lk.metrics())
    print(f"  pre-arrival figures: {figures}; Seam calls by outcome: "
          f"{ {k: int(v) for k, v in outcomes.items() if v} }", flush=True)
    tally.check(figures["backup_codes_pulled"] == 1, "exactly one backup code pulled")
    tally.check(figures["lock_repairs"] >= 2, "repairs counted")

    h.log("part 2: drift; Latchkey restarted with a 2 s reconciliation")
    check_in = run.clock.now().replace(second=0, microsecond=0) + timedelta(days=10)
    run.book("r-gone", 2, "confirmed", check_in)
    h.wait_until(lambda: len(run.codes("r-gone")) == 2, 90, "r-gone's group")
    run.book("r-gone", 2, "cancelled", check_in)
    h.wait_until(lambda: not run.codes("r-gone") and not run.lk.admin("/v1/outbox")["intents"], 90,
                 "r-gone's codes removed")
    lock = run.world.devices(2)[0]
    window = {"starts_at": h.iso(check_in), "ends_at": h.iso(check_in + timedelta(days=3))}
    run.fake.set_faults({"seed": 66})  # the hand-made codes must be made
    made = {}
    for label, name, pin in (("put back", f"Arrival {h.marker('r-gone')}", "2468"),
                             ("unknown", f"Ghost {h.marker('ghost')}", "3579"),
                             ("foreign", "Cleaner Tuesdays", "9753")):
        r = requests.post(f"{run.fake.url}/access_codes/create", json=dict(window, device_id=lock, name=name, code=pin),
                          headers={"Authorization": f"Bearer {h.SEAM_KEY}"}, timeout=10)
        r.raise_for_status()
        made[label] = r.json()["access_code"]["access_code_id"]
    run.fake.set_faults(FAULTS)
    run.lk.stop()
    # While Latchkey is down (and Seam's webhooks are off anyway): r-del's back lock gets another PIN at the keypad.
    del_back = next(c for c in run.codes("r-del") if c["device_id"] == del_devices[1])
    altered = requests.post(f"{run.fake.url}/_fake/access_codes/change_at_lock",
                            json={"access_code_id": del_back["access_code_id"], "change": "modified", "code": "1470"},
                            timeout=10)
    tally.check(altered.status_code == 200, "r-del's back code given another PIN at the keypad")
    run.write_config(drift_seconds=2)
    run.lk.start()

    def drift_done():
        ids = {c["access_code_id"] for c in run.codes()}
        return made["put back"] not in ids and made["unknown"] not in ids and \
            run.metric("latchkey_drift_reconciliations_total") >= 3 and not run.lk.admin("/v1/outbox")["intents"]
    h.wait_until(drift_done, 120, "the marker codes deleted by the reconciliation")
    ids = {c["access_code_id"] for c in run.codes()}
    tally.check(made["put back"] not in ids, "the cancelled guest's code put back by hand: deleted")
    tally.check(made["unknown"] not in ids, "the unknown reservation's marker code: deleted")
    tally.check(made["foreign"] in ids, "the foreign code (no marker): untouched")
    h.wait_until(lambda: {c["code"] for c in run.codes("r-del")} == {group_pin}
                 and not run.lk.admin("/v1/outbox")["intents"], 60, "r-del's back lock put back")
    back_now = [c for c in run.codes("r-del") if c["device_id"] == del_devices[1]]
    tally.check(len(back_now) == 1 and back_now[0]["code"] == group_pin and back_now[0]["common_code_key"] == group_key
                and back_now[0]["access_code_id"] != del_back["access_code_id"],
                "the altered code replaced on that lock only, with the group's PIN, inside the group")
    tally.check(len(run.codes("r-off")) == 2, "r-off's group untouched")
    drift = {f: run.metric("latchkey_drift_codes_total", f'finding="{f}"')
             for f in ("missing", "altered", "stray", "foreign", "busy")}
    drift["runs"] = run.metric("latchkey_drift_reconciliations_total")
    drift["lock_list_failures"] = run.metric("latchkey_drift_lock_list_failures_total")
    print(f"  drift figures: {drift}", flush=True)
    tally.check(drift["stray"] >= 2 and drift["foreign"] >= 1 and drift["altered"] >= 1,
                "the reconciliation counted the stray, foreign and altered codes")
    violations = h.device_rate_violations(run.fake.state())
    tally.check(not violations, f"Seam's per-device limits kept ({violations[:3]})")
    run.lk.stop()
    return tally.finish()


if __name__ == "__main__":
    if os.environ.get("ARRIVAL_KEEP") == "1":
        os.environ["RELIABILITY_KEEP"] = "1"
    h.run(main)
