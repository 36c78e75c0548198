"""Notifications end to end: `latchkey serve` and `latchkey fake-seam` as processes, a receiver on a loopback port
that verifies every delivery with the official `standardwebhooks` library and de-duplicates by webhook-id.

1. A group becomes ready (the fake Seam reports every code set) → exactly one access.ready for it, verified, with
   the PIN the locks hold.
2. The receiver answers 503 for six hours of Latchkey's notification clock (`serve --unsafe-test-clock-file`,
   moved an hour at a time) → delivered once it answers 200, with the same webhook-id as every failed attempt.
   Then the ready stay is extended → access.changed with the same PIN and both windows.
3. A cancellation → access.revoked.
4. 410 Gone → the endpoint is disabled (log line, /metrics, admin API), nothing more is sent; re-enabled through
   the admin API, the held event arrives.
5. kill -9 while deliveries are in flight (the receiver holds each answer) → after a restart every event in the
   outbox reached the receiver at least once, each under one webhook-id (duplicates counted, not failed).

Prints the figures (events in the outbox, requests received, verified, unique webhook-ids, duplicates) and ends
with "N passed, N failed". Knob: NOTIFY_KILL_RESERVATIONS (12).
"""

from __future__ import annotations

import base64
import collections
import json
import os
import sys
import time
from datetime import datetime, timedelta, timezone

try:
    import requests
    import standardwebhooks  # noqa: F401 - the harness's receiver verifies with it
except ImportError as missing:
    print(f"skipped: {missing.name} is missing (pip install -r scripts/requirements-test.txt)")
    print("0 passed, 0 failed")
    sys.exit(0)

sys.path.insert(0, os.path.dirname(__file__))
import harness as h  # noqa: E402

RECEIVER_SECRET = h.RECEIVER_SECRET
Receiver = h.NotificationReceiver


class ClockedLatchkey(h.Latchkey):
    """`latchkey serve` whose notification clock is the wall clock plus the seconds in `clock_file`."""

    def __init__(self, config: str, port: int, workdir: str, clock_file: str) -> None:
        super().__init__(config, port, workdir)
        self.clock_file = clock_file

    def spawn(self) -> None:
        self.proc = h._spawn([h.LATCHKEY_BIN, "serve", "--config", self.config, "--unsafe-test-clock-file",
                              self.clock_file], stdout=self.log, stderr=self.log, env=self.env)


def booking(rid: str, listing: str, status: str, check_in: datetime, stamp: int, days: int = 2) -> h.Delivery:
    event = {"event": "booking.created" if status == "confirmed" else "booking.cancelled",
             "booking": {"id": rid, "listing_id": listing, "status": status, "check_in": h.iso(check_in),
                         "check_out": h.iso(check_in + timedelta(days=days)), "guest": {"name": "Ada Test"},
                         "updated_at": h.iso(datetime(2026, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=stamp))}}
    return h.Delivery(f"msg_{rid}_{status}_{stamp}", rid, json.dumps(event, separators=(",", ":")).encode())


def lk_records(work: str) -> list[dict]:
    """Latchkey's JSON log records (every value, for the PIN search)."""
    records = []
    with open(os.path.join(work, "latchkey.log"), encoding="utf-8", errors="replace") as f:
        for line in f:
            try:
                records.append(json.loads(line))
            except ValueError:
                pass
    return records


