"""to_arrays / from_arrays: JSON + plain arrays, no pickle; shapes, dtypes and kinds validated."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression, Ridge, SGDClassifier
from sklearn.neural_network import MLPClassifier, MLPRegressor

from helpers import quiet_fit
from mlcore.errors import ArtifactError
from mlcore.train import CompiledLinear, CompiledMLP, compile_model, load_model


def _roundtrip(model):
    manifest, arrays = model.to_arrays()
    text = json.dumps(manifest)  # JSON-able as it is
    loaded = {}
    for k, a in arrays.items():
        buf = io.BytesIO()
        np.save(buf, a, allow_pickle=False)
        buf.seek(0)
        loaded[k] = np.load(buf, allow_pickle=False)
    return load_model(json.loads(text), loaded)


def _models():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    y3 = np.array(["a", "b", "c"], dtype=object)[rng.integers(0, 3, size=60)]
    return X, [
        Ridge().fit(X, np.column_stack([X[:, 0], X[:, 1]])),
        LogisticRegression().fit(X, y3),
        LogisticRegression().fit(X, X[:, 0] > 0),
        quiet_fit(SGDClassifier(loss="modified_huber", max_iter=5, random_state=0), X, rng.integers(0, 3, 60) * 2.0),
        quiet_fit(MLPClassifier(hidden_layer_sizes=(3, 2), max_iter=5, random_state=0), X, y3),
        quiet_fit(MLPRegressor(hidden_layer_sizes=(3,), max_iter=5, random_state=0), X, X[:, 0]),
    ]


def test_roundtrip_predicts_identically():
    X, ests = _models()
    for est in ests:
        model = compile_model(est)
        back = _roundtrip(model)
        assert type(back) is type(model) and back.kind == model.kind
        np.testing.assert_array_equal(back.predict(X), model.predict(X))
        if hasattr(model, "predict_proba"):
            np.testing.assert_array_equal(back.predict_proba(X), model.predict_proba(X))
        if model.classes_ is not None:
            assert back.classes_.dtype == est.classes_.dtype
            assert back.classes_.tolist() == est.classes_.tolist()


def test_unknown_kind_and_bad_arrays_refused():
    X, ests = _models()
    manifest, arrays = compile_model(ests[1]).to_arrays()
    with pytest.raises(ArtifactError, match="Unknown model kind 'pickle'"):
        load_model({**manifest, "kind": "pickle"}, arrays)
    with pytest.raises(ArtifactError, match="Unknown model kind"):
        CompiledMLP.from_arrays(manifest, arrays)
    with pytest.raises(ArtifactError, match="must have shape"):
        CompiledLinear.from_arrays(manifest, {**arrays, "coef": arrays["coef"][:, :3]})
    with pytest.raises(ArtifactError, match="must be float64"):
        CompiledLinear.from_arrays(manifest, {**arrays, "coef": arrays["coef"].astype(np.float32)})
    with pytest.raises(ArtifactError, match="`intercept` is missing"):
        CompiledLinear.from_arrays(manifest, {"coef": arrays["coef"]})
    with pytest.raises(ArtifactError, match="format_version"):
        CompiledLinear.from_arrays({**manifest, "format_version": 99}, arrays)
    with pytest.raises(ArtifactError, match="proba"):
        CompiledLinear.from_arrays({**manifest, "proba": "eval"}, arrays)
    with pytest.raises(ArtifactError, match="classes"):
        CompiledLinear.from_arrays({**manifest, "classes": {"dtype": "object", "values": ["a"]}}, arrays)
    with pytest.raises(ArtifactError, match="JSON"):
        CompiledLinear.from_arrays({**manifest, "estimator": object()}, arrays)
    m2, a2 = compile_model(ests[4]).to_arrays()
    with pytest.raises(ArtifactError, match="weights"):
        CompiledMLP.from_arrays(m2, {**a2, "weights": a2["weights"][:-1]})
    with pytest.raises(ArtifactError, match="activation"):
        CompiledMLP.from_arrays({**m2, "activation": "gelu"}, a2)
