"""Regression metric kernels: weighted sums of per-row errors in one pass.

Buffer contract: 1-D contiguous float64 arrays ``y`` (truth), ``p`` (prediction), ``w`` (sample
weights, empty for unit weights); the caller rejects nulls and checks lengths.
"""

from __future__ import annotations


from ._jit import kernel

#: Order of the sums :func:`regression_sums` writes.
SUMS = ("w", "abs", "sq", "ape", "pinball", "wy")


@kernel(reassoc=True)
def regression_sums(y, p, w, alpha, eps, out):
    """out = [sum w, sum w|e|, sum w e^2, sum w |e|/max(|y|, eps), sum w pinball_alpha(e), sum w y]
    with e = y - p and pinball_alpha(e) = alpha*e if e >= 0 else (alpha-1)*e."""
    sw = 0.0
    sa = 0.0
    ss = 0.0
    sp = 0.0
    sq = 0.0
    sy = 0.0
    weighted = w.size != 0
    for i in range(y.size):
        wi = w[i] if weighted else 1.0
        e = y[i] - p[i]
        ae = abs(e)
        sw += wi
        sa += wi * ae
        ss += wi * e * e
        sp += wi * ae / max(abs(y[i]), eps)
        sq += wi * (alpha * e if e >= 0.0 else (alpha - 1.0) * e)
        sy += wi * y[i]
    out[0] = sw
    out[1] = sa
    out[2] = ss
    out[3] = sp
    out[4] = sq
    out[5] = sy


@kernel(reassoc=True)
def weighted_sq_dev(y, w, mean):
    """sum w (y - mean)^2 (unit weights when w is empty)."""
    s = 0.0
    weighted = w.size != 0
    for i in range(y.size):
        d = y[i] - mean
        s += (w[i] if weighted else 1.0) * d * d
    return s


@kernel
def regression_rows(y, p, alpha, eps, out):
    """Per-row errors, out[:, j] for j in (abs, sq, ape, pinball, centred-y placeholder 0)."""
    for i in range(y.size):
        e = y[i] - p[i]
        ae = abs(e)
        out[i, 0] = ae
        out[i, 1] = e * e
        out[i, 2] = ae / max(abs(y[i]), eps)
        out[i, 3] = alpha * e if e >= 0.0 else (alpha - 1.0) * e
