"""Control of testing many features at once: Bonferroni, Holm, Benjamini-Hochberg.

Adjusted p-values follow ``statsmodels.stats.multitest.multipletests``: a feature is significant
at level alpha when its adjusted p-value is <= alpha. Bonferroni and Holm control the family-wise
error rate (the chance of any false alarm), Benjamini-Hochberg the false discovery rate (the
expected share of false alarms among alarms; valid for independent or positively dependent tests).
Undefined p-values (None or NaN) are not counted in the family and stay undefined.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

__all__ = ["CORRECTIONS", "adjust_pvalues"]

CORRECTIONS = ("none", "bonferroni", "holm", "bh")


def adjust_pvalues(pvalues: Sequence[float | None], method: str = "holm") -> np.ndarray:
    """Adjusted p-values (float64, NaN where the input is undefined).

    Examples
    --------
    >>> from mlcore.monitor import adjust_pvalues
    >>> adjust_pvalues([0.01, 0.04, 0.03], "holm").round(3).tolist()
    [0.03, 0.06, 0.06]
    >>> adjust_pvalues([0.01, 0.04, 0.03], "bh").round(3).tolist()
    [0.03, 0.04, 0.04]
    """
    if method not in CORRECTIONS:
        raise ValueError(f"correction must be one of {CORRECTIONS}, got {method!r}")
    p = np.array([np.nan if v is None else float(v) for v in pvalues], dtype=np.float64)
    out = np.full(p.size, np.nan)
    ok = ~np.isnan(p)
    if np.any((p[ok] < 0) | (p[ok] > 1)):
        raise ValueError(f"p-values must lie in [0, 1], got {p[ok][(p[ok] < 0) | (p[ok] > 1)][:3].tolist()}")
    v = p[ok]
    m = v.size
    if m == 0:
        return out
    if method == "none":
        adj = v.copy()
    elif method == "bonferroni":
        adj = np.minimum(1.0, v * m)
    elif method == "holm":
        order = np.argsort(v, kind="mergesort")
        s = v[order] * (m - np.arange(m))
        s = np.minimum(1.0, np.maximum.accumulate(s))
        adj = np.empty(m)
        adj[order] = s
    else:  # bh
        order = np.argsort(v, kind="mergesort")
        s = v[order] * m / np.arange(1, m + 1)
        s = np.minimum(1.0, np.minimum.accumulate(s[::-1])[::-1])
        adj = np.empty(m)
        adj[order] = s
    out[ok] = adj
    return out
