"""Obvious, slow references for compiled linear models and MLPs: plain Python loops and math."""

from __future__ import annotations

import math


def _expit(s):
    # scipy.special.expit's formula, written out; math.exp overflows where 1/(1+inf) = 0.
    try:
        return 1.0 / (1.0 + math.exp(-s))
    except OverflowError:
        return 0.0


def ref_scores(rows, coef, intercept):
    """s[i][k] = sum_j coef[k][j] * x[i][j] + intercept[k], with math.fsum."""
    return [[math.fsum(c * x for c, x in zip(coef[k], row)) + intercept[k] for k in range(len(coef))]
            for row in rows]


def ref_softmax(s):
    m = max(s)
    e = [math.exp(v - m) for v in s]
    t = math.fsum(e)
    return [v / t for v in e]


def ref_proba(scores, how):
    out = []
    for s in scores:
        if how == "logistic_binary":
            e = _expit(s[0])
            out.append([1.0 - e, e])
        elif how == "huber_binary":
            h = (min(max(s[0], -1.0), 1.0) + 1.0) / 2.0
            out.append([1.0 - h, h])
        elif how == "softmax":
            out.append(ref_softmax(s))
        elif how in ("ovr_logistic", "huber_ovr"):
            e = [_expit(v) if how == "ovr_logistic" else (min(max(v, -1.0), 1.0) + 1.0) / 2.0 for v in s]
            t = math.fsum(e)
            out.append([1.0 / len(e)] * len(e) if t == 0 else [v / t for v in e])
        else:
            raise ValueError(how)
    return out


def ref_labels(scores, classes):
    out = []
    for s in scores:
        if len(s) == 1:
            out.append(classes[1] if s[0] > 0 else classes[0])
        else:
            best = max(range(len(s)), key=lambda k: (s[k], -k))
            out.append(classes[best])
    return out


def _exp(v):
    try:
        return math.exp(v)
    except OverflowError:
        return math.inf


_ACT = {
    "identity": lambda v: v,
    "logistic": _expit,
    "tanh": math.tanh,
    "relu": lambda v: v if v > 0 else 0.0,
    "exp": _exp,
}


def ref_mlp(rows, coefs, intercepts, activation, out_activation):
    """scikit-learn's forward pass, one row and one unit at a time."""
    out = []
    for row in rows:
        a = list(row)
        n_layers = len(coefs)
        for li, (W, b) in enumerate(zip(coefs, intercepts)):
            z = [math.fsum(a[j] * W[j][k] for j in range(len(a))) + b[k] for k in range(len(b))]
            act = out_activation if li == n_layers - 1 else activation
            a = ref_softmax(z) if act == "softmax" else [_ACT[act](v) for v in z]
        out.append(a)
    return out
