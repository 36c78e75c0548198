#!/usr/bin/env python3
"""Starts the sandbox `latchkey serve` on DATA_DIR, posts one signed native delivery, waits briefly, stops.
Used by scripts/checks/70-fuzz to get a real journal and snapshot as seeds.
Usage: serve_once.py LATCHKEY_BIN DATA_DIR"""
import os, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lk

server = lk.Latchkey(data_dir=sys.argv[2], binary=sys.argv[1], log_path=sys.argv[2] + ".log").start()
try:
    status, _, body = lk.signed_delivery(server.port, "fuzz-seed-" + os.urandom(3).hex())
    if status != 202:
        sys.exit(f"delivery answered {status}: {body[:200]!r}")
    time.sleep(1)
finally:
    server.stop()
