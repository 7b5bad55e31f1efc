"""Table of the serving benchmark: requests/s, p50/p99 per server and connection count, and ratios."""

from __future__ import annotations

import json
import sys


def main(path: str) -> None:
    with open(path) as f:
        data = json.load(f)
    rows = {}
    for b in data["benchmarks"]:
        p = b["params"]
        rows[(p["impl"], p.get("server", "uvicorn"), p["conns"])] = b["extra_info"]
    print("| app | server | connections | requests/s | p50 ms | p99 ms |")
    print("|---|---|---|---|---|---|")
    for (impl, server, conns), r in sorted(rows.items(), key=lambda kv: (kv[0][2], kv[0][1], kv[0][0])):
        print(f"| {impl} | {server} | {conns} | {r['rps']:.0f} | {r['p50_ms']:.3f} | {r['p99_ms']:.3f} |")
    print()
    for server in ("uvicorn", "granian"):
        for conns in (1, 32):
            raw = rows.get(("raw", server, conns))
            for impl in ("mlcore_unbatched", "mlcore_batched"):
                r = rows.get((impl, server, conns))
                if raw and r:
                    print(f"- {server}, {conns} conn: {impl} per-request cost = {raw['rps'] / r['rps']:.2f}x "
                          "the raw ASGI constant endpoint")
        b, u = rows.get(("mlcore_batched", server, 32)), rows.get(("mlcore_unbatched", server, 32))
        if b and u:
            print(f"- {server}, 32 conn: batched / unbatched throughput = {b['rps'] / u['rps']:.2f}x")


if __name__ == "__main__":
    main(sys.argv[1])
