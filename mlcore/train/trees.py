"""Compiled tree ensembles: one array form for LightGBM, XGBoost and scikit-learn trees.

:func:`convert_tree_model` turns a fitted model into a :class:`TreeEnsemble`, which predicts with
the Numba kernels of ``kernels/tree_predict.py``: the model is passed as data, so compile time
does not grow with the model, and the batch kernel walks blocks of 128 rows tree by tree (see
TREE_INFERENCE_NOTES.md). Input columns are read in place from Arrow buffers (or from a NumPy
matrix in C or Fortran order) through a table of column addresses: no row-major copy.
"""

from __future__ import annotations

import math
import re
import threading
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.types as pat

from .. import _arrow
from ..errors import ArtifactError, ColumnNotFoundError, SchemaError, ShapeError

__all__ = ["TreeEnsemble", "convert_tree_model", "KINDS", "TASKS", "POST_TRANSFORMS"]

#: Closed list of model kinds this module saves and loads.
KINDS = ("tree_ensemble",)
TASKS = ("regression", "binary", "multiclass", "anomaly")
#: How raw sums become outputs (``post_params`` gives the constants).
POST_TRANSFORMS = ("identity", "sigmoid", "softmax", "exp", "ova_sigmoid", "average", "iforest")
SOURCES = ("lightgbm", "xgboost", "sklearn")
FORMAT_VERSION = 1

_ARRAY_DTYPES = {
    "child_base": np.uint32,
    "vcol": np.uint32,
    "thr": np.float64,
    "val": np.float64,
    "vsrc": np.int32,
    "vmode": np.int8,
    "root": np.uint32,
    "steps": np.int32,
    "tail": np.int32,
    "depth": np.int32,
    "tree_out": np.int32,
    "base": np.float64,
}

_PARALLEL_MIN_ROWS = 4096


def _kernels():
    from .._kernels import tree_predict  # noqa: PLC0415  (keeps numba out of plain imports)

    return tree_predict


