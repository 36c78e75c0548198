#!/usr/bin/env python3
"""Generate Standard Webhooks / Svix signature vectors with the official PyPI libraries.

Writes Tests/WebhookAuthTests/Fixtures/library-vectors.json. Each vector records the library that
signed it, the header family to send, the body (UTF-8 text), the secrets, the timestamp and the
headers. WebhookAuthTests asserts Latchkey's verifier accepts every one of them at `timestamp`, and
that each library also accepts its own vector (checked here before writing).

Usage:  pip install standardwebhooks svix && python3 scripts/gen-signature-vectors.py
Versions used for the committed fixture: standardwebhooks 1.1.0, svix 2.9.1.
"""
import json
import pathlib
from datetime import datetime, timezone
from importlib.metadata import version

import standardwebhooks
import svix.webhooks

OUT = pathlib.Path(__file__).resolve().parent.parent / "Tests/WebhookAuthTests/Fixtures/library-vectors.json"

# Fixed inputs so the fixture is reproducible (HMAC is deterministic).
SECRETS = [
    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",          # Vector A's secret
    "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",          # Vector B's secret
    "whsec_dGhpcyBpcyBhIDMyIGJ5dGUga2V5IGZvciBsYXRjaGtleSE=",  # 32 bytes, padded
]
BODIES = [
    '{"type":"access_code.set_on_device","data":{"access_code_id":"ac_1"}}',
    '{"event": "reservation.updated", "reservation": {"_id": "59d11425af06e3100095e9fe", "status": "confirmed"}}',
    '{"guest":"Zoë Ångström","note":"naïve café ✓"}',
    "",
]


def sign_with(lib, secret, msg_id, ts, body):
    if lib == "standardwebhooks":
        return standardwebhooks.Webhook(secret).sign(msg_id, ts, body)
    return svix.webhooks.Webhook(secret).sign(msg_id, ts, body)


def verify_with(lib, secret, body, headers):
    if lib == "standardwebhooks":
        standardwebhooks.Webhook(secret).verify(body, headers, json_parse=False)
    else:
        svix.webhooks.Webhook(secret).verify(body, headers)


def main():
    vectors = []
    n = 0
    now = datetime.now(tz=timezone.utc)
    for lib, family in (("standardwebhooks", "webhook"), ("svix", "svix")):
        for i, body in enumerate(BODIES):
            secret = SECRETS[i % len(SECRETS)]
            n += 1
            msg_id = f"msg_gen{n:03d}_{lib}"
            ts = datetime.fromtimestamp(1_700_000_000 + n * 3600, tz=timezone.utc)
            sig = sign_with(lib, secret, msg_id, ts, body)
            vectors.append({
                "library": lib, "headers": family, "secrets": [secret], "id": msg_id,
                "timestamp": int(ts.timestamp()), "body": body, "signature": sig,
            })
        # Rotation: the sender signs with the old and the new secret; the receiver knows only the new one.
        n += 1
        msg_id = f"msg_gen{n:03d}_{lib}_rotation"
        ts = datetime.fromtimestamp(1_700_000_000 + n * 3600, tz=timezone.utc)
        body = BODIES[0]
        sigs = " ".join(sign_with(lib, s, msg_id, ts, body) for s in SECRETS[:2])
        vectors.append({
            "library": lib, "headers": family, "secrets": [SECRETS[1]], "id": msg_id,
            "timestamp": int(ts.timestamp()), "body": body, "signature": sigs,
        })

    # Self-check: each library accepts what it signed (re-signed at the current time, as the
    # libraries refuse timestamps outside ±5 min and cannot be given a clock).
    for v in vectors:
        for secret in v["secrets"]:
            sig = sign_with(v["library"], secret, v["id"], now, v["body"])
            p = v["headers"]
            verify_with(v["library"], secret, v["body"].encode(),
                        {f"{p}-id": v["id"], f"{p}-timestamp": str(int(now.timestamp())), f"{p}-signature": sig})

    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({
        "generator": "scripts/gen-signature-vectors.py",
        "libraries": {"standardwebhooks": version("standardwebhooks"), "svix": version("svix")},
        "vectors": vectors,
    }, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {len(vectors)} vectors to {OUT}")


if __name__ == "__main__":
    main()
