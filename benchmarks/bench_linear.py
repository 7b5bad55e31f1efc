"""Model (a) of issue 4: LogisticRegression on 100 features, mlcore against its peers in one run.

Single row: ``predict_proba`` of one row, a different row on every call (5,000 calls after 500
warm-up calls), each call timed on its own (pytest-benchmark ``pedantic``, one call per round; the
timer's own ~50-80 ns are included for every implementation alike). p99 goes to ``extra_info``.

Batch: ``predict_proba`` (and ``decision_function``) of 1M rows x 100 float64 features, 1 thread
everywhere (Numba ``n_threads=1``, BLAS via threadpoolctl, ONNX Runtime ``intra_op_num_threads=1``).
mlcore reads an Arrow table (100 float64 columns); the peers read the same values as a C-ordered
NumPy matrix. ``numpy_sgemv`` is ``X @ w`` on that matrix: one read of X, the memory-bandwidth bound.

Run (from the repository root):
    python -m pytest -c benchmarks/pytest.ini benchmarks/bench_linear.py --benchmark-json=.benchmarks/linear.json
    python benchmarks/report.py .benchmarks/linear.json
"""

from __future__ import annotations

import itertools

import numpy as np
import pyarrow as pa
import pytest
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from mlcore.train import compile_model

N_FEATURES = 100
N_BATCH = 1_000_000
N_ROWS_SINGLE = 5_000


def _data():
    rng = np.random.default_rng(42)
    X = rng.normal(size=(N_BATCH, N_FEATURES))
    w = rng.normal(size=N_FEATURES) / 10
    y = (X[:20_000] @ w + rng.normal(size=20_000) > 0).astype(np.int64)
    est = LogisticRegression(max_iter=500).fit(X[:20_000], y)
    table = pa.table({f"f{j}": X[:, j] for j in range(N_FEATURES)})  # 100 Arrow columns (copies the values)
    rows = [np.ascontiguousarray(X[i]) for i in range(N_ROWS_SINGLE)]
    return X, table, est, rows


X, TABLE, EST, ROWS = _data()
MODEL = compile_model(EST)


def _ort_session():
    ort = pytest.importorskip("onnxruntime")
    skl2onnx = pytest.importorskip("skl2onnx")
    from skl2onnx.common.data_types import DoubleTensorType

    onx = skl2onnx.to_onnx(EST, initial_types=[("X", DoubleTensorType([None, N_FEATURES]))],
                           options={id(EST): {"zipmap": False}})
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    return ort.InferenceSession(onx.SerializeToString(), so, providers=["CPUExecutionProvider"])


def _single_row_fn(impl):
    rows = itertools.cycle(ROWS)
    if impl == "mlcore":
        f = MODEL.predict_proba_row
        return lambda: f(next(rows))
    if impl == "sklearn":
        f = EST.predict_proba
        return lambda: f(next(rows).reshape(1, -1))
    if impl == "onnxruntime":
        sess = _ort_session()
        return lambda: sess.run(["probabilities"], {"X": next(rows).reshape(1, -1)})
    raise ValueError(impl)


@pytest.mark.parametrize("impl", ["mlcore", "sklearn", "onnxruntime"])
def bench_single_row(benchmark, impl):
    benchmark.group = "single_row/logreg100/predict_proba"
    f = _single_row_fn(impl)
    with threadpool_limits(1):
        benchmark.pedantic(f, rounds=N_ROWS_SINGLE, iterations=1, warmup_rounds=500)
    data = np.asarray(benchmark.stats.stats.data)
    benchmark.extra_info["p50_us"] = float(np.percentile(data, 50) * 1e6)
    benchmark.extra_info["p99_us"] = float(np.percentile(data, 99) * 1e6)
    np.testing.assert_allclose(MODEL.predict_proba_row(ROWS[7]), EST.predict_proba(ROWS[7].reshape(1, -1))[0],
                               rtol=1e-9)