class TreeEnsemble:
    """A fitted tree ensemble in mlcore's array form.

    Build one with :func:`convert_tree_model` or :meth:`from_arrays`; never by hand.

    Attributes
    ----------
    kind : str
        Always ``"tree_ensemble"``.
    source : str
        Where the model came from: ``"lightgbm"``, ``"xgboost"`` or ``"sklearn"``.
    task : str
        ``"regression"``, ``"binary"``, ``"multiclass"`` or ``"anomaly"``.
    n_features_in_ : int
    feature_names_in_ : numpy.ndarray or None
        Column names the model reads by name; None means by position.
    classes_ : numpy.ndarray or None
    n_trees : int
    """

    kind = "tree_ensemble"

    def __init__(self, manifest: dict, arrays: dict[str, np.ndarray]):
        self._manifest = manifest
        self._arrays = arrays
        self.source = manifest["source"]
        self.task = manifest["task"]
        self.post = manifest["post"]
        self.post_params = dict(manifest.get("post_params", {}))
        self.n_features_in_ = int(manifest["n_features"])
        names = manifest.get("feature_names")
        self.feature_names_in_ = None if names is None else np.asarray(names, dtype=object)
        classes = manifest.get("classes")
        self.classes_ = None if classes is None else np.asarray(classes, dtype=manifest.get("classes_dtype"))
        self.n_outputs = int(manifest["n_outputs"])
        self.n_val = int(manifest["n_val"])
        self.n_trees = int(arrays["root"].size)
        self.allow_nan = bool(manifest.get("allow_nan", True))
        self.allow_inf = bool(manifest.get("allow_inf", True))
        self._estimator = str(manifest.get("estimator", "") or self.source)
        kt = _kernels()
        self._featoff = (arrays["vcol"].astype(np.uint64) * kt.B).astype(np.uint32)
        if arrays["vsrc"].size == 0:
            # A model of leaf-only trees reads no column; keep one dummy virtual column.
            self._vsrc = np.zeros(1, dtype=np.int32)
            self._vmode = np.zeros(1, dtype=np.int8)
        else:
            self._vsrc, self._vmode = arrays["vsrc"], arrays["vmode"]
        self._used = np.unique(arrays["vsrc"]).astype(np.int64)
        self._row_local = threading.local()
        self._row_model = None

    # -- persistence -------------------------------------------------------------------------

    def to_arrays(self) -> tuple[dict, dict[str, np.ndarray]]:
        """The model as (JSON-able manifest, dict of NumPy arrays): no pickle.

        Examples
        --------
        >>> from sklearn.tree import DecisionTreeRegressor
        >>> import numpy as np
        >>> X = np.arange(20.0).reshape(10, 2); y = X[:, 0] * 2
        >>> m = convert_tree_model(DecisionTreeRegressor(max_depth=2).fit(X, y))
        >>> manifest, arrays = m.to_arrays()
        >>> TreeEnsemble.from_arrays(manifest, arrays).predict(X).shape
        (10,)
        """
        return dict(self._manifest), {k: v.copy() for k, v in self._arrays.items()}

    @classmethod
    def from_arrays(cls, manifest: dict, arrays: dict[str, np.ndarray]) -> "TreeEnsemble":
        """Rebuild a model from :meth:`to_arrays` output, validating kinds, dtypes and shapes."""
        if not isinstance(manifest, dict):
            raise ArtifactError(f"Expected a dict manifest, got {type(manifest).__name__}")
        kind = manifest.get("kind")
        if kind not in KINDS:
            raise ArtifactError(f"Unknown model kind {kind!r}; expected one of {list(KINDS)}")
        if manifest.get("format_version") != FORMAT_VERSION:
            raise ArtifactError(
                f"Unsupported tree_ensemble format_version {manifest.get('format_version')!r}; "
                f"expected {FORMAT_VERSION}"
            )
        for key, allowed in (("task", TASKS), ("post", POST_TRANSFORMS), ("source", SOURCES)):
            if manifest.get(key) not in allowed:
                raise ArtifactError(f"Manifest field {key!r} is {manifest.get(key)!r}; expected one of {list(allowed)}")
        for key in ("allow_nan", "allow_inf"):
            if not isinstance(manifest.get(key, True), bool):
                raise ArtifactError(f"Manifest field {key!r} must be true or false, got {manifest.get(key)!r}")
        for key in ("n_features", "n_outputs", "n_val"):
            v = manifest.get(key)
            if not isinstance(v, int) or isinstance(v, bool) or v < (0 if key == "n_features" else 1):
                raise ArtifactError(f"Manifest field {key!r} must be a positive integer, got {v!r}")
        missing = set(_ARRAY_DTYPES) - set(arrays)
        extra = set(arrays) - set(_ARRAY_DTYPES)
        if missing or extra:
            raise ArtifactError(f"tree_ensemble arrays: missing {sorted(missing)}, unexpected {sorted(extra)}")
        clean = {}
        for name, dt in _ARRAY_DTYPES.items():
            a = arrays[name]
            if not isinstance(a, np.ndarray) or a.dtype != np.dtype(dt) or a.ndim != 1:
                raise ArtifactError(
                    f"Array {name!r} must be 1-D {np.dtype(dt)}, got "
                    f"{getattr(a, 'dtype', type(a).__name__)} with shape {getattr(a, 'shape', None)}"
                )
            clean[name] = np.ascontiguousarray(a)
        _validate_structure(manifest, clean)
        return cls(manifest, clean)

    # -- prediction --------------------------------------------------------------------------

    def raw_score(self, X: Any, *, n_threads: int | None = None) -> np.ndarray:
        """Sum of leaf values plus the base score, shape (n_rows, n_outputs)."""
        return self._raw(X, n_threads)

    def predict(self, X: Any, *, n_threads: int | None = None) -> np.ndarray:
        """Predictions: values (regression), class labels (classifiers), -1/+1 (anomaly).

        Examples
        --------
        >>> from sklearn.ensemble import RandomForestClassifier
        >>> import numpy as np
        >>> X = np.asfortranarray(np.random.default_rng(0).normal(size=(50, 3)))
        >>> y = (X[:, 0] > 0).astype(int)
        >>> rf = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)
        >>> bool((convert_tree_model(rf).predict(X) == rf.predict(X)).all())
        True
        """
        raw = self._raw(X, n_threads)
        if self.task == "anomaly":
            dec = self._iforest_decision(raw)
            return np.where(dec < 0, -1, 1)
        if self.task == "regression":
            out = self._transform(raw)
            return out[:, 0] if out.shape[1] == 1 else out
        if self.task == "binary" and self.post_params.get("binary_rule") == 1:
            idx = (raw[:, 0] > 0).astype(np.int64)
        else:
            idx = np.argmax(self._proba(raw), axis=1)
        if self.classes_ is None:
            return idx
        return self.classes_[idx]

    def predict_proba(self, X: Any, *, n_threads: int | None = None) -> np.ndarray:
        """Class probabilities, shape (n_rows, n_classes)."""
        if self.task not in ("binary", "multiclass"):
            raise AttributeError(f"predict_proba is only available for classifiers; this model's task is {self.task!r}")
        return self._proba(self._raw(X, n_threads))

    def decision_function(self, X: Any, *, n_threads: int | None = None) -> np.ndarray:
        """The raw score as the source framework returns it (1-D for one output)."""
        if self.post == "average":
            raise AttributeError("decision_function is not available: the source model (a random "
                                 "forest or decision tree) has none; use predict_proba")
        raw = self._raw(X, n_threads)
        if self.task == "anomaly":
            return self._iforest_decision(raw)
        return raw[:, 0] if raw.shape[1] == 1 else raw

    def score_samples(self, X: Any, *, n_threads: int | None = None) -> np.ndarray:
        """IsolationForest's score_samples (the opposite of the anomaly score)."""
        if self.task != "anomaly":
            raise AttributeError("score_samples is only available for IsolationForest models")
        return self._iforest_score(self._raw(X, n_threads))

    def predict_row(self, x) -> np.ndarray:
        """Raw score of one row (shape (n_outputs,)): the latency path.

        ``x`` is a 1-D sequence of the ``n_features_in_`` feature values in model order (NaN for
        missing) or a dict from feature name to value. The call goes through a compiled C
        callback (``@cfunc`` via cffi) with per-thread buffers: no dispatcher, no allocation but
        the returned array.

        Examples
        --------
        >>> from sklearn.ensemble import RandomForestRegressor
        >>> import numpy as np
        >>> X = np.asfortranarray(np.random.default_rng(0).normal(size=(50, 3)))
        >>> m = convert_tree_model(RandomForestRegressor(n_estimators=3, random_state=0).fit(X, X[:, 0]))
        >>> bool(np.allclose(m.predict_row(X[0]), m.raw_score(X[:1])[0]))
        True
        """
        st = self._row_state()
        nf = self.n_features_in_
        if isinstance(x, dict):
            if self.feature_names_in_ is None:
                raise SchemaError("A dict row needs a model with feature names; pass a sequence in model order")
            try:
                x = [x[str(n)] for n in self.feature_names_in_]
            except KeyError as exc:
                raise ColumnNotFoundError(f"Column `{exc.args[0]}` not found in the row dict") from None
            x = np.array([np.nan if v is None else v for v in x], dtype=np.float64)
        if not (isinstance(x, np.ndarray) and x.shape == (nf,)):
            x = np.asarray(x, dtype=np.float64)
            if x.shape != (nf,):
                raise ShapeError(f"Expected one row of {nf} features, got shape {x.shape}")
        if nf:
            st.x[:] = x
        if st.fn(st.xp, st.tp, st.op) != 0:
            # The callback refused a value (NaN or inf where the source does): say which.
            used = self._used
            self._check_values(st.x[used], lambda i: self._feature_label(int(used[i])))
            raise AssertionError("the row callback refused a value that the checks accept")
        return st.out.copy()

    def _row_state(self):
        st = getattr(self._row_local, "state", None)
        if st is None:
            st = self._row_local.state = _RowState(self)
        return st

    # -- internals ---------------------------------------------------------------------------

    def _feature_label(self, f):
        if self.feature_names_in_ is not None:
            return f"column `{self.feature_names_in_[f]}`"
        return f"feature {f}"

    def _check_values(self, v, label_of):
        """Raise where the source model refuses NaN/null or infinite values (never a silent answer)."""
        if not self.allow_nan:
            bad = np.flatnonzero(np.isnan(v))
            if bad.size:
                raise SchemaError(f"Expected no missing values, got NaN - at {label_of(int(bad[0]))}; "
                                  f"{self._estimator} does not accept missing values")
        if not self.allow_inf:
            bad = np.flatnonzero(np.isinf(v))
            if bad.size:
                raise SchemaError(f"Expected finite values, got {v[bad[0]]} - at {label_of(int(bad[0]))}; "
                                  f"{self._estimator} does not accept infinite values")

    def _check_chunk(self, length, table, keep):
        ptr, stride, dtype, valid, voff = table
        for f in self._used:
            label = self._feature_label(int(f))
            if valid[f] and not self.allow_nan:
                raise SchemaError(f"Expected no missing values, got null - at {label}; "
                                  f"{self._estimator} does not accept missing values")
            col = _column_values(keep, int(f), length, table)
            if col is not None:
                self._check_values(col, lambda _f, label=label: label)

    def _transform(self, raw):
        p = self.post
        if p == "identity":
            return raw
        if p == "exp":
            return np.exp(raw)
        if p == "average":
            return raw / float(self.post_params["divisor"])
        if p in ("sigmoid", "ova_sigmoid"):
            s = float(self.post_params.get("scale", 1.0))
            return 1.0 / (1.0 + np.exp(-s * raw))
        if p == "softmax":
            m = raw.max(axis=1, keepdims=True)
            e = np.exp(raw - m)
            return e / e.sum(axis=1, keepdims=True)
        raise AssertionError(p)

    def _proba(self, raw):
        t = self._transform(raw)
        if self.task == "binary" and t.shape[1] == 1:
            return np.hstack([1.0 - t, t])
        if self.post == "ova_sigmoid":
            return t / t.sum(axis=1, keepdims=True)
        return t

    def _iforest_score(self, raw):
        denom = float(self.post_params["denominator"])
        depths = raw[:, 0]
        if denom != 0:
            scores = 2.0 ** (-(depths / denom))
        else:
            scores = np.ones_like(depths)
        return -scores

    def _iforest_decision(self, raw):
        return self._iforest_score(raw) - float(self.post_params["offset"])

    def _raw(self, X, n_threads):
        chunks, n_rows = self._columns(X)
        if not (self.allow_nan and self.allow_inf):
            for _start, length, table, keep in chunks:
                self._check_chunk(length, table, keep)
        kt = _kernels()
        a = self._arrays
        out = np.empty(n_rows * self.n_outputs, dtype=np.float64)
        if n_threads is not None and (not isinstance(n_threads, int) or n_threads < 1):
            raise ValueError(f"n_threads must be a positive integer or None, got {n_threads!r}")
        import numba  # noqa: PLC0415

        threads = numba.get_num_threads() if n_threads is None else min(n_threads, numba.config.NUMBA_NUM_THREADS)
        for start, length, table, _keep in chunks:
            if length == 0:
                continue
            args = (length, *table, self._vsrc, self._vmode, a["child_base"], self._featoff, a["thr"], a["val"],
                    self.n_val, a["root"], a["steps"], a["tail"], a["tree_out"], a["base"],
                    out[start * self.n_outputs:(start + length) * self.n_outputs])
            if threads > 1 and length >= _PARALLEL_MIN_ROWS:
                from .._kernels._jit import parallel_section  # noqa: PLC0415

                prev = numba.get_num_threads()
                numba.set_num_threads(threads)
                try:
                    with parallel_section():
                        kt.predict_parallel(*args)
                finally:
                    numba.set_num_threads(prev)
            else:
                kt.predict_serial(*args)
        return out.reshape(n_rows, self.n_outputs)

    def _columns(self, X):
        """[(row start, length, pointer table arrays, keep-alive)], n_rows."""
        nf = self.n_features_in_
        used = self._used
        if isinstance(X, np.ndarray) and X.ndim == 2:
            return _numpy_columns(X, nf, used)
        table = _arrow.as_table(X)
        n_rows = table.num_rows
        if self.feature_names_in_ is not None and all(
            table.schema.get_field_index(str(n)) >= 0 for n in self.feature_names_in_[used]
        ):
            names = [str(self.feature_names_in_[f]) for f in used]
            cols = [_arrow.get_column(table, n) for n in names]
        else:
            if self.feature_names_in_ is not None and not _is_positional_table(table, nf):
                absent = [str(n) for n in self.feature_names_in_[used] if table.schema.get_field_index(str(n)) < 0]
                raise ColumnNotFoundError(
                    f"Column `{absent[0]}` not found; the model reads columns {list(map(str, self.feature_names_in_))}"
                    f" and the data has {table.column_names[:20]}"
                )
            if table.num_columns != nf:
                raise ShapeError(f"X has {table.num_columns} features, but the model expects {nf}")
            names = [table.column_names[f] for f in used]
            cols = [table.column(int(f)) for f in used]
        for name, col in zip(names, cols):
            if _arrow.type_kind(col.type) not in ("numeric", "bool") and not pat.is_null(col.type):
                raise SchemaError(
                    f"Expected a numeric column (int, uint, float or bool), got `{col.type}` - at column `{name}`; "
                    "encode categories as integer codes"
                )
        out = []
        if not cols:
            ptr = np.zeros(max(nf, 1), dtype=np.int64)
            z = np.zeros(max(nf, 1), dtype=np.int64)
            table_arrays = (ptr, z.copy(), np.zeros(max(nf, 1), dtype=np.int8), z.copy(), z.copy())
            # Leaf-only trees read nothing: give the dummy column a real (one-element) buffer.
            dummy = np.zeros(1, dtype=np.float64)
            ptr[:] = dummy.ctypes.data
            return [(0, n_rows, table_arrays, dummy)], n_rows
        start = 0
        for pieces in _arrow.align_chunks(*cols):
            length = len(pieces[0])
            ptr = np.zeros(nf, dtype=np.int64)
            stride = np.ones(nf, dtype=np.int64)
            dtype = np.zeros(nf, dtype=np.int8)
            valid = np.zeros(nf, dtype=np.int64)
            voff = np.zeros(nf, dtype=np.int64)
            keep = []
            for f, arr in zip(used, pieces):
                if pat.is_null(arr.type):
                    arr = pa.nulls(length, pa.float64())
                    arr = pa.array(np.full(length, np.nan))
                elif not (pat.is_float64(arr.type) or pat.is_float32(arr.type)):
                    arr = pc.cast(arr, pa.float64())  # a copy of this column only
                view = _arrow.chunk_view(arr, accept=("numeric",))
                keep.append((int(f), view))
                if length:
                    ptr[f] = view.values.ctypes.data + view.offset * view.values.itemsize
                dtype[f] = 0 if view.values.dtype == np.float64 else 1
                if view.has_nulls:
                    valid[f] = view.validity.ctypes.data
                    voff[f] = view.offset
            out.append((start, length, (ptr, stride, dtype, valid, voff), keep))
            start += length
        return out, n_rows


