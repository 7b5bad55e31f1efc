"""mlcore.data.validate against the same checks written in pandas, in one run.

1M rows x 50 columns, seeded: 40 float64 (5% nulls, NaN and ±inf sprinkled in, values outside
the allowed range), 5 int64 (one of them a unique id with a few repeats), 4 string categoricals
(3 to 40 categories, some unseen values) and 1 timestamp. The schema comes from infer_schema on
the clean data, with ranges tightened so that problems exist. Both implementations count, per
column, nulls, NaN, +inf, -inf, finite min/max, values below/above the range, unseen categories,
repeats in the unique column, constancy, and keep the first 5 example rows of each problem;
"all checks" adds whole-row duplicates. The counts of both are compared before timing.

pandas gets the table as numpy-backed DataFrame (the conversion is not timed; pandas 3 keeps
strings as its Arrow-backed ``str`` dtype). mlcore runs single-threaded (``n_threads=1``) and,
in a separate row, on 2 threads; pandas is single-threaded. Peak memory is the tracemalloc peak
of one call (NumPy and Python allocations, which both implementations use for their work), taken
outside the timed rounds.
"""

from __future__ import annotations

import os
import time
import tracemalloc

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from mlcore.data import infer_schema, validate

N = int(os.environ.get("MLCORE_BENCH_ROWS", 1_000_000))
N_FLOAT, N_INT, N_CAT = 40, 5, 4


