"""Input validation and label encoding shared by the metric functions (validate once, convert once)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from .._kernels import metric_classification as _mc
from ..errors import SchemaError, ShapeError

__all__ = ["MetricInputError", "show", "as_1d", "as_scores", "as_weights", "check_lengths", "unique_labels",
           "encode", "binary_target"]


class MetricInputError(SchemaError):
    """An input to a metric is not usable (the message names the metric, the parameter and the value)."""


def show(v) -> str:
    """repr of a value for an error message, without NumPy's scalar wrappers (np.int64(1) -> 1)."""
    if isinstance(v, np.ndarray):
        v = v.tolist()
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(show(x) for x in v) + "]"
    if isinstance(v, np.generic):
        v = v.item()
    return repr(v)


# A dense label range up to this size is encoded by direct indexing instead of sorting.
_DENSE_RANGE = 1 << 20


def as_1d(x: Any, metric: str, name: str) -> np.ndarray:
    """One column as a 1-D NumPy array (zero-copy for a null-free Arrow chunk); nulls are an error."""
    if isinstance(x, (pa.Array, pa.ChunkedArray)):
        if x.null_count:
            raise MetricInputError(
                f"{metric}: `{name}` has {x.null_count} null value(s); expected no nulls "
                "(drop or fill them first)")
        if isinstance(x, pa.ChunkedArray):
            x = x.combine_chunks() if x.num_chunks != 1 else x.chunk(0)
        if pa.types.is_string(x.type) or pa.types.is_large_string(x.type) or pa.types.is_dictionary(x.type):
            return np.asarray(x.to_pylist(), dtype=object)
        return x.to_numpy(zero_copy_only=False)
    if hasattr(x, "to_numpy") and not isinstance(x, np.ndarray):  # pandas Series / polars Series
        x = x.to_numpy()
    a = np.asarray(x)
    if a.ndim == 2 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim != 1:
        raise ShapeError(f"{metric}: `{name}` must be 1-D, got shape {a.shape}")
    return a


def as_scores(x: Any, metric: str, name: str = "y_score", *, allow_2d: bool = False) -> np.ndarray:
    """Scores or probabilities as contiguous float64 (1-D, or 2-D when allowed); NaN and ±inf are errors."""
    if isinstance(x, (pa.Array, pa.ChunkedArray)) or (hasattr(x, "to_numpy") and not isinstance(x, np.ndarray)):
        a = as_1d(x, metric, name)
    else:
        a = np.asarray(x)
    if a.dtype.kind not in "fiub":
        raise MetricInputError(f"{metric}: `{name}` must be numeric, got dtype {a.dtype}")
    if a.ndim == 2 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim == 2 and not allow_2d:
        raise ShapeError(f"{metric}: `{name}` must be 1-D, got shape {a.shape}")
    if a.ndim not in (1, 2):
        raise ShapeError(f"{metric}: `{name}` must be 1-D or 2-D, got shape {a.shape}")
    a = np.ascontiguousarray(a, dtype=np.float64)
    flat = a.reshape(-1)
    bad = _mc.any_nonfinite(flat) if flat.size else -1
    if bad >= 0:
        row = bad // (a.shape[1] if a.ndim == 2 else 1)
        raise MetricInputError(
            f"{metric}: `{name}` has a non-finite value {show(flat[bad])} at row {row}; expected finite scores")
    return a


def as_weights(w: Any, n: int, metric: str) -> np.ndarray:
    """Sample weights as float64 (an empty array stands for unit weights); negative or NaN is an error."""
    if w is None:
        return np.zeros(0, dtype=np.float64)
    a = np.ascontiguousarray(as_1d(w, metric, "sample_weight"), dtype=np.float64)
    if a.size != n:
        raise ShapeError(f"{metric}: `sample_weight` has {a.size} rows, but y_true has {n}")
    if a.size:
        bad = _mc.any_nonfinite(a)
        if bad >= 0:
            raise MetricInputError(f"{metric}: `sample_weight` has {show(a[bad])} at row {bad}; expected finite weights")
        if a.min() < 0:
            raise MetricInputError(f"{metric}: `sample_weight` has a negative value {show(a.min())}; expected >= 0")
    return a


def check_lengths(metric: str, **arrays) -> int:
    """The common length of the arrays, or a :class:`ShapeError` that lists them all."""
    lengths = {k: (len(v) if v is not None else None) for k, v in arrays.items()}
    found = {k: n for k, n in lengths.items() if n is not None}
    if len(set(found.values())) > 1:
        shown = ", ".join(f"{k} has {n}" for k, n in found.items())
        raise ShapeError(f"{metric}: inputs must have the same number of rows; {shown}")
    n = next(iter(found.values()))
    if n == 0:
        raise ShapeError(f"{metric}: inputs are empty; expected at least one row")
    return n