class _RowState:
    """One thread's buffers and pointer table for the single-row C callback."""

    def __init__(self, model: TreeEnsemble):
        import cffi  # noqa: PLC0415

        from .._kernels import tree_row  # noqa: PLC0415  (compiles or loads the callback)

        a = model._arrays
        if model._row_model is None:
            model._row_model = tree_row.build_row_model(a["root"], a["steps"])
        rm = model._row_model
        self.x = np.zeros(max(model.n_features_in_, 1), dtype=np.float64)
        self.out = np.zeros(model.n_outputs, dtype=np.float64)
        self.nodes = np.zeros(max(model.n_trees, 1), dtype=np.uint32)
        self.vbuf = np.zeros(max(model._vsrc.size, 1), dtype=np.float64)
        self.pending = np.zeros(max(model.n_trees, 1), dtype=np.int32)
        self.keep = (a, rm, model._vsrc, model._vmode)
        table = np.zeros(tree_row.TABLE_SIZE, dtype=np.int64)
        table[:5] = (model.n_trees, model._vsrc.size, model.n_val, model.n_outputs, rm["max_depth"])
        table[19] = (0 if model.allow_nan else 1) | (0 if model.allow_inf else 2)
        table[5:19] = [arr.ctypes.data for arr in (
            a["child_base"], a["vcol"], a["thr"], a["val"], model._vsrc, model._vmode, rm["sorted_root"],
            rm["order"], rm["active"], a["tree_out"], a["base"], self.nodes, self.vbuf, self.pending)]
        self.table = table
        ffi = cffi.FFI()
        self.fn = ffi.cast("int64_t(*)(double *, int64_t *, double *)", tree_row.predict_row_cfunc.address)
        self.xp = ffi.cast("double *", self.x.ctypes.data)
        self.tp = ffi.cast("int64_t *", table.ctypes.data)
        self.op = ffi.cast("double *", self.out.ctypes.data)


