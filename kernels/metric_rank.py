"""Ranking metric kernels: ROC AUC and average precision over sorted scores.

Two forms. Unweighted: the positives' and the negatives' scores each sorted ascending (two
``np.sort`` calls, which are SIMD-fast, instead of one ``argsort``), merged in one pass with
integer counts, so the result is exact up to one final division. Weighted: scores sorted once
(``order`` from ``argsort``), with per-row positive flags and weights in that order.
Ties count one half (ROC) and form one threshold (PR), as in scikit-learn.
"""

from __future__ import annotations

import numpy as np

from ._jit import kernel


@kernel
def auc_split(pos, neg):
    """Mann-Whitney AUC from ascending sorted positive and negative scores:
    (#(pos > neg) + 0.5 #(pos == neg)) / (P N)."""
    return auc_split_count(pos, neg) / (np.float64(pos.size) * np.float64(neg.size))


@kernel
def auc_split_count(pos, neg):
    """#(pos > neg) + 0.5 #(pos == neg) over all pairs, from ascending sorted positive and negative
    scores (exact in float64 up to 2**53 pairs: sums of integers and halves)."""
    n_pos = pos.size
    n_neg = neg.size
    j = 0  # negatives strictly below the current positive value
    acc = 0.0
    i = 0
    while i < n_pos:
        v = pos[i]
        k = i
        while k < n_pos and pos[k] == v:
            k += 1
        while j < n_neg and neg[j] < v:
            j += 1
        e = j
        while e < n_neg and neg[e] == v:
            e += 1
        acc += (k - i) * (j + 0.5 * (e - j))
        i = k
    return acc


@kernel
def ap_split(pos, neg):
    """Average precision (scikit-learn's step sum over distinct thresholds, highest first) from
    ascending sorted positive and negative scores."""
    i = pos.size - 1
    j = neg.size - 1
    tp = 0
    fp = 0
    acc = 0.0
    while i >= 0:
        v = pos[i]
        if j >= 0 and neg[j] > v:
            v = neg[j]
        gp = 0
        while i >= 0 and pos[i] == v:
            gp += 1
            i -= 1
        while j >= 0 and neg[j] == v:
            fp += 1
            j -= 1
        if gp:
            tp += gp
            acc += gp * (tp / np.float64(tp + fp))
    return acc / pos.size


@kernel
def rank_sorted(s, is_pos, w):
    """(AUC, AP, P, N) from scores sorted ascending with their positive flags and weights
    (unit weights when w is empty). AUC is NaN when P or N is zero, AP NaN when P is zero."""
    n = s.size
    weighted = w.size != 0
    tp = 0.0
    fp = 0.0
    a = 0.0  # sum over groups of gp * fp_including_group (descending walk)
    b = 0.0  # sum over groups of gp * gn
    ap = 0.0
    i = n - 1
    while i >= 0:
        v = s[i]
        gp = 0.0
        gn = 0.0
        while i >= 0 and s[i] == v:
            wi = w[i] if weighted else 1.0
            if is_pos[i]:
                gp += wi
            else:
                gn += wi
            i -= 1
        tp += gp
        fp += gn
        a += gp * fp
        b += gp * gn
        if gp > 0.0:
            ap += gp * (tp / (tp + fp))
    auc = np.nan
    if tp > 0.0 and fp > 0.0:
        auc = (tp * fp - a + 0.5 * b) / (tp * fp)
    ap_out = ap / tp if tp > 0.0 else np.nan
    return auc, ap_out, tp, fp


@kernel
def curve_sorted(s, is_pos, w, thr, tps, fps):
    """ROC/PR curve points over distinct thresholds, highest first: thr[k], cumulative weighted
    true positives tps[k] and false positives fps[k] at score >= thr[k]. Returns the count."""
    n = s.size
    weighted = w.size != 0
    tp = 0.0
    fp = 0.0
    k = 0
    i = n - 1
    while i >= 0:
        v = s[i]
        while i >= 0 and s[i] == v:
            wi = w[i] if weighted else 1.0
            if is_pos[i]:
                tp += wi
            else:
                fp += wi
            i -= 1
        thr[k] = v
        tps[k] = tp
        fps[k] = fp
        k += 1
    return k
