"""libmlcore (issue 9): the C and C++ examples, threads on the fast path, misuse, failed starts.

The library is built once per session (``mlcore capi build``); every C program is compiled with
gcc/g++ and run as a subprocess (each one starts its own embedded Python, ~1-4 s)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sysconfig
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from click.testing import CliRunner

from mlcore import capi
from mlcore.deploy.bundle import Bundle
from mlcore.train import compile_model

HERE = Path(__file__).resolve().parent
EXAMPLES = capi.default_bindings_dir() / "example"
TIMEOUT = 300

pytestmark = [
    pytest.mark.skipif(not sysconfig.get_config_var("Py_ENABLE_SHARED"), reason="needs a shared libpython"),
    pytest.mark.skipif(shutil.which("gcc") is None or shutil.which("g++") is None, reason="needs gcc and g++"),
]


# ---- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def lib_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("capi")
    res = CliRunner().invoke(capi.capi, ["build", "--out", str(out)])
    assert res.exit_code == 0, res.output + repr(res.exception)
    assert (out / "libmlcore.so").is_file() and (out / "mlcore.h").is_file()
    assert "built" in res.output
    return out


def _compile(lib_dir: Path, src: Path, out: Path) -> Path:
    cxx = src.suffix == ".cpp"
    cmd = ["g++", "-std=c++17"] if cxx else ["gcc", "-std=c11"]
    cmd += ["-O2", "-Wall", "-Werror", "-pthread", str(src), f"-I{lib_dir}", f"-L{lib_dir}", "-lmlcore",
            f"-Wl,-rpath,{lib_dir}", "-ldl", "-lm", "-o", str(out)]
    subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=TIMEOUT)
    return out


def _run(args, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=TIMEOUT,
                          env={**os.environ, **(env or {})})


@pytest.fixture(scope="session")
def programs(lib_dir, tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("capi-bin")
    srcs = {"predict": EXAMPLES / "predict.c", "predict_arrow": EXAMPLES / "predict_arrow.cpp",
            "threads": HERE / "threads.c", "misuse": HERE / "misuse.c", "statuses": HERE / "statuses.c"}
    return {k: _compile(lib_dir, s, d / k) for k, s in srcs.items()}


def _data(n_rows=40, p=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(200, p))
    rows = rng.normal(size=(n_rows, p)) * 3  # includes points far out (probabilities near 0/1)
    return X, rows


def _save(tmp: Path, name: str, est, X, y, columns) -> Bundle:
    b = Bundle(compile_model(est.fit(X, y)), input_columns=columns)
    b.save(tmp / name)
    return b


@pytest.fixture(scope="session")
def bundles(tmp_path_factory):
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.svm import LinearSVC

    tmp = tmp_path_factory.mktemp("capi-bundles")
    X, rows = _data()
    cols = ["dep_delay", "distance", "hour", "air time"]  # a name with a space, on purpose
    y3 = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)
    out = {
        "logistic3": _save(tmp, "logistic3", LogisticRegression(), X, y3, cols),
        "ridge2": _save(tmp, "ridge2", Ridge(), X, np.c_[X @ [1, 2, 3, 4], X[:, 0] - X[:, 3]], cols),
        "svc": _save(tmp, "svc", LinearSVC(), X, (X[:, 2] > 0).astype(int), cols),
    }
    rows_file = tmp / "rows.bin"
    np.ascontiguousarray(rows).tofile(rows_file)
    return out, rows, rows_file


def _method_of(bundle: Bundle) -> str:
    m = bundle.model
    if bundle.has_proba and getattr(m, "task", None) != "regression":
        return "predict_proba"
    if getattr(m, "classes_", None) is None and getattr(m, "task", None) in (None, "regression"):
        return "predict"
    return "decision_function"


def _python_batch(bundle: Bundle, rows: np.ndarray, *, matrix: bool = False) -> np.ndarray:
    """Python's batch prediction on an Arrow table of the rows (or, matrix=True, the model's own
    method on the same row-major matrix, which is what mlcore_predict hands it)."""
    table = pa.table({c: np.ascontiguousarray(rows[:, j]) for j, c in enumerate(bundle.input_columns)})
    method = _method_of(bundle)
    if matrix:
        res = getattr(bundle.model, method)(np.ascontiguousarray(rows))
    elif method == "decision_function":
        res = bundle.model.decision_function(table)
    else:
        res = getattr(bundle, method)(table)
    return np.asarray(res, dtype=np.float64).reshape(len(rows), -1)


def _python_rows(bundle: Bundle, rows: np.ndarray) -> np.ndarray:
    """The linear models' single-row methods (the kernel the fast path calls), row by row."""
    m = bundle.model
    f = {"predict_proba": "predict_proba_row", "predict": "predict_row",
         "decision_function": "decision_function_row"}[_method_of(bundle)]
    return np.array([np.atleast_1d(np.asarray(getattr(m, f)(np.ascontiguousarray(r)), dtype=np.float64))
                     for r in rows])