def _column_values(keep, f, length, table):
    """A NumPy view of source feature ``f``'s values in one chunk (for the value checks)."""
    if isinstance(keep, np.ndarray):  # a 2-D NumPy matrix
        return keep[:, f]
    if isinstance(keep, tuple):
        return keep[0][:, f]
    for g, view in keep:
        if g == f:
            return view.values[view.offset:view.offset + length]
    return None


def _is_positional_table(table, nf):
    return table.num_columns == nf and all(re.fullmatch(r"x\d+", c) for c in table.column_names)


def _numpy_columns(X, nf, used):
    if X.shape[1] != nf:
        raise ShapeError(f"X has {X.shape[1]} features, but the model expects {nf}")
    if X.dtype not in (np.float64, np.float32):
        if X.dtype == object or not (np.issubdtype(X.dtype, np.number) or X.dtype == bool):
            raise SchemaError(f"Expected a numeric NumPy matrix, got dtype `{X.dtype}`")
        X = X.astype(np.float64)
    if not (X.flags.c_contiguous or X.flags.f_contiguous):
        X = np.ascontiguousarray(X)
    n = X.shape[0]
    ptr = np.zeros(max(nf, 1), dtype=np.int64)
    stride = np.ones(max(nf, 1), dtype=np.int64)
    dtype = np.full(max(nf, 1), 0 if X.dtype == np.float64 else 1, dtype=np.int8)
    item = X.itemsize
    base = X.ctypes.data
    if n:
        if X.flags.c_contiguous:
            ptr[:nf] = base + np.arange(nf, dtype=np.int64) * item
            stride[:] = nf
        else:
            ptr[:nf] = base + np.arange(nf, dtype=np.int64) * item * n
    zero = np.zeros(max(nf, 1), dtype=np.int64)
    if nf == 0 and n:
        dummy = np.zeros(n, dtype=np.float64)
        ptr[0] = dummy.ctypes.data
        X = (X, dummy)
    return [(0, n, (ptr, stride, dtype, zero, zero.copy()), X)], n


