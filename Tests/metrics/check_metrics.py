#!/usr/bin/env python3
"""Parse a Prometheus text exposition with the official client's parser and check its invariants.

Usage: check_metrics.py FILE|URL [--expect NAME:TYPE ...]

FILE may be '-' for standard input. A URL is fetched with Accept-Encoding: gzip (and decompressed),
as a Prometheus server would scrape it.

Checks, beyond "the parser accepts it":
  * every histogram series has cumulative, non-decreasing buckets ending in le="+Inf",
    and its +Inf bucket equals its _count;
  * counters are not negative;
  * each --expect NAME:TYPE family is present with that type.
On success prints a JSON summary {"families": {name: {"type":..., "samples": n}}} and exits 0;
on failure prints the problems to stderr and exits 1. Exits 2 when prometheus_client is missing.
"""
import gzip
import json
import math
import sys
import urllib.request

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:  # pragma: no cover
    print("prometheus_client is not installed: pip install prometheus_client", file=sys.stderr)
    sys.exit(2)


def read_exposition(target):
    if target == "-":
        return sys.stdin.read()
    if target.startswith(("http://", "https://")):
        request = urllib.request.Request(target, headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
            if response.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            content_type = response.headers.get("Content-Type", "")
            if not content_type.startswith("text/plain"):
                raise SystemExit(f"unexpected Content-Type {content_type!r}")
            return body.decode("utf-8")
    with open(target, "rb") as handle:
        body = handle.read()
    if body[:2] == b"\x1f\x8b":
        body = gzip.decompress(body)
    return body.decode("utf-8")


def check(text, expectations):
    problems = []
    summary = {}
    for family in text_string_to_metric_families(text):
        summary[family.name] = {"type": family.type, "samples": len(family.samples)}
        if family.type == "counter":
            for sample in family.samples:
                if sample.name.endswith("_total") and sample.value < 0:
                    problems.append(f"{sample.name}{sample.labels} is negative")
        if family.type == "histogram":
            series = {}
            for sample in family.samples:
                labels = {k: v for k, v in sample.labels.items() if k != "le"}
                key = tuple(sorted(labels.items()))
                entry = series.setdefault(key, {"buckets": [], "count": None, "sum": None})
                if sample.name.endswith("_bucket"):
                    entry["buckets"].append((float(sample.labels["le"]), sample.value))
                elif sample.name.endswith("_count"):
                    entry["count"] = sample.value
                elif sample.name.endswith("_sum"):
                    entry["sum"] = sample.value
            for key, entry in series.items():
                bounds = [b for b, _ in entry["buckets"]]
                counts = [c for _, c in entry["buckets"]]
                if not bounds or not math.isinf(bounds[-1]):
                    problems.append(f"{family.name}{dict(key)}: last bucket is not le=+Inf")
                if bounds != sorted(bounds):
                    problems.append(f"{family.name}{dict(key)}: bucket bounds out of order")
                if counts != sorted(counts):
                    problems.append(f"{family.name}{dict(key)}: bucket counts are not cumulative")
                if entry["count"] is None or entry["sum"] is None:
                    problems.append(f"{family.name}{dict(key)}: _count or _sum missing")
                elif counts and counts[-1] != entry["count"]:
                    problems.append(f"{family.name}{dict(key)}: +Inf bucket {counts[-1]} != _count {entry['count']}")
    for expectation in expectations:
        name, _, kind = expectation.partition(":")
        if name not in summary:
            problems.append(f"expected family {name} is missing")
        elif kind and summary[name]["type"] != kind:
            problems.append(f"family {name} has type {summary[name]['type']}, expected {kind}")
    return problems, summary


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__, file=sys.stderr)
        return 2
    expectations = []
    args = argv[2:]
    while args:
        if args[0] == "--expect" and len(args) > 1:
            expectations.append(args[1])
            args = args[2:]
        else:
            print(f"unknown argument {args[0]!r}", file=sys.stderr)
            return 2
    try:
        problems, summary = check(read_exposition(argv[1]), expectations)
    except ValueError as error:  # the parser's complaint about malformed text
        print(f"not valid Prometheus text: {error}", file=sys.stderr)
        return 1
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    print(json.dumps({"families": summary}, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
