"""Concept drift P(Y|X), predictions P(Ŷ), inputs with predictions P(X, Ŷ) and the model's error."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest
from reference.monitor_delong import paired_delong

from mlcore.monitor import concept_drift, domain_classifier_test, error_drift, prediction_drift
from mlcore.monitor.concept import delong_paired


def _rows(rng, n, shift=0.0, flip=False, regression=False, flip_segment=None):
    """y depends on x1 with noise that grows with |x1| (so a shift of P(X) alone moves the error)."""
    x1 = rng.normal(shift, 1, n)
    x2 = rng.normal(size=n)
    seg = np.where(x2 > 0, "hi", "lo")
    sign = np.full(n, -1.0 if flip else 1.0)
    if flip_segment is not None:
        sign = np.where(seg == flip_segment, -1.0, 1.0)
    s = sign * x1 + 0.5 * x2 + rng.normal(size=n) * (0.3 + 0.5 * np.abs(x1))
    y = s if regression else (s > 0).astype(np.int64)
    return pa.table({"x1": x1, "x2": x2, "y": y, "seg": seg})


def test_delong_paired_matches_the_definition():
    rng = np.random.default_rng(0)
    pa_, na_ = rng.normal(1, 1, 40), rng.normal(0, 1, 30)
    pb, nb = pa_ + rng.normal(0, 0.5, 40), na_ + rng.normal(0, 0.5, 30)
    pb[:5] = nb[:5]  # ties across the classes
    d, se, z = delong_paired(pa_, na_, pb, nb)
    d_ref, se_ref = paired_delong(pa_, na_, pb, nb)
    assert d == pytest.approx(d_ref, abs=1e-12) and se == pytest.approx(se_ref, rel=1e-10)
    assert z == pytest.approx(d_ref / se_ref, rel=1e-10)


def test_concept_drift_flags_a_changed_concept_with_fixed_inputs():
    for seed in (0, 1):
        rng = np.random.default_rng(seed)
        ref, cur = _rows(rng, 2000), _rows(rng, 2000, flip=True)
        r = concept_drift(ref, cur, ["x1", "x2"], "y", n_folds=3, seed=seed)
        assert r.drifted and r.joint.p_value < 1e-6 and r.joint.effect_size > 0.2
        assert r.error.p_value < 1e-6 and r.error.details["ci"][0] > 0  # the error rose, with its interval
        assert r.joint.details["auc_x"] < 0.6  # P(X) did not move


def test_concept_drift_is_quiet_when_only_the_inputs_move():
    # P(X) shifts by 1 sd, P(Y|X) unchanged: the X-only and (X, Y) classifiers gain together
    flagged, plain = [], []
    for seed in range(6):
        rng = np.random.default_rng(seed)
        ref, cur = _rows(rng, 2000), _rows(rng, 2000, shift=1.0)
        r = concept_drift(ref, cur, ["x1", "x2"], "y", n_folds=3, seed=seed)
        assert r.joint.details["auc_x"] > 0.7
        flagged.append(r.drifted)
        assert not [e for e in r.events() if e.where == ""]  # no verdict event
        if seed < 2:  # a domain classifier on (X, Y) alone would call this drift: not a concept test
            plain.append(domain_classifier_test(ref, cur, ["x1", "x2", "y"], n_folds=3).p_value < 0.05)
    assert flagged == [False] * 6
    assert plain == [True, True]


def test_concept_drift_regression_and_a_new_intercept():
    rng = np.random.default_rng(5)
    ref = _rows(rng, 2000, regression=True)
    cur = _rows(rng, 2000, shift=1.0, regression=True)
    assert not concept_drift(ref, cur, ["x1", "x2"], "y", n_folds=3).drifted
    moved = cur.set_column(2, "y", pa.array(cur["y"].to_numpy() + 1.0))
    r = concept_drift(ref, moved, ["x1", "x2"], "y", n_folds=3)
    assert r.drifted and r.joint.details["task"] == "regression"


def test_concept_drift_per_segment_traces_the_segment():
    rng = np.random.default_rng(3)
    ref, cur = _rows(rng, 3000), _rows(rng, 3000, flip_segment="hi")
    r = concept_drift(ref, cur, ["x1", "x2"], "y", n_folds=3, segment_by="seg")
    assert r.drifted
    assert r.drifted_segments == ["hi"]
    assert r.segments["hi"].statistic > 0.2 and r.segments["lo"].details["adjusted_p_value"] > 0.05
    assert set(r.to_dict()["segments"]) == {"hi", "lo"}
    ev = r.events(where="w7")
    assert [(e.kind, e.where) for e in ev] == [("concept", "w7"), ("concept", "w7/hi")]
    assert ev[0].evidence["auc_gain"] == r.joint.effect_size and ev[1].evidence["segment"] == "hi"


def test_concept_drift_categorical_target_and_small_or_bad_input():
    rng = np.random.default_rng(2)
    ref, cur = _rows(rng, 1500), _rows(rng, 1500, flip=True)
    lab = {0: "no", 1: "yes"}
    ref = ref.set_column(2, "y", pa.array([lab[v] for v in ref["y"].to_pylist()]))
    cur = cur.set_column(2, "y", pa.array([lab[v] for v in cur["y"].to_pylist()]))
    r = concept_drift(ref, cur, ["x1", "x2"], "y", n_folds=3)
    assert r.drifted and r.joint.details["task"] == "classification"
    tiny = concept_drift(ref.slice(0, 10), cur.slice(0, 10), ["x1", "x2"], "y")
    assert not tiny.drifted and math.isnan(tiny.joint.statistic) and "too few" in tiny.joint.threshold_kind
    with pytest.raises(ValueError, match="also listed among the features"):
        concept_drift(ref, cur, ["x1", "y"], "y")
    with pytest.raises(ValueError, match="task must be"):
        concept_drift(ref, cur, ["x1"], "y", task="ranking")


def test_prediction_and_error_drift():
    rng = np.random.default_rng(4)
    n = 2000
    x_r, x_c = rng.normal(size=n), rng.normal(size=n)
    ref = pa.table({"x": x_r, "pred": 1 / (1 + np.exp(-x_r)), "label": (x_r > 0).astype(np.int64)})
    # same inputs' distribution, but the model changed: a new mapping from x to the prediction
    cur = pa.table({"x": x_c, "pred": 1 / (1 + np.exp(-0.5 * x_c - 0.5)), "label": (x_c > 0).astype(np.int64)})
    out = prediction_drift(ref, cur, "pred", ["x"], n_folds=3)
    assert out["predictions"].drifted
    assert out["inputs_with_predictions"].p_value < 1e-6
    same = pa.table({"x": x_c, "pred": 1 / (1 + np.exp(-x_c)), "label": (x_c > 0).astype(np.int64)})
    quiet = prediction_drift(ref, same, "pred", ["x"], n_folds=3)
    assert not quiet["predictions"].drifted and quiet["inputs_with_predictions"].p_value > 0.05
    # error: hard predictions at 0.5
    r_hard = ref.append_column("hard", pa.array((ref["pred"].to_numpy() > 0.5).astype(np.int64)))
    noisy = np.where(rng.random(n) < 0.2, 1 - (x_c > 0), (x_c > 0)).astype(np.int64)
    c_hard = cur.append_column("hard", pa.array(noisy))
    e = error_drift(r_hard, c_hard, "label", "hard")
    assert e["mean_error"].statistic == pytest.approx(float(np.mean(noisy != (x_c > 0))), abs=1e-12)
    lo, hi = e["mean_error"].details["ci"]
    assert lo < e["mean_error"].statistic < hi and lo > 0.15 and e["mean_error"].p_value < 1e-10
    assert error_drift(r_hard, r_hard, "label", "hard")["mean_error"].p_value == 1.0
    reg = error_drift(pa.table({"y": x_r, "p": x_r + rng.normal(0, 0.1, n)}),
                      pa.table({"y": x_c, "p": x_c + rng.normal(0, 0.3, n)}), "y", "p")
    assert reg["loss_report"].drifted and reg["mean_error"].details["loss"] == "squared error"