def _validate_structure(manifest, a):
    n_nodes = a["child_base"].size
    if a["vcol"].size != n_nodes or a["thr"].size != n_nodes:
        raise ArtifactError("Arrays child_base, vcol and thr must have one entry per node")
    n_val, n_out, nf = manifest["n_val"], manifest["n_outputs"], manifest["n_features"]
    if a["val"].size != n_nodes * n_val:
        raise ArtifactError(f"Array 'val' has {a['val'].size} values; expected n_nodes * n_val = {n_nodes * n_val}")
    if a["base"].size != n_out:
        raise ArtifactError(f"Array 'base' has {a['base'].size} values; expected n_outputs = {n_out}")
    if n_nodes and int(a["child_base"].max()) >= n_nodes:
        raise ArtifactError("Array 'child_base' points past the last node")
    n_v = a["vsrc"].size
    if a["vmode"].size != n_v:
        raise ArtifactError("Arrays vsrc and vmode must have the same length")
    if n_v and (int(a["vsrc"].min()) < 0 or int(a["vsrc"].max()) >= nf):
        raise ArtifactError(f"Array 'vsrc' refers to a feature outside [0, {nf})")
    from .tree_layout import N_MODES  # noqa: PLC0415

    if n_v and (int(a["vmode"].min()) < 0 or int(a["vmode"].max()) >= N_MODES):
        raise ArtifactError("Array 'vmode' holds an unknown missing-value mode")
    if n_nodes and int(a["vcol"].max()) >= max(n_v, 1):
        raise ArtifactError("Array 'vcol' refers to a virtual column that does not exist")
    n_t = a["root"].size
    for name in ("steps", "tail", "depth", "tree_out"):
        if a[name].size != n_t:
            raise ArtifactError(f"Array {name!r} must have one entry per tree ({n_t})")
    if n_t:
        if int(a["root"].max()) >= n_nodes:
            raise ArtifactError("Array 'root' points past the last node")
        if int(a["steps"].min()) < 0 or int(a["tail"].min()) < 0 or int(a["depth"].min()) < 0:
            raise ArtifactError("Step counts must be non-negative")
        if int(a["tree_out"].min()) < 0 or int(a["tree_out"].max()) + n_val > n_out:
            raise ArtifactError("Array 'tree_out' refers to an output column that does not exist")
    # Thresholds: absorbing nodes hold +inf; NaN would make a row wander.
    if np.isnan(a["thr"]).any():
        raise ArtifactError("Array 'thr' holds NaN")


