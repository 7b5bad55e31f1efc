"""What every compiled model shares: input resolution over Arrow buffers, errors, saved form.

Batch input becomes a list of *pieces*: row ranges over which every feature column is one
contiguous buffer, described by a table of addresses and dtype codes (no copy, no row-major
matrix). A C-ordered NumPy matrix is passed to the row-major kernels as it is. A single row (a
dict or a 1-D NumPy vector) becomes one float64 vector.
"""

from __future__ import annotations

import contextlib
import json
import warnings
from typing import Any, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.types as pat

from .. import _arrow
from .._kernels._jit import parallel_section  # noqa: F401  (re-exported for the models)
from .._kernels.linear_ptr import DTYPE_CODES
from ..errors import ArtifactError, ColumnNotFoundError, CopyWarning, SchemaError, ShapeError

FORMAT = "mlcore.model"
FORMAT_VERSION = 1

_F64 = np.dtype(np.float64)


# ---------------------------------------------------------------------------------------------
# Class labels in JSON

def encode_classes(classes: np.ndarray) -> dict:
    """Class labels as JSON: ``{"dtype": "int64" | "float64" | "bool" | "str" | "unicode", "values": [...]}``
    (``str``: an object array of Python strings; ``unicode``: a NumPy ``<U`` array)."""
    classes = np.asarray(classes)
    kind = classes.dtype.kind
    if kind in "iu":
        return {"dtype": "int64", "values": [int(c) for c in classes]}
    if kind == "f":
        if not np.all(np.isfinite(classes)):
            raise SchemaError(f"Class labels must be finite numbers or strings, got {classes.tolist()}")
        return {"dtype": "float64", "values": [float(c) for c in classes]}
    if kind == "b":
        return {"dtype": "bool", "values": [bool(c) for c in classes]}
    if kind == "U":
        return {"dtype": "unicode", "values": [str(c) for c in classes]}
    if kind == "O" and all(isinstance(c, str) for c in classes.tolist()):
        return {"dtype": "str", "values": [str(c) for c in classes]}
    raise SchemaError(
        f"Class labels must be integers, floats, booleans or strings, got dtype `{classes.dtype}` "
        f"with values {classes.tolist()[:5]}"
    )


def decode_classes(obj: Any) -> np.ndarray:
    if not isinstance(obj, dict) or set(obj) != {"dtype", "values"} or not isinstance(obj["values"], list):
        raise ArtifactError(f"`classes` must be {{'dtype': ..., 'values': [...]}}, got {obj!r}")
    dtypes = {"int64": np.int64, "float64": np.float64, "bool": np.bool_, "str": object, "unicode": np.str_}
    if obj["dtype"] not in dtypes:
        raise ArtifactError(f"`classes.dtype` must be one of {sorted(dtypes)}, got {obj['dtype']!r}")
    kinds = {"int64": int, "float64": (int, float), "bool": bool, "str": str, "unicode": str}
    for v in obj["values"]:
        if not isinstance(v, kinds[obj["dtype"]]) or (obj["dtype"] == "int64" and isinstance(v, bool)):
            raise ArtifactError(f"class label {v!r} is not of dtype {obj['dtype']}")
    if obj["dtype"] == "str":
        # scikit-learn keeps string labels in an object array: predictions keep that dtype.
        out = np.empty(len(obj["values"]), dtype=object)
        out[:] = obj["values"]
        return out
    return np.asarray(obj["values"], dtype=dtypes[obj["dtype"]])


# ---------------------------------------------------------------------------------------------
# Saved form

def check_manifest(manifest: Any, kinds: Sequence[str], required: Sequence[str]) -> dict:
    """Validate the common manifest header; return it (a plain dict that round-trips through JSON)."""
    if not isinstance(manifest, dict):
        raise ArtifactError(f"A model manifest must be a dict, got {type(manifest).__name__}")
    try:
        manifest = json.loads(json.dumps(manifest))
    except (TypeError, ValueError) as exc:
        raise ArtifactError(f"A model manifest must hold JSON values only: {exc}") from exc
    if manifest.get("format") != FORMAT:
        raise ArtifactError(f"`format` must be {FORMAT!r}, got {manifest.get('format')!r}")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ArtifactError(
            f"`format_version` {manifest.get('format_version')!r} is not supported (this mlcore reads {FORMAT_VERSION})"
        )
    if manifest.get("kind") not in kinds:
        raise ArtifactError(f"Unknown model kind {manifest.get('kind')!r}; expected one of {sorted(kinds)}")
    missing = [k for k in required if k not in manifest]
    if missing:
        raise ArtifactError(f"Manifest of kind {manifest['kind']!r} lacks {missing}")
    p = manifest.get("n_features_in")
    if not isinstance(p, int) or isinstance(p, bool) or p < 1:
        raise ArtifactError(f"`n_features_in` must be a positive integer, got {p!r}")
    names = manifest.get("feature_names_in")
    if names is not None and (
        not isinstance(names, list) or len(names) != p or not all(isinstance(n, str) for n in names)
        or len(set(names)) != p
    ):
        raise ArtifactError(f"`feature_names_in` must be null or {p} distinct strings, got {names!r}")
    return manifest


