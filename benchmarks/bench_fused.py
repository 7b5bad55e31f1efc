"""Model (d): LightGBM (500 trees x 31 leaves) behind a nycflights13 feature plan, end to end.

The same transforms run as mlcore's fused predictor (Arrow columns in) and as the scikit-learn
Pipeline a user would write (ColumnTransformer + LGBMClassifier, a pandas DataFrame in); both wrap
the same fitted LightGBM model, so predictions agree to 1e-6 (``tests/fused/test_fused_flights.py``).
``mlcore-unfused`` is ``model.predict_proba(plan.transform(t))``: the same kernels without fusion.

Data: flights with an arrival delay, left-joined with the weather at their origin and hour
(``tests/reference/fused_flights.py``); the model is fitted on the first ``N_TRAIN`` rows; the
batch is ``N_BATCH`` rows resampled from all flights; single rows are distinct rows of it.

Groups: ``d/row`` single-row p50 (``extra_info`` holds p50 and p99), ``d/batch-<n>T`` one batch
on n threads (mlcore's Numba threads, LightGBM's ``n_jobs``), ``d/load`` loading the saved fused
predictor (plan + model, program rebuilt), with the cold start (fresh process to first
prediction, Numba caches warm) in ``extra_info``.

    python -m pytest -c benchmarks/pytest.ini benchmarks/bench_fused.py --benchmark-json=.benchmarks/fused.json
    python benchmarks/bench_fused.py table .benchmarks/fused.json
"""

from __future__ import annotations

import json
import os
import sys
import tempfile

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))

_SMOKE = os.environ.get("MLCORE_BENCH_SMOKE") == "1"
N_TREES = 20 if _SMOKE else 500
N_TRAIN = 20_000 if _SMOKE else 100_000
N_BATCH = 20_000 if _SMOKE else 1_000_000
N_ROWS_MLCORE = 300 if _SMOKE else 5_000
N_ROWS_SKLEARN = 50 if _SMOKE else 300
N_PAIRS = 2 if _SMOKE else 3
WORKDIR = os.environ.get("MLCORE_BENCH_DIR") or tempfile.mkdtemp(prefix="mlcore-bench-fused-")
IMPLS = ["mlcore", "mlcore-unfused", "sklearn-pipeline"]
#: Batch only: the pipeline timed from the same Arrow table (its ``to_pandas`` included).
BATCH_IMPLS = IMPLS + ["sklearn-pipeline-from-arrow"]


@pytest.fixture(scope="session")
def setup():
    import lightgbm as lgb
    from reference.fused_flights import flights_table, mlcore_plan, resample, sklearn_transformer, to_pandas
    from sklearn.pipeline import Pipeline

    from mlcore.train import compile_model, compile_predictor

    t = flights_table()
    train = t.slice(0, N_TRAIN)
    pipe = Pipeline([("features", sklearn_transformer()),
                     ("model", lgb.LGBMClassifier(n_estimators=N_TREES, num_leaves=31, verbose=-1, n_jobs=2))])
    pipe.fit(to_pandas(train), train["late"].to_numpy())
    plan = mlcore_plan().fit(train)
    fused = compile_predictor(plan, compile_model(pipe.named_steps["model"]))
    batch = resample(t, N_BATCH, seed=1)
    df = to_pandas(batch)
    # the parity this benchmark relies on, checked once on the batch's first rows
    head = batch.slice(0, 2_000)
    np.testing.assert_allclose(fused.predict_proba(head), pipe.predict_proba(df.iloc[:2_000]), atol=1e-6)
    path = os.path.join(WORKDIR, "fused")
    fused.save(path)
    return {"plan": plan, "pipe": pipe, "fused": fused, "batch": batch, "df": df, "path": path,
            "rows": batch.slice(0, max(N_ROWS_MLCORE, N_ROWS_SKLEARN) + 20).to_pylist()}


