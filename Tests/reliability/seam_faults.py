"""Seam misbehaving: faults at 30% of calls, then a full outage.

Part 1 (faults): the same deliveries are replayed into two fresh Latchkeys, one against a well-behaved fake Seam
and one against a fake injecting 5xx, 429 with Retry-After, timeouts (no answer; Latchkey's request timeout is
2 s here), crash-after-commit (the change is made, the answer never sent) and slow answers. Once faults stop, the
outbox drains, the final state equals the fault-free run's and the bookings' (one linked group per confirmed
reservation, none for cancelled ones, none twice), and no device ever saw more calls in a minute than Seam allows.

Part 2 (outage): the fake answers 503 to everything for SEAM_OUTAGE_SECONDS while deliveries keep coming: intake
keeps accepting (202, durable), the circuit breaker opens (latchkey_seam_requests_total{outcome="circuit_open"}),
nothing is dead-lettered, and everything converges after the outage ends.

Knobs: SEAM_FAULT_DELIVERIES (about 1500), SEAM_FAULT_RATE (0.30 in all), SEAM_OUTAGE_SECONDS (120),
SEAM_OUTAGE_DELIVERIES (300), SEAM_CONVERGE_SECONDS (300), SEAM_PARTS ("faults,outage").
"""

from __future__ import annotations

import collections
import os
import random
import re
import sys
import threading
import time

import requests

sys.path.insert(0, os.path.dirname(__file__))
import harness as h  # noqa: E402


def answer_kind(r: requests.Response) -> int | str:
    """The status, with a 200 told apart by its body: `ignored` (a booking older than what was applied, recorded
    durably and answered as openapi/latchkey.yaml says) or a repeat."""
    if r.status_code == 200:
        try:
            return "200 ignored" if r.json().get("status") == "ignored" else 200
        except ValueError:
            return 200
    return r.status_code


# Answers that mean "durably recorded": 202 accepted, or 200 ignored for an event older than the stored one (the
# interleaved order sends some reservations' events out of order on purpose).
DURABLE = {202, "200 ignored"}


