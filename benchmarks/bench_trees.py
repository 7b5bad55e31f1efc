"""Tree-ensemble inference: mlcore against every peer that installs, on the same models and data.

Models (issue 4): (b) RandomForestClassifier, 100 trees, max_depth 10, 50 features;
(c) LightGBM binary, 500 trees x 31 leaves, 50 features (six with 10% NaN). Seeded data.

Groups: ``<model>/row`` single-row latency (a different row each call, through each peer's Python
API; ``extra_info`` holds p99), ``<model>/batch-<n>T`` one batch of ``N_BATCH`` rows on n
threads (rows/s = N_BATCH / median), ``c/load`` loading the saved 500-tree model.

Peers: scikit-learn, LightGBM, ONNX Runtime (skl2onnx / onnxmltools), TL2cgen (gcc), and lleaves,
which needs an older llvmlite than Numba: it runs in its own virtual environment
(``MLCORE_LLEAVES_PYTHON``, default ``.venv-lleaves/bin/python``) as a subprocess on the same
saved model file and data, once at the start of the session; its rows are written to
``<json>.lleaves.json`` and merged by ``python benchmarks/bench_trees.py table RESULTS.json``.
Cold start (fresh process to first prediction, caches warm) is measured the same way.

    python -m pytest -c benchmarks/pytest.ini benchmarks/bench_trees.py --benchmark-json=.benchmarks/trees.json
    python benchmarks/bench_trees.py table .benchmarks/trees.json
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import pytest

N_FEATURES = 50
N_TRAIN = 20_000
N_BATCH = 20_000
N_ROWS_SINGLE = 2_000
# A quick smoke run of the suite itself: MLCORE_BENCH_SMOKE=1 (small models, not for the table).
_SMOKE = os.environ.get("MLCORE_BENCH_SMOKE") == "1"
N_TREES_C = 20 if _SMOKE else 500
N_TREES_B = 5 if _SMOKE else 100
WORKDIR = os.environ.get("MLCORE_BENCH_DIR") or tempfile.mkdtemp(prefix="mlcore-bench-trees-")
LLEAVES_PY = os.environ.get("MLCORE_LLEAVES_PYTHON", ".venv-lleaves/bin/python")


def _data(n, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, N_FEATURES))
    X[:, :6][rng.random((n, 6)) < 0.1] = np.nan
    s = np.nansum(X[:, :10], axis=1) + 0.5 * X[:, 10] * X[:, 11]
    return X, (s + 0.5 * rng.normal(size=n) > 0).astype(int)


@pytest.fixture(scope="session")
def data():
    X, y = _data(N_TRAIN, 0)
    Xb, _ = _data(N_BATCH, 1)
    np.save(os.path.join(WORKDIR, "batch.npy"), Xb)
    return X, y, Xb


@pytest.fixture(scope="session")
def model_c(data):
    import lightgbm as lgb

    X, y, _ = data
    path = os.path.join(WORKDIR, "model_c.txt")
    if os.path.exists(path):
        return lgb.Booster(model_file=path)
    bst = lgb.train({"objective": "binary", "num_leaves": 31, "verbose": -1, "num_threads": 2},
                    lgb.Dataset(X, y), num_boost_round=N_TREES_C)
    bst.save_model(path)
    return bst


@pytest.fixture(scope="session")
def model_b(data):
    from sklearn.ensemble import RandomForestClassifier

    X, y, _ = data
    Xi = np.nan_to_num(X)  # the RandomForest peers (ORT, TL2cgen) need no-NaN data
    return RandomForestClassifier(n_estimators=N_TREES_B, max_depth=10, n_jobs=2, random_state=0).fit(Xi, y)


def _mlcore(model):
    from mlcore.train.trees import convert_tree_model

    return convert_tree_model(model)


@pytest.fixture(scope="session")
def lleaves_results(model_c, data):
    """Run lleaves in its own venv on the saved model and data (once per session)."""
    out = {}
    if not os.path.exists(LLEAVES_PY):
        return {"error": f"no lleaves interpreter at {LLEAVES_PY}"}
    script = os.path.join(WORKDIR, "lleaves_runner.py")
    with open(script, "w") as f:
        f.write(_LLEAVES_RUNNER)
    proc = subprocess.run([LLEAVES_PY, script, os.path.join(WORKDIR, "model_c.txt"),
                           os.path.join(WORKDIR, "batch.npy"), str(N_ROWS_SINGLE), WORKDIR],
                          capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        return {"error": proc.stderr[-2000:]}
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    # The machine is shared: alternate short lleaves runs with the same mlcore measurements, so
    # that both see the same load, and report the medians of the alternation too.
    m = _mlcore(model_c)
    Xb = data[2]
    Xf = np.asfortranarray(Xb)
    m.raw_score(Xf[:1000], n_threads=1)
    rows = np.random.default_rng(7).integers(0, Xb.shape[0], size=1000)
    mine_batch, mine_row, theirs_batch, theirs_row = [], [], [], []
    for _ in range(3):
        p = subprocess.run([LLEAVES_PY, script, os.path.join(WORKDIR, "model_c.txt"),
                            os.path.join(WORKDIR, "batch.npy"), "1000", WORKDIR, "quick"],
                           capture_output=True, text=True, timeout=900, check=True)
        r = json.loads(p.stdout.strip().splitlines()[-1])
        theirs_batch.append(r["batch_1T_rows_s"])
        theirs_row.append(r["row_p50_us"])
        ts = []
        for _ in range(5):
            t0 = time.perf_counter()
            m.raw_score(Xf, n_threads=1)
            ts.append(time.perf_counter() - t0)
        mine_batch.append(Xb.shape[0] / float(np.median(ts)))
        ts = []
        for i in rows:
            x = Xb[i]
            t0 = time.perf_counter()
            m.predict_row(x)
            ts.append(time.perf_counter() - t0)
        mine_row.append(float(np.median(ts) * 1e6))
    out["interleaved"] = {"mlcore_batch_1T_rows_s": float(np.median(mine_batch)),
                          "lleaves_batch_1T_rows_s": float(np.median(theirs_batch)),
                          "mlcore_row_p50_us": float(np.median(mine_row)),
                          "lleaves_row_p50_us": float(np.median(theirs_row)),
                          "rounds": 3}
    return out


_LLEAVES_RUNNER = """
import json, os, sys, time
import numpy as np
import lleaves