def make_model(*, source, task, post, trees, n_val, n_outputs, n_features, base, feature_names=None,
               classes=None, post_params=None, allow_nan=True, allow_inf=True, estimator="") -> TreeEnsemble:
    """Build a :class:`TreeEnsemble` from canonical trees (used by the converters)."""
    from .tree_layout import build_arrays  # noqa: PLC0415

    arrays = build_arrays(trees, n_val)
    arrays["base"] = np.asarray(base, dtype=np.float64).reshape(-1)
    manifest = {
        "kind": "tree_ensemble",
        "format_version": FORMAT_VERSION,
        "source": source,
        "task": task,
        "post": post,
        "post_params": dict(post_params or {}),
        "n_features": int(n_features),
        "feature_names": None if feature_names is None else [str(n) for n in feature_names],
        "classes": None if classes is None else np.asarray(classes).tolist(),
        "classes_dtype": None if classes is None else np.asarray(classes).dtype.str,
        "n_outputs": int(n_outputs),
        "n_val": int(n_val),
        "allow_nan": bool(allow_nan),
        "allow_inf": bool(allow_inf),
        "estimator": str(estimator),
    }
    for k, v in manifest["post_params"].items():
        if not isinstance(v, (int, float)) or (isinstance(v, float) and not math.isfinite(v)):
            raise ValueError(f"post_params[{k!r}] must be a finite number, got {v!r}")
    return TreeEnsemble.from_arrays(manifest, arrays)


