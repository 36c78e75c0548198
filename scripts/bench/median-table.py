#!/usr/bin/env python3
"""Medians per target over rounds of a TSV (header row; columns `name` and numeric ones), with ratios to a baseline.

  median-table.py --baseline nginx results.tsv [--columns rps,p50_us,p99_us,...]
Prints a Markdown table: one row per target, the median of each column, then `rps/base`, `p99/base`,
`cpu/base` where those columns exist.
"""
import argparse
import csv
import statistics
import sys


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("files", nargs="+")
    ap.add_argument("--baseline", required=True)
    ap.add_argument("--columns", default="rps,p50_us,p99_us,cpu_us_per_req,rss_kb,rss_peak_kb,ok,other,errors")
    args = ap.parse_args()
    rows = []
    for path in args.files:
        with open(path, newline="") as f:
            rows += [r for r in csv.DictReader(f, delimiter="\t") if r.get("name") not in (None, "name")]
    columns = [c for c in args.columns.split(",") if rows and c in rows[0]]
    names = list(dict.fromkeys(r["name"] for r in rows))
    med = {}
    for n in names:
        mine = [r for r in rows if r["name"] == n]
        med[n] = {c: statistics.median(float(r[c]) for r in mine if r[c] not in ("", None)) for c in columns}
        med[n]["rounds"] = len(mine)
    base = med.get(args.baseline)
    ratios = [(c, label) for c, label in (("rps", "rps/base"), ("p99_us", "p99/base"), ("cpu_us_per_req", "cpu/base")) if c in columns]
    head = ["target", "rounds"] + columns + ([label for _, label in ratios] if base else [])
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for n in names:
        cells = [n, str(med[n]["rounds"])]
        for c in columns:
            v = med[n][c]
            cells.append(f"{v:.1f}" if c.startswith("cpu") else f"{v:.0f}")
        if base:
            for c, _ in ratios:
                cells.append(f"{med[n][c] / base[c]:.2f}" if base[c] else "-")
        print("| " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
