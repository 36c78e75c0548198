#!/usr/bin/env python3
"""Replays and forgeries against `latchkey serve`, then secret hygiene over everything that run produced.

Configuration (written to a temporary directory): two Standard Webhooks sources, `native` (secrets NEW and OLD,
i.e. mid-rotation) and `partner` (its own secret), one property on the fake Seam's two locks, an admin token.

Forgeries, each must be refused with the right status and error body and change no state (store stats counts,
the admin API's reservation and outbox views, the fake Seam's access codes, the accepted-deliveries metric):
  replayed delivery id → 200 with Idempotent-Replayed; stale and future timestamps → 401; partner's secret on
  native → 401; an admin call without and with a wrong token → 401; after a restart with OLD dropped, a
  delivery signed with OLD → 401 (and NEW still 202).
Hygiene: with LOG_LEVEL=debug, Latchkey's stderr, /metrics and every response body (except the one admin call
that asks for the PIN with include_pin=true) must not contain any secret, the admin token or any PIN (PINs read
from the fake Seam's /_fake/state); `check-config` on a broken secret must not echo it; data files are 0600 and
directories 0700.

Usage: forgeries.py [all|forgeries|hygiene]: the scenario always runs whole; only the checks of the part asked
for are counted (scripts/checks/73-forgeries and 74-secret-hygiene). Ends with "N passed, N failed".
"""
import base64
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lk  # noqa: E402

NEW = "whsec_" + base64.b64encode(b"forgeries: the NEW native secret!").decode()
OLD = "whsec_" + base64.b64encode(b"forgeries: the OLD native secret!").decode()
PARTNER = "whsec_" + base64.b64encode(b"forgeries: the partner's secret!").decode()
ADMIN = "adm-" + os.urandom(12).hex()
WRONG_ADMIN = "adm-" + os.urandom(12).hex()
FRONT, BACK = "11111111-1111-4111-8111-000000000001", "11111111-1111-4111-8111-000000000002"

CONFIG = """
server:
  bind: 127.0.0.1:8080
data_dir: {data}
log_level: debug
admin:
  token: {{env: LATCHKEY_ADMIN_TOKEN}}
sources:
  native:
    scheme: standard_webhooks
    secrets: {native}
  partner:
    adapter: native
    scheme: standard_webhooks
    secrets: [{{env: PARTNER_SECRET}}]
properties:
  - id: forgery-loft
    name: Forgery Loft
    time_zone: Europe/Berlin
    listings:
      native: [lst_forgery_native]
      partner: [lst_forgery_partner]
    device_ids: [{front}, {back}]
"""