def convert_tree_model(model: Any) -> TreeEnsemble:
    """Convert a fitted tree model to a :class:`TreeEnsemble`.

    Supported: LightGBM ``Booster`` / ``LGBMModel``, XGBoost ``Booster`` / ``XGBModel``,
    scikit-learn ``DecisionTree*``, ``RandomForest*``, ``ExtraTrees*``, ``GradientBoosting*``,
    ``HistGradientBoosting*`` and ``IsolationForest``.

    Raises
    ------
    TypeError
        For any other model; ValueError for an option the converter does not handle.

    Examples
    --------
    >>> from sklearn.ensemble import GradientBoostingRegressor
    >>> import numpy as np
    >>> X = np.asfortranarray(np.random.default_rng(0).normal(size=(100, 4)))
    >>> gb = GradientBoostingRegressor(n_estimators=10).fit(X, X[:, 0])
    >>> bool(np.allclose(convert_tree_model(gb).predict(X), gb.predict(X)))
    True
    """
    mod = type(model).__module__ or ""
    if mod.startswith("lightgbm"):
        from .convert_lightgbm import convert_lightgbm  # noqa: PLC0415

        return convert_lightgbm(model)
    if mod.startswith("xgboost"):
        from .convert_xgboost import convert_xgboost  # noqa: PLC0415

        return convert_xgboost(model)
    if mod.startswith("sklearn"):
        from .convert_sklearn_trees import convert_sklearn  # noqa: PLC0415

        return convert_sklearn(model)
    raise TypeError(
        f"convert_tree_model does not support {mod}.{type(model).__qualname__}; expected a LightGBM or "
        "XGBoost booster/model or a scikit-learn tree ensemble"
    )