def _is_int(a: np.ndarray) -> bool:
    return a.dtype.kind in "iub"


def _as_int64(a: np.ndarray) -> np.ndarray:
    return a.astype(np.int64, copy=False) if a.dtype.kind == "b" else a


def unique_labels(*arrays: np.ndarray) -> np.ndarray:
    """Sorted distinct labels of the arrays together (as scikit-learn's unique_labels)."""
    arrays = [a for a in arrays if a is not None and a.size]
    if all(_is_int(a) for a in arrays):
        ranges = [_mc.int_min_max(_as_int64(a) if a.dtype.kind == "b" else a) for a in arrays]
        lo = min(r[0] for r in ranges)
        hi = max(r[1] for r in ranges)
        if hi - lo < _DENSE_RANGE:
            seen = np.zeros(hi - lo + 1, dtype=bool)
            for a in arrays:
                seen[np.asarray(a, dtype=np.int64) - lo] = True
            out = np.flatnonzero(seen) + lo
            return out.astype(bool) if all(a.dtype.kind == "b" for a in arrays) else out
    kinds = {("num" if a.dtype.kind in "iufb" else "str") for a in arrays}
    if len(kinds) > 1:
        raise MetricInputError(f"Mix of numeric and string labels is not supported: got dtypes "
                               f"{[str(a.dtype) for a in arrays]}")
    try:
        return np.unique(np.concatenate(arrays))
    except TypeError:  # an object array mixing types that do not compare
        kinds = sorted({type(v).__name__ for a in arrays for v in a[:1000].tolist()})
        raise MetricInputError(f"Mix of label types {kinds} cannot be ordered; give labels of one type") from None


def encode(y: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Codes of y in the sorted ``classes`` (int64), -1 for a value not among them."""
    if _is_int(y) and _is_int(classes) and classes.size:
        lo, hi = int(classes[0]), int(classes[-1])
        if hi - lo < _DENSE_RANGE:
            lut = np.full(hi - lo + 1, -1, dtype=np.int64)
            lut[classes.astype(np.int64) - lo] = np.arange(classes.size)
            yy = np.asarray(y, dtype=np.int64)
            inside = (yy >= lo) & (yy <= hi)
            if inside.all():
                return lut[yy - lo]
            out = np.full(yy.size, -1, dtype=np.int64)
            out[inside] = lut[yy[inside] - lo]
            return out
    idx = np.searchsorted(classes, y)
    idx = np.minimum(idx, classes.size - 1)
    ok = classes[idx] == y
    return np.where(ok, idx, -1).astype(np.int64)


def binary_target(y_true: np.ndarray, metric: str, pos_label=None, labels=None):
    """(is_pos as uint8, classes) for a binary task; the positive class is ``pos_label`` or the
    greater of the two classes (scikit-learn's rule)."""
    classes = np.asarray(labels) if labels is not None else unique_labels(y_true)
    if labels is not None:
        codes = encode(y_true, np.sort(classes))
        if (codes < 0).any():
            bad = y_true[np.flatnonzero(codes < 0)[0]]
            raise MetricInputError(f"{metric}: y_true has label {show(bad)}, which is not among `labels` "
                                   f"{show(classes)}; a class not seen in training?")
    if labels is None and classes.size == 1 and pos_label is None:
        raise MetricInputError(
            f"{metric}: y_true has a single class ({show(classes[0])}); the metric needs both classes "
            "(pass `labels` with both, or evaluate on a sample with both)")
    if classes.size > 2:
        raise MetricInputError(
            f"{metric}: y_true has {classes.size} classes {show(classes[:10])}, expected 2 for a binary metric")
    if pos_label is None:
        pos_label = classes[-1]
    elif pos_label not in set(classes.tolist()) and classes.size == 2:
        raise MetricInputError(f"{metric}: pos_label={show(pos_label)} is not a class of y_true {show(classes)}")
    if _is_int(y_true) and isinstance(pos_label, (int, np.integer, bool, np.bool_)):
        is_pos = y_true == pos_label
    else:
        is_pos = y_true == np.asarray(pos_label, dtype=y_true.dtype if y_true.dtype.kind in "US" else None)
    return np.ascontiguousarray(is_pos).view(np.uint8), classes