def check_array(arrays: Any, name: str, shape: tuple, dtype=np.float64) -> np.ndarray:
    """``arrays[name]`` as a C-contiguous array of ``dtype`` and ``shape``, or an ArtifactError."""
    if not isinstance(arrays, dict):
        raise ArtifactError(f"`arrays` must be a dict of NumPy arrays, got {type(arrays).__name__}")
    if name not in arrays:
        raise ArtifactError(f"Array `{name}` is missing; the model has {sorted(arrays)}")
    a = arrays[name]
    if not isinstance(a, np.ndarray) or a.dtype != np.dtype(dtype):
        got = a.dtype if isinstance(a, np.ndarray) else type(a).__name__
        raise ArtifactError(f"Array `{name}` must be {np.dtype(dtype)}, got {got}")
    if a.shape != tuple(shape):
        raise ArtifactError(f"Array `{name}` must have shape {tuple(shape)}, got {a.shape}")
    return np.ascontiguousarray(a)


def header(kind: str, estimator: str, n_features: int, feature_names) -> dict:
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "kind": kind,
        "estimator": estimator,
        "n_features_in": int(n_features),
        "feature_names_in": None if feature_names is None else [str(n) for n in feature_names],
    }


def feature_names_of(estimator) -> list[str] | None:
    names = getattr(estimator, "feature_names_in_", None)
    if names is None:
        return None
    names = [str(n) for n in names]
    if len(set(names)) != len(names):
        raise SchemaError(f"Feature names must be distinct, got {names}")
    return names


# ---------------------------------------------------------------------------------------------
# Batch input

_ROW_MAJOR = "rows"
_COLUMNS = "columns"


class Pieces:
    """Batch input resolved for a kernel: ``mode`` is ``"rows"`` (``matrix`` is a C-ordered float64
    (n, p) matrix) or ``"columns"`` (``pieces`` is a list of ``(start, n, addrs, codes)``)."""

    __slots__ = ("mode", "n_rows", "matrix", "pieces", "columns", "names", "_keep")

    def __init__(self, mode, n_rows, matrix=None, pieces=(), columns=(), names=(), keep=None):
        self.mode = mode
        self.n_rows = n_rows
        self.matrix = matrix
        self.pieces = list(pieces)
        self.columns = columns  # the Arrow columns (or NumPy columns), to locate bad values
        self.names = names
        self._keep = keep  # owns the buffers the addresses point into


def _n_features_error(got: int, expected: int, model: str) -> ShapeError:
    return ShapeError(f"X has {got} features, but the {model} expects {expected}")


def _check_column_type(name: str, t: pa.DataType, model: str) -> None:
    if pat.is_boolean(t):
        return
    if (pat.is_integer(t) or pat.is_float32(t) or pat.is_float64(t)):
        return
    raise SchemaError(
        f"Expected a numeric column (int8..int64, uint8..uint64, float32, float64 or bool) for "
        f"{model}, got `{t}` - at column `{name}`"
    )


def _null_error(name: str, n_null: int, model: str) -> SchemaError:
    return SchemaError(
        f"Column `{name}` has {n_null} null value(s); {model} does not accept missing values "
        "(scikit-learn rejects them too): impute them before predicting"
    )


