"""The public surface of mlcore.train is deliberate."""

from __future__ import annotations

import mlcore.train as train

EXPECTED = {"fit", "select_model", "SelectionResult", "compile_model", "load_model", "SUPPORTED_ESTIMATORS",
            "CompiledLinear", "CompiledMLP", "TreeEnsemble", "compile_predictor", "FusedPredictor"}


def test_all_is_deliberate():
    assert set(train.__all__) == EXPECTED
    for name in train.__all__:
        assert getattr(train, name) is not None


def test_supported_list_is_closed_and_covers_the_issue():
    names = {n for (_, n) in train.SUPPORTED_ESTIMATORS}
    for n in ("LinearRegression", "Ridge", "Lasso", "ElasticNet", "LogisticRegression", "SGDClassifier",
              "SGDRegressor", "LinearSVC", "LinearSVR", "MLPClassifier", "MLPRegressor"):
        assert n in names


def test_compiled_models_follow_the_protocol():
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    m = train.compile_model(LogisticRegression().fit(np.eye(3), [0, 1, 1]))
    for attr in ("kind", "n_features_in_", "feature_names_in_", "predict", "predict_proba", "decision_function",
                 "to_arrays", "from_arrays", "predict_row", "predict_proba_row", "decision_function_row"):
        assert hasattr(m, attr), attr


def test_loading_and_predicting_never_imports_sklearn(tmp_path):
    """Serving loads compiled models: that path must not pull in scikit-learn (cold start, deps)."""
    import json
    import subprocess
    import sys

    import numpy as np
    from sklearn.linear_model import LogisticRegression

    manifest, arrays = train.compile_model(LogisticRegression().fit(np.eye(3), [0, 1, 1])).to_arrays()
    (tmp_path / "m.json").write_text(json.dumps(manifest))
    for k, a in arrays.items():
        np.save(tmp_path / f"{k}.npy", a, allow_pickle=False)
    code = (
        "import json, sys, numpy as np, mlcore.train as t\n"
        f"d = {str(tmp_path)!r}\n"
        "m = json.load(open(d + '/m.json'))\n"
        "a = {k: np.load(d + '/' + k + '.npy', allow_pickle=False) for k in ('coef', 'intercept')}\n"
        "model = t.load_model(m, a)\n"
        "print(model.predict_proba_row(np.array([0.0, 1.0, 0.0]))[1] > 0.5, 'sklearn' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "False"]


def test_batch_input_is_read_in_place():
    """The kernels get the Arrow buffers' own addresses: no copy into a matrix."""
    import numpy as np
    import pyarrow as pa

    from mlcore.train._common import resolve_batch

    base = pa.array(np.arange(40, dtype=np.float64))
    t = pa.table({"a": base.slice(3, 30), "b": pa.chunked_array([base.slice(0, 10), base.slice(10, 20)])})
    inp = resolve_batch(t, n_features=2, feature_names=["a", "b"], model="test")
    addr = base.buffers()[1].address
    assert [(s, n) for s, n, _, _ in inp.pieces] == [(0, 10), (10, 20)]
    assert inp.pieces[0][2].tolist() == [addr + 3 * 8, addr]
    assert inp.pieces[1][2].tolist() == [addr + 13 * 8, addr + 10 * 8]
    X = np.asfortranarray(np.ones((5, 2)))
    inp = resolve_batch(X, n_features=2, feature_names=None, model="test")
    assert inp.pieces[0][2].tolist() == [X.ctypes.data, X.ctypes.data + 5 * 8]
    C = np.ones((5, 2))
    assert resolve_batch(C, n_features=2, feature_names=None, model="test").matrix is C
    W = np.asfortranarray(np.ones((5, 4)))[:, 1::2]  # columns 1 and 3, in place
    inp = resolve_batch(W, n_features=2, feature_names=None, model="test")
    assert inp.pieces[0][2].tolist() == [W.ctypes.data, W.ctypes.data + 2 * 5 * 8]
