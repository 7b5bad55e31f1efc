"""Importance weights: against a known density ratio, Kish's formula, and no drift."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats

from mlcore.errors import SchemaError, ShapeError
from mlcore.maintain import effective_sample_size, importance_weights
from reference.maintain_weights import gaussian_shift_ratio, kish_ess


def test_kish_matches_reference_formula():
    rng = np.random.default_rng(3)
    for n in (1, 2, 17, 500):
        w = rng.gamma(0.7, size=n)
        assert effective_sample_size(w) == pytest.approx(kish_ess(w), rel=1e-12)
    assert effective_sample_size(np.ones(40)) == 40.0
    assert effective_sample_size(np.r_[5.0, np.zeros(9)]) == pytest.approx(1.0)
    assert effective_sample_size([]) == 0.0
    with pytest.raises(ValueError):
        effective_sample_size([1.0, -1.0])
    with pytest.raises(ValueError):
        effective_sample_size([1.0, np.nan])


@pytest.mark.parametrize("model", ["hgb", "logistic"])
def test_weights_follow_the_known_density_ratio(model):
    # history x ~ N(0, 1), recent x ~ N(1, 1): the true ratio is exp(x - 1/2)
    rng = np.random.default_rng(0)
    xh = rng.normal(0, 1, 4000)
    xr = rng.normal(1, 1, 2000)
    noise_h, noise_r = rng.normal(size=4000), rng.normal(size=2000)
    iw = importance_weights(pa.table({"x": xh, "z": noise_h}), pa.table({"x": xr, "z": noise_r}),
                            ["x", "z"], model=model, n_splits=3)
    truth = gaussian_shift_ratio(xh, 1.0)
    truth = truth / truth.mean()
    rho = stats.spearmanr(iw.weights, truth).statistic
    assert rho > 0.9, rho
    assert iw.weights.mean() == pytest.approx(1.0)
    assert iw.weights.shape == (4000,) and iw.recent_weights.shape == (2000,)
    assert np.all(iw.recent_weights == 1.0)
    # the true ESS of this ratio is n / E[w^2] = n * exp(-1); the estimate is in that region
    assert iw.effective_sample_size == pytest.approx(effective_sample_size(iw.weights))
    assert 0.2 < iw.ess_ratio < 0.6, iw.ess_ratio
    # the AUC of N(0,1) vs N(1,1) is Phi(1/sqrt 2) = 0.760; its interval covers it
    lo, hi = iw.domain_auc_interval
    assert lo < 0.760 < hi and hi - lo < 0.06
    d = iw.to_dict()
    assert d["n_history"] == 4000 and d["columns"] == ["x", "z"]


def test_no_drift_gives_weights_near_one_and_full_ess():
    rng = np.random.default_rng(1)
    h = pa.table({"x": rng.normal(size=3000), "c": rng.choice(["a", "b", "c"], 3000)})
    r = pa.table({"x": rng.normal(size=1500), "c": rng.choice(["a", "b", "c"], 1500)})
    iw = importance_weights(h, r)
    assert iw.ess_ratio > 0.95, iw.ess_ratio
    assert np.quantile(iw.weights, 0.95) < 1.4 and np.quantile(iw.weights, 0.05) > 0.7
    lo, hi = iw.domain_auc_interval
    assert lo < 0.5 + 0.02 and hi > 0.5 - 0.02


def test_cross_fitting_no_row_scored_by_a_model_that_saw_it():
    # pure noise with unique ids as a feature: a model that saw a row could recognise it; out of
    # fold, it cannot, so the domain AUC stays near 0.5
    rng = np.random.default_rng(2)
    h = pa.table({"x": rng.normal(size=800)})
    r = pa.table({"x": rng.normal(size=800)})
    iw = importance_weights(h, r, model="hgb", n_splits=4)
    assert abs(iw.domain_auc - 0.5) < 0.06


def test_no_row_is_weighted_by_a_model_that_trained_on_it(monkeypatch):
    import mlcore.maintain.weights as W

    seen = []

    class Recorder:
        def fit(self, X, d):
            self.rows = {float(v) for v in X[:, 0]}
            seen.append(self)
            return self

        def predict_proba(self, X):
            ids = X[:, 0]
            assert not any(float(v) in self.rows for v in ids), "a row scored by a model that trained on it"
            p = np.full(len(ids), 0.5)
            return np.column_stack([1 - p, p])

    monkeypatch.setattr(W, "_classifier", lambda model, cat_mask, seed: Recorder())
    ids_h = np.arange(0, 600, dtype=np.float64)  # unique values: a row is recognisable by its value
    ids_r = np.arange(1000, 1300, dtype=np.float64)
    iw = importance_weights(pa.table({"id": ids_h}), pa.table({"id": ids_r}), n_splits=3, max_rows=400)
    assert len(seen) == 3 and iw.weights.shape == (600,)
    # every history row was scored: in its fold, or (outside the training sample) by all fold models
    assert np.all(np.isfinite(iw.probabilities))


def test_categorical_shift_and_sampling():
    rng = np.random.default_rng(4)
    h = pa.table({"c": rng.choice(["a", "b"], 5000, p=[0.8, 0.2])})
    r = pa.table({"c": rng.choice(["a", "b"], 2000, p=[0.2, 0.8])})
    iw = importance_weights(h, r, max_rows=1500)  # classifiers see a sample; every row is weighted
    c = np.asarray(h["c"].to_pylist())
    ratio = iw.weights[c == "b"].mean() / iw.weights[c == "a"].mean()
    assert ratio == pytest.approx((0.8 / 0.2) / (0.2 / 0.8), rel=0.25)


def test_clear_errors():
    t = pa.table({"x": np.arange(100.0)})
    with pytest.raises(SchemaError, match="`?nope`?|nope"):
        importance_weights(t, t, ["nope"])
    with pytest.raises(ShapeError, match="at least"):
        importance_weights(t.slice(0, 5), t)
    with pytest.raises(ValueError, match="model="):
        importance_weights(t, t, model="svm")
    with pytest.raises(ValueError, match="clip="):
        importance_weights(t, t, clip=0.5)
    with pytest.raises(SchemaError, match="logistic"):
        importance_weights(pa.table({"c": ["a", "b"] * 50}), pa.table({"c": ["a", "b"] * 50}), model="logistic")
