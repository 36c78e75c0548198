"""Crash loop: Latchkey is SIGKILLed at random moments while signed deliveries arrive and Seam calls are in flight.

Knobs (environment): CRASH_KILLS (default 200), CRASH_RESERVATIONS (150), CRASH_UPTIME_MS ("100-700": how long
Latchkey runs between kills), CRASH_SEED (1), CRASH_AFTER_COMMIT (0.15: fraction of Seam writes the fake makes but
never answers), CRASH_CONVERGE_SECONDS (240), CRASH_DURING_START (0.1: the fraction of kills
made while Latchkey is still starting), CRASH_SYNC_DELAY_US (20000: a pause after each journal sync,
through the faultfs shim, so that kills land between a delivery becoming durable and its answer; 0 turns it off),
CRASH_CANCEL (0.35: the share of reservations cancelled), CRASH_REBOOK (0.5: the share of cancelled ones confirmed
again afterwards), CRASH_SEAM_ERRORS (0.03: Seam calls answered 503) and CRASH_RATE_LIMITS (0.02: answered 429),
CRASH_SEAM_WEBHOOKS (1: the fake sends Seam's access-code events to Latchkey; 0 turns them off).

Invariants: every acknowledged delivery is in the journal exactly once (re-sent, it answers 200 with the first
body, never 202), `latchkey store verify` is clean, and once converged the fake Seam holds one linked group per
confirmed reservation (same PIN on every lock, the final window), none for cancelled ones, and never two; and
Latchkey's record of every reservation names exactly the codes Seam holds for it, at rest (no disagreement, none
unconverged, none stuck).
"""

from __future__ import annotations

import collections
import os
import random
import sys
import threading
import time

import requests

sys.path.insert(0, os.path.dirname(__file__))
import harness as h  # noqa: E402


