"""A whole feature plan against scikit-learn's ColumnTransformer, and text hashing against
HashingVectorizer, side by side in one run.

Data (seeded): ``MLCORE_BENCH_ROWS`` rows (default 1,000,000) × 20 float64 columns (2% NaN),
5 string categorical columns (cardinality 4, 12, 50, 200, 1000) and one text column (3-15 words
from a 5,000-word vocabulary, mixed case and punctuation). The plan: StandardScaler on the
numeric columns, OneHotEncoder(handle_unknown='ignore') on the categorical ones,
HashingVectorizer(n_features=2**18) on the text; the peer is the same ColumnTransformer
(sparse output). mlcore reads the Arrow table; scikit-learn the same data as a pandas DataFrame
(conversion not timed). ``mlcore`` runs with Numba's default thread count (the machine's cores),
``mlcore-1thread`` with one thread; scikit-learn is single-threaded here.

Each case also records, for one call, the extra peak resident memory (``extra_info['peak_mib']``:
RSS sampled every 2 ms, minus RSS before the call) and the process CPU seconds beside the wall
seconds (``cpu_s``, ``wall_s``).

Run: python -m pytest -c benchmarks/pytest.ini benchmarks/bench_features.py --benchmark-json=out.json
"""

from __future__ import annotations

import os
import threading
import time

import numba
import numpy as np
import pyarrow as pa
import pytest

import mlcore.features as mf

N = int(os.environ.get("MLCORE_BENCH_ROWS", "1000000"))
N_FEATURES = 2**18
CARDS = (4, 12, 50, 200, 1000)


def _data():
    rng = np.random.default_rng(42)
    cols = {}
    for j in range(20):
        x = rng.normal(j, 1 + j, N)
        x[rng.random(N) < 0.02] = np.nan
        cols[f"x{j}"] = x
    for j, card in enumerate(CARDS):
        labels = np.array([f"cat{j}_{k}" for k in range(card)], dtype=object)
        cols[f"c{j}"] = labels[rng.zipf(1.3, N) % card]
    vocab = np.array([("W" if k % 7 == 0 else "w") + f"ord{k}" + ("," if k % 11 == 0 else "") for k in range(5000)])
    lens = rng.integers(3, 16, N)
    words = vocab[rng.integers(0, 5000, int(lens.sum()))]
    ends = np.cumsum(lens)
    flat = " ".join(words.tolist()).split(" ")
    docs = []
    start = 0
    for e in ends:
        docs.append(" ".join(flat[start:e]))
        start = e
    cols["text"] = docs
    table = pa.table({k: (pa.array(v, pa.string()) if v.dtype == object else pa.array(v)) if isinstance(v, np.ndarray) else pa.array(v, pa.string())
                      for k, v in cols.items()})
    return table


TABLE = _data()
FRAME = TABLE.to_pandas()
for _c in [f"c{j}" for j in range(5)] + ["text"]:
    FRAME[_c] = FRAME[_c].astype(object)
NUM = [f"x{j}" for j in range(20)]
CAT = [f"c{j}" for j in range(5)]


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _peak_mib(fn) -> tuple[float, float, float]:
    """(extra peak RSS in MiB, CPU seconds, wall seconds) of one call of fn."""
    base = _rss()
    peak = [base]
    done = threading.Event()

    def watch():
        while not done.is_set():
            peak[0] = max(peak[0], _rss())
            time.sleep(0.002)

    th = threading.Thread(target=watch)
    th.start()
    c0, w0 = time.process_time(), time.perf_counter()
    try:
        fn()
    finally:
        c1, w1 = time.process_time(), time.perf_counter()
        done.set()
        th.join()
    peak[0] = max(peak[0], _rss())
    return (peak[0] - base) / 2**20, c1 - c0, w1 - w0


def _mlcore_plan(threads):
    return mf.FeaturePlan([
        mf.StandardScaler(NUM),
        mf.OneHotEncoder(CAT, handle_unknown="ignore", sparse_output=True),
        mf.HashingVectorizer(["text"], n_features=N_FEATURES),
    ], n_threads=threads)


def _sklearn_plan():
    from sklearn import compose, preprocessing
    from sklearn.feature_extraction.text import HashingVectorizer

    return compose.ColumnTransformer([
        ("num", preprocessing.StandardScaler(), NUM),
        ("cat", preprocessing.OneHotEncoder(handle_unknown="ignore"), CAT),
        ("text", HashingVectorizer(n_features=N_FEATURES), "text"),
    ], sparse_threshold=1.0)


IMPLS = ["mlcore", "mlcore-1thread", "sklearn"]


def _threads(impl):
    return 1 if impl == "mlcore-1thread" else numba.config.NUMBA_NUM_THREADS


def _run(benchmark, impl, fn, group):
    benchmark.group = f"{group} ({N:,} rows)"
    if impl.startswith("mlcore"):
        numba.set_num_threads(_threads(impl))
        fn()  # warm-up: JIT caches, Arrow pool
    try:
        peak, cpu, wall = _peak_mib(fn)
        benchmark.extra_info.update(peak_mib=round(peak, 1), cpu_s=round(cpu, 3), wall_s=round(wall, 3))
        benchmark.extra_info["threads"] = _threads(impl) if impl.startswith("mlcore") else 1
        result = benchmark.pedantic(fn, rounds=3, iterations=1)
    finally:
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    return result


@pytest.mark.parametrize("impl", IMPLS)
def bench_plan_fit(benchmark, impl):
    if impl == "sklearn":
        _run(benchmark, impl, lambda: _sklearn_plan().fit(FRAME), "plan fit")
    else:
        _run(benchmark, impl, lambda: _mlcore_plan(_threads(impl)).fit(TABLE), "plan fit")


@pytest.mark.parametrize("impl", IMPLS)
def bench_plan_transform(benchmark, impl):
    if impl == "sklearn":
        ct = _sklearn_plan().fit(FRAME)
        out = _run(benchmark, impl, lambda: ct.transform(FRAME), "plan transform")
        assert out.shape == (N, 20 + sum(CARDS) + N_FEATURES)
    else:
        plan = _mlcore_plan(_threads(impl)).fit(TABLE)
        out = _run(benchmark, impl, lambda: plan.transform(TABLE), "plan transform")
        assert out.shape == (N, 20 + sum(CARDS) + N_FEATURES)


@pytest.mark.parametrize("impl", IMPLS)
def bench_text_hashing(benchmark, impl):
    if impl == "sklearn":
        from sklearn.feature_extraction.text import HashingVectorizer

        hv = HashingVectorizer(n_features=N_FEATURES)
        docs = FRAME["text"]
        out = _run(benchmark, impl, lambda: hv.transform(docs), "text hashing")
    else:
        hv = mf.HashingVectorizer(["text"], n_features=N_FEATURES).fit(TABLE.select(["text"]))
        out = _run(benchmark, impl, lambda: hv.transform(TABLE), "text hashing")
    assert out.shape == (N, N_FEATURES)