@pytest.mark.parametrize("impl", ["mlcore", "sklearn", "onnxruntime", "numpy_sgemv", "mlcore_2_threads"])
def bench_batch_proba(benchmark, impl):
    benchmark.group = "batch/logreg100/1M_rows/1_thread"
    with threadpool_limits(1):
        if impl == "mlcore":
            out = benchmark(MODEL.predict_proba, TABLE, n_threads=1)
        elif impl == "mlcore_2_threads":  # the one row that is not single-threaded: scaling
            out = benchmark(MODEL.predict_proba, TABLE, n_threads=2)
        elif impl == "sklearn":
            out = benchmark(EST.predict_proba, X)
        elif impl == "onnxruntime":
            sess = _ort_session()
            out = benchmark(lambda: sess.run(["probabilities"], {"X": X})[0])
        else:
            w = np.ascontiguousarray(EST.coef_[0])
            out = benchmark(lambda: X @ w)
    benchmark.extra_info["rows_per_s"] = N_BATCH / benchmark.stats.stats.median
    if impl != "numpy_sgemv":
        np.testing.assert_allclose(out[:1000], EST.predict_proba(X[:1000]), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("impl", ["mlcore", "numpy_sgemv"])
def bench_batch_decision(benchmark, impl):
    benchmark.group = "batch/logreg100/1M_rows/1_thread/decision_function"
    with threadpool_limits(1):
        if impl == "mlcore":
            benchmark(MODEL.decision_function, TABLE, n_threads=1)
        else:
            w = np.ascontiguousarray(EST.coef_[0])
            benchmark(lambda: X @ w)
    benchmark.extra_info["rows_per_s"] = N_BATCH / benchmark.stats.stats.median


_COLD = {
    "mlcore": (
        "import json, numpy as np, mlcore.train as t\n"
        "m = json.load(open(D + '/model.json'))\n"
        "a = {k: np.load(D + '/' + k + '.npy', allow_pickle=False) for k in ('coef', 'intercept')}\n"
        "model = t.load_model(m, a)\n"
        "p = model.predict_proba_row(np.load(D + '/row.npy'))\n"
    ),
    "onnxruntime": (
        "import numpy as np, onnxruntime as ort\n"
        "so = ort.SessionOptions(); so.intra_op_num_threads = 1\n"
        "s = ort.InferenceSession(D + '/model.onnx', so, providers=['CPUExecutionProvider'])\n"
        "p = s.run(['probabilities'], {'X': np.load(D + '/row.npy').reshape(1, -1)})\n"
    ),
}


@pytest.mark.parametrize("impl", ["mlcore", "onnxruntime"])
def bench_cold_start(benchmark, impl, tmp_path):
    """Fresh process to first prediction (interpreter start, imports, model load, one row); caches warm."""
    import json
    import subprocess
    import sys

    benchmark.group = "cold_start/logreg100/process_to_first_prediction"
    manifest, arrays = MODEL.to_arrays()
    (tmp_path / "model.json").write_text(json.dumps(manifest))
    for k, a in arrays.items():
        np.save(tmp_path / f"{k}.npy", a, allow_pickle=False)
    np.save(tmp_path / "row.npy", ROWS[0], allow_pickle=False)
    if impl == "onnxruntime":
        import skl2onnx
        from skl2onnx.common.data_types import DoubleTensorType

        onx = skl2onnx.to_onnx(EST, initial_types=[("X", DoubleTensorType([None, N_FEATURES]))],
                               options={id(EST): {"zipmap": False}})
        (tmp_path / "model.onnx").write_bytes(onx.SerializeToString())
    code = f"D = {str(tmp_path)!r}\n" + _COLD[impl]
    run = lambda: subprocess.run([sys.executable, "-c", code], check=True, timeout=300)  # noqa: E731
    run()  # warm the kernel cache
    benchmark.pedantic(run, rounds=5, iterations=1)