def main() -> int:
    kills_wanted = h.env_int("CRASH_KILLS", 200)
    reservations_n = h.env_int("CRASH_RESERVATIONS", 150)
    lo, hi = (int(x) for x in os.environ.get("CRASH_UPTIME_MS", "100-700").split("-"))
    seed = h.env_int("CRASH_SEED", 1)
    cac_rate = h.env_float("CRASH_AFTER_COMMIT", 0.15)
    converge_timeout = h.env_float("CRASH_CONVERGE_SECONDS", 240)
    during_start = h.env_float("CRASH_DURING_START", 0.1)
    cancel_rate = h.env_float("CRASH_CANCEL", 0.35)
    rebook_rate = h.env_float("CRASH_REBOOK", 0.5)
    seam_errors = h.env_float("CRASH_SEAM_ERRORS", 0.03)
    rate_limits = h.env_float("CRASH_RATE_LIMITS", 0.02)
    webhooks = h.env_int("CRASH_SEAM_WEBHOOKS", 1) == 1
    rng = random.Random(seed)
    tally = h.Tally()
    started = time.monotonic()

    work = h.workdir("crash")
    world = h.World()
    reservations, deliveries = h.make_bookings(
        world, reservations_n, rng, cancel_rate=cancel_rate, rebook_rate=rebook_rate)
    order = h.interleave(deliveries, rng)
    port = h.free_port()
    fake = h.FakeSeam(work, world, faults={
        "seed": seed, "crash_after_commit_rate": cac_rate, "server_error_rate": seam_errors,
        "rate_limit_rate": rate_limits,
        "routes": ["/access_codes/create_multiple", "/access_codes/update_multiple", "/access_codes/delete",
                   "/access_codes/create", "/access_codes/update"]},
        webhook_url=f"http://127.0.0.1:{port}/seam/webhooks" if webhooks else None)
    config = os.path.join(work, "latchkey.yaml")
    data_dir = os.path.join(work, "data")
    h.write_config(config, port=port, data_dir=data_dir, seam_port=fake.port, world=world,
                   extra_seam={"webhook_secret": {"value": h.SEAM_WEBHOOK_SECRET}} if webhooks else None)
    rebooked = sum(r.rebooked for r in reservations)
    cancelled = sum(r.final["booking"]["status"] == "cancelled" for r in reservations)
    # The faultfs shim (no faults) sleeps after each journal sync, so kills land between "durable" and "answered".
    sync_delay_us = h.env_int("CRASH_SYNC_DELAY_US", 20000)
    lk = h.Latchkey(config, port, work, env={
        "LD_PRELOAD": h.compile_shim(work), "FAULTFS_DIR": data_dir, "FAULTFS_SYNC_DELAY_US": str(sync_delay_us),
    } if sync_delay_us > 0 else None)
    h.log(f"crash loop: {len(reservations)} reservations, {len(order)} deliveries, {kills_wanted} kills wanted, "
          f"uptime {lo}-{hi} ms, crash-after-commit {cac_rate:.0%}, 503 {seam_errors:.0%}, 429 {rate_limits:.0%}, "
          f"{rebooked} cancelled then confirmed again, Seam webhooks {'on' if webhooks else 'off'}; work dir {work}")

    queue = collections.deque(order)
    lock = threading.Lock()
    up = threading.Event()
    stop_senders = threading.Event()
    acked: dict[str, tuple[h.Delivery, bytes]] = {}
    counts = collections.Counter()
    attempts: collections.Counter = collections.Counter()
    in_flight = [0]
    kills = [0]
    unexpected: list[str] = []

    posting = [0]
    fresh_posting = threading.Event()

    def post(session: requests.Session, d: h.Delivery, fresh: bool = False) -> requests.Response:
        with lock:
            posting[0] += 1
        if fresh:
            fresh_posting.set()
        try:
            return h.post_delivery(session, port, d, timeout=5)
        finally:
            with lock:
                posting[0] -= 1

    def sender(worker: int) -> None:
        session = requests.Session()
        local = random.Random(seed * 100 + worker)
        while not stop_senders.is_set():
            with lock:
                # Fresh deliveries are spread over the kills so they keep landing mid-work; in between, acknowledged
                # ones are re-sent (a PMS retrying) so that kills land while requests are in flight.
                sent_fraction = 1 - len(queue) / len(order)
                if queue and sent_fraction <= kills[0] / kills_wanted + 0.02:
                    d, fresh = queue.popleft(), True
                    in_flight[0] += 1
                elif acked:
                    d, fresh = local.choice(list(acked.values()))[0], False
                else:
                    d, fresh = None, False
            if d is None:
                time.sleep(0.02)
                continue
            if not up.wait(0.5):
                if fresh:
                    with lock:
                        queue.appendleft(d)
                        in_flight[0] -= 1
                continue
            if not fresh:
                try:
                    r = post(session, d)
                    counts["duplicate_posts"] += 1
                    if r.status_code == 503:
                        counts["answered_503"] += 1
                    elif r.status_code != 200 or r.content != acked[d.delivery_id][1]:
                        unexpected.append(f"re-send of acknowledged {d.delivery_id}: {r.status_code} {r.text[:100]}")
                except requests.RequestException:
                    counts["connection_errors"] += 1
                    session = requests.Session()
                time.sleep(0.005)
                continue
            attempts[d.delivery_id] += 1
            counts["posts"] += 1
            retry = False
            try:
                r = post(session, d, fresh=True)
                if r.status_code in (200, 202):
                    with lock:
                        if d.delivery_id not in acked:
                            acked[d.delivery_id] = (d, r.content)
                            counts["ack_202" if r.status_code == 202 else "ack_200_after_lost_answer"] += 1
                elif r.status_code == 503:
                    counts["answered_503"] += 1
                    retry = True
                else:
                    unexpected.append(f"{d.delivery_id}: {r.status_code} {r.text[:100]}")
            except requests.RequestException:
                counts["connection_errors"] += 1
                session = requests.Session()
                retry = True
            with lock:
                in_flight[0] -= 1
                if retry:
                    # A PMS retries; the last event of each reservation until it is acknowledged.
                    if d.is_final or attempts[d.delivery_id] < 3:
                        queue.appendleft(d)
                    else:
                        counts["given_up"] += 1

    senders = [threading.Thread(target=sender, args=(i,), daemon=True) for i in range(4)]
    for t in senders:
        t.start()

    start_times = []
    while True:
        if rng.random() < during_start:
            # Killed while starting: recovering the journal, re-reading bookings, looking up unknown outcomes.
            lk.spawn()
            time.sleep(rng.uniform(0, 0.15))
            lk.kill()
            kills[0] += 1
            counts["kills_during_start"] += 1
            continue
        start_times.append(lk.start())
        up.set()
        time.sleep(rng.uniform(lo, hi) / 1000)
        if rng.random() < 0.5:
            # Half the kills wait (briefly) for a new delivery to be on the wire: a kill mid-commit.
            fresh_posting.clear()
            fresh_posting.wait(0.3)
            time.sleep(rng.uniform(0, 0.002 + 2 * sync_delay_us / 1e6))
        with lock:
            done = not queue and in_flight[0] == 0
        if done and kills[0] >= kills_wanted:
            break
        up.clear()
        with lock:
            counts["kills_mid_request"] += posting[0] > 0
        lk.kill()
        kills[0] += 1
        if kills[0] % 25 == 0:
            h.log(f"  {kills[0]} kills, {len(acked)} acknowledged, {len(queue)} queued")
    stop_senders.set()
    for t in senders:
        t.join()
    run_seconds = time.monotonic() - started
    h.log(f"kills done: {kills[0]} in {run_seconds:.0f} s (mean start {sum(start_times) / len(start_times):.2f} s)")

    # No more kills and no more crash-after-commit: let it converge.
    fake.set_faults({"seed": seed})
    resent = h.resend_all(port, acked)
    report, converge_seconds = h.converge(fake, lk, world, reservations, converge_timeout)
    dead = lk.admin("/v1/dead-letters")["dead_letters"]
    metrics_text = lk.metrics()
    final_outcomes = h.seam_outcomes(metrics_text)
    state = fake.state()
    records = h.compare_records(lk, state, reservations)
    stuck = [line for line in metrics_text.splitlines()
             if line.startswith("latchkey_reconciler_stuck_reservations_total ")]
    lk.stop()
    verified, verify_text = h.store_verify(data_dir)

    print(f"kills: {kills[0]}")
    print(f"deliveries: {len(order)} distinct, {counts['posts']} posts, acknowledged {len(acked)} "
          f"({counts['ack_202']} with 202, {counts['ack_200_after_lost_answer']} stored before a kill and answered "
          f"200 on retry), given up {counts['given_up']}, connection errors {counts['connection_errors']}, "
          f"503 {counts['answered_503']}, re-sends of acknowledged deliveries during the run {counts['duplicate_posts']}")
    print(f"kills with a delivery in flight: {counts['kills_mid_request']}, kills during start: "
          f"{counts['kills_during_start']}")
    print(f"re-send of every acknowledged delivery: {resent['duplicate_same_body']} answered 200 with the first "
          f"body, {resent['accepted_again']} answered 202 (lost), {resent['other']} other")
    print(f"groups: expected {report.expected}, found {report.found}, duplicates {report.duplicates}, "
          f"converged in {converge_seconds:.1f} s; dead letters {len(dead)}")
    creates = sum(c["count"] for c in state["calls"] if c["route"] == "/access_codes/create_multiple")
    print(f"Seam calls of the last run (convergence) by outcome: {final_outcomes}")
    print(f"fake Seam: {len(state['access_codes'])} codes, create_multiple per-device calls {creates}")
    print(f"store verify: {verify_text.splitlines()[0] if verify_text else ''}")
    print(f"reservations: {len(reservations)}, cancelled {cancelled + rebooked} of which confirmed again {rebooked}; "
          f"records checked against Seam {records.checked}: disagreements {len(records.disagreements)}, "
          f"unconverged {len(records.unconverged)}; {stuck[0] if stuck else 'no stuck counter'}")
    print(f"duration: {time.monotonic() - started:.0f} s")

    tally.check(kills[0] >= kills_wanted, f"{kills[0]} SIGKILLs survived (wanted {kills_wanted})")
    tally.check(not unexpected, f"no unexpected answers during the run {unexpected[:3]}")
    tally.check(len(acked) > 0 and resent["duplicate_same_body"] == len(acked),
                f"every acknowledged delivery found exactly once ({resent['duplicate_same_body']}/{len(acked)}) "
                f"{resent['examples'][:3]}")
    tally.check(resent["accepted_again"] == 0, "no acknowledged delivery answered 202 again")
    tally.check(all(d.delivery_id in acked for d in order if d.is_final), "every final booking was acknowledged")
    tally.check(verified, "latchkey store verify is clean")
    tally.check(report.converged, f"Seam converged to the bookings {report.problems[:5]}")
    tally.check(report.duplicates == 0, f"no reservation has two groups ({report.duplicates} extra codes)")
    tally.check(not dead, f"no dead letters {[d.get('message') for d in dead[:3]]}")
    tally.check(not records.disagreements,
                f"Latchkey's record of every reservation names exactly Seam's codes {records.disagreements[:3]}")
    tally.check(not records.unconverged, f"every reservation at rest {records.unconverged[:3]}")
    tally.check(stuck == ["latchkey_reconciler_stuck_reservations_total 0"], f"no stuck reservation counted {stuck}")
    fake.stop()
    return tally.finish()


if __name__ == "__main__":
    h.run(main)