class Scenario:
    def __init__(self, work):
        self.work = work
        self.data = os.path.join(work, "data")
        self.bodies = []          # every Latchkey response body, for the hygiene grep
        self.pin_bodies = []      # bodies that asked for the PIN on purpose
        self.logs = []
        self.signatures = []      # every signature value sent (refused ones too): never to be logged
        self.server = None

    def start(self, native_secrets):
        config = os.path.join(self.work, f"config-{len(self.logs)}.yaml")
        with open(config, "w") as f:
            f.write(CONFIG.format(data=self.data, native=native_secrets, front=FRONT, back=BACK))
        env = {"LATCHKEY_ADMIN_TOKEN": ADMIN, "NATIVE_SECRET_NEW": NEW, "NATIVE_SECRET_OLD": OLD,
               "PARTNER_SECRET": PARTNER, "LOG_LEVEL": "debug"}
        log = os.path.join(self.work, f"serve-{len(self.logs)}.log")
        self.logs.append(log)
        self.server = lk.Latchkey(data_dir=self.data, config=config, env=env, log_path=log).start()
        return self.server

    def call(self, method, path, body=b"", headers=None, keep=True):
        status, response_headers, response_body = lk.request(self.server.port, method, path, body, headers or {})
        (self.bodies if keep else self.pin_bodies).append(response_body)
        return status, response_headers, response_body

    def deliver(self, reservation, secret, source="native", listing="lst_forgery_native", delivery_id=None, timestamp=None,
                headers=None, body=None):
        body = body or lk.native_body(reservation, listing=listing)
        headers = headers or lk.sign_standard(body, secret, delivery_id=delivery_id, timestamp=timestamp)
        self.signatures.append(headers["webhook-signature"].split(",", 1)[1])
        status, response_headers, response_body = self.call("POST", f"/webhooks/{source}", body, headers)
        return status, response_headers, response_body, body, headers

    def admin(self, path, token=ADMIN, method="GET", keep=True):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.call(method, path, b"", headers, keep=keep)

    def wait_idle(self, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            status, _, body = self.admin("/v1/outbox")
            if status == 200 and not json.loads(body).get("intents"):
                return True
            time.sleep(0.2)
        return False

    def fake_state(self):
        url = self.server.fake_seam_url()
        port = int(url.rsplit(":", 1)[1])
        return json.loads(lk.request(port, "GET", "/_fake/state")[2])

    def state(self, reservations):
        """Everything a forgery must not change."""
        stats = subprocess.run([self.server.binary, "store", "stats", "--data-dir", self.data], capture_output=True, text=True).stdout
        counts = [line for line in stats.splitlines() if line.startswith(("entries:", "idempotency keys:"))]
        views = []
        for source, reservation in reservations:
            status, _, body = self.admin(f"/v1/reservations/{source}/{reservation}")
            views.append((status, json.loads(body) if status == 200 else None))
        outbox = json.loads(self.admin("/v1/outbox")[2])
        codes = sorted((c.get("access_code_id"), c.get("code"), c.get("status"), c.get("starts_at"), c.get("ends_at"))
                       for c in self.fake_state()["access_codes"])
        accepted = lk.metric_sum(self.server.metrics(), "latchkey_webhook_deliveries_total", result="accepted")
        self.bodies.append(b"")  # /metrics bodies are grepped separately
        return {"store": counts, "reservations": views, "outbox": outbox, "codes": codes, "accepted": accepted}


def error_type(body):
    try:
        return json.loads(body)["error"]["type"]
    except (ValueError, KeyError, TypeError):
        return None


def main():
    part = sys.argv[1] if len(sys.argv) > 1 else "all"
    if part not in ("all", "forgeries", "hygiene"):
        sys.exit("usage: forgeries.py [all|forgeries|hygiene]")
    checks = lk.Checks("forgeries" if part == "all" else part)

    def check(section, title, condition, detail=""):
        """Counts the check when it belongs to the part asked for; otherwise only reports a failure."""
        if part in ("all", section):
            return checks.check(title, condition, detail)
        if not condition:
            print(f"note: ({section}) {title} failed: {detail}")
        return condition

    work = tempfile.mkdtemp(prefix="latchkey-forgeries-")
    scenario = Scenario(work)
    metrics_texts = []
    pins = set()
    try:
        scenario.start("[{env: NATIVE_SECRET_NEW}, {env: NATIVE_SECRET_OLD}]")
        status, _, first_body, body1, headers1 = scenario.deliver("R-forgery-1", NEW)
        check("forgeries", f"a delivery signed with the current secret is accepted ({status})", status == 202, first_body[:200])
        status, _, body, _, _ = scenario.deliver("R-forgery-2", OLD)
        check("forgeries", f"during rotation the old secret is still accepted ({status})", status == 202, body[:200])
        status, _, body, _, _ = scenario.deliver("R-forgery-3", PARTNER, source="partner", listing="lst_forgery_partner")
        check("forgeries", f"the partner source accepts its own secret ({status})", status == 202, body[:200])
        check("forgeries", "the reconciler settles (outbox empty)", scenario.wait_idle())
        reservations = [("native", "R-forgery-1"), ("native", "R-forgery-2"), ("partner", "R-forgery-3")]
        baseline = scenario.state(reservations)
        check("forgeries", "baseline: three reservations known to the admin API", all(s == 200 for s, _ in baseline["reservations"]),
                     baseline["reservations"])
        print(f"     baseline: {baseline['store']}, {len(baseline['codes'])} access codes, accepted {int(baseline['accepted'])}")

        def unchanged(title):
            time.sleep(0.3)
            scenario.wait_idle(5)
            now = scenario.state(reservations)
            changed = [k for k in baseline if now[k] != baseline[k]]
            check("forgeries", f"{title}: no state changed", not changed, f"changed: {changed}: {[(baseline[k], now[k]) for k in changed]}")

        # Replay: the very same bytes again.
        status, response_headers, body = scenario.call("POST", "/webhooks/native", body1, headers1)
        check("forgeries", f"replayed delivery id → 200 duplicate with the first answer ({status}, "
                     f"Idempotent-Replayed: {response_headers.get('idempotent-replayed')})",
                     status == 200 and response_headers.get("idempotent-replayed") == "true" and body == first_body)
        unchanged("replay")
        for title, offset in [("stale timestamp (-1 h)", -3600), ("future timestamp (+1 h)", 3600)]:
            status, _, body, _, _ = scenario.deliver("R-forgery-stale", NEW, timestamp=time.time() + offset)
            check("forgeries", f"{title} → 401 {error_type(body)}", status == 401 and error_type(body) is not None, body[:200])
            unchanged(title)
        status, _, body, _, _ = scenario.deliver("R-forgery-cross", PARTNER)
        check("forgeries", f"another source's secret → 401 {error_type(body)}", status == 401 and error_type(body) is not None, body[:200])
        unchanged("another source's secret")
        # A valid partner signature over a native-looking body sent to native, replaying partner's delivery id.
        status, _, body = scenario.call("POST", "/webhooks/native", body1, lk.sign_standard(body1, PARTNER, delivery_id=headers1["webhook-id"]))
        check("forgeries", f"replayed id re-signed with another source's secret → 401 {error_type(body)}", status == 401, body[:200])
        unchanged("re-signed replay")
        for title, token in [("admin call without a token", None), ("admin call with a wrong token", WRONG_ADMIN)]:
            status, response_headers, body = scenario.admin("/v1/reservations/native/R-forgery-1", token=token)
            check("forgeries", f"{title} → 401 {error_type(body)} (WWW-Authenticate: {response_headers.get('www-authenticate')})",
                         status == 401 and error_type(body) == "unauthorized" and b"R-forgery" not in body, body[:200])
            status, _, body = scenario.admin("/v1/outbox/any/retry", token=token, method="POST")
            check("forgeries", f"{title} on POST /v1/outbox/any/retry → 401", status == 401 and error_type(body) == "unauthorized", body[:200])
            unchanged(title)
        status, _, body = scenario.admin("/v1/reservations/native/R-forgery-1?include_pin=true", keep=False)
        view_pin = json.dumps(json.loads(body)) if status == 200 else ""
        check("forgeries", "the admin token opens the admin API (include_pin=true shows a PIN)", status == 200 and '"pin"' in view_pin.lower(), body[:300])
        metrics_texts.append(scenario.server.metrics())
        for code in scenario.fake_state()["access_codes"]:
            if code.get("code"):
                pins.add(str(code["code"]))
        scenario.server.stop()

        # Rotation finished: OLD dropped.
        scenario.start("[{env: NATIVE_SECRET_NEW}]")
        check("forgeries", "restarted with the old secret removed", scenario.wait_idle())
        baseline = scenario.state(reservations)
        status, _, body, _, _ = scenario.deliver("R-forgery-old", OLD)
        check("forgeries", f"after rotation the removed secret → 401 {error_type(body)}", status == 401 and error_type(body) is not None, body[:200])
        unchanged("removed secret")
        status, _, body, _, _ = scenario.deliver("R-forgery-4", NEW)
        check("forgeries", f"after rotation the current secret is accepted ({status})", status == 202, body[:200])
        scenario.wait_idle()
        metrics_texts.append(scenario.server.metrics())
        for code in scenario.fake_state()["access_codes"]:
            if code.get("code"):
                pins.add(str(code["code"]))
        scenario.server.stop()

        # check-config on a broken secret must not echo it.
        broken = "whsec_!!this-is-not-base64-" + os.urandom(6).hex()
        config = os.path.join(work, "broken.yaml")
        with open(config, "w") as f:
            f.write(CONFIG.format(data=scenario.data, native="[{env: NATIVE_SECRET_NEW}]", front=FRONT, back=BACK))
        result = subprocess.run([scenario.server.binary, "check-config", "--config", config], capture_output=True, text=True,
                                env=dict(os.environ, NATIVE_SECRET_NEW=broken, PARTNER_SECRET=PARTNER, LATCHKEY_ADMIN_TOKEN=ADMIN))
        output = result.stdout + result.stderr
        check("hygiene", f"check-config refuses a malformed secret (exit {result.returncode})", result.returncode != 0, output[-300:])
        check("hygiene", "check-config's error does not echo the secret", broken not in output and broken[6:] not in output, output[-300:])

        # serve refusing to start on the broken secret must not echo it either.
        result = subprocess.run([scenario.server.binary, "serve", "--config", config, "--bind", "127.0.0.1:0",
                                 "--data-dir", os.path.join(work, "refused")], capture_output=True, text=True, timeout=30,
                                env=dict(os.environ, NATIVE_SECRET_NEW=broken, PARTNER_SECRET=PARTNER, LATCHKEY_ADMIN_TOKEN=ADMIN))
        output = result.stdout + result.stderr
        check("hygiene", f"serve refuses to start on a malformed secret (exit {result.returncode})", result.returncode != 0, output[-300:])
        check("hygiene", "serve's startup error does not echo the secret", broken not in output and broken[6:] not in output, output[-300:])

        # MARK: hygiene
        check("hygiene", f"PINs read from the fake Seam ({len(pins)})", len(pins) >= 3, pins)
        logs = "".join(open(path, encoding="utf-8", errors="replace").read() for path in scenario.logs)
        bodies = b"\n".join(scenario.bodies).decode("utf-8", "replace")
        metrics = "\n".join(metrics_texts)
        debug_lines = sum(1 for line in logs.splitlines() if '"level":"debug"' in line)
        print(f"     collected {len(logs.splitlines())} log lines ({debug_lines} at debug), {len(scenario.bodies)} response bodies, "
              f"{len(metrics)} bytes of /metrics")
        needles = {"NEW secret": NEW, "OLD secret": OLD, "partner secret": PARTNER, "admin token": ADMIN,
                   "wrong admin token": WRONG_ADMIN}
        for name, value in list(needles.items()):
            if value.startswith("whsec_"):
                needles[name + " (key part)"] = value[6:]
                needles[name + " (key hex)"] = base64.b64decode(value[6:]).hex()
        for name, value in needles.items():
            for where, text in [("logs", logs), ("metrics", metrics), ("response bodies", bodies)]:
                check("hygiene", f"{name} absent from {where}", value not in text)
        logged = [sig for sig in scenario.signatures if sig in logs]
        check("hygiene", f"none of the {len(scenario.signatures)} signatures sent (valid or forged) is logged", not logged, logged[:2])
        for where, text in [("logs", logs), ("metrics", metrics), ("response bodies", bodies)]:
            leaked = sorted(pin for pin in pins if f'"{pin}"' in text or f"={pin}" in text or f": {pin}" in text or f" {pin} " in text)
            check("hygiene", f"no PIN in {where}", not leaked, f"leaked {leaked}")
        check("hygiene", "the PIN disclosure is logged without the PIN", "PIN disclosed" in logs)

        mode = lambda p: stat.S_IMODE(os.stat(p).st_mode)  # noqa: E731
        check("hygiene", f"data directory is 0700 ({oct(mode(scenario.data))})", mode(scenario.data) == 0o700)
        files = []
        for directory, subdirs, names in os.walk(scenario.data):
            for sub in subdirs:
                check("hygiene", f"{os.path.relpath(os.path.join(directory, sub), scenario.data)}/ is 0700 "
                             f"({oct(mode(os.path.join(directory, sub)))})", mode(os.path.join(directory, sub)) == 0o700)
            files += [os.path.join(directory, n) for n in names]
        bad = [(os.path.relpath(p, scenario.data), oct(mode(p))) for p in files if mode(p) != 0o600]
        check("hygiene", f"every data file is 0600 ({len(files)} files)", files and not bad, bad)
    finally:
        if scenario.server:
            scenario.server.stop()
        if os.environ.get("HOSTILE_KEEP") == "1":
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    checks.finish()


if __name__ == "__main__":
    main()
