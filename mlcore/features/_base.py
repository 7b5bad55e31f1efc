"""The transform contract shared by every fitted feature transform, and the column readers.

A transform is built with its input ``columns`` and keyword-only options, learns its fitted state
in :meth:`Transform.fit` (attributes ending in ``_``: NumPy arrays, or lists of them, plus
JSON-able values) and writes its output features in :meth:`Transform.write`, one float64 row per
output feature of a column-major matrix, by calling a kernel per input chunk. Fitted state is
plain data so that a plan saves as JSON + arrays and a compiled predictor can reuse the kernels.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar, Sequence

import numpy as np
import pyarrow as pa

from .. import _arrow
from ..errors import NotFittedError, SchemaError, ShapeError

__all__ = ["Transform", "numeric_views", "read_float", "new_matrix", "matrix_table"]


def _check_columns(columns: Any, owner: str) -> list[str]:
    if isinstance(columns, str):
        columns = [columns]
    if columns is None:
        raise ValueError(f"{owner}: parameter `columns` is required, got None")
    cols = list(columns)
    if not cols:
        raise ValueError(f"{owner}: parameter `columns` must name at least one column, got []")
    for c in cols:
        if not isinstance(c, str):
            raise TypeError(f"{owner}: parameter `columns` must hold column names (str), got {c!r}")
    if len(set(cols)) != len(cols):
        raise ValueError(f"{owner}: parameter `columns` names a column twice: {cols}")
    return cols


def numeric_views(table: pa.Table, name: str, owner: str) -> list[_arrow.ChunkView]:
    """Chunk views of a numeric column, with an error naming the transform, column and type."""
    col = _arrow.get_column(table, name)
    if _arrow.type_kind(col.type) not in ("numeric",):
        if pa.types.is_boolean(col.type):
            col = col.cast(pa.int8())  # bit-packed: one small copy to bytes
        else:
            raise SchemaError(
                f"{owner} expects a numeric column (int or float), got `{col.type}` - at column `{name}`"
            )
    return [_arrow.chunk_view(c, name=name) for c in col.chunks]


def read_float(table: pa.Table, name: str, owner: str) -> np.ndarray:
    """The column as a float64 NumPy array (null as NaN), converted by a kernel per chunk."""
    from .._kernels import feat_numeric as kn

    views = numeric_views(table, name, owner)
    out = np.empty(table.num_rows, dtype=np.float64)
    pos = 0
    for v in views:
        if v.length:
            kn.to_float(v.length, v.offset, v.validity, v.values, out[pos:pos + v.length])
        pos += v.length
    return out


def new_matrix(n_features: int, n_rows: int) -> np.ndarray:
    """A writable (n_features, n_rows) C-order float64 matrix in one Arrow buffer: row k is output
    feature k, contiguous, so each feature becomes an Arrow column without a copy."""
    buf = pa.allocate_buffer(max(n_features * n_rows, 1) * 8)
    flat = np.frombuffer(buf, dtype=np.float64, count=n_features * n_rows)
    return flat.reshape(n_features, n_rows)


def matrix_table(mat: np.ndarray, names: Sequence[str]) -> pa.Table:
    """Wrap the rows of a :func:`new_matrix` matrix as float64 Arrow columns, without copying."""
    n_features, n_rows = mat.shape
    if len(names) != n_features:
        raise ShapeError(f"{n_features} features but {len(names)} names")
    base = mat.base
    while base is not None and not isinstance(base, pa.Buffer):
        base = getattr(base, "base", None)
    cols = []
    for k in range(n_features):
        if n_rows == 0:
            cols.append(pa.array(np.zeros(0), type=pa.float64()))
            continue
        if isinstance(base, pa.Buffer):
            start = mat[k].ctypes.data - base.address
            data = base.slice(start, n_rows * 8)
        else:
            data = pa.py_buffer(np.ascontiguousarray(mat[k]))
        cols.append(pa.Array.from_buffers(pa.float64(), n_rows, [None, data], null_count=0))
    if not cols:
        return pa.table({"_": pa.array(np.zeros(n_rows))}).drop_columns(["_"])  # keeps num_rows
    return pa.Table.from_arrays(cols, names=list(names))


def _jsonable(v):
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    return v


class Transform:
    """Base class: ``fit`` / ``transform`` over Arrow tables, state as arrays + JSON.

    Subclasses set ``kind`` (the name in a saved plan), ``_params`` (constructor options),
    ``_array_state`` (fitted attributes that are arrays or lists of arrays) and ``_json_state``
    (fitted attributes that are JSON values), and implement ``_fit`` and ``write``.
    """

    kind: ClassVar[str] = ""
    sparse: ClassVar[bool] = False
    needs_target: ClassVar[bool] = False
    _params: ClassVar[tuple[str, ...]] = ()
    _array_state: ClassVar[tuple[str, ...]] = ()
    _json_state: ClassVar[tuple[str, ...]] = ()

    def __init__(self, columns):
        self.columns = _check_columns(columns, type(self).__name__)

    # -- the public contract -------------------------------------------------------------------
    def fit(self, data: Any, y: Any = None):
        """Learn the fitted state from ``data`` (and the target ``y`` where the transform uses one).

        Returns ``self``.
        """
        table = _arrow.as_table(data)
        for c in self.columns:
            _arrow.get_column(table, c)  # a clear error for a missing column, before any work
        if table.num_rows == 0 and not self._fits_without_rows():
            raise ShapeError(
                f"{type(self).__name__} cannot be fitted on 0 rows (columns {self.columns}); "
                "fit needs at least one row"
            )
        yv = None
        if self.needs_target:
            yv = _target(y, table.num_rows, type(self).__name__)
        self._fit(table, yv)
        self.n_features_out_ = len(self.feature_names_out_)
        return self

    def transform(self, data: Any) -> pa.Table:
        """Output features of ``data`` as a float64 Arrow table (one contiguous column each)."""
        self._check_fitted()
        table = _arrow.as_table(data)
        mat = new_matrix(self.n_features_out_, table.num_rows)
        self.write(table, mat, 0)
        return matrix_table(mat, self.feature_names_out_)

    def fit_transform(self, data: Any, y: Any = None) -> pa.Table:
        """``fit`` then ``transform`` (target encoding overrides it with cross-fitting)."""
        return self.fit(data, y).transform(data)

    def _fits_without_rows(self) -> bool:
        """True for transforms whose fitted state does not depend on the rows (stateless)."""
        return False

    def write(self, table: pa.Table, out: np.ndarray, col0: int) -> None:
        """Write this transform's output features into rows ``col0 …`` of ``out``."""
        raise NotImplementedError

    def _fit(self, table: pa.Table, y: np.ndarray | None) -> None:
        raise NotImplementedError

    # -- state -------------------------------------------------------------------------------------
    @property
    def is_fitted(self) -> bool:
        return hasattr(self, "feature_names_out_")

    def _check_fitted(self) -> None:
        if not self.is_fitted:
            raise NotFittedError(f"This {type(self).__name__} is not fitted yet; call fit(table) first")

    def get_params(self) -> dict:
        """Constructor options as a JSON-able dict."""
        out = {"columns": list(self.columns)}
        for p in self._params:
            out[p] = _jsonable(getattr(self, p))
        return out

    def state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """(JSON fitted values, named arrays): everything ``from_state`` needs."""
        self._check_fitted()
        meta = {"feature_names_out_": list(self.feature_names_out_)}
        for name in self._json_state:
            meta[name] = _jsonable(getattr(self, name))
        arrays: dict[str, np.ndarray] = {}
        lists: dict[str, int] = {}
        for name in self._array_state:
            val = getattr(self, name)
            if isinstance(val, list):
                lists[name] = len(val)
                for i, a in enumerate(val):
                    arrays[f"{name}.{i}"] = np.asarray(a)
            else:
                arrays[name] = np.asarray(val)
        meta["_lists"] = lists
        return meta, arrays

    @classmethod
    def from_state(cls, params: dict, meta: dict, arrays: dict[str, np.ndarray]):
        """Rebuild a fitted transform from :meth:`get_params` and :meth:`state` output."""
        obj = cls(**params)
        lists = meta.get("_lists", {})
        for name in cls._array_state:
            if name in lists:
                val = [arrays[f"{name}.{i}"] for i in range(int(lists[name]))]
            else:
                val = arrays[name]
            setattr(obj, name, val)
        for name in cls._json_state:
            setattr(obj, name, meta[name])
        obj.feature_names_out_ = list(meta["feature_names_out_"])
        obj.n_features_out_ = len(obj.feature_names_out_)
        obj._restore()
        return obj

    def _restore(self) -> None:
        """Rebuild derived (not saved) state after loading; default: nothing."""

    def describe(self) -> str:
        """One readable line: kind, columns, options and a summary of the fitted state."""
        opts = ", ".join(f"{p}={json.dumps(_jsonable(getattr(self, p)))}" for p in self._params)
        head = f"{type(self).__name__}({', '.join(self.columns)}{'; ' + opts if opts else ''})"
        if not self.is_fitted:
            return head + " [not fitted]"
        return f"{head} -> {self.n_features_out_} feature(s){self._describe_state()}"

    def _describe_state(self) -> str:
        parts = []
        for name in self._array_state:
            val = getattr(self, name)
            if isinstance(val, np.ndarray) and val.dtype.kind == "f" and val.size <= 8:
                parts.append(f"{name}={np.array2string(val, precision=4, separator=', ')}")
        return ("; " + "; ".join(parts)) if parts else ""

    def __repr__(self) -> str:
        return self.describe()


def _target(y: Any, n: int, owner: str) -> np.ndarray:
    if y is None:
        raise ValueError(f"{owner} needs the target: call fit(table, y)")
    if isinstance(y, (pa.Array, pa.ChunkedArray)):
        if y.null_count:
            raise ValueError(f"{owner}: the target has {y.null_count} null value(s); expected none")
        yv = np.asarray(y.to_numpy(zero_copy_only=False), dtype=np.float64)
    else:
        yv = np.asarray(y, dtype=np.float64)
    if yv.ndim != 1 or yv.shape[0] != n:
        raise ShapeError(f"{owner}: the target has shape {yv.shape}, expected ({n},) to match the table")
    bad = ~np.isfinite(yv)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{owner}: the target must be finite, got {yv[i]} at row {i}")
    return yv
