"""Metrics on compiled kernels, matching ``sklearn.metrics`` to 1e-9 (ties, weights and edge cases).

Every function takes ``y_true`` and the predictions as NumPy arrays, pandas Series or Arrow
arrays (converted once; nulls are an error), and ``sample_weight`` (non-negative, optional).
Names follow scikit-learn: ``*_score`` higher is better, ``*_error``/``*_loss`` lower is better.

Defined results for bad input (each error is a :class:`MetricInputError` or
:class:`~mlcore.errors.ShapeError`, both ``ValueError``, naming the metric, parameter and value):

- different lengths, empty input, a null, NaN or ±inf in scores/weights: error;
- a single class in ``y_true``: ``roc_auc_score`` and ``log_loss`` raise (as scikit-learn);
  ``average_precision_score`` raises when no row is positive; ``brier_score_loss`` and
  ``expected_calibration_error`` are defined (positive label 1 for a 0/1 class, as scikit-learn
  does, else pass ``pos_label``); label metrics are defined (precision etc. with
  ``zero_division`` where a denominator is zero); ``r2_score`` with constant ``y_true`` gives 1.0
  for a perfect prediction, else 0.0 (scikit-learn's ``force_finite``);
- a ``y_true`` label with no probability column (a class unseen in training): error naming it;
- labels in ``y_pred`` that are not in ``y_true`` count as errors; ``balanced_accuracy_score``
  ignores their (empty) recall, as scikit-learn does, without a warning.

Examples
--------
>>> import numpy as np
>>> from mlcore.evaluate import metrics
>>> metrics.roc_auc_score(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]))
0.75
"""

from __future__ import annotations

import os

import numpy as np

from .._kernels import metric_classification as _mc
from .._kernels import metric_rank as _mr
from .._kernels import metric_regression as _mreg
from .._kernels import metric_sort as _ms
from ._inputs import (
    MetricInputError,
    as_1d,
    as_scores,
    as_weights,
    binary_target,
    check_lengths,
    encode,
    show,
    unique_labels,
)

__all__ = [
    "accuracy_score", "balanced_accuracy_score", "precision_score", "recall_score", "f1_score",
    "confusion_matrix", "roc_auc_score", "average_precision_score", "log_loss", "brier_score_loss",
    "expected_calibration_error", "calibration_bins", "mean_absolute_error", "mean_squared_error",
    "root_mean_squared_error", "mean_absolute_percentage_error", "r2_score", "mean_pinball_loss",
    "roc_curve", "precision_recall_curve", "MetricInputError",
]

_AVERAGES = ("binary", "macro", "weighted", "micro", None)


# --------------------------------------------------------------------------- label metrics

def _confusion(y_true, y_pred, sample_weight, metric, labels=None):
    """(weighted confusion matrix float64 (K, K), classes) over the union of labels."""
    t = as_1d(y_true, metric, "y_true")
    p = as_1d(y_pred, metric, "y_pred")
    n = check_lengths(metric, y_true=t, y_pred=p)
    w = as_weights(sample_weight, n, metric)
    if labels is None and t.dtype.kind in "iu" and p.dtype.kind in "iu":
        lo = min(_mc.int_min_max(t)[0], _mc.int_min_max(p)[0])
        hi = max(_mc.int_min_max(t)[1], _mc.int_min_max(p)[1])
        r = hi - lo + 1
        if r * r <= (1 << 22):
            cm_full = np.zeros(r * r, dtype=np.float64)
            pt = np.zeros(r, dtype=np.uint8)
            pp = np.zeros(r, dtype=np.uint8)
            _mc.confusion_offset(np.ascontiguousarray(t), np.ascontiguousarray(p), w, lo, r, pt, pp, cm_full)
            keep = np.flatnonzero(pt | pp)
            cm = cm_full.reshape(r, r)[np.ix_(keep, keep)]
            return np.ascontiguousarray(cm), (keep + lo).astype(np.result_type(t.dtype, p.dtype))
    if labels is None:
        classes = unique_labels(t, p)
    else:
        classes = np.asarray(labels)
        if classes.size == 0:
            raise MetricInputError(f"{metric}: `labels` is empty; expected at least one label")
        order = np.argsort(classes, kind="stable")
        sorted_classes = classes[order]
    if labels is None:
        tc, pc = encode(t, classes), encode(p, classes)
        k = classes.size
    else:
        tc, pc = encode(t, sorted_classes), encode(p, sorted_classes)
        inv = np.empty_like(order)
        inv[order] = np.arange(order.size)
        keep = (tc >= 0) & (pc >= 0)
        tc, pc = inv[tc[keep]], inv[pc[keep]]
        w = w[keep] if w.size else w
        k = classes.size
    cm = np.zeros(k * k, dtype=np.float64)
    _mc.confusion_codes(np.ascontiguousarray(tc), np.ascontiguousarray(pc), w, k, cm)
    return cm.reshape(k, k), classes


