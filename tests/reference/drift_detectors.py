"""Per-value Python versions of detectors River does not have (CUSUM), for parity tests."""

from __future__ import annotations


def cusum(x, target=None, slack=0.5, threshold=5.0, min_instances=30):
    out = []
    n = 0
    mean = 0.0
    gp = gm = 0.0
    pending = False
    for i, xi in enumerate(x):
        if pending:
            n, mean, gp, gm, pending = 0, 0.0, 0.0, 0.0, False
        n += 1
        if target is None and n <= min_instances:
            mean += 1.0 / n * (xi - mean)
            continue
        mu0 = target if target is not None else mean
        gp = max(0.0, gp + xi - mu0 - slack)
        gm = max(0.0, gm + mu0 - xi - slack)
        if gp > threshold or gm > threshold:
            out.append(i)
            pending = True
    return out
