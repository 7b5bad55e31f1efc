"""Target encoding with cross-fitting (scikit-learn's TargetEncoder for continuous and binary targets)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from .. import _arrow
from .._kernels import feat_strings as ks
from ._base import _target, matrix_table, new_matrix
from ._categories import codes_of
from .encoders import CategoricalTransform

__all__ = ["TargetEncoder"]


def _encodings(codes: np.ndarray, y: np.ndarray, n_cat: int, smooth, y_mean: float) -> np.ndarray:
    """Shrunk per-category target means, scikit-learn's formulas (Micci-Barreca eq. 5-7).

    ``codes`` index 0..n_cat-1 (null already mapped to its category); -1 rows are skipped.
    """
    ok = codes >= 0
    c = codes[ok]
    yy = y[ok]
    counts = np.bincount(c, minlength=n_cat).astype(np.float64)
    sums = np.bincount(c, weights=yy, minlength=n_cat)
    if smooth == "auto":
        y_var = float(np.var(y))
        with np.errstate(invalid="ignore", divide="ignore"):
            means = sums / counts
            ssd = np.bincount(c, weights=(yy - means[c]) ** 2, minlength=n_cat)
            lam = y_var * counts / (y_var * counts + ssd / counts)
            enc = lam * means + (1 - lam) * y_mean
        return np.where(np.isnan(lam), y_mean, enc)
    s = float(smooth)
    num = sums + s * y_mean
    den = counts + s
    with np.errstate(invalid="ignore", divide="ignore"):
        enc = num / den
    return np.where(den == 0, y_mean, enc)


def kfold_indices(n: int, n_splits: int, shuffle: bool, random_state: int | None) -> list[np.ndarray]:
    """Test folds of scikit-learn's KFold (same sizes, same shuffle for an int random_state)."""
    idx = np.arange(n)
    if shuffle:
        np.random.RandomState(random_state).shuffle(idx)
    sizes = np.full(n_splits, n // n_splits, dtype=np.int64)
    sizes[: n % n_splits] += 1
    folds, start = [], 0
    for s in sizes:
        folds.append(idx[start:start + s])
        start += s
    return folds


class TargetEncoder(CategoricalTransform):
    """Replace each category by a shrunk mean of the target (scikit-learn's TargetEncoder).

    ``fit(table, y)`` learns encodings on all rows (used by ``transform``); ``fit_transform``
    returns cross-fitted encodings for the training rows: each of ``cv`` folds is encoded by the
    statistics of the other folds, so a row never sees its own target. Folds are scikit-learn's
    ``KFold`` (contiguous, or shuffled by ``np.random.RandomState(random_state)``), for continuous
    and binary targets alike (scikit-learn stratifies binary targets; mlcore does not).
    ``smooth='auto'`` is the empirical-Bayes shrinkage. Null is a category; an unseen category
    gives ``target_mean_``. Binary targets are mapped to 0/1 by sorted label.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from mlcore.features import TargetEncoder
    >>> t = pa.table({"c": ["a", "a", "b", "b"]})
    >>> enc = TargetEncoder(["c"], smooth=0.0).fit(t, [1.0, 3.0, 10.0, 20.0])
    >>> enc.transform(pa.table({"c": ["a", "b", "z"]}))["c"].to_pylist()
    [2.0, 15.0, 8.5]
    """

    kind = "target"
    needs_target = True
    _params = ("smooth", "target_type", "cv", "shuffle", "random_state")
    _array_state = CategoricalTransform._array_state + ("encodings_",)
    _json_state = CategoricalTransform._json_state + ("target_mean_", "classes_")

    def __init__(self, columns, *, smooth="auto", target_type: str = "continuous", cv: int = 5,
                 shuffle: bool = True, random_state: int | None = 0):
        super().__init__(columns)
        if smooth != "auto" and not (isinstance(smooth, (int, float)) and smooth >= 0):
            raise ValueError(f"TargetEncoder: parameter `smooth` must be 'auto' or a float >= 0, got {smooth!r}")
        if target_type not in ("continuous", "binary"):
            raise ValueError(f"TargetEncoder: parameter `target_type` must be 'continuous' or 'binary', got {target_type!r}")
        if int(cv) != cv or cv < 2:
            raise ValueError(f"TargetEncoder: parameter `cv` must be an integer >= 2, got {cv!r}")
        self.smooth = smooth if smooth == "auto" else float(smooth)
        self.target_type = target_type
        self.cv = int(cv)
        self.shuffle = bool(shuffle)
        self.random_state = random_state

    def _prepare_y(self, y):
        if self.target_type == "binary":
            classes = np.unique(y)
            if classes.size != 2:
                raise ValueError(f"TargetEncoder(target_type='binary') needs exactly 2 target values, got {classes.size}: {classes[:5].tolist()}")
            self.classes_ = classes.tolist()
            return (y == classes[1]).astype(np.float64)
        self.classes_ = None
        return y

    def _full_codes(self, table, k):
        codes = codes_of(table, self.columns[k], self._cats[k], "TargetEncoder")
        n = len(self._cats[k])
        if self.null_seen_[k]:
            codes = np.where(codes == -2, n, codes).astype(np.int32)
        return codes

    def _fit(self, table, y):
        self._fit_categories(table)
        y = self._prepare_y(y)
        self.target_mean_ = float(np.mean(y))
        self.encodings_ = []
        for k in range(len(self.columns)):
            n_cat = len(self._cats[k]) + (1 if self.null_seen_[k] else 0)
            codes = self._full_codes(table, k)
            self.encodings_.append(_encodings(codes, y, n_cat, self.smooth, self.target_mean_))
        self._build_maps()
        self.feature_names_out_ = list(self.columns)

    def _build_maps(self):
        if not hasattr(self, "encodings_"):
            return
        self._maps = [self._map(k, self.encodings_[k], self.target_mean_) for k in range(len(self.columns))]

    def _map(self, k, enc, y_mean):
        n = len(self._cats[k])
        m = np.empty(n + 2, dtype=np.float64)
        m[:n] = enc[:n]
        m[n] = enc[n] if self.null_seen_[k] else y_mean
        m[n + 1] = y_mean
        return m

    def fit_transform(self, data, y=None) -> pa.Table:
        """Fit on all rows, and return the cross-fitted encodings of ``data`` (see the class doc)."""
        table = _arrow.as_table(data)
        self.fit(table, y)
        out = new_matrix(self.n_features_out_, table.num_rows)
        self.write_crossfit(table, y, out, 0)
        return matrix_table(out, self.feature_names_out_)

    def write_crossfit(self, table, y, out, col0):
        """Write the cross-fitted encodings of the (fitted) training table into ``out``."""
        yv = self._prepare_y(_target(y, table.num_rows, "TargetEncoder"))
        folds = kfold_indices(table.num_rows, self.cv, self.shuffle, self.random_state)
        for k in range(len(self.columns)):
            n_cat = len(self._cats[k]) + (1 if self.null_seen_[k] else 0)
            codes = self._full_codes(table, k)
            row = out[col0 + k]
            for test in folds:
                train = np.ones(table.num_rows, dtype=bool)
                train[test] = False
                y_tr = yv[train]
                y_mean = float(np.mean(y_tr))
                enc = _encodings(codes[train], y_tr, n_cat, self.smooth, y_mean)
                row[test] = np.where(codes[test] >= 0, enc[np.maximum(codes[test], 0)], y_mean)

    def write(self, table, out, col0):
        for k in range(len(self.columns)):
            codes = codes_of(table, self.columns[k], self._cats[k], "TargetEncoder")
            ks.remap(codes, self._maps[k], out[col0 + k])