def _parse(stdout: str, tag: str) -> np.ndarray:
    lines = [ln.split() for ln in stdout.splitlines() if ln.startswith(tag + " ")]
    assert [int(ln[1]) for ln in lines] == list(range(len(lines)))
    return np.array([[float(v) for v in ln[2:]] for ln in lines])


# ---- the examples -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind, method", [("logistic3", "predict_proba"), ("ridge2", "predict"),
                                          ("svc", "decision_function")])
def test_c_example_equals_python(programs, bundles, kind, method):
    bs, rows, rows_file = bundles
    b = bs[kind]
    res = _run([programs["predict"], b.path, rows_file, len(rows)])
    assert res.returncode == 0, res.stderr
    assert f"output: {method} x" in res.stderr and _method_of(b) == method
    assert "inputs: dep_delay distance hour air time" in res.stderr
    batch = _parse(res.stdout, "batch")
    fast = _parse(res.stdout, "fast")
    expected = _python_batch(b, rows)
    assert batch.shape == expected.shape == fast.shape
    # mlcore_predict hands the C matrix to the model in place: the very numbers Python gets for it,
    np.testing.assert_array_equal(batch, _python_batch(b, rows, matrix=True))
    # and those of the Arrow-table path up to the summation order (row-major vs column kernels).
    np.testing.assert_allclose(batch, expected, rtol=1e-12, atol=1e-14)
    # The fast path runs the single-row kernel (another summation order than the batch kernel).
    np.testing.assert_allclose(fast, _python_rows(b, rows), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(fast, expected, rtol=1e-12, atol=1e-14)


def test_cpp_arrow_example_equals_python(programs, bundles):
    bs, rows, rows_file = bundles
    b = bs["logistic3"]
    res = _run([programs["predict_arrow"], b.path, rows_file, len(rows)])
    assert res.returncode == 0, res.stderr
    assert "both Arrow structs released by mlcore" in res.stderr
    np.testing.assert_array_equal(_parse(res.stdout, "arrow"), _python_batch(b, rows))


# ---- threads ----------------------------------------------------------------------------------


def test_fast_path_8_threads_x_100k_calls(programs, bundles):
    bs, rows, rows_file = bundles
    b = bs["logistic3"]
    res = _run([programs["threads"], b.path, rows_file, len(rows), 8, 100_000])
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr
    assert "threads=8 calls=800000 mismatches=0 errors=0" in res.stdout
    assert "python_path_calls=160 python_path_mismatches=0" in res.stdout
    np.testing.assert_allclose(_parse(res.stdout, "expected"), _python_rows(b, rows), rtol=1e-13, atol=1e-15)


# ---- misuse -----------------------------------------------------------------------------------

MISUSE = {
    # case: (status, a piece of the message)
    "before_init_load": (1, "mlcore_init"),
    "before_init_predict": (1, "mlcore_init"),
    "before_init_fast": (1, "mlcore_init"),
    "before_init_free": (1, "mlcore_init"),
    "before_init_shutdown": (1, "mlcore_init"),
    "init": (0, ""),
    "init_again": (0, ""),
    "load_null_path": (3, "path is NULL"),
    "load_null_out": (3, "out_model is NULL"),
    "load_missing": (6, "no artifact folder"),
    "load_tampered": (6, "does not match"),
    "load_good": (0, ""),
    "n_inputs_null": (3, "NULL"),
    "input_name_range": (5, "out of range"),
    "input_name_negative": (5, "out of range"),
    "predict_wrong_cols": (5, "n_cols is 2; the bundle expects 3"),
    "predict_negative_rows": (5, "n_rows is -1"),
    "predict_null_rows": (3, "rows is NULL"),
    "predict_null_out": (3, "out is NULL"),
    "predict_out_too_small": (5, "out_len is 1"),
    "predict_zero_rows_ok": (0, ""),
    "predict_nan": (7, "`b`"),
    "fast_nan": (7, "column `b` is NaN"),
    "fast_inf": (7, "column `b` is inf"),
    "fast_overflow": (0, ""),
    "fast_null_row": (3, "row is NULL"),
    "fast_null_out": (3, "out is NULL"),
    "fast_ok": (0, ""),
    "handle_zero": (4, "handle is 0"),
    "handle_garbage": (4, "not an mlcore handle"),
    "handle_wrong_generation": (4, "stale"),
    "handle_generation_zero": (4, "not an mlcore handle"),
    "handle_unused_slot": (4, "stale"),
    "arrow_null": (3, "array is NULL"),
    "arrow_not_struct": (5, "expected a struct array"),
    "arrow_already_released": (7, "already released"),
    "arrow_wrong_columns": (7, "missing input columns"),
    "free": (0, ""),
    "double_free": (4, "stale"),
    "predict_after_free": (4, "stale"),
    "fast_after_free": (4, "stale"),
    "n_inputs_after_free": (4, "stale"),
    "load_reuses_slot": (0, ""),
    "stale_after_reuse": (4, "stale"),
    "new_handle_ok": (0, ""),
    "shutdown": (0, ""),
    "after_shutdown": (1, "mlcore_shutdown was called"),
    "reinit": (0, ""),
    "after_reinit_old_handle": (4, "stale"),
    "load_after_reinit": (0, ""),
    "fast_after_reinit": (0, ""),
}


def test_misuse_returns_errors_never_crashes(programs, tmp_path):
    from sklearn.linear_model import LogisticRegression

    X, _ = _data(p=3)
    good = _save(tmp_path, "good", LogisticRegression(), X, (X[:, 0] > 0).astype(int), ["a", "b", "c"])
    shutil.copytree(tmp_path / "good", tmp_path / "tampered")
    coef = tmp_path / "tampered" / "arrays" / "model.coef.npy"
    data = bytearray(coef.read_bytes())
    data[-1] ^= 1  # one flipped bit in a weight
    coef.write_bytes(bytes(data))
    res = _run([programs["misuse"], tmp_path / "good", tmp_path / "tampered", tmp_path / "missing"])
    assert res.returncode == 0, res.stdout + res.stderr  # a crash would be a signal (< 0)
    seen = {}
    for line in res.stdout.splitlines():
        name, status, *msg = line.split(" ", 2)
        seen[name] = (status, msg[0] if msg else "")
    for case, (status, piece) in MISUSE.items():
        assert case in seen, f"{case} missing from the output:\n{res.stdout}"
        got_status, got_msg = seen[case]
        assert int(got_status) == status, f"{case}: status {got_status} ({got_msg}), expected {status}"
        assert piece in got_msg, f"{case}: message {got_msg!r} lacks {piece!r}"
    assert seen["handle_after_failed_load"][0] == "0"
    assert seen["arrow_not_struct_released"][0] == "2"  # mlcore released both structs it was given
    assert seen["same_slot"] == ("1", "different_handle 1")
    # A score that overflows on finite inputs: Python's answer (scikit-learn's), not an error.
    overflow = np.array([[0.5, 1e308, 2.0]])
    got = np.array([float(v) for v in (seen["fast_overflow_out"][0] + " " + seen["fast_overflow_out"][1]).split()])
    assert np.isfinite(got).all()
    np.testing.assert_array_equal(got, _python_batch(good, overflow)[0])


def test_failed_start_is_an_error_every_time(programs, tmp_path):
    # A fake `mlcore` that cannot be imported, first on the embedded interpreter's path.
    fake = tmp_path / "site" / "mlcore"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('broken on purpose')\n")
    res = _run([programs["statuses"], tmp_path / "nothing"], env={"MLCORE_CAPI_SITEDIRS": str(fake.parent)})
    assert res.returncode == 0, res.stderr
    lines = dict(ln.split(" ", 1) for ln in res.stdout.splitlines())
    assert lines["init"].startswith("2 ") and "broken on purpose" in lines["init"]
    for call in ("load", "fast", "init_again"):
        assert lines[call].startswith("2 "), lines  # never 0: a failed start is not success
        assert "mlcore_init failed earlier" in lines[call]


def test_bundles_without_fast_path(programs, tmp_path):
    """An MLP (no compiled row function) and a linear bundle whose inputs are not in the model's
    feature order: the fast path says so (status 9, the reason), the Python path still works."""
    import pandas as pd
    from sklearn.linear_model import Ridge
    from sklearn.neural_network import MLPRegressor

    X, rows = _data(n_rows=5, p=3)
    y = X @ [1.0, -2.0, 0.5]
    _save(tmp_path, "mlp", MLPRegressor(hidden_layer_sizes=(5,), solver="lbfgs", max_iter=2000, random_state=0), X, y,
          ["a", "b", "c"])
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    b = Bundle(compile_model(Ridge().fit(frame, y)), input_columns=["c", "a", "b"])
    b.save(tmp_path / "reordered")
    expected_reason = {"mlp": "has no compiled row function", "reordered": "not in the model's feature order"}
    for name, reason in expected_reason.items():
        res = _run([programs["statuses"], tmp_path / name, 3])
        lines = dict(ln.split(" ", 1) for ln in res.stdout.splitlines())
        assert lines["load"].startswith("0 "), lines
        assert lines["fast"].startswith("9 ") and reason in lines["fast"], lines
    rows_file = tmp_path / "rows.bin"
    np.ascontiguousarray(rows).tofile(rows_file)
    res = _run([programs["predict"], tmp_path / "reordered", rows_file, len(rows)])
    assert res.returncode == 0 and "fast path: no" in res.stderr, res.stderr
    # The C matrix is in the bundle's order (c, a, b); mlcore maps it to the model's by name.
    table = pa.table({c: rows[:, j] for j, c in enumerate(["c", "a", "b"])})
    np.testing.assert_array_equal(_parse(res.stdout, "batch")[:, 0], b.predict(table))


def test_dlopen_rtld_local(lib_dir, bundles, tmp_path):
    """A host that opens libmlcore with dlopen(RTLD_LOCAL) (plugins): extension imports still work."""
    bs, rows, _ = bundles
    b = bs["ridge2"]
    prog = tmp_path / "dlopen_local"
    subprocess.run(["gcc", "-O2", "-Wall", str(HERE / "dlopen_local.c"), "-ldl", "-o", str(prog)], check=True,
                   timeout=TIMEOUT)
    res = _run([prog, lib_dir / "libmlcore.so", b.path, *[repr(float(v)) for v in rows[0]]])
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("width=2 ")
    out0 = float(res.stdout.split("out0=")[1])
    np.testing.assert_allclose(out0, _python_batch(b, rows[:1])[0, 0], rtol=1e-12)


# ---- the row ABI in Python --------------------------------------------------------------------


def test_row_abi_descriptors():
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    X, _ = _data()
    y = (X[:, 0] > 0).astype(int)
    m = compile_model(LogisticRegression().fit(X, y))
    abi = capi.row_abi(m, "predict_proba", 2)
    assert abi.kind == capi.ROW_LINEAR and abi.width == 2 and abi.fn != 0
    assert abi.linear[1:3] == (4, 1) and abi.scratch == 1
    assert abi.keep[0].ctypes.data == abi.linear[0]  # the descriptor keeps the model array alive
    assert "writes 2 values" in capi.row_abi(m, "predict_proba", 3)
    svc = compile_model(LinearSVC().fit(X, y))
    assert "predict_proba" in capi.row_abi(svc, "predict_proba", 2)  # no probabilities: a reason, not an ABI
    assert "no compiled row function" in capi.row_abi(object(), "predict", 1)


def test_build_refuses_missing_sources(tmp_path):
    with pytest.raises(FileNotFoundError, match="mlcore.h"):
        capi.build(tmp_path / "out", bindings_dir=tmp_path)


def test_docstring_examples():
    import doctest

    result = doctest.testmod(capi, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.attempted > 0 and result.failed == 0


# ---- tree ensembles (where the compiled tree models are part of this checkout) -----------------


@pytest.fixture(scope="session")
def tree_bundles(tmp_path_factory):
    trees = pytest.importorskip("mlcore.train.trees")
    pytest.importorskip("mlcore._kernels.tree_row")
    lgb = pytest.importorskip("lightgbm")
    if not hasattr(trees, "load_tree_model"):
        pytest.skip("tree bundles do not load yet: mlcore.train.compile.load_model looks up "
                    "mlcore.train.trees.load_tree_model, which this checkout lacks")
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    tmp = tmp_path_factory.mktemp("capi-trees")
    rng = np.random.default_rng(1)
    X = rng.normal(size=(2000, 6))
    cols = [f"f{j}" for j in range(6)]
    yr = 2 * X[:, 0] + np.sin(X[:, 1])
    yb = (X[:, 0] + X[:, 2] > 0).astype(int)
    ym = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.3)
    kw = {"verbose": -1, "n_jobs": 1}
    out = {
        "lgb_regression": _save(tmp, "lgb_reg", lgb.LGBMRegressor(n_estimators=40, **kw), X, yr, cols),
        "lgb_binary": _save(tmp, "lgb_bin", lgb.LGBMClassifier(n_estimators=40, **kw), X, yb, cols),
        "lgb_multiclass": _save(tmp, "lgb_multi", lgb.LGBMClassifier(n_estimators=20, **kw), X, ym, cols),
        "rf_classifier": _save(tmp, "rf_cls", RandomForestClassifier(n_estimators=10, max_depth=6, random_state=0),
                               X, ym, cols),
        "rf_regressor": _save(tmp, "rf_reg", RandomForestRegressor(n_estimators=10, max_depth=6, random_state=0),
                              X, yr, cols),
    }
    rows = rng.normal(size=(50, 6)) * 2
    rows_nan = rows.copy()
    rows_nan[::7, 2] = np.nan  # LightGBM takes missing values (its default direction)
    files = {}
    for name, r in (("plain", rows), ("nan", rows_nan)):
        files[name] = tmp / f"{name}.bin"
        np.ascontiguousarray(r).tofile(files[name])
    return out, {"plain": rows, "nan": rows_nan}, files


@pytest.mark.parametrize("kind", ["lgb_regression", "lgb_binary", "lgb_multiclass", "rf_classifier", "rf_regressor"])
def test_c_example_tree_models(programs, tree_bundles, kind):
    bs, rows, files = tree_bundles
    b = bs[kind]
    which = "nan" if kind.startswith("lgb") and b.model.allow_nan else "plain"
    r = rows[which]
    res = _run([programs["predict"], b.path, files[which], len(r)])
    assert res.returncode == 0, res.stderr
    assert "fast path: yes" in res.stderr
    batch, fast = _parse(res.stdout, "batch"), _parse(res.stdout, "fast")
    np.testing.assert_array_equal(batch, _python_batch(b, r, matrix=True))
    expected = _python_batch(b, r)
    np.testing.assert_allclose(batch, expected, rtol=1e-12, atol=1e-15)
    # The fast path applies the output transform in C (libm exp, not NumPy's): equal to rounding.
    np.testing.assert_allclose(fast, expected, rtol=1e-12, atol=1e-15)


def test_tree_refused_values_name_the_column(programs, tree_bundles):
    """scikit-learn's forests refuse infinities: the fast path says which column, as Python does."""
    bs, _, _ = tree_bundles
    b = bs["rf_regressor"]
    assert not b.model.allow_inf
    res = _run([programs["statuses"], b.path, 6, "inf"])
    lines = dict(ln.split(" ", 1) for ln in res.stdout.splitlines())
    assert lines["load"].startswith("0 "), lines
    assert lines["fast"].startswith("7 ") and "column `f0` is inf" in lines["fast"], lines
    res = _run([programs["statuses"], b.path, 6, "0.25"])
    assert dict(ln.split(" ", 1) for ln in res.stdout.splitlines())["fast"].startswith("0 ")


def test_tree_fast_path_8_threads_x_100k_calls(programs, tree_bundles):
    """Trees keep per-call workspaces in their table: each C thread must get its own."""
    bs, rows, files = tree_bundles
    b = bs["lgb_multiclass"]
    res = _run([programs["threads"], b.path, files["plain"], len(rows["plain"]), 8, 100_000])
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr
    assert "threads=8 calls=800000 mismatches=0 errors=0" in res.stdout
    assert "python_path_calls=160 python_path_mismatches=0" in res.stdout
    np.testing.assert_allclose(_parse(res.stdout, "expected"), _python_batch(b, rows["plain"]), rtol=1e-12,
                               atol=1e-15)
