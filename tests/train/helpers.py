"""Shared helpers for the train tests: data in every layout mlcore reads."""

from __future__ import annotations

import warnings

import numpy as np
import pyarrow as pa


def layouts(X: np.ndarray, names=None, *, seed: int = 0) -> dict:
    """The same float64 matrix as an Arrow table, a sliced+chunked Arrow table (offsets not multiples
    of 8, chunk boundaries differing per column), C- and F-ordered NumPy, and a pandas frame."""
    import pandas as pd

    n, p = X.shape
    names = names or [f"x{j}" for j in range(p)]
    rng = np.random.default_rng(seed)
    cols = {}
    for j, name in enumerate(names):
        pad = int(rng.integers(1, 12))
        padded = pa.array(np.concatenate([rng.normal(size=pad), X[:, j], rng.normal(size=3)]))
        arr = padded.slice(pad, n)
        cuts = sorted(rng.integers(0, n + 1, size=int(rng.integers(0, 4))).tolist()) if n else []
        bounds = [0] + cuts + [n]
        cols[name] = pa.chunked_array([arr.slice(a, b - a) for a, b in zip(bounds[:-1], bounds[1:])],
                                      type=pa.float64())
    return {
        "arrow": pa.table({name: X[:, j] for j, name in enumerate(names)}),
        "arrow_sliced_chunked": pa.table(cols),
        "numpy_c": np.ascontiguousarray(X),
        "numpy_f": np.asfortranarray(X),
        "pandas": pd.DataFrame({name: X[:, j] for j, name in enumerate(names)}),
    }


def quiet_fit(est, X, y):
    """Fit, ignoring the solvers' warnings (convergence with a small max_iter, overflow in a line
    search): what is tested is the prediction of whatever model came out."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return est.fit(X, y)