def _row(benchmark, fn, items, rounds):
    it = iter(items)

    def setup_call():
        return (next(it),), {}

    benchmark.pedantic(fn, setup=setup_call, rounds=rounds, iterations=1, warmup_rounds=5)
    data = np.asarray(benchmark.stats.stats.data)
    benchmark.extra_info["p50_us"] = float(np.median(data) * 1e6)
    benchmark.extra_info["p99_us"] = float(np.percentile(data, 99) * 1e6)


@pytest.mark.parametrize("impl", IMPLS)
def bench_d_row(benchmark, impl, setup):
    import pyarrow as pa

    benchmark.group = "d/row"
    rows, df = setup["rows"], setup["df"]
    if impl == "mlcore":
        _row(benchmark, setup["fused"].predict_proba_row, rows, N_ROWS_MLCORE)
    elif impl == "mlcore-unfused":
        plan, model = setup["plan"], setup["fused"].model
        schema = setup["batch"].schema
        _row(benchmark, lambda r: model.predict_proba(plan.transform(pa.Table.from_pylist([r], schema=schema)))[0],
             rows, N_ROWS_SKLEARN)
    else:
        pipe = setup["pipe"]
        pipe.named_steps["model"].set_params(n_jobs=1)
        # one-row DataFrames sliced from the batch frame (cheaper for the pipeline than building one)
        frames = [df.iloc[k:k + 1] for k in range(N_ROWS_SKLEARN + 10)]
        _row(benchmark, lambda f: pipe.predict_proba(f)[0], frames, N_ROWS_SKLEARN)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("impl", BATCH_IMPLS)
def bench_d_batch(benchmark, impl, threads, setup):
    benchmark.group = f"d/batch-{threads}T"
    batch, df = setup["batch"], setup["df"]
    if impl == "mlcore":
        fn = lambda: setup["fused"].predict_proba(batch, n_threads=threads)  # noqa: E731
        rounds = 3
    elif impl == "mlcore-unfused":
        import numba

        plan, model = setup["plan"], setup["fused"].model

        def fn():
            prev = numba.get_num_threads()
            numba.set_num_threads(threads)
            plan.n_threads = threads
            try:
                return model.predict_proba(plan.transform(batch), n_threads=threads)
            finally:
                numba.set_num_threads(prev)
        rounds = 2
    elif impl == "sklearn-pipeline-from-arrow":
        from reference.fused_flights import to_pandas

        pipe = setup["pipe"]
        pipe.named_steps["model"].set_params(n_jobs=threads)
        fn = lambda: pipe.predict_proba(to_pandas(batch))  # noqa: E731
        rounds = 1 if not _SMOKE else 2
    else:
        pipe = setup["pipe"]
        pipe.named_steps["model"].set_params(n_jobs=threads)
        fn = lambda: pipe.predict_proba(df)  # noqa: E731
        rounds = 1 if not _SMOKE else 2
    benchmark.pedantic(fn, rounds=rounds, iterations=1, warmup_rounds=0 if impl == "sklearn-pipeline" else 1)
    benchmark.extra_info["rows_per_s"] = N_BATCH / benchmark.stats.stats.median
    benchmark.extra_info.update(n_trees=N_TREES, n_batch=N_BATCH, n_train=N_TRAIN)


