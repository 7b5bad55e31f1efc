"""Slow, obvious metric references (pure Python loops over rows) for mlcore.evaluate.metrics."""

from __future__ import annotations

import math


def _w(w, n):
    return [1.0] * n if w is None else [float(x) for x in w]


def ref_confusion(t, p, w=None):
    labels = sorted(set(list(t)) | set(list(p)))
    idx = {v: i for i, v in enumerate(labels)}
    k = len(labels)
    cm = [[0.0] * k for _ in range(k)]
    for a, b, wi in zip(t, p, _w(w, len(t))):
        cm[idx[a]][idx[b]] += wi
    return cm, labels


def ref_accuracy(t, p, w=None):
    ws = _w(w, len(t))
    return sum(wi for a, b, wi in zip(t, p, ws) if a == b) / sum(ws)


def ref_prf(t, p, w=None, average="binary", pos_label=1):
    cm, labels = ref_confusion(t, p, w)
    k = len(labels)
    res = []
    for j in range(k):
        tp = cm[j][j]
        pp = sum(cm[i][j] for i in range(k))
        tt = sum(cm[j][i] for i in range(k))
        prec = tp / pp if pp else 0.0
        rec = tp / tt if tt else 0.0
        f = 2 * tp / (pp + tt) if (pp + tt) else 0.0
        res.append((prec, rec, f, tt))
    if average == "binary":
        return res[labels.index(pos_label)][:3]
    if average == "macro":
        return tuple(sum(r[m] for r in res) / k for m in range(3))
    tot = sum(r[3] for r in res)
    return tuple(sum(r[m] * r[3] for r in res) / tot for m in range(3))


def ref_balanced_accuracy(t, p, w=None):
    cm, labels = ref_confusion(t, p, w)
    recs = [cm[j][j] / sum(cm[j]) for j in range(len(labels)) if sum(cm[j]) > 0]
    return sum(recs) / len(recs)


def ref_auc(t, s, w=None, pos=1):
    """Pairwise Mann-Whitney: every (positive, negative) pair, ties one half."""
    ws = _w(w, len(t))
    num = den = 0.0
    for a, sa, wa in zip(t, s, ws):
        if a != pos:
            continue
        for b, sb, wb in zip(t, s, ws):
            if b == pos:
                continue
            den += wa * wb
            num += wa * wb * (1.0 if sa > sb else 0.5 if sa == sb else 0.0)
    return num / den


def ref_average_precision(t, s, w=None, pos=1):
    """Sum over distinct thresholds (highest first) of (recall gain) * precision."""
    ws = _w(w, len(t))
    total = sum(wi for a, wi in zip(t, ws) if a == pos)
    ap = 0.0
    for thr in sorted(set(s), reverse=True):
        tp = sum(wi for a, si, wi in zip(t, s, ws) if si >= thr and a == pos)
        fp = sum(wi for a, si, wi in zip(t, s, ws) if si >= thr and a != pos)
        gain = sum(wi for a, si, wi in zip(t, s, ws) if si == thr and a == pos)
        if gain:
            ap += gain / total * tp / (tp + fp)
    return ap


def ref_log_loss(t, p, w=None, pos=1, eps=2.220446049250313e-16):
    ws = _w(w, len(t))
    tot = 0.0
    for a, q, wi in zip(t, p, ws):
        q = q if a == pos else 1.0 - q
        tot -= wi * math.log(min(max(q, eps), 1 - eps))
    return tot / sum(ws)


def ref_brier(t, p, w=None, pos=1):
    ws = _w(w, len(t))
    return sum(wi * ((1.0 if a == pos else 0.0) - q) ** 2 for a, q, wi in zip(t, p, ws)) / sum(ws)


def ref_ece(t, p, n_bins=10, w=None, pos=1):
    ws = _w(w, len(t))
    edges = [i / n_bins for i in range(n_bins + 1)]
    sums = [[0.0, 0.0, 0.0] for _ in range(n_bins)]
    for a, q, wi in zip(t, p, ws):
        b = sum(1 for e in edges[1:-1] if e < q)  # bins (lo, hi], the first [0, hi]
        sums[b][0] += wi
        sums[b][1] += wi * (1.0 if a == pos else 0.0)
        sums[b][2] += wi * q
    tot = sum(ws)
    return sum(abs(s[1] - s[2]) for s in sums if s[0] > 0) / tot


def ref_regression(t, p, w=None, alpha=0.5):
    ws = _w(w, len(t))
    sw = sum(ws)
    eps = 2.220446049250313e-16
    mae = sum(wi * abs(a - b) for a, b, wi in zip(t, p, ws)) / sw
    mse = sum(wi * (a - b) ** 2 for a, b, wi in zip(t, p, ws)) / sw
    mape = sum(wi * abs(a - b) / max(abs(a), eps) for a, b, wi in zip(t, p, ws)) / sw
    pin = sum(wi * (alpha * (a - b) if a >= b else (alpha - 1) * (a - b)) for a, b, wi in zip(t, p, ws)) / sw
    mean = sum(wi * a for a, wi in zip(t, ws)) / sw
    ss_tot = sum(wi * (a - mean) ** 2 for a, wi in zip(t, ws))
    r2 = 1 - mse * sw / ss_tot if ss_tot else (1.0 if mse == 0 else 0.0)
    return {"mae": mae, "mse": mse, "rmse": math.sqrt(mse), "mape": mape, "pinball": pin, "r2": r2}


def ref_multi_log_loss(t, P, classes, w=None, eps=2.220446049250313e-16):
    ws = _w(w, len(t))
    tot = 0.0
    for a, row, wi in zip(t, P, ws):
        q = row[list(classes).index(a)]
        tot -= wi * math.log(min(max(q, eps), 1 - eps))
    return tot / sum(ws)


def ref_multi_brier(t, P, classes, w=None):
    ws = _w(w, len(t))
    tot = 0.0
    for a, row, wi in zip(t, P, ws):
        tot += wi * sum(((1.0 if c == a else 0.0) - q) ** 2 for c, q in zip(classes, row))
    return tot / sum(ws)


def ref_ovr_auc(t, P, classes, w=None, average="macro"):
    aucs, sup = [], []
    ws = _w(w, len(t))
    for k, c in enumerate(classes):
        aucs.append(ref_auc([1 if a == c else 0 for a in t], [row[k] for row in P], ws))
        sup.append(sum(wi for a, wi in zip(t, ws) if a == c))
    if average == "macro":
        return sum(aucs) / len(aucs)
    return sum(a * s for a, s in zip(aucs, sup)) / sum(sup)
