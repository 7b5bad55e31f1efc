"""The full default drift report: mlcore against NannyML and Evidently, each in its own process.

``mlcore`` is the default monitor (``keep="table"``: the check sorts one reference and one current
column at a time); ``mlcore-sorted`` keeps the sorted reference (``keep="sorted"``), which pays
the memory of a sorted copy for cheaper repeated checks. NannyML and Evidently do not install next to mlcore (BENCHMARKING.md): they run in their own
venv, given by ``MLCORE_PEER_PYTHON``, on the same saved data. Every implementation runs in a
fresh subprocess that loads the data, warms up once (imports, JIT compile), then times its check
(CPU seconds of the process, all threads) and reports the extra peak memory of the check (maximum
resident set after minus the resident set before the timed call, in MiB) and which features it
flagged.

    MLCORE_PEER_PYTHON=<peer venv>/bin/python MLCORE_BENCH_ROWS=1000000 python benchmarks/peers_monitor.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

import numpy as np

ROWS = int(os.environ.get("MLCORE_BENCH_ROWS", "1000000"))
SHIFTS = (0.02, 0.05, 0.1, 0.15, 0.2)
N_FEATURES = 20

_CHILD = r'''
import json, os, resource, sys, time
import numpy as np
impl, folder = sys.argv[1], sys.argv[2]
ref = np.load(os.path.join(folder, "ref.npy")); cur = np.load(os.path.join(folder, "cur.npy"))
cols = [f"f{i}" for i in range(ref.shape[1])]

def rss():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

if impl in ("mlcore", "mlcore-sorted"):
    import pyarrow as pa
    from mlcore.monitor import DriftMonitor
    keep = "sorted" if impl == "mlcore-sorted" else "table"
    def prep(a):
        return pa.table({c: np.ascontiguousarray(a[:, i]) for i, c in enumerate(cols)})
    def run(rd, cd):
        rep = DriftMonitor(keep=keep).fit(rd).check(cd)
        return [f.drifted for f in rep.features]
elif impl == "nannyml":
    import warnings
    warnings.simplefilter("ignore")
    import pandas as pd, nannyml as nml
    def prep(a):
        return pd.DataFrame(a, columns=cols)
    def run(rd, cd):
        # NannyML's thresholds come from the spread of the statistic over reference chunks: with
        # one chunk they collapse to 0 and every feature alerts, so both sides get 10 chunks and
        # a feature counts as flagged when any of its analysis chunks alerts.
        calc = nml.UnivariateDriftCalculator(column_names=cols, chunk_number=10,
                                             continuous_methods=["kolmogorov_smirnov", "jensen_shannon"])
        calc.fit(rd)
        res = calc.calculate(cd).filter(period="analysis").to_df()
        return [bool(res[(c, "kolmogorov_smirnov", "alert")].any()) for c in cols]
elif impl == "evidently":
    import pandas as pd
    from evidently import Report
    from evidently.presets import DataDriftPreset
    def prep(a):
        return pd.DataFrame(a, columns=cols)
    def run(rd, cd):
        snap = Report([DataDriftPreset()]).run(cd, rd)
        # the preset's per-column drift score; its default rule flags a numeric column of more
        # than 1,000 rows when the normed Wasserstein distance is >= 0.1
        flags = {c: None for c in cols}
        for m in snap.dict().get("metrics", []):
            name = str(m.get("metric_name", m.get("metric_id", "")))
            for c in cols:
                if f"column={c})" in name or f"column={c}," in name:
                    v = m.get("value")
                    if isinstance(v, (int, float)):
                        flags[c] = bool(v >= 0.1)
        return [flags[c] for c in cols]
# warm-up on 2,000 rows (lazy imports, JIT compilation), then the timed call on all rows
run(prep(ref[:2000]), prep(cur[:2000]))
rd, cd = prep(ref), prep(cur)
before = rss()
t0 = time.process_time()
flags = run(rd, cd)
cpu = time.process_time() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"impl": impl, "cpu_s": cpu, "extra_peak_mib": max(0, peak - before) / 2**20, "flags": flags}))
'''


def main() -> None:
    rng = np.random.default_rng(20261129)
    ref = rng.normal(size=(ROWS, N_FEATURES))
    shifts = np.array(list(SHIFTS) + [0.0] * (N_FEATURES - len(SHIFTS)))
    cur = rng.normal(size=(ROWS, N_FEATURES)) + shifts
    peer_python = os.environ.get("MLCORE_PEER_PYTHON")
    with tempfile.TemporaryDirectory() as folder:
        np.save(os.path.join(folder, "ref.npy"), ref)
        np.save(os.path.join(folder, "cur.npy"), cur)
        rows = []
        impls = (("mlcore", sys.executable), ("mlcore-sorted", sys.executable), ("nannyml", peer_python),
                 ("evidently", peer_python))
        for impl, py in impls:
            if py is None:
                print(f"{impl}: skipped (set MLCORE_PEER_PYTHON)", file=sys.stderr)
                continue
            proc = subprocess.run([py, "-c", _CHILD, impl, folder], capture_output=True, text=True, timeout=3000)
            if proc.returncode != 0:
                print(f"{impl} failed: {proc.stderr[-2000:]}", file=sys.stderr)
                continue
            rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    base = next((r for r in rows if r["impl"] == "mlcore"), None)
    print(f"{ROWS:,} rows per side, 20 features, 5 drifted")
    print("| implementation | CPU s | extra peak MiB | mlcore / peer CPU | mlcore / peer memory | drifted found (of 5) | false alarms (of 15) |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        f = r["flags"]
        cpu = f"{base['cpu_s'] / r['cpu_s']:.3f}×" if base else "-"
        mem = f"{base['extra_peak_mib'] / r['extra_peak_mib']:.2f}×" if base and r["extra_peak_mib"] else "-"
        print(f"| {r['impl']} | {r['cpu_s']:.2f} | {r['extra_peak_mib']:.0f} | {cpu} | {mem} | "
              f"{sum(bool(v) for v in f[:5])} | {sum(bool(v) for v in f[5:])} |")


if __name__ == "__main__":
    main()
