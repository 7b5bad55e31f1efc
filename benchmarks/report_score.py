"""Table of the batch-scoring benchmark (rows/s, CPU s, peak RSS) with the ratios the issue asks for."""

from __future__ import annotations

import json
import sys


def main(path: str) -> None:
    with open(path) as f:
        data = json.load(f)
    rows = {b["name"].split("[", 1)[1].rstrip("]"): b["extra_info"] for b in data["benchmarks"]}
    print("| case | rows | rows/s | CPU s | peak RSS MB |")
    print("|---|---|---|---|---|")
    for k, r in rows.items():
        print(f"| {k} | {r.get('rows', 0):,} | {r.get('rows_per_s', 0):,.0f} | {r.get('cpu_s', float('nan')):.1f} | "
              f"{r.get('peak_rss_mb', float('nan')):,.0f} |")
    mem, p2p = rows.get("in_memory_predict"), rows.get("parquet_to_parquet")
    if mem and p2p:
        print(f"\n- Parquet->Parquet / in-memory predictor throughput = {p2p['rows_per_s'] / mem['rows_per_s']:.2f}x")
    one = rows.get("parquet_to_parquet_1m")
    if one and p2p:
        print(f"- peak RSS, {one['rows']:,} rows: {one['peak_rss_mb']:,.0f} MB; {p2p['rows']:,} rows: {p2p['peak_rss_mb']:,.0f} MB")


if __name__ == "__main__":
    main(sys.argv[1])