def main() -> int:
    tally = h.Tally()
    work = h.workdir("notifications")
    world = h.World(properties=4)
    receiver = Receiver()
    clock_file = os.path.join(work, "clock-offset")
    offset = 0.0

    def advance(hours: float) -> None:
        nonlocal offset
        offset += hours * 3600
        with open(clock_file + ".tmp", "w") as f:
            f.write(str(offset))
        os.replace(clock_file + ".tmp", clock_file)

    port = h.free_port()
    fake = h.FakeSeam(work, world, webhook_url=f"http://127.0.0.1:{port}/seam/webhooks")
    config = os.path.join(work, "latchkey.yaml")
    h.write_config(config, port=port, data_dir=os.path.join(work, "data"), seam_port=fake.port, world=world,
                   extra_seam={"webhook_secret": {"value": h.SEAM_WEBHOOK_SECRET}}, log_level="info")
    with open(config) as f:
        settings = json.load(f)
    settings["notifications"] = [{"url": f"http://127.0.0.1:{receiver.port}/latchkey", "secret": {
        "value": RECEIVER_SECRET}, "include_pin": True}]
    with open(config, "w") as f:
        json.dump(settings, f, indent=1)
    lk = ClockedLatchkey(config, port, work, clock_file)
    lk.start()
    session = requests.Session()
    now = datetime.now(timezone.utc).replace(microsecond=0)
    stamp = 0

    def post(rid: str, prop: int, status: str = "confirmed", check_out_days: int = 2) -> int:
        nonlocal stamp
        stamp += 1
        d = booking(rid, world.listing(prop), status, now - timedelta(hours=1), stamp, check_out_days)
        return h.post_delivery(session, port, d, timeout=10).status_code

    # 1. Ready: exactly one access.ready, verified, with the PIN the locks hold.
    h.log("1. a group becomes ready")
    tally.check(post("n_ready", 0) == 202, "booking n_ready accepted")
    h.wait_until(lambda: receiver.of("n_ready", "access.ready"), 60, "access.ready for n_ready")
    time.sleep(3)  # later Seam events (set on the second lock, read-backs) must not send it again
    readies = receiver.of("n_ready", "access.ready")
    tally.check(len(readies) == 1, f"exactly one access.ready for n_ready ({len(readies)})")
    tally.check(all(r["verified"] for r in readies), "it verifies with standardwebhooks")
    pins = {c.get("code") for c in fake.state()["access_codes"] if "n_ready" in (c.get("name") or "")}
    tally.check(len(readies) == 1 and {readies[0]["data"].get("pin")} == pins,
                "it carries the PIN the locks hold (include_pin)")
    tally.check(len(readies) == 1 and len(readies[0]["data"].get("locks", [])) == 2
                and readies[0]["data"].get("window", {}).get("starts_at_local"),
                "it names both locks and the window in UTC and local time")

    # 2. The receiver down for six hours of Latchkey's notification clock.
    h.log("2. the receiver answers 503 for six hours")
    receiver.set(503)
    tally.check(post("n_down", 1) == 202, "booking n_down accepted")
    def attempts() -> int:
        """Latchkey's own count of n_down's attempts: an attempt is recorded (its next one scheduled from the
        clock as it was) only after the receiver saw it, so the clock moves on only once this count has."""
        rows = lk.admin("/v1/reservations/native/n_down/notifications")["notifications"]
        return sum(d["attempts"] for row in rows for d in row["deliveries"])

    h.wait_until(lambda: attempts() == 1, 60, "the first attempt for n_down")
    for hour in range(6):
        advance(1)
        h.wait_until(lambda: attempts() == hour + 2, 30, f"an attempt in hour {hour + 1}")
    failed_attempts = receiver.of("n_down")
    receiver.set(200)
    advance(1)
    h.wait_until(lambda: receiver.of("n_down", delivered=True), 30, "n_down delivered after the outage")
    ids = {r["id"] for r in receiver.of("n_down")}
    tally.check(len(failed_attempts) >= 7, f"retried through the outage ({len(failed_attempts)} attempts answered 503)")
    tally.check(len(ids) == 1, f"every attempt carried the same webhook-id ({len(ids)} ids)")
    tally.check(all(r["verified"] for r in receiver.of("n_down")), "every attempt verifies")

    # 2b. The stay extended by a day while ready → access.changed, same PIN.
    h.log("2b. the window moves")
    receiver.set(200)
    tally.check(post("n_ready", 0, check_out_days=3) == 202, "n_ready extended by a day")
    h.wait_until(lambda: receiver.of("n_ready", "access.changed", delivered=True), 60, "access.changed for n_ready")
    changed = receiver.of("n_ready", "access.changed")
    tally.check(len(changed) == 1 and changed[0]["verified"], "one access.changed, verified")
    tally.check(len(changed) == 1 and changed[0]["data"].get("pin") == readies[0]["data"].get("pin")
                and changed[0]["data"].get("previous_window", {}).get("ends_at")
                != changed[0]["data"].get("window", {}).get("ends_at"),
                "it carries the same PIN, the new window and the previous one")

    # 3. Cancellation → access.revoked.
    h.log("3. a cancellation")
    tally.check(post("n_ready", 0, "cancelled", check_out_days=3) == 202, "cancellation of n_ready accepted")
    h.wait_until(lambda: receiver.of("n_ready", "access.revoked", delivered=True), 60, "access.revoked for n_ready")
    revoked = receiver.of("n_ready", "access.revoked")
    tally.check(len(revoked) == 1 and revoked[0]["data"].get("reason") == "cancelled" and revoked[0]["verified"],
                "one access.revoked, reason cancelled, verified")
    tally.check("pin" not in revoked[0]["data"], "access.revoked carries no PIN")

    # 4. 410 Gone disables the endpoint.
    h.log("4. the receiver answers 410")
    receiver.set(410)
    tally.check(post("n_gone", 2) == 202, "booking n_gone accepted")
    h.wait_until(lambda: receiver.of("n_gone"), 60, "the attempt answered 410")
    endpoints = h.wait_until(
        lambda: [e for e in lk.admin("/v1/notification-endpoints")["endpoints"] if e["disabled"]], 20,
        "the endpoint disabled")
    tally.check(len(endpoints) == 1, "the admin API shows the endpoint disabled")
    tally.check(h.wait_until(lambda: f'latchkey_notification_endpoint_disabled{{endpoint="{endpoints[0]["id"]}"}} 1'
                             in lk.metrics(), 10, "the disabled gauge"), "/metrics shows it disabled")
    with open(os.path.join(work, "latchkey.log"), encoding="utf-8", errors="replace") as f:
        tally.check("notification endpoint disabled" in f.read(), "a log line says it was disabled")
    receiver.set(200)
    advance(2)
    time.sleep(2)
    tally.check(len(receiver.of("n_gone")) == 1, "nothing more is sent to a disabled endpoint")
    r = requests.post(f"{lk.url}/v1/notification-endpoints/{endpoints[0]['id']}/enable",
                      headers={"Authorization": f"Bearer {h.ADMIN_TOKEN}"}, timeout=10)
    tally.check(r.status_code == 200, f"re-enabled through the admin API ({r.status_code})")
    h.wait_until(lambda: receiver.of("n_gone", delivered=True), 30, "n_gone delivered after re-enabling")
    tally.check(len({x["id"] for x in receiver.of("n_gone")}) == 1, "the held event kept its webhook-id")

    # 5. kill -9 while deliveries are in flight.
    count = h.env_int("NOTIFY_KILL_RESERVATIONS", 12)
    h.log(f"5. kill -9 with {count} deliveries in flight")
    receiver.set(200, delay=1.0)
    kill_ids = [f"n_kill{i:02d}" for i in range(count)]
    for i, rid in enumerate(kill_ids):
        post(rid, 3 if i % 2 else 1)
    h.wait_until(lambda: sum(len(receiver.of(rid)) for rid in kill_ids) >= 2, 60, "deliveries under way")
    time.sleep(0.5)
    lk.kill()
    h.log(f"killed with {sum(len(receiver.of(rid, delivered=True)) for rid in kill_ids)} of {count} received")
    receiver.set(200)
    lk.start()
    h.wait_until(lambda: all(receiver.of(rid, "access.ready", delivered=True) for rid in kill_ids), 90,
                 "every n_kill reservation's access.ready")
    time.sleep(2)
    outbox_events = []
    for rid in ["n_ready", "n_down", "n_gone", *kill_ids]:
        outbox_events += [(rid, n) for n in lk.admin(f"/v1/reservations/native/{rid}/notifications")["notifications"]]
    received_ids = collections.Counter(r["id"] for r in receiver.snapshot() if r["status"] == 200)
    missing = [(rid, n["webhook_id"], n["type"]) for rid, n in outbox_events if n["webhook_id"] not in received_ids]
    tally.check(not missing, f"every event in the outbox reached the receiver at least once ({missing[:3]})")
    undelivered = [n["webhook_id"] for _, n in outbox_events
                   if any(d["state"] != "delivered" for d in n["deliveries"])]
    tally.check(not undelivered, f"Latchkey records every event delivered ({len(undelivered)} not)")
    kill_readies = [r for rid in kill_ids for r in receiver.of(rid, "access.ready", delivered=True)]
    kill_unique = {r["id"] for r in kill_readies}
    tally.check(len(kill_unique) == count, f"one webhook-id per n_kill event ({len(kill_unique)} for {count})")

    pins = {r["data"]["pin"] for r in receiver.snapshot() if r["data"].get("pin")}
    leaked = [record for record in lk_records(work) if any(str(v) in pins for v in record.values())]
    tally.check(bool(pins) and not leaked, f"no PIN in Latchkey's log ({len(pins)} PINs sent, {len(leaked)} lines)")

    everything = receiver.snapshot()
    verified = sum(1 for r in everything if r["verified"])
    delivered = [r for r in everything if r["status"] == 200]
    unique = {r["id"] for r in delivered}
    tally.check(verified == len(everything), f"every request verified ({verified} of {len(everything)})")
    print(f"figures: events in the outbox {len(outbox_events)}, requests received {len(everything)} "
          f"(answered 200: {len(delivered)}, 503: {sum(1 for r in everything if r['status'] == 503)}, "
          f"410: {sum(1 for r in everything if r['status'] == 410)}), verified {verified}, "
          f"unique webhook-ids delivered {len(unique)}, duplicates {len(delivered) - len(unique)} "
          f"(kill -9 part: {len(kill_readies)} deliveries of {count} events)", flush=True)
    lk.stop()
    fake.stop()
    return tally.finish()


if __name__ == "__main__":
    h.run(main)
