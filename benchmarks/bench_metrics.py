"""Metrics against sklearn.metrics, side by side in one run (issue 5, "Performance").

- 10M predictions (binary labels, continuous scores with ties from rounding to 1e-6, predicted
  labels): ROC AUC, log loss and F1 through each library's public function.
- Bootstrap: 1,000 resamples of ROC AUC on 1M rows with mlcore (Poisson bootstrap: one sort,
  then one pass per resample; all cores, and pinned to 1 thread) against 20 resamples with
  sklearn (index resampling + roc_auc_score per resample, the usual loop).

Run: python -m pytest -c benchmarks/pytest.ini benchmarks/bench_metrics.py --benchmark-json=metrics.json
then python benchmarks/report.py metrics.json. Ratios above 1 mean mlcore is faster.
"""

from __future__ import annotations

import numba
import numpy as np
import pytest
import sklearn.metrics as skm

from mlcore.evaluate import bootstrap_metric
from mlcore.evaluate import metrics as M

N = 10_000_000
N_BOOT_ROWS = 1_000_000


def _data(n, seed):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(np.int64)
    s = np.round(np.clip(0.25 * y + 0.75 * rng.random(n), 0, 1), 6)
    return y, s, (s >= 0.5).astype(np.int64)


Y, S, YHAT = _data(N, 42)
YB, SB, _ = _data(N_BOOT_ROWS, 7)

CASES = {
    "roc_auc": (lambda: M.roc_auc_score(Y, S), lambda: skm.roc_auc_score(Y, S)),
    "log_loss": (lambda: M.log_loss(Y, S), lambda: skm.log_loss(Y, S)),
    "f1": (lambda: M.f1_score(Y, YHAT), lambda: skm.f1_score(Y, YHAT)),
}


@pytest.mark.parametrize("impl", ["mlcore", "sklearn"])
@pytest.mark.parametrize("case", list(CASES))
def bench_metric_10m(benchmark, case, impl):
    benchmark.group = f"{case} / 10M rows"
    ours, theirs = CASES[case]
    fn = ours if impl == "mlcore" else theirs
    got = benchmark.pedantic(fn, rounds=3, iterations=1, warmup_rounds=1 if impl == "mlcore" else 0)
    assert got == pytest.approx(theirs() if impl == "mlcore" else ours(), rel=1e-9)


def _sklearn_boot(n_boot):
    rng = np.random.default_rng(0)
    out = np.empty(n_boot)
    for b in range(n_boot):
        idx = rng.integers(0, YB.size, YB.size)
        out[b] = skm.roc_auc_score(YB[idx], SB[idx])
    return np.quantile(out, [0.025, 0.975])


@pytest.mark.parametrize("impl", ["mlcore", "mlcore-1thread", "sklearn"])
def bench_bootstrap_auc_1m(benchmark, impl):
    benchmark.group = "bootstrap AUC, 1M rows: mlcore 1000 resamples vs sklearn 20"
    if impl == "sklearn":
        benchmark.pedantic(_sklearn_boot, args=(20,), rounds=2, iterations=1)
        return
    threads = numba.get_num_threads()
    if impl == "mlcore-1thread":
        numba.set_num_threads(1)
    try:
        ci = benchmark.pedantic(lambda: bootstrap_metric("roc_auc", YB, SB, n_boot=1000, seed=1),
                                rounds=2, iterations=1, warmup_rounds=1)
    finally:
        numba.set_num_threads(threads)
    assert ci.n_valid == 1000 and ci.low < ci.value < ci.high