@pytest.mark.parametrize("threads", [1, 2])
def bench_d_batch_paired(benchmark, threads, setup):
    """mlcore and the Pipeline alternately on the same batch, ``N_PAIRS`` times: the ratio of each
    pair is measured within seconds, so load from other jobs on the machine hits both alike."""
    import time as _time

    benchmark.group = f"d/batch-paired-{threads}T"
    batch, df, fused, pipe = setup["batch"], setup["df"], setup["fused"], setup["pipe"]
    pipe.named_steps["model"].set_params(n_jobs=threads)
    fused.predict_proba(batch.slice(0, 10_000), n_threads=threads)  # warm
    pairs = []
    for _ in range(N_PAIRS):
        t0 = _time.perf_counter()
        fused.predict_proba(batch, n_threads=threads)
        t1 = _time.perf_counter()
        pipe.predict_proba(df)
        t2 = _time.perf_counter()
        pairs.append((t1 - t0, t2 - t1))
    pairs = np.array(pairs)
    benchmark.extra_info.update(
        ratio_median=float(np.median(pairs[:, 1] / pairs[:, 0])), ratio_min=float(np.min(pairs[:, 1] / pairs[:, 0])),
        ratio_max=float(np.max(pairs[:, 1] / pairs[:, 0])), mlcore_rows_per_s=float(N_BATCH / np.median(pairs[:, 0])),
        sklearn_rows_per_s=float(N_BATCH / np.median(pairs[:, 1])), n_pairs=N_PAIRS)
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)


@pytest.mark.parametrize("impl", ["mlcore", "lightgbm"])
def bench_d_model_only(benchmark, impl, setup):
    """The model alone, 1 thread, on its precomputed feature matrix: the ceiling of the end-to-end ratio."""
    benchmark.group = "d/model-only-1T"
    if impl == "mlcore":
        from mlcore.features import as_matrix

        X = as_matrix(setup["plan"].transform(setup["batch"]))
        model = setup["fused"].model
        fn = lambda: model.predict_proba(X, n_threads=1)  # noqa: E731
    else:
        X = np.ascontiguousarray(setup["pipe"].named_steps["features"].transform(setup["df"]))
        est = setup["pipe"].named_steps["model"]
        est.set_params(n_jobs=1)
        fn = lambda: est.predict_proba(X)  # noqa: E731
    benchmark.pedantic(fn, rounds=1 if impl == "lightgbm" and not _SMOKE else 2, iterations=1,
                       warmup_rounds=0 if impl == "lightgbm" else 1)
    benchmark.extra_info["rows_per_s"] = N_BATCH / benchmark.stats.stats.median


def bench_d_load(benchmark, setup, cold_start):
    """Load the saved fused predictor (plan folder + model arrays; the program is rebuilt)."""
    from mlcore.train import FusedPredictor

    benchmark.group = "d/load"
    path = setup["path"]
    benchmark.pedantic(lambda: FusedPredictor.load(path), rounds=10, iterations=1, warmup_rounds=1)
    row = {c: setup["rows"][0][c] for c in setup["fused"].input_columns}
    code = (
        "import time; t=time.perf_counter(); import datetime, json; from mlcore.train import FusedPredictor; "
        "p=FusedPredictor.load(%r); t1=time.perf_counter(); "
        "row=json.loads(%r); row['time_hour']=datetime.datetime.fromisoformat(row['time_hour']); "
        "p.predict_proba_row(row); t2=time.perf_counter(); print(t1-t, t2-t)"
        % (path, json.dumps(row, default=str))
    )
    wall, load_s, first_s = cold_start(code)
    benchmark.extra_info.update(cold_process_s=wall, cold_import_and_load_s=load_s, cold_first_row_s=first_s)


