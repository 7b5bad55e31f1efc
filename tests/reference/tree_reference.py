"""Obvious, slow references for the tree-ensemble kernels and adversarial inputs.

``walk_arrays`` walks mlcore's flat tree arrays one row and one tree at a time, until a leaf,
with the missing-value remapping written out as plain Python: the batch kernel (lock-step blocks,
compaction tail) must agree with it exactly. ``adversarial_rows`` builds the inputs that random
data misses: values equal to a threshold, one ulp either side, and rounded to float32.
"""

from __future__ import annotations

import math

import numpy as np

_F32_ZERO = float(np.float32(1e-35))
_DBL_MAX = float(np.finfo(np.float64).max)


def remap(x: float, mode: int) -> float:
    nan = math.isnan(x)
    if mode <= 4 and math.isinf(x):
        x = math.copysign(_DBL_MAX, x)
    if mode == 0:
        return -math.inf if nan else x
    if mode == 1:
        return math.inf if nan else x
    if mode == 2:
        return 0.0 if nan else x
    if mode in (3, 4):
        if nan or abs(x) <= _F32_ZERO:
            return -math.inf if mode == 3 else math.inf
        return x
    if mode == 5:
        if nan or x <= -1.0 or x >= 2.0**31:
            return -1.0
        return float(math.trunc(x))
    if mode == 6:
        if nan or x < 0:
            return -1.0
        if x >= 256.0:
            return 256.0
        return float(math.trunc(x))
    raise ValueError(mode)


def walk_arrays(manifest: dict, arrays: dict, X: np.ndarray) -> np.ndarray:
    """Raw scores (n_rows, n_outputs) from ``TreeEnsemble.to_arrays()`` output, row by row."""
    X = np.asarray(X, dtype=np.float64)
    n_out, n_val = manifest["n_outputs"], manifest["n_val"]
    cb, vcol, thr, val = arrays["child_base"], arrays["vcol"], arrays["thr"], arrays["val"]
    vsrc, vmode = arrays["vsrc"], arrays["vmode"]
    out = np.zeros((X.shape[0], n_out))
    for i in range(X.shape[0]):
        v = [remap(float(X[i, vsrc[j]]), int(vmode[j])) for j in range(vsrc.size)]
        acc = list(arrays["base"])
        for t in range(arrays["root"].size):
            n = int(arrays["root"][t])
            for _ in range(10_000):
                nxt = int(cb[n]) + (1 if v[vcol[n]] > thr[n] else 0) if vsrc.size else int(cb[n])
                if nxt == n:
                    break
                n = nxt
            else:
                raise AssertionError("walk did not reach a leaf")
            o = int(arrays["tree_out"][t])
            for k in range(n_val):
                acc[o + k] += val[n * n_val + k]
        out[i] = acc
    return out


def threshold_candidates(t: float, *, lightgbm: bool = False) -> list[float]:
    """Values that split a threshold's neighbourhood: t, one ulp either side (float64 and float32),
    t rounded to float32, and for LightGBM the +-1e-35f flush boundary."""
    t = float(t)
    if not math.isfinite(t):
        return []
    t32 = np.float32(t)
    vals = [t, math.nextafter(t, -math.inf), math.nextafter(t, math.inf), float(t32),
            float(np.nextafter(t32, np.float32(-np.inf))), float(np.nextafter(t32, np.float32(np.inf)))]
    if lightgbm:
        for z in (_F32_ZERO, -_F32_ZERO):
            vals += [z, math.nextafter(z, -math.inf), math.nextafter(z, math.inf)]
        vals += [0.0, -0.0, 1e-300, -1e-300]
    return vals


def adversarial_rows(base: np.ndarray, splits, *, seed: int = 0, lightgbm: bool = False) -> np.ndarray:
    """Rows of ``base`` (random picks) with one feature set to each candidate value of each
    ``(feature, threshold)`` in ``splits``."""
    rng = np.random.default_rng(seed)
    rows = []
    for f, t in splits:
        for v in threshold_candidates(t, lightgbm=lightgbm):
            r = base[rng.integers(0, base.shape[0])].copy()
            r[int(f)] = v
            rows.append(r)
    if not rows:
        return base[:0].copy()
    return np.asarray(rows, dtype=np.float64)


def lightgbm_splits(model_text: str):
    """(feature, threshold) of every numeric split in a LightGBM text model."""
    out = []
    feats = thrs = dts = None
    for line in model_text.splitlines():
        if line.startswith("split_feature="):
            feats = [int(v) for v in line.split("=", 1)[1].split()]
        elif line.startswith("threshold="):
            thrs = [float(v) for v in line.split("=", 1)[1].split()]
        elif line.startswith("decision_type="):
            dts = [int(v) for v in line.split("=", 1)[1].split()]
            out += [(f, t) for f, t, d in zip(feats, thrs, dts) if not d & 1]
    return out