def confusion_matrix(y_true, y_pred, *, labels=None, sample_weight=None) -> np.ndarray:
    """Confusion matrix: rows are true labels, columns predicted, over sorted ``labels`` (default:
    every label in either array). Integer counts without weights, float sums of weights with them.

    Examples
    --------
    >>> confusion_matrix([0, 1, 1], [0, 1, 0])
    array([[1, 0],
           [1, 1]])
    """
    cm, _ = _confusion(y_true, y_pred, sample_weight, "confusion_matrix", labels)
    if sample_weight is None:
        return cm.astype(np.int64)
    return cm


def accuracy_score(y_true, y_pred, *, sample_weight=None) -> float:
    """Weighted share of correct predictions.

    Examples
    --------
    >>> accuracy_score([0, 1, 1, 0], [0, 1, 0, 0])
    0.75
    """
    cm, _ = _confusion(y_true, y_pred, sample_weight, "accuracy_score")
    return float(accuracy_from_cm(cm[None])[0])


def balanced_accuracy_score(y_true, y_pred, *, sample_weight=None) -> float:
    """Mean recall over the classes present in ``y_true``.

    Examples
    --------
    >>> balanced_accuracy_score([0, 0, 0, 1], [0, 0, 1, 1])
    0.8333333333333333
    """
    cm, _ = _confusion(y_true, y_pred, sample_weight, "balanced_accuracy_score")
    return float(balanced_accuracy_from_cm(cm[None])[0])


