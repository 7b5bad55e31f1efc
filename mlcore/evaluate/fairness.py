"""Fairness metrics for a sensitive attribute: the measurable part of a legal-risk review.

Per group of the sensitive attribute: the selection rate P(ŷ = 1), the true positive rate
P(ŷ = 1 | y = 1) and the false positive rate P(ŷ = 1 | y = 0), all weighted. From them (the
definitions of fairlearn):

- demographic parity difference = max - min of the selection rates over groups;
- equalised odds difference = the larger of (max - min TPR) and (max - min FPR).

A group with no positive (or no negative) row has an undefined TPR (FPR): it is reported as NaN
and left out of that difference. Groups with no row at all do not exist here (an empty slice
cannot be formed from data). One confusion pass over encoded (group, y, ŷ) cells per call.

Examples
--------
>>> fairness_metrics([1, 0, 1, 0], [1, 0, 0, 0], ["a", "a", "b", "b"])["demographic_parity_difference"]
0.5
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._kernels import metric_classification as _mc
from ._inputs import MetricInputError, as_1d, as_weights, check_lengths, encode, show, unique_labels

__all__ = ["group_rates", "bootstrap_differences", "differences", "fairness_metrics", "demographic_parity_difference", "equalized_odds_difference"]


def _prepare(y_true, y_pred, sensitive, pos_label, sample_weight, metric="fairness"):
    """(cell code per row = group*4 + 2*[y = pos] + [ŷ = pos], groups, weights)."""
    t = as_1d(y_true, metric, "y_true")
    p = as_1d(y_pred, metric, "y_pred")
    g = as_1d(sensitive, metric, "sensitive")
    n = check_lengths(metric, y_true=t, y_pred=p, sensitive=g)
    w = as_weights(sample_weight, n, metric)
    labels = unique_labels(t, p)
    if pos_label not in labels.tolist() and labels.size >= 2:
        raise MetricInputError(f"{metric}: pos_label={show(pos_label)} occurs in neither y_true nor y_pred "
                               f"(labels {show(labels[:10])})")
    groups = unique_labels(g)
    gc = encode(g, groups)
    code = gc * 4 + (t == pos_label).astype(np.int64) * 2 + (p == pos_label).astype(np.int64)
    return np.ascontiguousarray(code), groups, w


def _rates(cells: np.ndarray):
    """Selection rate, TPR, FPR per group from (..., k, 4) cells [tn, fp, fn, tp] (NaN where undefined)."""
    tn, fp, fn, tp = (cells[..., j] for j in range(4))
    with np.errstate(invalid="ignore", divide="ignore"):
        sel = (fp + tp) / (tn + fp + fn + tp)
        tpr = tp / (tp + fn)
        fpr = fp / (fp + tn)
    return sel, tpr, fpr


def _spread_nd(x: np.ndarray) -> np.ndarray:
    """max - min over the last axis, ignoring NaN (NaN when nothing is defined)."""
    ok = np.isfinite(x)
    hi = np.where(ok, x, -np.inf).max(axis=-1)
    lo = np.where(ok, x, np.inf).min(axis=-1)
    return np.where(ok.any(axis=-1), hi - lo, np.nan)


def differences(cells: np.ndarray) -> tuple:
    """(demographic parity difference, equalised odds difference) from (..., k, 4) cells."""
    sel, tpr, fpr = _rates(cells)
    dpd = _spread_nd(sel)
    a, b = _spread_nd(tpr), _spread_nd(fpr)
    eo = np.where(np.isnan(a), b, np.where(np.isnan(b), a, np.maximum(a, b)))
    return dpd, eo


def group_rates(y_true, y_pred, sensitive, *, pos_label=1, sample_weight=None) -> dict:
    """Per-group counts and rates: ``{group: {"n", "weight", "selection_rate", "tpr", "fpr", "positive_rate"}}``.

    Examples
    --------
    >>> group_rates([1, 0, 1, 1], [1, 1, 0, 1], ["a", "a", "b", "b"])["a"]["fpr"]
    1.0"""
    code, groups, w = _prepare(y_true, y_pred, sensitive, pos_label, sample_weight)
    k = groups.size
    cells = np.zeros(k * 4, dtype=np.float64)
    counts = np.zeros(k * 4, dtype=np.float64)
    zeros = np.zeros(code.size, dtype=np.int64)
    _mc.confusion_codes(code, zeros, w, 1, cells)  # one weighted count per (group, y, ŷ) cell
    _mc.confusion_codes(code, zeros, np.zeros(0), 1, counts)
    cells = cells.reshape(k, 4)
    sel, tpr, fpr = _rates(cells)
    out = {}
    for j, grp in enumerate(groups.tolist()):
        tot = cells[j].sum()
        out[grp] = {"n": int(counts[4 * j: 4 * j + 4].sum()), "weight": float(tot),
                    "selection_rate": float(sel[j]), "tpr": float(tpr[j]), "fpr": float(fpr[j]),
                    "positive_rate": float((cells[j, 2] + cells[j, 3]) / tot) if tot > 0 else float("nan")}
    return out


def bootstrap_differences(y_true, y_pred, sensitive, *, pos_label=1, sample_weight=None, n_boot=200, seed=0):
    """Both differences on each Poisson resample (the same resamples as the metric bootstrap):
    arrays (demographic parity, equalised odds) of shape (n_boot,)."""
    from .bootstrap import _run_group_sums

    code, groups, w = _prepare(y_true, y_pred, sensitive, pos_label, sample_weight)
    k = groups.size
    cells = _run_group_sums(code, np.zeros((code.size, 0)), w, 4 * k, int(n_boot), int(seed))[:, :, 0]
    return differences(cells.reshape(int(n_boot), k, 4))


def _spread(values) -> float:
    v = np.array([x for x in values if np.isfinite(x)])
    return float(v.max() - v.min()) if v.size else float("nan")


def demographic_parity_difference(y_true, y_pred, sensitive, *, pos_label=1, sample_weight=None) -> float:
    """max - min over groups of the selection rate P(ŷ = pos_label).

    Examples
    --------
    >>> demographic_parity_difference([0, 0, 0, 0], [1, 1, 1, 0], ["a", "a", "b", "b"])
    0.5
    """
    r = group_rates(y_true, y_pred, sensitive, pos_label=pos_label, sample_weight=sample_weight)
    return _spread(g["selection_rate"] for g in r.values())


def equalized_odds_difference(y_true, y_pred, sensitive, *, pos_label=1, sample_weight=None) -> float:
    """max(TPR spread, FPR spread) over groups.

    Examples
    --------
    >>> equalized_odds_difference([1, 0, 1, 0], [1, 0, 0, 1], ["a", "a", "b", "b"])
    1.0
    """
    return fairness_metrics(y_true, y_pred, sensitive, pos_label=pos_label,
                            sample_weight=sample_weight)["equalized_odds_difference"]


def fairness_metrics(y_true, y_pred, sensitive, *, pos_label=1, sample_weight=None) -> dict[str, Any]:
    """Both differences and the per-group table, in one pass.

    Examples
    --------
    >>> sorted(fairness_metrics([1, 0], [1, 0], ["a", "b"]))
    ['demographic_parity_difference', 'equalized_odds_difference', 'groups']
    """
    r = group_rates(y_true, y_pred, sensitive, pos_label=pos_label, sample_weight=sample_weight)
    tpr = _spread(g["tpr"] for g in r.values())
    fpr = _spread(g["fpr"] for g in r.values())
    eo = max(tpr, fpr) if np.isfinite(tpr) and np.isfinite(fpr) else (tpr if np.isfinite(tpr) else fpr)
    return {
        "demographic_parity_difference": _spread(g["selection_rate"] for g in r.values()),
        "equalized_odds_difference": float(eo),
        "groups": r,
    }