model_file, data_file, n_single, workdir = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
quick = len(sys.argv) > 5 and sys.argv[5] == "quick"
X = np.load(data_file)
m = lleaves.Model(model_file=model_file)
t = time.perf_counter()
m.compile(cache=os.path.join(workdir, "lleaves_c.o"))
compile_s = time.perf_counter() - t
res = {"compile_s": compile_s}
for n_jobs in ((1,) if quick else (1, 2)):
    m.predict(X[:1000], n_jobs=n_jobs)
    ts = []
    for _ in range(5):
        t = time.perf_counter(); m.predict(X, n_jobs=n_jobs); ts.append(time.perf_counter() - t)
    res[f"batch_{n_jobs}T_rows_s"] = X.shape[0] / float(np.median(ts))
idx = np.random.default_rng(7).integers(0, X.shape[0], size=n_single)
ts = []
for i in idx:
    row = X[i:i + 1]
    t = time.perf_counter(); m.predict(row, n_jobs=1); ts.append(time.perf_counter() - t)
res["row_p50_us"] = float(np.median(ts) * 1e6)
res["row_p99_us"] = float(np.percentile(ts, 99) * 1e6)
print(json.dumps(res))
"""


def _single_row(benchmark, fn, X, rounds):
    idx = iter(np.random.default_rng(7).integers(0, X.shape[0], size=rounds + 10))

    def setup():
        return (X[next(idx)],), {}

    benchmark.pedantic(fn, setup=setup, rounds=rounds, iterations=1, warmup_rounds=5)
    data = np.asarray(benchmark.stats.stats.data)
    benchmark.extra_info["p50_us"] = float(np.median(data) * 1e6)
    benchmark.extra_info["p99_us"] = float(np.percentile(data, 99) * 1e6)


def _batch(benchmark, fn, rounds=5):
    benchmark.pedantic(fn, rounds=rounds, iterations=1, warmup_rounds=1)
    benchmark.extra_info["rows_per_s"] = N_BATCH / benchmark.stats.stats.median


# ---------------------------------------------------------------- model (c): LightGBM 500 x 31

def _ort_lightgbm(bst, threads):
    import onnxmltools
    import onnxruntime as ort
    from onnxmltools.convert.common.data_types import FloatTensorType

    onx = onnxmltools.convert_lightgbm(bst, initial_types=[("X", FloatTensorType([None, N_FEATURES]))],
                                       target_opset=15, zipmap=False)
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    return ort.InferenceSession(onx.SerializeToString(), so, providers=["CPUExecutionProvider"])


def _tl2cgen(treelite_model, name, threads):
    import tl2cgen

    lib = os.path.join(WORKDIR, f"{name}.so")
    if not os.path.exists(lib):
        tl2cgen.export_lib(treelite_model, toolchain="gcc", libpath=lib, params={"parallel_comp": 8}, nthread=2)
    return tl2cgen.Predictor(lib, nthread=threads)


C_IMPLS = ["mlcore", "lightgbm", "onnxruntime", "tl2cgen"]


@pytest.mark.parametrize("impl", C_IMPLS)
def bench_c_row(benchmark, impl, model_c, data, lleaves_results):
    benchmark.group = "c/row"
    _, _, Xb = data
    Xf = np.asfortranarray(Xb)
    if impl == "mlcore":
        m = _mlcore(model_c)
        _single_row(benchmark, m.predict_row, Xb, N_ROWS_SINGLE)
    elif impl == "lightgbm":
        _single_row(benchmark, lambda x: model_c.predict(x.reshape(1, -1), raw_score=True, num_threads=1), Xb, 500)
    elif impl == "onnxruntime":
        pytest.importorskip("onnxmltools")
        sess = _ort_lightgbm(model_c, 1)
        X32 = Xb.astype(np.float32)
        _single_row(benchmark, lambda x: sess.run(None, {"X": x.reshape(1, -1)}), X32, N_ROWS_SINGLE)
    else:
        tl2cgen = pytest.importorskip("tl2cgen")
        import treelite

        pred = _tl2cgen(treelite.frontend.load_lightgbm_model(os.path.join(WORKDIR, "model_c.txt")), "c", 1)
        _single_row(benchmark, lambda x: pred.predict(tl2cgen.DMatrix(x.reshape(1, -1))), Xb, N_ROWS_SINGLE)
    del Xf


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("impl", C_IMPLS)
def bench_c_batch(benchmark, impl, threads, model_c, data, lleaves_results):
    benchmark.group = f"c/batch-{threads}T"
    _, _, Xb = data
    if impl == "mlcore":
        m = _mlcore(model_c)
        Xf = np.asfortranarray(Xb)
        _batch(benchmark, lambda: m.raw_score(Xf, n_threads=threads))
    elif impl == "lightgbm":
        _batch(benchmark, lambda: model_c.predict(Xb, raw_score=True, num_threads=threads), rounds=3)
    elif impl == "onnxruntime":
        pytest.importorskip("onnxmltools")
        sess = _ort_lightgbm(model_c, threads)
        X32 = Xb.astype(np.float32)
        _batch(benchmark, lambda: sess.run(None, {"X": X32}))
    else:
        tl2cgen = pytest.importorskip("tl2cgen")
        import treelite

        pred = _tl2cgen(treelite.frontend.load_lightgbm_model(os.path.join(WORKDIR, "model_c.txt")), "c", threads)
        dm = tl2cgen.DMatrix(Xb)
        _batch(benchmark, lambda: pred.predict(dm))


def bench_c_load(benchmark, model_c, cold_start):
    """Load the converted 500-tree model from its saved manifest + .npy arrays."""
    from mlcore.train.trees import TreeEnsemble

    benchmark.group = "c/load"
    m = _mlcore(model_c)
    manifest, arrays = m.to_arrays()
    d = os.path.join(WORKDIR, "c_arrays")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "manifest.json"), "w") as f:
        json.dump(manifest, f)
    for k, v in arrays.items():
        np.save(os.path.join(d, f"{k}.npy"), v)

    def load():
        with open(os.path.join(d, "manifest.json")) as f:
            man = json.load(f)
        arr = {k: np.load(os.path.join(d, f"{k}.npy"), allow_pickle=False) for k in man_keys}
        return TreeEnsemble.from_arrays(man, arr)

    man_keys = list(arrays)
    benchmark.pedantic(load, rounds=20, iterations=1, warmup_rounds=1)
    # cold start: a fresh interpreter loads the model and predicts one row (Numba caches warm)
    code = (
        "import time; t=time.perf_counter(); import json, numpy as np, os; "
        "from mlcore.train.trees import TreeEnsemble; d=%r; man=json.load(open(os.path.join(d,'manifest.json'))); "
        "arr={k: np.load(os.path.join(d,k+'.npy')) for k in %r}; m=TreeEnsemble.from_arrays(man, arr); "
        "m.predict_row(np.zeros(%d)); t1=time.perf_counter(); m.raw_score(np.zeros((2, %d), order='F')); "
        "print(t1-t, time.perf_counter()-t)" % (d, man_keys, N_FEATURES, N_FEATURES)
    )
    wall, first_row, first_batch = cold_start(code)
    benchmark.extra_info.update(cold_process_s=wall, cold_first_row_s=first_row, cold_first_row_and_batch_s=first_batch)


# ---------------------------------------------------------------- model (b): RandomForest 100 x depth 10

B_IMPLS = ["mlcore", "sklearn", "onnxruntime", "tl2cgen"]


def _ort_sklearn(rf, threads):
    import onnxruntime as ort
    from skl2onnx import to_onnx

    onx = to_onnx(rf, np.zeros((1, N_FEATURES), dtype=np.float32), options={id(rf): {"zipmap": False}})
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    return ort.InferenceSession(onx.SerializeToString(), so, providers=["CPUExecutionProvider"])


@pytest.mark.parametrize("impl", B_IMPLS)
def bench_b_row(benchmark, impl, model_b, data):
    benchmark.group = "b/row"
    Xb = np.nan_to_num(data[2])
    if impl == "mlcore":
        m = _mlcore(model_b)
        _single_row(benchmark, m.predict_row, Xb, N_ROWS_SINGLE)
    elif impl == "sklearn":
        model_b.set_params(n_jobs=1)
        _single_row(benchmark, lambda x: model_b.predict_proba(x.reshape(1, -1)), Xb, 200)
    elif impl == "onnxruntime":
        pytest.importorskip("skl2onnx")
        sess = _ort_sklearn(model_b, 1)
        _single_row(benchmark, lambda x: sess.run(None, {"X": x.reshape(1, -1)}), Xb.astype(np.float32),
                    N_ROWS_SINGLE)
    else:
        tl2cgen = pytest.importorskip("tl2cgen")
        import treelite

        pred = _tl2cgen(treelite.sklearn.import_model(model_b), "b", 1)
        _single_row(benchmark, lambda x: pred.predict(tl2cgen.DMatrix(x.reshape(1, -1))), Xb, N_ROWS_SINGLE)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("impl", B_IMPLS)
def bench_b_batch(benchmark, impl, threads, model_b, data):
    benchmark.group = f"b/batch-{threads}T"
    Xb = np.nan_to_num(data[2])
    if impl == "mlcore":
        m = _mlcore(model_b)
        Xf = np.asfortranarray(Xb)
        _batch(benchmark, lambda: m.predict_proba(Xf, n_threads=threads))
    elif impl == "sklearn":
        model_b.set_params(n_jobs=threads)
        _batch(benchmark, lambda: model_b.predict_proba(Xb), rounds=3)
    elif impl == "onnxruntime":
        pytest.importorskip("skl2onnx")
        sess = _ort_sklearn(model_b, threads)
        X32 = Xb.astype(np.float32)
        _batch(benchmark, lambda: sess.run(None, {"X": X32}))
    else:
        tl2cgen = pytest.importorskip("tl2cgen")
        import treelite

        pred = _tl2cgen(treelite.sklearn.import_model(model_b), "b", threads)
        dm = tl2cgen.DMatrix(Xb)
        _batch(benchmark, lambda: pred.predict(dm))


def bench_c_lleaves(benchmark, lleaves_results):
    """Not a timing of its own: copies the lleaves subprocess results into this run's JSON."""
    benchmark.group = "c/lleaves-subprocess"
    benchmark.extra_info.update(lleaves_results)
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)


