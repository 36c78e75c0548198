"""Two Latchkey instances on one PostgreSQL database, active and standby (`store.postgresql.standby: true`), the
active one killed with SIGKILL again and again under load.

The standby waits for the database's instance lock (the active one holds it); when the active one dies its session
ends, the standby takes the lock, starts (re-reading every booking and record, adopting what was in flight) and
listens. The killed one is started again and becomes the standby. Deliveries go through nginx, whose upstream holds
both instances (a waiting standby refuses connections, so nginx passes a request on to the other). Checks:
every acknowledged delivery is found exactly once at the end, the fake Seam holds exactly one group per booking
(no duplicate group), and each takeover's time.

Knobs: FAILOVER_KILLS (default 5; the issue's long version is 100), FAILOVER_DELIVERIES (default 200),
PG_BIN (default /usr/lib/postgresql/15/bin).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import time

import requests

sys.path.insert(0, os.path.dirname(__file__))
import harness as h  # noqa: E402
from postgresql_outage import Cluster, with_cluster  # noqa: E402


def main() -> int:
    if not (shutil.which("nginx") or os.path.exists("/usr/sbin/nginx")):
        print("skipped: nginx is not installed (Debian's nginx-light: scripts/setup test)")
        print("0 passed, 0 failed")
        return 0
    kills = h.env_int("FAILOVER_KILLS", 5)
    total = h.env_int("FAILOVER_DELIVERIES", 200)
    return with_cluster("pgfo", lambda cluster, work, tally, started: run(cluster, work, kills, total, tally, started))


def start_nginx(work: str, ports: list[int]) -> int:
    """nginx on a free loopback port with both instances in one upstream; returns its port."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    port = h.free_port()
    prefix = os.path.join(work, "nginx")
    os.makedirs(os.path.join(prefix, "logs"), exist_ok=True)
    servers = "".join(f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=1s;\n" for p in ports)
    config = os.path.join(prefix, "nginx.conf")
    with open(config, "w") as f:
        f.write(f"""daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log;
events {{}}
http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    upstream latchkey {{
{servers}    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://latchkey;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_next_upstream error timeout;
            proxy_connect_timeout 1s;
        }}
    }}
}}
""")
    h._spawn([nginx, "-p", prefix, "-c", config], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    h.wait_until(lambda: h.port_is_listening(port), 10, "nginx to listen")
    return port


def run(cluster: Cluster, work: str, kills: int, total: int, tally: h.Tally, started: float) -> int:
    url = cluster.createdb("latchkey")
    world = h.World(properties=40)
    rng = random.Random(23)
    reservations, deliveries = h.make_bookings(world, total // 2, rng, updates=(0, 2), cancel_rate=0.3)
    deliveries = h.interleave(deliveries, rng)
    fake = h.FakeSeam(work, world)
    instances = []
    for name in ("a", "b"):
        port = h.free_port()
        config = os.path.join(work, f"latchkey-{name}.yaml")
        h.write_config(config, port=port, data_dir=os.path.join(work, f"data-{name}"), seam_port=fake.port,
                       world=world)
        with open(config) as f:
            document = json.load(f)
        document["store"] = {"backend": "postgresql", "postgresql": {"url": {"value": url}, "pool_size": 4,
                                                                     "standby": True}}
        with open(config, "w") as f:
            json.dump(document, f, indent=1)
        instances.append(h.Latchkey(config, port, work))
    migrate = subprocess.run([h.LATCHKEY_BIN, "db", "migrate", "--config", instances[0].config], capture_output=True,
                             text=True)
    tally.check(migrate.returncode == 0, f"db migrate: {migrate.stdout.strip()} {migrate.stderr.strip()[:200]}")

    proxy = start_nginx(work, [i.port for i in instances])
    active, standby = instances
    active.start()
    standby.spawn()  # waits for the lock: no /healthz until it takes over
    time.sleep(1)
    tally.check(not h.port_is_listening(standby.port) and standby.proc.poll() is None,
                "the standby waits without listening while the active instance runs")

    acked: dict[str, tuple[h.Delivery, bytes]] = {}
    session = requests.Session()
    queue = list(deliveries)
    takeovers = []
    per_round = max(1, len(queue) // (kills + 1))

    def send_some(count: int) -> None:
        """Posts through nginx; a delivery leaves the queue once answered 2xx (or refused 4xx), as a PMS retries."""
        for _ in range(count):
            if not queue:
                return
            d = queue[0]
            try:
                r = h.post_delivery(session, proxy, d, timeout=10)
            except requests.RequestException:
                return
            if r.status_code in (200, 202):
                acked.setdefault(d.delivery_id, (d, r.content))
                queue.pop(0)
            elif 400 <= r.status_code < 500:
                queue.pop(0)
            else:
                return

    for kill in range(kills):
        send_some(per_round)
        active.kill()
        killed_at = time.monotonic()
        try:
            h.wait_until(lambda: h.port_is_listening(standby.port), 60, "the standby to take over", interval=0.05)
            h.wait_until(lambda: session.get(f"{standby.url}/readyz", timeout=5).status_code == 200, 30,
                         "the new active instance to be ready", interval=0.05)
            takeovers.append(time.monotonic() - killed_at)
        except TimeoutError:
            tally.check(False, f"kill {kill + 1}: the standby did not take over within 60 s")
            break
        active.spawn()  # the killed one comes back as the standby
        active, standby = standby, active
    while queue:
        before = len(queue)
        send_some(len(queue))
        if len(queue) == before:
            time.sleep(0.2)

    tally.check(len(takeovers) == kills, f"{len(takeovers)} of {kills} takeovers after SIGKILL of the active instance")
    if takeovers:
        print(f"takeover after SIGKILL: median {sorted(takeovers)[len(takeovers) // 2]:.2f} s, "
              f"max {max(takeovers):.2f} s over {len(takeovers)}")
    check = h.resend_all(proxy, acked)
    tally.check(check["duplicate_same_body"] == len(acked),
                f"all {len(acked)} acknowledged deliveries found exactly once ({check['examples'][:3]})")
    report, converge_seconds = h.converge(fake, active, world, reservations, 120)
    tally.check(report.converged and report.duplicates == 0,
                f"groups expected {report.expected} found {report.found} duplicates {report.duplicates} "
                f"in {converge_seconds:.1f} s {report.problems[:3]}")
    dead = active.admin("/v1/dead-letters")["dead_letters"]
    tally.check(not dead, f"no dead letters {[d.get('message') for d in dead[:2]]}")
    standby.kill()
    active.stop()
    fake.stop()
    print(f"acknowledged {len(acked)} of {len(deliveries)}; duration {time.monotonic() - started:.0f} s")
    return tally.finish()


if __name__ == "__main__":
    h.run(main)