def resolve_batch(X: Any, *, n_features: int, feature_names: list[str] | None, model: str) -> Pieces:
    """Map the accepted inputs onto column pointer tables (or a C-ordered matrix), without copying."""
    if isinstance(X, np.ndarray) and X.ndim == 2:
        return _resolve_matrix(X, n_features=n_features, model=model)
    if isinstance(X, np.ndarray) and X.ndim != 2:
        raise ShapeError(
            f"Expected a 2-D array (n_rows, {n_features}) for {model}, got shape {X.shape}; "
            "use predict_row for one row"
        )
    table = _arrow.as_table(X)
    if feature_names is not None:
        missing = [n for n in feature_names if table.schema.get_field_index(n) < 0]
        if missing:
            dup = [n for n in missing if n in table.column_names]
            if dup:
                raise SchemaError(f"Column name `{dup[0]}` is ambiguous: it occurs more than once")
            shown = ", ".join(f"`{m}`" for m in missing[:10]) + (" …" if len(missing) > 10 else "")
            raise ColumnNotFoundError(
                f"Column(s) {shown} not found: {model} expects the features "
                f"{feature_names[:10]}{' …' if len(feature_names) > 10 else ''}; "
                f"the data has {table.column_names[:20]}"
            )
        names = list(feature_names)
        cols = [table.column(n) for n in names]
    else:
        if table.num_columns != n_features:
            raise _n_features_error(table.num_columns, n_features, model)
        names = table.column_names
        cols = list(table.columns)
    converted = []
    for name, col in zip(names, cols):
        _check_column_type(name, col.type, model)
        if col.null_count:
            raise _null_error(name, col.null_count, model)
        if pat.is_boolean(col.type):
            warnings.warn(
                f"bool column `{name}` is bit-packed in Arrow and is copied to uint8 for {model}",
                CopyWarning,
                stacklevel=3,
            )
            col = col.cast(pa.uint8())
        converted.append(col)
    n = table.num_rows
    pieces = []
    if n:
        start = 0
        for arrays in _arrow.align_chunks(*converted):
            length = len(arrays[0])
            addrs = np.empty(len(arrays), dtype=np.int64)
            codes = np.empty(len(arrays), dtype=np.int8)
            for j, arr in enumerate(arrays):
                dt = np.dtype(arr.type.to_pandas_dtype())
                buf = arr.buffers()[1]
                if buf is None or buf.size < (arr.offset + length) * dt.itemsize:  # never read past a buffer
                    raise ShapeError(f"Column `{names[j]}` has a values buffer shorter than its length")
                addrs[j] = buf.address + arr.offset * dt.itemsize
                codes[j] = DTYPE_CODES[dt]
            pieces.append((start, length, addrs, codes))
            start += length
    return Pieces(_COLUMNS, n, pieces=pieces, columns=converted, names=names, keep=(table, converted))


def _resolve_matrix(X: np.ndarray, *, n_features: int, model: str) -> Pieces:
    if X.dtype not in DTYPE_CODES and X.dtype != np.bool_:
        raise SchemaError(f"Expected a numeric NumPy matrix for {model}, got dtype `{X.dtype}`")
    n, p = X.shape
    if p != n_features:
        raise _n_features_error(p, n_features, model)
    if X.dtype == np.bool_:
        X = X.astype(np.uint8)
    if X.flags.c_contiguous and X.dtype == _F64 and n > 1:
        return Pieces(_ROW_MAJOR, n, matrix=X, names=[f"x{j}" for j in range(p)], keep=X)
    if not X.flags.f_contiguous:
        if X.flags.c_contiguous and n > 1:
            # A C-ordered matrix of another dtype: the row kernel reads float64 only.
            warnings.warn(
                f"a C-ordered {X.dtype} matrix is converted to float64 for {model}; pass float64 "
                "(C order) or any numeric dtype in Fortran order to avoid the copy",
                CopyWarning,
                stacklevel=3,
            )
            X = np.ascontiguousarray(X, dtype=np.float64)
            return Pieces(_ROW_MAJOR, n, matrix=X, names=[f"x{j}" for j in range(p)], keep=X)
        if n > 1:
            warnings.warn(
                f"a strided {X.shape} matrix is copied to Fortran order for {model}",
                CopyWarning,
                stacklevel=3,
            )
        X = np.asfortranarray(X)
    cols = [X[:, j] for j in range(p)]
    pieces = []
    if n:
        addrs = np.array([c.ctypes.data for c in cols], dtype=np.int64)
        codes = np.full(p, DTYPE_CODES[X.dtype], dtype=np.int8)
        pieces.append((0, n, addrs, codes))
    return Pieces(_COLUMNS, n, pieces=pieces, columns=cols, names=[f"x{j}" for j in range(p)], keep=X)


def nonfinite_error(inp: Pieces, model: str) -> SchemaError | None:
    """The error for the first NaN or ±inf input value, or None when every input is finite."""
    if inp.mode == _ROW_MAJOR:
        bad = ~np.isfinite(inp.matrix)
        if not bad.any():
            return None
        rows, cols = np.nonzero(bad)
        return _nonfinite(inp.names[cols[0]], int(rows[0]), float(inp.matrix[rows[0], cols[0]]), int(bad.sum()), model)
    for name, col in zip(inp.names, inp.columns):
        if isinstance(col, np.ndarray):
            values = col
        else:
            if not (pat.is_floating(col.type)):
                continue
            values = col.to_numpy()  # float, no nulls: zero-copy per chunk (one concatenation at most)
        if values.dtype.kind != "f":
            continue
        bad = ~np.isfinite(values)
        if bad.any():
            row = int(np.argmax(bad))
            return _nonfinite(name, row, float(values[row]), int(bad.sum()), model)
    return None


