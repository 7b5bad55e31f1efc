"""Fit an estimator on feature columns of an Arrow table, without a pandas detour.

The feature columns are copied once, column by column from the Arrow buffers, into one
Fortran-ordered float64 matrix (what scikit-learn's solvers read; nulls become NaN, for the
estimators that accept missing values); the target becomes one NumPy vector.
"""

from __future__ import annotations

import time
from typing import Any, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.types as pat

from .. import _arrow
from ..errors import SchemaError, ShapeError
from .progress import Progress

__all__ = ["fit", "feature_matrix", "target_vector"]


def _feature_names(table: pa.Table, target: str | None, features: Sequence[str] | None,
                   exclude: Sequence[str] = ()) -> list[str]:
    if features is None:
        skip = {target, *exclude}
        names = [n for n in table.column_names if n not in skip]
    else:
        if isinstance(features, str):
            raise TypeError(f"`features` must be a list of column names, got the string {features!r}")
        names = [str(f) for f in features]
        if len(set(names)) != len(names):
            raise SchemaError(f"`features` names a column more than once: {names}")
        if target is not None and target in names:
            raise SchemaError(f"The target column `{target}` is also listed in `features`")
    if not names:
        raise ShapeError("No feature column: pass `features` or a table with columns besides the target")
    return names


def feature_matrix(data: Any, features: Sequence[str] | None = None, *,
                   target: str | None = None) -> tuple[np.ndarray, list[str]]:
    """The feature columns as one Fortran-ordered float64 matrix (one copy), and their names.

    Numeric and bool columns only; nulls become NaN. Categorical (dictionary, string) columns
    must be encoded by a feature plan first: they raise a SchemaError naming the column.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from mlcore.train.fit import feature_matrix
    >>> X, names = feature_matrix(pa.table({"a": [1, 2], "b": [0.5, None], "y": [0, 1]}), target="y")
    >>> X.tolist(), names
    ([[1.0, 0.5], [2.0, nan]], ['a', 'b'])
    """
    table = _arrow.as_table(data)
    names = _feature_names(table, target, features)
    X = np.empty((table.num_rows, len(names)), dtype=np.float64, order="F")
    for j, name in enumerate(names):
        col = _arrow.get_column(table, name)
        t = col.type
        if not (pat.is_integer(t) or pat.is_floating(t) or pat.is_boolean(t)):
            raise SchemaError(
                f"Expected a numeric or bool feature column, got `{t}` - at column `{name}`; "
                "encode categorical columns with a feature plan first"
            )
        pos = 0
        dst = X[:, j]
        for chunk in col.chunks:
            n = len(chunk)
            if n == 0:
                continue
            if chunk.null_count or pat.is_boolean(t):
                vals = chunk.cast(pa.float64()).to_numpy(zero_copy_only=False)  # nulls -> NaN
            else:
                vals = chunk.to_numpy()
            dst[pos:pos + n] = vals
            pos += n
    return X, names


def target_vector(data: Any, target: str) -> np.ndarray:
    """The target column as a NumPy vector (numbers as they are, strings as an object array)."""
    table = _arrow.as_table(data)
    col = _arrow.get_column(table, target)
    if col.null_count:
        raise SchemaError(f"Target column `{target}` has {col.null_count} null value(s); drop those rows first")
    t = col.type
    if pat.is_dictionary(t):
        col = col.cast(t.value_type)
        t = col.type
    if pat.is_string(t) or pat.is_large_string(t):
        out = np.empty(len(col), dtype=object)
        out[:] = col.to_pylist()
        return out
    if pat.is_integer(t) or pat.is_floating(t) or pat.is_boolean(t):
        return col.to_numpy()
    raise SchemaError(f"Expected a numeric, bool or string target, got `{t}` - at column `{target}`")


def _is_lightgbm(estimator) -> bool:
    return type(estimator).__module__.split(".")[0] == "lightgbm"


def fit_matrix(estimator, X: np.ndarray, y: np.ndarray, names: list[str], sample_weight=None):
    """Fit on an already-built matrix and record the feature names as scikit-learn does for frames."""
    kwargs = {}
    if sample_weight is not None:
        kwargs["sample_weight"] = sample_weight
    if _is_lightgbm(estimator):
        kwargs["feature_name"] = list(names)
    estimator.fit(X, y, **kwargs)
    if type(estimator).__module__.split(".")[0] == "sklearn":
        # What scikit-learn itself stores when fitted on a DataFrame: predict then checks names.
        estimator.feature_names_in_ = np.asarray(names, dtype=object)
    return estimator


def fit(estimator, data: Any, *, target: str, features: Sequence[str] | None = None,
        sample_weight: str | None = None, progress: bool | None = None):
    """Fit ``estimator`` on the ``features`` columns of ``data`` against column ``target``.

    Parameters
    ----------
    estimator
        An unfitted scikit-learn-compatible estimator (scikit-learn, LightGBM's and XGBoost's
        scikit-learn API).
    data
        Anything ``mlcore`` reads as a table (Arrow, Polars, DuckDB result, pandas, dict).
    target : str
        The target column.
    features : list of str, optional
        Feature columns; default: every column but the target (and ``sample_weight``).
    sample_weight : str, optional
        A column of sample weights.
    progress : bool, optional
        Print a line when the fit starts and ends (default: on a terminal only).

    Returns
    -------
    The fitted estimator (the same object), with ``feature_names_in_`` set for scikit-learn.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from sklearn.linear_model import LinearRegression
    >>> from mlcore.train import fit
    >>> t = pa.table({"a": [0.0, 1.0, 2.0], "b": [1.0, 0.0, 1.0], "y": [1.0, 3.0, 5.0]})
    >>> est = fit(LinearRegression(), t, target="y")
    >>> (est.coef_.round(6) + 0.0).tolist(), list(est.feature_names_in_)
    ([2.0, 0.0], ['a', 'b'])
    """
    table = _arrow.as_table(data)
    names = _feature_names(table, target, features, exclude=(sample_weight,) if sample_weight else ())
    X, names = feature_matrix(table, names)
    y = target_vector(table, target)
    w = None
    if sample_weight is not None:
        w = target_vector(table, sample_weight).astype(np.float64)
    bar = Progress(1, enabled=progress)
    t0 = time.perf_counter()
    fit_matrix(estimator, X, y, names, w)
    bar.step(f"fitted {type(estimator).__name__} on {X.shape[0]} rows x {X.shape[1]} features "
             f"in {time.perf_counter() - t0:.2f} s")
    bar.close()
    return estimator
