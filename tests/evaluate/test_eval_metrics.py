"""Every metric against sklearn.metrics (1e-9) and the slow references, with ties, weights, edge cases."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
import sklearn.metrics as skm
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.calibration import calibration_curve

from mlcore.errors import ShapeError
from mlcore.evaluate import metrics as M
from mlcore.evaluate._inputs import MetricInputError
from reference import metric_reference as R

TOL = dict(rel=1e-9, abs=1e-9)


def close(a, b):
    return a == pytest.approx(b, **TOL)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    n = 3000
    y = rng.integers(0, 2, n)
    # rounded scores: many ties
    s = np.round(np.clip(0.35 * y + 0.65 * rng.random(n), 0, 1), 2)
    w = rng.random(n) * 3
    y3 = rng.integers(0, 4, n)
    p3 = np.where(rng.random(n) < 0.5, y3, rng.integers(0, 4, n))
    P = rng.dirichlet([1.0, 2.0, 1.0, 0.5], n)
    yr = rng.normal(size=n) * 3
    pr = np.round(yr + rng.normal(size=n), 1)
    return dict(y=y, s=s, w=w, y3=y3, p3=p3, P=P, yr=yr, pr=pr, yhat=(s > 0.5).astype(np.int64))


WEIGHTS = [None, "w"]


@pytest.mark.parametrize("wkey", WEIGHTS)
def test_ranking_and_proba_match_sklearn(data, wkey):
    d = data
    w = d[wkey] if wkey else None
    assert close(M.roc_auc_score(d["y"], d["s"], sample_weight=w), skm.roc_auc_score(d["y"], d["s"], sample_weight=w))
    assert close(M.average_precision_score(d["y"], d["s"], sample_weight=w),
                 skm.average_precision_score(d["y"], d["s"], sample_weight=w))
    assert close(M.log_loss(d["y"], d["s"], sample_weight=w), skm.log_loss(d["y"], d["s"], sample_weight=w))
    assert close(M.brier_score_loss(d["y"], d["s"], sample_weight=w),
                 skm.brier_score_loss(d["y"], d["s"], sample_weight=w))


@pytest.mark.parametrize("wkey", WEIGHTS)
@pytest.mark.parametrize("average", ["macro", "weighted"])
def test_multiclass_proba_match_sklearn(data, wkey, average):
    d = data
    w = d[wkey] if wkey else None
    assert close(M.roc_auc_score(d["y3"], d["P"], multi_class="ovr", average=average, sample_weight=w),
                 skm.roc_auc_score(d["y3"], d["P"], multi_class="ovr", average=average, sample_weight=w))
    assert close(M.log_loss(d["y3"], d["P"], sample_weight=w), skm.log_loss(d["y3"], d["P"], sample_weight=w))
    assert close(M.brier_score_loss(d["y3"], d["P"], sample_weight=w),
                 skm.brier_score_loss(d["y3"], d["P"], sample_weight=w))
    # the slow references on a prefix (the pairwise AUC is quadratic)
    t, P, wl = list(d["y3"][:300]), d["P"][:300].tolist(), None if w is None else list(w[:300])
    classes = [0, 1, 2, 3]
    assert close(M.log_loss(d["y3"][:300], d["P"][:300], sample_weight=None if w is None else w[:300]),
                 R.ref_multi_log_loss(t, P, classes, wl))
    assert close(M.brier_score_loss(d["y3"][:300], d["P"][:300], sample_weight=None if w is None else w[:300]),
                 R.ref_multi_brier(t, P, classes, wl))
    assert close(M.roc_auc_score(d["y3"][:300], d["P"][:300], multi_class="ovr", average=average,
                                 sample_weight=None if w is None else w[:300]),
                 R.ref_ovr_auc(t, P, classes, wl, average))


@pytest.mark.parametrize("wkey", WEIGHTS)
@pytest.mark.parametrize("average", ["binary", "macro", "weighted", "micro"])
def test_label_metrics_match_sklearn(data, wkey, average):
    d = data
    w = d[wkey] if wkey else None
    t, p = (d["y"], d["yhat"]) if average == "binary" else (d["y3"], d["p3"])
    for ours, theirs in ((M.precision_score, skm.precision_score), (M.recall_score, skm.recall_score),
                         (M.f1_score, skm.f1_score)):
        assert close(ours(t, p, average=average, sample_weight=w),
                     theirs(t, p, average=average, sample_weight=w, zero_division=0))
    assert close(M.accuracy_score(t, p, sample_weight=w), skm.accuracy_score(t, p, sample_weight=w))
    assert close(M.balanced_accuracy_score(t, p, sample_weight=w), skm.balanced_accuracy_score(t, p, sample_weight=w))
    np.testing.assert_allclose(M.confusion_matrix(t, p, sample_weight=w),
                               skm.confusion_matrix(t, p, sample_weight=w), rtol=1e-12)
    if average != "binary" and average != "micro":
        ref = R.ref_prf(list(t), list(p), None if w is None else list(w), average)
        assert close(M.precision_score(t, p, average=average, sample_weight=w), ref[0])
        assert close(M.f1_score(t, p, average=average, sample_weight=w), ref[2])


def test_per_class_average_none_and_string_labels():
    t = np.array(["cat", "dog", "cat", "emu", "dog"])
    p = np.array(["cat", "cat", "cat", "emu", "bird"])
    np.testing.assert_allclose(M.f1_score(t, p, average=None),
                               skm.f1_score(t, p, average=None, zero_division=0))
    np.testing.assert_array_equal(M.confusion_matrix(t, p), skm.confusion_matrix(t, p))
    np.testing.assert_array_equal(M.confusion_matrix(t, p, labels=["emu", "cat"]),
                                  skm.confusion_matrix(t, p, labels=["emu", "cat"]))
    assert close(M.balanced_accuracy_score(t, p), R.ref_balanced_accuracy(list(t), list(p)))


@pytest.mark.parametrize("wkey", WEIGHTS)
def test_regression_match_sklearn_and_reference(data, wkey):
    d = data
    w = d[wkey] if wkey else None
    t, p = d["yr"], d["pr"]
    pairs = [
        (M.mean_absolute_error, skm.mean_absolute_error, "mae"),
        (M.mean_squared_error, skm.mean_squared_error, "mse"),
        (M.root_mean_squared_error, skm.root_mean_squared_error, "rmse"),
        (M.mean_absolute_percentage_error, skm.mean_absolute_percentage_error, "mape"),
        (M.r2_score, skm.r2_score, "r2"),
    ]
    ref = R.ref_regression(list(t), list(p), None if w is None else list(w), alpha=0.3)
    for ours, theirs, key in pairs:
        assert close(ours(t, p, sample_weight=w), theirs(t, p, sample_weight=w)), key
        assert close(ours(t, p, sample_weight=w), ref[key]), key
    assert close(M.mean_pinball_loss(t, p, alpha=0.3, sample_weight=w),
                 skm.mean_pinball_loss(t, p, alpha=0.3, sample_weight=w))
    assert close(M.mean_pinball_loss(t, p, alpha=0.3, sample_weight=w), ref["pinball"])


def test_regression_edge_cases():
    # y == 0 rows: MAPE divides by eps as scikit-learn does; constant y_true: R^2 force_finite
    t = np.array([0.0, 1.0, 2.0, 0.0])
    p = np.array([0.5, 1.0, 2.5, 0.0])
    assert close(M.mean_absolute_percentage_error(t, p), skm.mean_absolute_percentage_error(t, p))
    assert M.r2_score([3.0, 3.0], [3.0, 3.0]) == skm.r2_score([3.0, 3.0], [3.0, 3.0]) == 1.0
    assert M.r2_score([3.0, 3.0], [3.0, 2.0]) == skm.r2_score([3.0, 3.0], [3.0, 2.0]) == 0.0
    assert np.isnan(M.r2_score([1.0], [2.0]))


@pytest.mark.parametrize("wkey", WEIGHTS)
@pytest.mark.parametrize("n_bins", [1, 5, 10])
def test_ece_matches_calibration_curve_and_reference(data, wkey, n_bins):
    d = data
    w = d[wkey] if wkey else None
    ece = M.expected_calibration_error(d["y"], d["s"], n_bins=n_bins, sample_weight=w)
    assert close(ece, R.ref_ece(list(d["y"]), list(d["s"]), n_bins, None if w is None else list(w)))
    if w is None:  # calibration_curve has no weights: rebuild the ECE from its bins and counts
        prob_true, prob_pred = calibration_curve(d["y"], d["s"], n_bins=n_bins, strategy="uniform")
        bins = np.searchsorted(np.linspace(0, 1, n_bins + 1)[1:-1], d["s"])
        counts = np.bincount(bins, minlength=n_bins)
        counts = counts[counts > 0]
        assert close(ece, float(np.sum(counts * np.abs(prob_true - prob_pred)) / counts.sum()))


def test_curves_match_sklearn(data):
    d = data
    fpr, tpr, thr = M.roc_curve(d["y"], d["s"], sample_weight=d["w"])
    f2, t2, th2 = skm.roc_curve(d["y"], d["s"], sample_weight=d["w"], drop_intermediate=False)
    np.testing.assert_allclose(fpr, f2, atol=1e-12)
    np.testing.assert_allclose(tpr, t2, atol=1e-12)
    np.testing.assert_array_equal(thr[1:], th2[1:])
    p, r, t = M.precision_recall_curve(d["y"], d["s"])
    p2, r2, t2_ = skm.precision_recall_curve(d["y"], d["s"], drop_intermediate=False)
    np.testing.assert_allclose(p, p2, atol=1e-12)
    np.testing.assert_allclose(r, r2, atol=1e-12)
    np.testing.assert_array_equal(t, t2_)


@settings(max_examples=40)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 5), st.integers(1, 4)), min_size=2, max_size=40))
def test_auc_ap_with_ties_against_pairwise_reference(rows):
    t = np.array([int(a) for a, _, _ in rows])
    if t.min() == t.max():
        with pytest.raises(MetricInputError, match="single class"):
            M.roc_auc_score(t, np.arange(t.size, dtype=float))
        return
    s = np.array([b / 5 for _, b, _ in rows])
    w = np.array([float(c) for _, _, c in rows])
    for ww in (None, w):
        wl = None if ww is None else list(ww)
        assert close(M.roc_auc_score(t, s, sample_weight=ww), R.ref_auc(list(t), list(s), wl))
        assert close(M.roc_auc_score(t, s, sample_weight=ww), skm.roc_auc_score(t, s, sample_weight=ww))
        assert close(M.average_precision_score(t, s, sample_weight=ww), R.ref_average_precision(list(t), list(s), wl))
        assert close(M.average_precision_score(t, s, sample_weight=ww),
                     skm.average_precision_score(t, s, sample_weight=ww))
        assert close(M.log_loss(t, s, sample_weight=ww), R.ref_log_loss(list(t), list(s), wl))
        assert close(M.brier_score_loss(t, s, sample_weight=ww), R.ref_brier(list(t), list(s), wl))
        assert close(M.accuracy_score(t, (s > 0.5).astype(int), sample_weight=ww),
                     R.ref_accuracy(list(t), list((s > 0.5).astype(int)), wl))


def test_arrow_inputs_sliced_and_chunked(data):
    d = data
    y = pa.array(np.r_[9, 9, 9, d["y"]]).slice(3)  # offset 3: not a multiple of 8
    s = pa.chunked_array([pa.array(d["s"][:1001]), pa.array(d["s"][1001:])])
    assert close(M.roc_auc_score(y, s), skm.roc_auc_score(d["y"], d["s"]))
    assert close(M.log_loss(y, s), skm.log_loss(d["y"], d["s"]))
    assert close(M.f1_score(y, pa.array(d["yhat"])), skm.f1_score(d["y"], d["yhat"]))


def test_extreme_probabilities_are_clipped_like_sklearn():
    t = np.array([0, 1, 1, 0])
    p = np.array([0.0, 1.0, 0.0, 1.0])
    assert close(M.log_loss(t, p), skm.log_loss(t, p))
    # float32 input: the same eps (float32's), but mlcore sums in float64 where scikit-learn stays
    # in float32, so the two agree to float32 precision only
    p32 = p.astype(np.float32)
    assert M.log_loss(t, p32) == pytest.approx(skm.log_loss(t, p32), rel=1e-6)
    assert M.log_loss(t, p32) != pytest.approx(M.log_loss(t, p), rel=1e-3)  # eps differs: float32's


# ------------------------------------------------------------------------- bad input


def test_mismatched_lengths_name_the_metric():
    with pytest.raises(ShapeError, match=r"roc_auc_score: .*y_true has 3, y_score has 2"):
        M.roc_auc_score([0, 1, 1], [0.1, 0.2])
    with pytest.raises(ShapeError, match="f1_score"):
        M.f1_score([0, 1], [0, 1, 1])
    with pytest.raises(ShapeError, match="`sample_weight` has 1 rows, but y_true has 2"):
        M.accuracy_score([0, 1], [0, 1], sample_weight=[1.0])


def test_single_class_defined_results():
    with pytest.raises(MetricInputError, match=r"roc_auc_score: y_true has a single class \(1\)"):
        M.roc_auc_score([1, 1, 1], [0.2, 0.3, 0.4])
    with pytest.raises(MetricInputError, match="log_loss: y_true has a single class"):
        M.log_loss([1, 1], [0.2, 0.3])
    assert close(M.brier_score_loss([1, 1], [0.2, 0.3]), skm.brier_score_loss([1, 1], [0.2, 0.3]))
    assert M.f1_score([0, 0], [0, 0]) == skm.f1_score([0, 0], [0, 0], zero_division=0) == 0.0
    assert M.average_precision_score([1, 1], [0.2, 0.4]) == 1.0
    with pytest.raises(MetricInputError, match="pos_label=1 is not in y_true"):
        M.average_precision_score([0, 0], [0.2, 0.4])


def test_nan_and_inf_scores_are_errors():
    with pytest.raises(MetricInputError, match=r"roc_auc_score: `y_score` has a non-finite value nan at row 1"):
        M.roc_auc_score([0, 1, 1], [0.1, np.nan, 0.3])
    with pytest.raises(MetricInputError, match="inf"):
        M.log_loss([0, 1], [0.1, np.inf])
    with pytest.raises(MetricInputError, match="sample_weight"):
        M.accuracy_score([0, 1], [0, 1], sample_weight=[1.0, np.nan])
    with pytest.raises(MetricInputError, match="null"):
        M.roc_auc_score(pa.array([0, 1, None]), [0.1, 0.2, 0.3])
    with pytest.raises(MetricInputError, match=r"probabilities in \[0, 1\]"):
        M.log_loss([0, 1], [0.1, 1.5])


def test_unseen_labels():
    P = np.array([[0.7, 0.3], [0.2, 0.8], [0.5, 0.5]])
    with pytest.raises(MetricInputError, match="2 columns but there are 3 classes"):
        M.log_loss(["a", "b", "c"], P)
    with pytest.raises(MetricInputError, match=r"label 'c'.*not seen in training|label 'c'.*not among"):
        M.log_loss(["a", "b", "c"], P, labels=["a", "b"])
    # a predicted label that y_true never has counts as an error, as in scikit-learn
    assert close(M.accuracy_score([0, 1, 1], [0, 1, 7]), 2 / 3)
    with pytest.raises(MetricInputError, match="average='binary' but the labels are multiclass"):
        M.f1_score([0, 1, 2], [0, 1, 1])


def test_empty_input_is_an_error():
    with pytest.raises(ShapeError, match="empty"):
        M.accuracy_score([], [])


def test_threaded_sort_path_matches(data, monkeypatch):
    # large inputs radix-sort the two classes on two threads: force that path here
    monkeypatch.setattr(M, "_PARALLEL_SORT_ROWS", 10)
    monkeypatch.setattr(M.os, "cpu_count", lambda: 3)
    assert close(M.roc_auc_score(data["y"], data["s"]), skm.roc_auc_score(data["y"], data["s"]))
    assert close(M.roc_auc_score(data["y"][:400], data["s"][:400]), R.ref_auc(list(data["y"][:400]), list(data["s"][:400])))


def _keys_to_float(k):
    sign = np.uint64(1) << np.uint64(63)
    u = np.where(k & sign, k ^ sign, ~k)
    return u.view(np.float64)


@settings(max_examples=40)
@given(st.lists(st.floats(allow_nan=False, width=64), min_size=0, max_size=300), st.integers(0, 2**32 - 1))
def test_radix_sort_keys_against_numpy(values, seed):
    from mlcore._kernels import metric_sort as ms

    x = np.array(values + [0.0, -0.0, 1e-308, -1e-308, 5e-324], dtype=np.float64)
    is_pos = (np.random.default_rng(seed).random(x.size) < 0.5).view(np.uint8)
    pos = np.empty(x.size, np.uint64)
    neg = np.empty(x.size, np.uint64)
    p, q = ms.split_keys(x, is_pos, pos, neg)
    assert (p, q) == (int(is_pos.sum()), x.size - int(is_pos.sum()))
    for keys, sel in ((pos[:p], is_pos == 1), (neg[:q], is_pos == 0)):
        got = ms.radix_sort_keys(keys.copy(), np.empty_like(keys))
        want = np.sort(x[sel])
        np.testing.assert_array_equal(_keys_to_float(got), want + 0.0)  # -0.0 sorts as +0.0
    # -0.0 and +0.0 tie, as floats do
    assert M.roc_auc_score([0, 1], [-0.0, 0.0]) == 0.5