def _table(path):
    with open(path) as f:
        data = json.load(f)
    by = {}
    for b in data["benchmarks"]:
        by[(b["group"], (b.get("params") or {}).get("impl", "mlcore"))] = b
    lines = ["| impl | row p50 µs | row p99 µs | batch 1T rows/s | batch 2T rows/s |", "|---|---|---|---|---|"]
    for impl in BATCH_IMPLS:
        r = by.get(("d/row", impl), {}).get("extra_info", {})
        b1 = by.get(("d/batch-1T", impl), {}).get("extra_info", {})
        b2 = by.get(("d/batch-2T", impl), {}).get("extra_info", {})
        cell = lambda v, f: f.format(v) if v is not None else "-"  # noqa: E731
        lines.append(f"| {impl} | {cell(r.get('p50_us'), '{:.1f}')} | {cell(r.get('p99_us'), '{:.1f}')} | "
                     f"{cell(b1.get('rows_per_s'), '{:.3g}')} | {cell(b2.get('rows_per_s'), '{:.3g}')} |")
    base = {k: by.get(k, {}).get("extra_info", {}) for k in [("d/row", "mlcore"), ("d/batch-1T", "mlcore"),
                                                              ("d/batch-2T", "mlcore")]}
    lines.append("")
    lines.append("| speed-up of the fused predictor over | row p50 | batch 1T | batch 2T |")
    lines.append("|---|---|---|---|")
    for impl in BATCH_IMPLS[1:]:
        r = by.get(("d/row", impl), {}).get("extra_info", {})
        b1 = by.get(("d/batch-1T", impl), {}).get("extra_info", {})
        b2 = by.get(("d/batch-2T", impl), {}).get("extra_info", {})
        ratio = []
        for mine, theirs, key, inv in ((base[("d/row", "mlcore")], r, "p50_us", False),
                                       (base[("d/batch-1T", "mlcore")], b1, "rows_per_s", True),
                                       (base[("d/batch-2T", "mlcore")], b2, "rows_per_s", True)):
            if key in mine and key in theirs:
                v = mine[key] / theirs[key] if inv else theirs[key] / mine[key]
                ratio.append(f"{v:.1f}×")
            else:
                ratio.append("-")
        lines.append(f"| {impl} | " + " | ".join(ratio) + " |")
    paired = [(th, by.get((f"d/batch-paired-{th}T", "mlcore"), {}).get("extra_info")) for th in (1, 2)]
    if any(p for _, p in paired):
        lines.append("")
        lines.append("| paired batch (alternating calls) | mlcore rows/s | sklearn-pipeline rows/s | ratio median (min-max) |")
        lines.append("|---|---|---|---|")
        for th, p in paired:
            if p:
                lines.append(f"| {th} thread(s), {p['n_pairs']} pairs | {p['mlcore_rows_per_s']:.3g} | "
                             f"{p['sklearn_rows_per_s']:.3g} | {p['ratio_median']:.1f}× ({p['ratio_min']:.1f}-"
                             f"{p['ratio_max']:.1f}×) |")
    mo = {i: by.get(("d/model-only-1T", i), {}).get("extra_info", {}).get("rows_per_s") for i in ("mlcore", "lightgbm")}
    if all(mo.values()):
        lines.append("")
        lines.append(f"Model alone on its precomputed matrix, 1 thread: mlcore {mo['mlcore']:.3g} rows/s, LightGBM "
                     f"{mo['lightgbm']:.3g} rows/s ({mo['mlcore'] / mo['lightgbm']:.1f}×).")
    load = by.get(("d/load", "mlcore"))
    if load:
        e = load["extra_info"]
        lines.append("")
        lines.append(f"Load (FusedPredictor.load, median): {load['stats']['median'] * 1e3:.1f} ms. Cold start, fresh "
                     f"process to first prediction (caches warm): {e['cold_process_s']:.2f} s wall "
                     f"(in the process: imports + load {e['cold_import_and_load_s']:.2f} s, to the first row "
                     f"{e['cold_first_row_s']:.2f} s).")
    m = data.get("machine_info", {})
    size = by.get(("d/batch-1T", "mlcore"), {}).get("extra_info", {})
    lines.append("")
    lines.append(f"{m.get('cpu', {}).get('brand_raw', '?')}, python {m.get('python_version', '?')}, "
                 f"{data.get('datetime', '')[:10]}; {size.get('n_trees', '?')} trees, fitted on "
                 f"{size.get('n_train', 0):,} rows, batch {size.get('n_batch', 0):,} rows")
    text = "\n".join(lines)
    print(text)
    return text


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "table":
        _table(sys.argv[2])
    else:
        print(__doc__)