def _nonfinite(name, row, value, count, model) -> SchemaError:
    more = f" (and {count - 1} more non-finite value(s))" if count > 1 else ""
    return SchemaError(
        f"Column `{name}` holds {value} at row {row}{more}; {model} does not accept NaN or ±inf "
        "(scikit-learn rejects them too): impute or clip them before predicting"
    )


# ---------------------------------------------------------------------------------------------
# Single row

def resolve_row(x: Any, *, n_features: int, feature_names: list[str] | None, model: str) -> np.ndarray:
    """One row (a dict of feature values or a 1-D vector) as a float64 vector; the slow path."""
    if isinstance(x, dict):
        names = feature_names if feature_names is not None else [f"x{j}" for j in range(n_features)]
        missing = [n for n in names if n not in x]
        if missing:
            raise ColumnNotFoundError(
                f"Feature(s) {missing[:10]} not found in the row: {model} expects {names[:10]}"
                f"{' …' if len(names) > 10 else ''}; the row has {list(x)[:20]}"
            )
        out = np.empty(n_features)
        for j, n in enumerate(names):
            v = x[n]
            if v is None:
                raise SchemaError(f"Feature `{n}` is None; {model} does not accept missing values")
            if isinstance(v, (str, bytes)) or not np.isscalar(v) and not isinstance(v, np.generic):
                raise SchemaError(f"Expected a number for feature `{n}`, got {type(v).__name__} {v!r}")
            try:
                out[j] = v
            except (TypeError, ValueError) as exc:
                raise SchemaError(f"Expected a number for feature `{n}`, got {type(v).__name__} {v!r}") from exc
        return out
    if not isinstance(x, np.ndarray):
        raise TypeError(
            f"Expected one row as a dict of feature values or a 1-D NumPy vector, got {type(x).__name__}; "
            "use predict for batches"
        )
    if x.ndim != 1:
        raise ShapeError(
            f"Expected a 1-D vector of {n_features} features, got shape {x.shape}; use predict for batches"
        )
    if x.dtype not in DTYPE_CODES and x.dtype != np.bool_:
        raise SchemaError(f"Expected a numeric vector for {model}, got dtype `{x.dtype}`")
    if x.shape[0] != n_features:
        raise _n_features_error(x.shape[0], n_features, model)
    return np.ascontiguousarray(x, dtype=np.float64)


def row_nonfinite_error(x: np.ndarray, feature_names, model: str) -> SchemaError | None:
    bad = ~np.isfinite(x)
    if not bad.any():
        return None
    j = int(np.argmax(bad))
    name = feature_names[j] if feature_names is not None else f"x{j}"
    return SchemaError(
        f"Feature `{name}` is {x[j]}; {model} does not accept NaN or ±inf "
        "(scikit-learn rejects them too): impute or clip it before predicting"
    )


def empty_output(n: int, width: int) -> np.ndarray:
    """A writable (n, width) float64 output from Arrow's memory pool: a fresh ``np.empty`` of
    tens of MB page-faults on first write (ENGINEERING notes: 155 ms vs 19 ms for 80 MB)."""
    return _arrow.empty_numeric(n * width).reshape(n, width)


# ---------------------------------------------------------------------------------------------
# Threads

#: Below this many rows a batch runs on the calling thread: starting the pool costs more.
PARALLEL_MIN_ROWS = 1 << 16


@contextlib.contextmanager
def numba_threads(n_threads: int | None):
    import numba

    if n_threads is None:
        yield
        return
    if not isinstance(n_threads, int) or isinstance(n_threads, bool) or n_threads < 1:
        raise ValueError(f"`n_threads` must be a positive integer or None, got {n_threads!r}")
    old = numba.get_num_threads()
    numba.set_num_threads(min(n_threads, numba.config.NUMBA_NUM_THREADS))
    try:
        yield
    finally:
        numba.set_num_threads(old)


def use_parallel(n_rows: int, n_threads: int | None) -> bool:
    """Whether a batch goes to the parallel kernel (``n_threads``: None = Numba's default)."""
    if n_threads is not None and (not isinstance(n_threads, int) or isinstance(n_threads, bool) or n_threads < 1):
        raise ValueError(f"`n_threads` must be a positive integer or None, got {n_threads!r}")
    if n_threads == 1:
        return False
    return n_rows >= PARALLEL_MIN_ROWS