def send_all(port: int, deliveries: list[h.Delivery], workers: int = 4) -> collections.Counter:
    """Sends every delivery (retrying 503s, as a PMS would) and counts the answers."""
    counts: collections.Counter = collections.Counter()
    lock = threading.Lock()

    def work(chunk):
        s = requests.Session()
        for d in chunk:
            for _ in range(20):
                r = h.post_delivery(s, port, d, timeout=30)
                with lock:
                    counts[answer_kind(r)] += 1
                if r.status_code != 503:
                    break
                time.sleep(0.5)

    threads = [threading.Thread(target=work, args=(deliveries[i::workers],)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return counts


def normalized(state: dict) -> dict:
    """Per reservation: the sorted (device, starts_at, ends_at) of its live codes and whether they share one PIN."""
    groups: dict[str, list] = collections.defaultdict(list)
    pins: dict[str, set] = collections.defaultdict(set)
    for code in state["access_codes"]:
        if code.get("status") == "removing":
            continue
        m = re.search(r"\[lk:native:([^\]]+)\]", code.get("name") or "")
        if m:
            groups[m.group(1)].append((code["device_id"], code.get("starts_at"), code.get("ends_at")))
            pins[m.group(1)].add(code.get("code"))
    return {rid: (sorted(codes), len(pins[rid]) == 1) for rid, codes in groups.items()}


def run_world(name: str, world: h.World, deliveries, faults: dict | None, tally: h.Tally, converge_timeout: float,
              reservations) -> tuple[dict, dict, float, float]:
    work = h.workdir(name)
    fake = h.FakeSeam(work, world, faults=faults)
    port = h.free_port()
    config = os.path.join(work, "latchkey.yaml")
    h.write_config(config, port=port, data_dir=os.path.join(work, "data"), seam_port=fake.port, world=world)
    lk = h.Latchkey(config, port, work)
    lk.start()
    started = time.monotonic()
    answers = send_all(port, deliveries)
    sent_seconds = time.monotonic() - started
    tally.check(set(answers) <= DURABLE and sum(answers.values()) == len(deliveries),
                f"{name}: {len(deliveries)} deliveries accepted in {sent_seconds:.0f} s {dict(answers)}")
    if faults:
        # Let the faults bite for a while after intake, then stop them and watch the outbox drain.
        time.sleep(h.env_float("SEAM_FAULT_HOLD_SECONDS", 20))
        fake.set_faults({"seed": 1})
    stop_faults = time.monotonic()
    report, seconds = h.converge(fake, lk, world, reservations, converge_timeout)
    state = fake.state()
    metrics = lk.metrics()
    dead = lk.admin("/v1/dead-letters")["dead_letters"]
    outbox = lk.admin("/v1/outbox")["intents"]
    lk.stop()
    fake.stop()
    outcomes = h.seam_outcomes(metrics)
    print(f"  {name}: Seam calls by outcome {outcomes}; converged {seconds:.1f} s after faults stopped; "
          f"groups expected {report.expected} found {report.found} duplicates {report.duplicates}; "
          f"dead letters {len(dead)}, outbox {len(outbox)}")
    tally.check(report.converged, f"{name}: converged to the bookings {report.problems[:3]}")
    tally.check(report.duplicates == 0, f"{name}: no group created twice")
    tally.check(not dead and not outbox, f"{name}: the outbox drained, no dead letters {[d.get('message') for d in dead[:2]]}")
    violations = h.device_rate_violations(state)
    tally.check(not violations, f"{name}: Seam's per-device limits respected {violations[:3]}")
    return normalized(state), outcomes, seconds, stop_faults - started


def main() -> int:
    n = h.env_int("SEAM_FAULT_DELIVERIES", 1500)
    rate = h.env_float("SEAM_FAULT_RATE", 0.30)
    outage_seconds = h.env_float("SEAM_OUTAGE_SECONDS", 120)
    outage_deliveries = h.env_int("SEAM_OUTAGE_DELIVERIES", 300)
    converge_timeout = h.env_float("SEAM_CONVERGE_SECONDS", 300)
    tally = h.Tally()
    started = time.monotonic()
    rng = random.Random(11)
    world = h.World(properties=100)
    reservations, deliveries = h.make_bookings(world, max(1, int(n / 2.7)), rng)
    order = h.interleave(deliveries, rng)
    faults = {"seed": 5, "server_error_rate": rate * 0.35, "server_error_status": 503,
              "rate_limit_rate": rate * 0.25, "retry_after_seconds": 2, "timeout_rate": rate * 0.15,
              "timeout_mode": "never", "crash_after_commit_rate": rate * 0.25, "latency_ms": 40}
    h.log(f"Seam faults: {len(order)} deliveries over {len(reservations)} reservations on {world.properties * 2} "
          f"locks; faults {faults}")

    parts = os.environ.get("SEAM_PARTS", "faults,outage").split(",")
    clean_seconds = faulty_seconds = 0.0
    if "faults" in parts:
        clean_seconds, faulty_seconds = faults_part(world, order, faults, tally, converge_timeout, reservations)
    if "outage" in parts:
        outage_part(tally, outage_seconds, outage_deliveries, converge_timeout)
    print(f"fault-free convergence {clean_seconds:.1f} s, faulty {faulty_seconds:.1f} s after faults stopped")
    print(f"duration: {time.monotonic() - started:.0f} s")
    return tally.finish()


def faults_part(world, order, faults, tally, converge_timeout, reservations) -> tuple[float, float]:
    clean, _, clean_seconds, _ = run_world("fault-free", world, order, None, tally, converge_timeout, reservations)
    faulty, outcomes, faulty_seconds, _ = run_world("faulty", world, order, faults, tally, converge_timeout, reservations)
    differ = [rid for rid in set(clean) | set(faulty) if clean.get(rid) != faulty.get(rid)]
    tally.check(not differ, f"the final state equals the fault-free run's ({len(clean)} reservations with codes; "
                            f"differing {differ[:3]})")
    injected = {k: v for k, v in outcomes.items() if k != "success"}
    tally.check(injected["server_error"] > 0 and injected["rate_limited"] > 0 and injected["timeout"] > 0,
                f"faults reached Latchkey: {injected}")
    return clean_seconds, faulty_seconds


def outage_part(tally, outage_seconds, outage_deliveries, converge_timeout) -> None:
    work = h.workdir("outage")
    ow = h.World(properties=20)
    o_res, o_del = h.make_bookings(ow, max(1, int(outage_deliveries / 2.7)), random.Random(12), prefix="o")
    fake = h.FakeSeam(work, ow)
    port = h.free_port()
    config = os.path.join(work, "latchkey.yaml")
    h.write_config(config, port=port, data_dir=os.path.join(work, "data"), seam_port=fake.port, world=ow)
    lk = h.Latchkey(config, port, work)
    lk.start()
    fake.set_faults({"seed": 2, "server_error_rate": 1.0, "server_error_status": 503})
    outage_started = time.monotonic()
    spread = h.interleave(o_del, random.Random(3))
    answers: collections.Counter = collections.Counter()
    s = requests.Session()
    per = outage_seconds * 0.6 / max(1, len(spread))
    for d in spread:  # deliveries arrive through the first 60% of the outage
        answers[answer_kind(h.post_delivery(s, port, d))] += 1
        time.sleep(per)
    time.sleep(max(0, outage_seconds - (time.monotonic() - outage_started)))
    metrics = lk.metrics()
    circuit_open = h.seam_outcomes(metrics)["circuit_open"]
    server_errors = h.seam_outcomes(metrics)["server_error"]
    dead_during = lk.admin("/v1/dead-letters")["dead_letters"]
    fake.set_faults({"seed": 2})
    report, seconds = h.converge(fake, lk, ow, o_res, converge_timeout)
    dead = lk.admin("/v1/dead-letters")["dead_letters"]
    lk.stop()
    fake.stop()
    print(f"  outage {outage_seconds:.0f} s: {len(spread)} deliveries {dict(answers)}; Seam calls during it: "
          f"{server_errors:.0f} answered 503, {circuit_open:.0f} refused by the open circuit; dead letters at its end "
          f"{len(dead_during)}; converged {seconds:.1f} s after it ended (expected {report.expected} groups, found "
          f"{report.found})")
    tally.check(set(answers) <= DURABLE and sum(answers.values()) == len(spread),
                f"outage: intake kept accepting durably {dict(answers)}")
    tally.check(circuit_open > 0, f"outage: the circuit breaker opened ({circuit_open:.0f} calls refused)")
    tally.check(not dead_during and not dead, f"outage: nothing dead-lettered ({len(dead_during)} during, {len(dead)} after)")
    tally.check(report.converged and report.duplicates == 0, f"outage: converged after it ended {report.problems[:3]}")


if __name__ == "__main__":
    h.run(main)