def _make():
    rng = np.random.default_rng(7)
    cols = {}
    for j in range(N_FLOAT):
        x = rng.normal(0, 1, N)
        cols[f"f{j}"] = x
    for j in range(N_INT):
        cols[f"i{j}"] = rng.integers(0, 1000, N)
    cols["i0"] = np.arange(N, dtype=np.int64)  # the id
    cats = []
    for j, k in enumerate((3, 10, 16, 40)):
        cats.append(np.array([f"c{j}_{v}" for v in range(k)]))
        cols[f"s{j}"] = cats[-1][rng.integers(0, k, N)]
    cols["t"] = (np.int64(1_356_998_400) + np.sort(rng.integers(0, 365 * 86400, N))).astype("datetime64[s]")
    clean = pa.table({k: pa.array(v) for k, v in cols.items()})
    schema = infer_schema(clean, id="i0", max_categories=100)
    for j in range(N_FLOAT):
        schema.update(f"f{j}", min=-3.0, max=3.0)
    for j in range(1, N_INT):
        schema.update(f"i{j}", min=0, max=990)
    # dirty copy: nulls, NaN, ±inf, unseen categories, repeated ids, repeated rows
    arrays = {}
    for j in range(N_FLOAT):
        x = cols[f"f{j}"].copy()
        x[rng.integers(0, N, 500)] = np.nan
        x[rng.integers(0, N, 50)] = np.inf
        x[rng.integers(0, N, 50)] = -np.inf
        arrays[f"f{j}"] = pa.array(x, mask=rng.random(N) < 0.05)
    ids = cols["i0"].copy()
    ids[rng.integers(0, N, 100)] = 5
    arrays["i0"] = pa.array(ids)
    for j in range(1, N_INT):
        arrays[f"i{j}"] = pa.array(cols[f"i{j}"])
    for j in range(N_CAT):
        s = cols[f"s{j}"].astype(object)
        s[rng.integers(0, N, 200)] = "unseen"
        arrays[f"s{j}"] = pa.array(s, type=pa.string())
    arrays["t"] = pa.array(cols["t"])
    table = pa.table(arrays)
    dup_from = rng.integers(0, N // 2, 20)
    dup_to = N // 2 + rng.integers(0, N // 2, 20)
    idx = np.arange(N)
    idx[dup_to] = dup_from
    table = table.take(pa.array(idx))
    return table, schema


TABLE, SCHEMA = _make()
FRAME = TABLE.to_pandas()
K = 5


def pandas_validate(df: pd.DataFrame, schema, duplicate_rows: bool) -> dict:
    """The same checks, written the way one writes them in pandas."""
    out = {}
    for spec in schema:
        s = df[spec.name]
        r = {}
        isna = s.isna()
        r["null"] = int(isna.sum())  # pandas cannot tell null from NaN in a float column
        r["null_rows"] = np.flatnonzero(isna.to_numpy())[:K]
        if spec.role == "numeric" or spec.role == "id":
            v = s.to_numpy()
            if v.dtype.kind == "f":
                pos, neg = np.isposinf(v), np.isneginf(v)
                r["posinf"], r["neginf"] = int(pos.sum()), int(neg.sum())
                r["posinf_rows"], r["neginf_rows"] = np.flatnonzero(pos)[:K], np.flatnonzero(neg)[:K]
                fin = v[np.isfinite(v)]
            else:
                fin = v
            r["min"], r["max"] = (fin.min(), fin.max()) if fin.size else (None, None)
            if spec.min is not None:
                # ±inf are counted as such, not as out of range (as mlcore reports them)
                below = (s < spec.min) & (s > -np.inf)
                above = (s > spec.max) & (s < np.inf)
                r["below_min"], r["above_max"] = int(below.sum()), int(above.sum())
                r["below_rows"] = np.flatnonzero(below.to_numpy())[:K]
                r["above_rows"] = np.flatnonzero(above.to_numpy())[:K]
        if spec.categories is not None:
            unseen = s.notna() & ~s.isin(spec.categories)
            r["unseen_category"] = int(unseen.sum())
            r["unseen_rows"] = np.flatnonzero(unseen.to_numpy())[:K]
        if spec.unique:
            dup = s.dropna().duplicated()
            r["duplicate"] = int(dup.sum())
        if spec.role == "timestamp" and spec.min is not None:
            lo, hi = pd.Timestamp(spec.min), pd.Timestamp(spec.max)
            r["below_min"], r["above_max"] = int((s < lo).sum()), int((s > hi).sum())
        # constant: every valid value equals the first valid one (cheaper than nunique)
        first = s.first_valid_index()
        r["constant"] = first is None or bool(((s == s[first]) | isna).all())
        out[spec.name] = r
    if duplicate_rows:
        d = df.duplicated()
        out["*"] = {"duplicate_row": int(d.sum()), "rows": np.flatnonzero(d.to_numpy())[:K]}
    return out


def mlcore_validate(table, schema, duplicate_rows: bool, n_threads: int):
    return validate(table, schema, examples=K, duplicate_rows=duplicate_rows, n_threads=n_threads)


IMPLS = {
    "mlcore": lambda dup: mlcore_validate(TABLE, SCHEMA, dup, 1),
    "mlcore_2threads": lambda dup: mlcore_validate(TABLE, SCHEMA, dup, 2),
    "pandas": lambda dup: pandas_validate(FRAME, SCHEMA, dup),
}


@pytest.fixture(scope="module", autouse=True)
def agree():
    """Compile (timed separately) and check that both implementations find the same problems."""
    t0 = time.perf_counter()
    rep = mlcore_validate(TABLE.slice(0, 1000), SCHEMA, True, 1)
    compile_s = time.perf_counter() - t0
    rep = mlcore_validate(TABLE, SCHEMA, True, 1)
    ref = pandas_validate(FRAME, SCHEMA, True)
    stats = {r["column"]: r for r in rep.columns.to_pylist()}
    for j in range(N_FLOAT):
        name = f"f{j}"
        assert stats[name]["nulls"] + stats[name]["nan"] == ref[name]["null"]
        for kind in ("posinf", "neginf", "below_min", "above_max"):
            assert stats[name][kind] == ref[name][kind], (name, kind)
    for j in range(N_CAT):
        assert stats[f"s{j}"]["unseen_category"] == ref[f"s{j}"]["unseen_category"] > 0
    assert stats["i0"]["duplicate"] == ref["i0"]["duplicate"]
    assert rep.count("*", "duplicate_row") == ref["*"]["duplicate_row"]
    print(f"\nfirst call (compile or cache load) on 1,000 rows: {compile_s:.2f} s")


def _peak(fn) -> float:
    tracemalloc.start()
    tracemalloc.reset_peak()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


@pytest.mark.parametrize("checks", ["all checks", "column checks"])
@pytest.mark.parametrize("impl", list(IMPLS))
def bench_validate(benchmark, impl, checks):
    benchmark.group = f"validate 1M x 50 / {checks}"
    dup = checks == "all checks"
    fn = IMPLS[impl]
    benchmark.extra_info["peak_mib"] = round(_peak(lambda: fn(dup)), 1)
    t0 = time.process_time()
    benchmark.pedantic(fn, args=(dup,), rounds=3, iterations=1, warmup_rounds=1)
    benchmark.extra_info["cpu_s_per_round"] = round((time.process_time() - t0) / 4, 3)