def accuracy_from_cm(cm: np.ndarray) -> np.ndarray:
    """Accuracy from a stack of confusion matrices (B, K, K)."""
    tot = cm.sum(axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.trace(cm, axis1=1, axis2=2) / tot


def balanced_accuracy_from_cm(cm: np.ndarray) -> np.ndarray:
    support = cm.sum(axis=2)
    diag = np.diagonal(cm, axis1=1, axis2=2)
    present = support > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        rec = np.where(present, diag / np.where(present, support, 1.0), 0.0)
        return rec.sum(axis=1) / present.sum(axis=1)


def _check_average(average, metric):
    if average not in _AVERAGES:
        raise MetricInputError(f"{metric}: average={show(average)} is not one of {show(_AVERAGES)}")


def prf_from_cm(cm: np.ndarray, classes: np.ndarray, *, average, pos_label, zero_division: float,
                metric: str, beta: float = 1.0):
    """(precision, recall, f-beta) for a stack of confusion matrices (B, K, K): each (B,) or (B, K)
    when ``average`` is None."""
    _check_average(average, metric)
    if average == "binary":
        if classes.size > 2:
            raise MetricInputError(
                f"{metric}: average='binary' but the labels are multiclass {show(classes[:10])}; "
                "choose average='macro' or 'weighted'")
        idx = np.flatnonzero(classes == pos_label)
        if idx.size == 0:
            if classes.size >= 2:
                raise MetricInputError(f"{metric}: pos_label={show(pos_label)} is not a label; labels are {show(classes)}")
            # pos_label absent from both arrays: tp = fp = fn = 0, every ratio is 0/0
            z = np.full(cm.shape[0], float(zero_division))
            return z, z, z
        sel = int(idx[0])
    tp = np.diagonal(cm, axis1=1, axis2=2)
    pred_pos = cm.sum(axis=1)
    true_pos = cm.sum(axis=2)
    if average == "micro":
        tp, pred_pos, true_pos = tp.sum(1, keepdims=True), pred_pos.sum(1, keepdims=True), true_pos.sum(1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        prec = np.where(pred_pos > 0, tp / np.where(pred_pos > 0, pred_pos, 1), zero_division)
        rec = np.where(true_pos > 0, tp / np.where(true_pos > 0, true_pos, 1), zero_division)
        b2 = beta * beta
        denom = (1 + b2) * tp + b2 * (true_pos - tp) + (pred_pos - tp)
        f = np.where(denom > 0, (1 + b2) * tp / np.where(denom > 0, denom, 1), zero_division)
    if average == "binary":
        return prec[:, sel], rec[:, sel], f[:, sel]
    if average is None:
        return prec, rec, f
    if average == "micro":
        return prec[:, 0], rec[:, 0], f[:, 0]
    if average == "macro":
        return prec.mean(1), rec.mean(1), f.mean(1)
    support = true_pos
    tot = support.sum(1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        wts = np.where(tot > 0, support / np.where(tot > 0, tot, 1), 0.0)
    out = []
    for m in (prec, rec, f):
        v = (m * wts).sum(1)
        out.append(np.where(tot[:, 0] > 0, v, zero_division))
    return tuple(out)


def _prf(y_true, y_pred, sample_weight, average, pos_label, zero_division, metric, which):
    _check_average(average, metric)
    cm, classes = _confusion(y_true, y_pred, sample_weight, metric)
    res = prf_from_cm(cm[None], classes, average=average, pos_label=pos_label,
                      zero_division=float(zero_division), metric=metric)[which]
    return res[0] if average is None else float(res[0])


def precision_score(y_true, y_pred, *, average="binary", pos_label=1, sample_weight=None,
                    zero_division: float = 0.0):
    """Precision tp / (tp + fp): ``average`` is 'binary' (of ``pos_label``), 'macro', 'weighted',
    'micro' or None (per class, sorted labels); ``zero_division`` where tp + fp = 0.

    Examples
    --------
    >>> precision_score([0, 1, 1, 0], [1, 1, 1, 0])
    0.6666666666666666
    """
    return _prf(y_true, y_pred, sample_weight, average, pos_label, zero_division, "precision_score", 0)


def recall_score(y_true, y_pred, *, average="binary", pos_label=1, sample_weight=None,
                 zero_division: float = 0.0):
    """Recall tp / (tp + fn); arguments as :func:`precision_score`.

    Examples
    --------
    >>> recall_score([0, 1, 1, 0], [1, 1, 0, 0])
    0.5
    """
    return _prf(y_true, y_pred, sample_weight, average, pos_label, zero_division, "recall_score", 1)


def f1_score(y_true, y_pred, *, average="binary", pos_label=1, sample_weight=None,
             zero_division: float = 0.0):
    """F1 = 2 tp / (2 tp + fp + fn); arguments as :func:`precision_score`.

    Examples
    --------
    >>> round(f1_score([0, 1, 1, 0], [1, 1, 0, 0]), 6)
    0.5
    """
    return _prf(y_true, y_pred, sample_weight, average, pos_label, zero_division, "f1_score", 2)


# --------------------------------------------------------------------------- ranking metrics

def _rank_binary(y_true, y_score, sample_weight, metric, pos_label=None):
    t = as_1d(y_true, metric, "y_true")
    s = as_scores(y_score, metric, "y_score")
    n = check_lengths(metric, y_true=t, y_score=s)
    w = as_weights(sample_weight, n, metric)
    is_pos, classes = binary_target(t, metric, pos_label=pos_label)
    return is_pos, s, w, classes


# Above this many rows the two classes are radix-sorted on two threads (the kernels release the GIL).
_PARALLEL_SORT_ROWS = 1 << 20


def _sorted_class_keys(is_pos, s):
    """Order-preserving uint64 keys of the positives' and the negatives' scores, each sorted."""
    n = s.size
    pos_k = np.empty(n, dtype=np.uint64)
    neg_k = np.empty(n, dtype=np.uint64)
    n_pos, n_neg = _ms.split_keys(s, is_pos, pos_k, neg_k)
    pos_k, neg_k = pos_k[:n_pos], neg_k[:n_neg]
    jobs = [(pos_k, np.empty_like(pos_k)), (neg_k, np.empty_like(neg_k))]
    if n >= _PARALLEL_SORT_ROWS and (os.cpu_count() or 1) > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=2) as ex:
            return list(ex.map(lambda kb: _ms.radix_sort_keys(*kb), jobs))
    return [_ms.radix_sort_keys(*kb) for kb in jobs]


def _auc_unweighted(is_pos, s) -> float:
    """Exact Mann-Whitney AUC (NaN when a class is empty)."""
    pos, neg = _sorted_class_keys(is_pos, s)
    if pos.size == 0 or neg.size == 0:
        return float("nan")
    return _mr.auc_split(pos, neg)


def _auc_ap(is_pos, s, w):
    """(AUC, AP, total positive weight, total negative weight) of one binary problem."""
    if w.size == 0:
        pos, neg = _sorted_class_keys(is_pos, s)
        auc = _mr.auc_split(pos, neg) if pos.size and neg.size else np.nan
        ap = _mr.ap_split(pos, neg) if pos.size else np.nan
        return auc, ap, float(pos.size), float(neg.size)
    order = np.argsort(s)
    return _mr.rank_sorted(s[order], is_pos[order], w[order])


def roc_auc_score(y_true, y_score, *, sample_weight=None, multi_class: str = "raise",
                  average: str = "macro", labels=None) -> float:
    """Area under the ROC curve (ties count one half).

    Binary: ``y_score`` is the score of the greater label. Multiclass (``multi_class='ovr'``):
    ``y_score`` is (n, K) with columns in sorted ``labels`` order (default: the classes of
    ``y_true``), each class against the rest, averaged 'macro' or 'weighted' (by weighted support).

    Examples
    --------
    >>> roc_auc_score([0, 1, 0, 1], [0.2, 0.9, 0.5, 0.5])
    0.875
    """
    metric = "roc_auc_score"
    if np.ndim(y_score) == 2 and np.shape(y_score)[1] > 1:
        if multi_class != "ovr":
            raise MetricInputError(f"{metric}: y_score has {np.shape(y_score)[1]} columns; pass multi_class='ovr' "
                                   "(or the positive class's column alone for a binary task)")
        return _roc_auc_ovr(y_true, y_score, sample_weight, average, labels)
    is_pos, s, w, _ = _rank_binary(y_true, y_score, sample_weight, metric)
    auc = _auc_unweighted(is_pos, s) if w.size == 0 else _auc_ap(is_pos, s, w)[0]
    if np.isnan(auc):
        raise MetricInputError(f"{metric}: one class has zero total sample weight; the AUC is undefined")
    return float(auc)


def _ovr_setup(y_true, y_score, sample_weight, labels, metric):
    t = as_1d(y_true, metric, "y_true")
    s = as_scores(y_score, metric, "y_score", allow_2d=True)
    n = check_lengths(metric, y_true=t, y_score=s)
    w = as_weights(sample_weight, n, metric)
    classes = np.asarray(labels) if labels is not None else unique_labels(t)
    if classes.size != s.shape[1]:
        raise MetricInputError(
            f"{metric}: y_score has {s.shape[1]} columns but there are {classes.size} classes "
            f"{show(classes[:10])}; pass `labels` with one label per column")
    codes = encode(t, np.sort(classes))
    if (codes < 0).any():
        bad = t[np.flatnonzero(codes < 0)[0]]
        raise MetricInputError(f"{metric}: y_true has label {show(bad)}, which has no column in y_score "
                               f"(labels {show(classes[:10])}); a class not seen in training?")
    return codes, s, w, classes


def _roc_auc_ovr(y_true, y_score, sample_weight, average, labels):
    metric = "roc_auc_score"
    if average not in ("macro", "weighted"):
        raise MetricInputError(f"{metric}: average={show(average)} for multi_class='ovr'; expected 'macro' or 'weighted'")
    codes, s, w, classes = _ovr_setup(y_true, y_score, sample_weight, labels, metric)
    aucs, supports = [], []
    for k in range(classes.size):
        is_pos = np.ascontiguousarray(codes == k).view(np.uint8)
        auc, _, p, _ = _auc_ap(is_pos, np.ascontiguousarray(s[:, k]), w)
        if np.isnan(auc):
            raise MetricInputError(f"{metric}: class {show(classes[k])} is absent from y_true (or all of it); "
                                   "one-vs-rest AUC is undefined for it")
        aucs.append(auc)
        supports.append(p)
    aucs, supports = np.array(aucs), np.array(supports)
    if average == "weighted":
        return float(np.sum(aucs * supports) / supports.sum())
    return float(aucs.mean())


def average_precision_score(y_true, y_score, *, pos_label=1, sample_weight=None) -> float:
    """Average precision: sum over thresholds of (R_n - R_{n-1}) P_n, thresholds highest first.

    Examples
    --------
    >>> average_precision_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.8333333333333333
    """
    metric = "average_precision_score"
    t = as_1d(y_true, metric, "y_true")
    classes = unique_labels(t)
    if pos_label not in set(classes.tolist()):
        raise MetricInputError(f"{metric}: pos_label={show(pos_label)} is not in y_true (labels {show(classes[:10])}); "
                               "average precision is undefined without positives")
    is_pos, s, w, _ = _rank_binary(t, y_score, sample_weight, metric, pos_label=pos_label)
    _, ap, p, _ = _auc_ap(is_pos, s, w)
    if np.isnan(ap):
        raise MetricInputError(f"{metric}: the positive class has zero total sample weight")
    return float(ap)


def _curve(y_true, y_score, sample_weight, pos_label, metric):
    t = as_1d(y_true, metric, "y_true")
    s = as_scores(y_score, metric, "y_score")
    n = check_lengths(metric, y_true=t, y_score=s)
    w = as_weights(sample_weight, n, metric)
    is_pos, _ = binary_target(t, metric, pos_label=pos_label)
    order = np.argsort(s)
    thr, tps, fps = (np.empty(n) for _ in range(3))
    k = _mr.curve_sorted(s[order], is_pos[order], w[order] if w.size else w, thr, tps, fps)
    return thr[:k], tps[:k], fps[:k]


def roc_curve(y_true, y_score, *, pos_label=None, sample_weight=None):
    """(fpr, tpr, thresholds) at every distinct score, starting from (0, 0) at +inf.

    Examples
    --------
    >>> fpr, tpr, thr = roc_curve([0, 1], [0.2, 0.9])
    >>> fpr.tolist(), tpr.tolist()
    ([0.0, 0.0, 1.0], [0.0, 1.0, 1.0])
    """
    thr, tps, fps = _curve(y_true, y_score, sample_weight, pos_label, "roc_curve")
    fpr = np.r_[0.0, fps / fps[-1]] if fps[-1] > 0 else np.r_[0.0, fps * np.nan]
    tpr = np.r_[0.0, tps / tps[-1]] if tps[-1] > 0 else np.r_[0.0, tps * np.nan]
    return fpr, tpr, np.r_[np.inf, thr]


def precision_recall_curve(y_true, y_score, *, pos_label=None, sample_weight=None):
    """(precision, recall, thresholds) with thresholds increasing (every distinct score), ending at (1, 0)
    as scikit-learn's with ``drop_intermediate=False``.

    Examples
    --------
    >>> p, r, t = precision_recall_curve([0, 1], [0.2, 0.9])
    >>> p.tolist(), r.tolist()
    ([0.5, 1.0, 1.0], [1.0, 1.0, 0.0])
    """
    thr, tps, fps = _curve(y_true, y_score, sample_weight, pos_label, "precision_recall_curve")
    prec = tps / (tps + fps)
    rec = tps / tps[-1] if tps[-1] > 0 else np.ones_like(tps)
    return np.r_[prec[::-1], 1.0], np.r_[rec[::-1], 0.0], thr[::-1]


# --------------------------------------------------------------------------- probabilistic metrics

def _proba_setup(y_true, y_proba, sample_weight, metric, labels=None, pos_label=None):
    t = as_1d(y_true, metric, "y_true")
    p_in = y_proba
    dtype = getattr(p_in, "dtype", None)
    p = as_scores(p_in, metric, "y_proba", allow_2d=True)
    n = check_lengths(metric, y_true=t, y_proba=p)
    w = as_weights(sample_weight, n, metric)
    bad = _mc.out_of_unit_interval(p.reshape(-1))
    if bad >= 0:
        raise MetricInputError(f"{metric}: y_proba has {show(p.reshape(-1)[bad])}, expected probabilities in [0, 1]")
    eps = float(np.finfo(dtype if dtype is not None and np.dtype(dtype).kind == "f" else np.float64).eps)
    return t, p, w, eps


def log_loss(y_true, y_proba, *, sample_weight=None, labels=None) -> float:
    """Cross-entropy with probabilities clipped to [eps, 1 - eps] (eps of the input's float type).

    ``y_proba`` is 1-D (the probability of the greater of two classes) or (n, K) with columns in
    sorted ``labels`` order (default: the classes of ``y_true``).

    Examples
    --------
    >>> round(log_loss([0, 1, 1], [0.1, 0.8, 0.6]), 6)
    0.279777
    """
    metric = "log_loss"
    t, p, w, eps = _proba_setup(y_true, y_proba, sample_weight, metric)
    if p.ndim == 1:
        is_pos, _ = binary_target(t, metric, labels=labels)
        s, sw = _mc.binary_log_loss_sum(is_pos, p, w, eps)
        return float(s / sw)
    codes, _ = _proba_codes(t, p, labels, metric)
    rows = np.empty(t.size)
    _mc.multi_log_loss_rows(codes, p, eps, rows)
    return float(np.average(rows, weights=w if w.size else None))


def _proba_codes(t, p, labels, metric):
    classes = np.asarray(labels) if labels is not None else unique_labels(t)
    if classes.size < 2:
        raise MetricInputError(f"{metric}: y_true has a single class ({show(classes[0])}); pass `labels` with all classes")
    if classes.size != p.shape[1]:
        raise MetricInputError(
            f"{metric}: y_proba has {p.shape[1]} columns but there are {classes.size} classes "
            f"{show(classes[:10])}; pass `labels` with one label per column")
    codes = encode(t, np.sort(classes))
    if (codes < 0).any():
        bad = t[np.flatnonzero(codes < 0)[0]]
        raise MetricInputError(f"{metric}: y_true has label {show(bad)}, which is not among `labels` "
                               f"{show(classes[:10])}; a class not seen in training?")
    return codes, classes


def _binary_lenient(t, metric, pos_label):
    """Positive flags where a single class is allowed (scikit-learn's rule for Brier and calibration:
    with one class among {0, 1} or {-1, 1}, the positive label is 1)."""
    classes = unique_labels(t)
    if pos_label is None and classes.size == 1:
        if classes.dtype.kind in "iufb" and float(classes[0]) in (0.0, 1.0, -1.0):
            pos_label = 1
        else:
            raise MetricInputError(f"{metric}: y_true has a single class ({show(classes[0])}); pass `pos_label`")
    if pos_label is not None and classes.size == 1:
        return np.ascontiguousarray(t == pos_label).view(np.uint8)
    return binary_target(t, metric, pos_label=pos_label)[0]


def log_loss_rows(y_true, y_proba, *, labels=None) -> np.ndarray:
    """Per-row log loss (used by the bootstrap and by slices)."""
    metric = "log_loss"
    t, p, _, eps = _proba_setup(y_true, y_proba, None, metric)
    out = np.empty(t.size)
    if p.ndim == 1:
        is_pos, _ = binary_target(t, metric, labels=labels)
        _mc.binary_log_loss_rows(is_pos, p, eps, out)
    else:
        codes, _ = _proba_codes(t, p, labels, metric)
        _mc.multi_log_loss_rows(codes, p, eps, out)
    return out


def brier_rows(y_true, y_proba, *, pos_label=None, labels=None) -> np.ndarray:
    """Per-row Brier terms: (y - p)^2 for binary, sum over classes for (n, K) probabilities."""
    metric = "brier_score_loss"
    t, p, _, _ = _proba_setup(y_true, y_proba, None, metric)
    out = np.empty(t.size)
    if p.ndim == 1:
        if labels is not None:
            is_pos, _ = binary_target(t, metric, pos_label=pos_label, labels=labels)
        else:
            is_pos = _binary_lenient(t, metric, pos_label)
        _mc.binary_brier_rows(is_pos, p, out)
    else:
        codes, _ = _proba_codes(t, p, labels, metric)
        _mc.multi_brier_rows(codes, p, out)
    return out


def brier_score_loss(y_true, y_proba, *, sample_weight=None, pos_label=None, labels=None) -> float:
    """Mean squared difference between the one-hot truth and the probabilities (binary: (y - p)^2;
    (n, K) multiclass: the sum over classes, not halved, as scikit-learn's default).

    Examples
    --------
    >>> round(brier_score_loss([0, 1, 1], [0.1, 0.8, 0.6]), 6)
    0.07
    """
    rows = brier_rows(y_true, y_proba, pos_label=pos_label, labels=labels)
    w = as_weights(sample_weight, rows.size, "brier_score_loss")
    mean, _ = _mc.weighted_mean(rows, w)
    return float(mean)


def calibration_bins(y_true, y_proba, *, n_bins: int = 10, sample_weight=None, pos_label=None):
    """Per uniform bin of [0, 1]: (bin index per row, total weight, weighted positive rate, weighted
    mean probability); bins are those of ``sklearn.calibration.calibration_curve(strategy='uniform')``.

    For (n, K) probabilities the top-label form is used: confidence = max probability, outcome =
    whether the arg-max class is the true one.
    """
    metric = "expected_calibration_error"
    if not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise MetricInputError(f"{metric}: n_bins={show(n_bins)}, expected a positive integer")
    t, p, w, _ = _proba_setup(y_true, y_proba, sample_weight, metric)
    if p.ndim == 1:
        is_pos = _binary_lenient(t, metric, pos_label)
        conf = p
    else:
        codes, _ = _proba_codes(t, p, None, metric)
        top = p.argmax(axis=1)
        is_pos = np.ascontiguousarray(top == codes).view(np.uint8)
        conf = np.ascontiguousarray(p.max(axis=1))
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins = np.empty(conf.size, dtype=np.int64)
    sw, sy, sp = (np.zeros(n_bins) for _ in range(3))
    _mc.calibration_bins(is_pos, conf, w, edges, bins, sw, sy, sp)
    with np.errstate(invalid="ignore", divide="ignore"):
        return bins, sw, sy / sw, sp / sw


def expected_calibration_error(y_true, y_proba, *, n_bins: int = 10, sample_weight=None, pos_label=None) -> float:
    """ECE = sum over bins of (bin weight / total weight) * |positive rate - mean probability|, on
    ``n_bins`` uniform bins (scikit-learn's ``calibration_curve`` bins). Empty bins count zero.

    Examples
    --------
    >>> round(expected_calibration_error([0, 1, 1, 0], [0.1, 0.9, 0.8, 0.3], n_bins=2), 6)
    0.175
    """
    _, sw, rate, mean_p = calibration_bins(y_true, y_proba, n_bins=n_bins, sample_weight=sample_weight,
                                           pos_label=pos_label)
    nz = sw > 0
    return float(np.sum(sw[nz] * np.abs(rate[nz] - mean_p[nz])) / sw.sum())


# --------------------------------------------------------------------------- regression metrics

def _reg(y_true, y_pred, sample_weight, metric, alpha=0.5):
    t = as_scores(y_true, metric, "y_true")
    p = as_scores(y_pred, metric, "y_pred")
    n = check_lengths(metric, y_true=t, y_pred=p)
    w = as_weights(sample_weight, n, metric)
    out = np.empty(len(_mreg.SUMS))
    _mreg.regression_sums(t, p, w, float(alpha), float(np.finfo(np.float64).eps), out)
    if out[0] == 0:
        raise MetricInputError(f"{metric}: the sample weights sum to zero")
    return dict(zip(_mreg.SUMS, out)), t, w


def mean_absolute_error(y_true, y_pred, *, sample_weight=None) -> float:
    """Weighted mean of |y - p|.

    Examples
    --------
    >>> mean_absolute_error([1.0, 2.0], [1.5, 2.0])
    0.25
    """
    s, _, _ = _reg(y_true, y_pred, sample_weight, "mean_absolute_error")
    return float(s["abs"] / s["w"])


def mean_squared_error(y_true, y_pred, *, sample_weight=None) -> float:
    """Weighted mean of (y - p)^2.

    Examples
    --------
    >>> mean_squared_error([1.0, 2.0], [1.5, 2.0])
    0.125
    """
    s, _, _ = _reg(y_true, y_pred, sample_weight, "mean_squared_error")
    return float(s["sq"] / s["w"])


def root_mean_squared_error(y_true, y_pred, *, sample_weight=None) -> float:
    """Square root of :func:`mean_squared_error`.

    Examples
    --------
    >>> root_mean_squared_error([0.0, 0.0], [3.0, 4.0])
    3.5355339059327378
    """
    return float(np.sqrt(mean_squared_error(y_true, y_pred, sample_weight=sample_weight)))


def mean_absolute_percentage_error(y_true, y_pred, *, sample_weight=None) -> float:
    """Weighted mean of |y - p| / max(|y|, eps) (a fraction, not a percentage, as scikit-learn).

    Examples
    --------
    >>> mean_absolute_percentage_error([2.0, 4.0], [1.0, 5.0])
    0.375
    """
    s, _, _ = _reg(y_true, y_pred, sample_weight, "mean_absolute_percentage_error")
    return float(s["ape"] / s["w"])


def mean_pinball_loss(y_true, y_pred, *, alpha: float = 0.5, sample_weight=None) -> float:
    """Weighted mean of alpha * max(y - p, 0) + (1 - alpha) * max(p - y, 0).

    Examples
    --------
    >>> mean_pinball_loss([1.0, 2.0], [2.0, 1.0], alpha=0.9)
    0.5
    """
    if not 0.0 <= float(alpha) <= 1.0:
        raise MetricInputError(f"mean_pinball_loss: alpha={show(alpha)}, expected a value in [0, 1]")
    s, _, _ = _reg(y_true, y_pred, sample_weight, "mean_pinball_loss", alpha=alpha)
    return float(s["pinball"] / s["w"])


def r2_score(y_true, y_pred, *, sample_weight=None) -> float:
    """Coefficient of determination 1 - SS_res / SS_tot (weighted). Constant ``y_true``: 1.0 for a
    perfect prediction, else 0.0 (scikit-learn's ``force_finite``); fewer than two rows: NaN.

    Examples
    --------
    >>> r2_score([1.0, 2.0, 3.0], [1.0, 2.0, 4.0])
    0.5
    """
    metric = "r2_score"
    s, t, w = _reg(y_true, y_pred, sample_weight, metric)
    if t.size < 2:
        return float("nan")
    mean = s["wy"] / s["w"]
    ss_tot = _mreg.weighted_sq_dev(t, w, mean)
    ss_res = s["sq"]
    if ss_tot == 0.0:
        return 1.0 if ss_res == 0.0 else 0.0
    return float(1.0 - ss_res / ss_tot)