# ---------------------------------------------------------------- table

def _table(path):
    with open(path) as f:
        doc = json.load(f)
    rows = {}
    ll = {}
    for b in doc["benchmarks"]:
        g = b["group"]
        impl = b["params"].get("impl") if b.get("params") else None
        if g == "c/lleaves-subprocess":
            ll = b["extra_info"]
            continue
        rows.setdefault(g, {})[impl or "mlcore"] = b
    lines = []
    for model, peers in (("c", C_IMPLS + ["lleaves"]), ("b", B_IMPLS)):
        lines.append(f"\n### model ({model})\n")
        lines.append("| impl | row p50 µs | row p99 µs | batch 1T rows/s | batch 2T rows/s | 2T/1T |")
        lines.append("|---|---|---|---|---|---|")
        vals = {}
        for impl in peers:
            if impl == "lleaves":
                if "row_p50_us" not in ll:
                    lines.append(f"| lleaves | not measured: {str(ll.get('error', 'missing'))[:80]} | | | | |")
                    continue
                v = (ll["row_p50_us"], ll["row_p99_us"], ll["batch_1T_rows_s"], ll["batch_2T_rows_s"])
            else:
                r = rows.get(f"{model}/row", {}).get(impl)
                b1 = rows.get(f"{model}/batch-1T", {}).get(impl)
                b2 = rows.get(f"{model}/batch-2T", {}).get(impl)
                v = (r["extra_info"]["p50_us"] if r else float("nan"), r["extra_info"]["p99_us"] if r else float("nan"),
                     b1["extra_info"]["rows_per_s"] if b1 else float("nan"),
                     b2["extra_info"]["rows_per_s"] if b2 else float("nan"))
            vals[impl] = v
            lines.append(f"| {impl} | {v[0]:.1f} | {v[1]:.1f} | {v[2]:.3g} | {v[3]:.3g} | {v[3] / v[2]:.2f} |")
        me = vals.get("mlcore")
        if me:
            lines.append("")
            for impl, v in vals.items():
                if impl == "mlcore":
                    continue
                lines.append(f"- vs {impl}: single-row p50 mlcore/{impl} = {me[0] / v[0]:.2f}x; "
                             f"batch 1T mlcore/{impl} = {me[2] / v[2]:.2f}x; batch 2T = {me[3] / v[3]:.2f}x")
    load = rows.get("c/load", {}).get("mlcore")
    if load:
        e = load["extra_info"]
        lines.append(f"\nLoad of the 500-tree model (manifest + .npy, validated): median "
                     f"{load['stats']['median'] * 1e3:.1f} ms. Cold start (fresh process, warm caches): "
                     f"process wall {e.get('cold_process_s', float('nan')):.2f} s, to first row "
                     f"{e.get('cold_first_row_s', float('nan')):.2f} s, to first row + batch "
                     f"{e.get('cold_first_row_and_batch_s', float('nan')):.2f} s.")
    il = ll.get("interleaved")
    if il:
        lines.append(f"\nmlcore and lleaves alternated 3 times in the same run (medians): batch 1T "
                     f"{il['mlcore_batch_1T_rows_s']:.3g} vs {il['lleaves_batch_1T_rows_s']:.3g} rows/s "
                     f"(mlcore/lleaves = {il['mlcore_batch_1T_rows_s'] / il['lleaves_batch_1T_rows_s']:.2f}x); "
                     f"single-row p50 {il['mlcore_row_p50_us']:.1f} vs {il['lleaves_row_p50_us']:.1f} µs "
                     f"(mlcore/lleaves = {il['mlcore_row_p50_us'] / il['lleaves_row_p50_us']:.2f}x).")
    if "compile_s" in ll:
        lines.append(f"lleaves compile (cache miss) {ll['compile_s']:.1f} s.")
    text = "\n".join(lines)
    print(text)
    return text


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "table":
        _table(sys.argv[2])
    else:
        print(__doc__)
