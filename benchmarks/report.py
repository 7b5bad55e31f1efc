"""Turn a pytest-benchmark JSON file into a Markdown table of medians and ratios.

Usage: python benchmarks/report.py RESULTS.json [--base mlcore]

For each benchmark group (one operation on one input), the row gives every implementation's median
and the ratio peer median / base median: above 1 means the base (mlcore) is faster.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict


def _fmt_time(s: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9)):
        if s >= scale:
            return f"{s / scale:.3g} {unit}"
    return f"{s:.3g} s"


def main(argv=None) -> str:
    ap = argparse.ArgumentParser()
    ap.add_argument("json_path")
    ap.add_argument("--base", default="mlcore")
    args = ap.parse_args(argv)
    with open(args.json_path) as f:
        data = json.load(f)
    groups: dict[str, dict[str, float]] = defaultdict(dict)
    for b in data["benchmarks"]:
        impl = b["params"].get("impl", b["name"])
        groups[b["group"]][impl] = b["stats"]["median"]
    impls = sorted({i for g in groups.values() for i in g}, key=lambda i: (i != args.base, i))
    peers = [i for i in impls if i != args.base]
    head = ["case"] + [f"{i} median" for i in impls] + [f"{p} / {args.base}" for p in peers]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for g in sorted(groups):
        row = [g] + [_fmt_time(groups[g][i]) if i in groups[g] else "-" for i in impls]
        base = groups[g].get(args.base)
        for p in peers:
            row.append(f"{groups[g][p] / base:.2f}×" if base and p in groups[g] else "-")
        lines.append("| " + " | ".join(row) + " |")
    machine = data.get("machine_info", {})
    lines.append("")
    lines.append(f"{machine.get('cpu', {}).get('brand_raw', '?')}, python {machine.get('python_version', '?')}, "
                 f"{data.get('datetime', '')[:10]}")
    text = "\n".join(lines)
    print(text)
    return text


if __name__ == "__main__":
    main()
