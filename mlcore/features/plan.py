"""The feature plan: which fitted transform applies to which columns, saved as JSON + arrays.

A :class:`FeaturePlan` is scikit-learn's ColumnTransformer for Arrow tables: each step is a
transform over named input columns; their outputs are placed side by side. Dense outputs come
first (in step order) as one float64 matrix held in a single Arrow buffer, column-major, so the
Arrow table and the NumPy view (:func:`as_matrix`) share memory; sparse (text) outputs follow.
With a text step the output is one :class:`CSRMatrix`; without, a ``pyarrow.Table``.

For the fused predictor (compiled models): every step's fitted state is ``step.state()`` (JSON +
named NumPy arrays) and its per-row computation is a kernel over Arrow buffers in
``mlcore._kernels.feat_numeric`` (``center_scale``, ``affine``, ``power``, ``bin_index``,
``log_shift``, ``missing_mask``, ``combine``), ``feat_strings`` (``lookup`` + ``remap``/``one_hot``
for every categorical encoder: category bytes, offsets and a hash table are the state),
``feat_time.time_parts`` and ``feat_text.vectorize``.

Saved form (``save(path)``: a folder): ``plan.json`` (format, version, the input schema, each step's
kind, options and JSON state, the SHA-256 of the arrays file) and ``arrays.npz`` (plain numeric
arrays, read with ``allow_pickle=False``). Loading accepts only the kinds in :data:`KINDS`.
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import io
import json
import os
from typing import Any

import numba
import numpy as np
import pyarrow as pa

from .. import _arrow
from .._kernels import feat_text as kt
from .._version import __version__
from ..errors import ArtifactError, CopyWarning, NotFittedError, SchemaError
from ._base import Transform, matrix_table, new_matrix
from .binning import KBinsDiscretizer
from .combine import Combine
from .encoders import CategoryCross, FrequencyEncoder, OneHotEncoder, OrdinalEncoder
from .missing import MissingIndicator
from .power import LogTransformer, PowerTransformer
from .scalers import MinMaxScaler, Passthrough, RobustScaler, StandardScaler
from .selection import CorrelationFilter, MutualInfoSelector, VarianceThreshold
from .sparse import CSRMatrix
from .target import TargetEncoder
from .temporal import DateTimeParts
from .text import CountVectorizer, HashingVectorizer, TfidfVectorizer, _LazyNames

__all__ = ["FeaturePlan", "KINDS", "as_matrix"]

#: The closed list of transform kinds a saved plan may name.
KINDS: dict[str, type[Transform]] = {cls.kind: cls for cls in (
    StandardScaler, MinMaxScaler, RobustScaler, Passthrough, LogTransformer, PowerTransformer,
    KBinsDiscretizer, OneHotEncoder, OrdinalEncoder, FrequencyEncoder, TargetEncoder,
    MissingIndicator, DateTimeParts, Combine, CategoryCross, VarianceThreshold, CorrelationFilter,
    MutualInfoSelector, HashingVectorizer, CountVectorizer, TfidfVectorizer,
)}

FORMAT = "mlcore.feature_plan"
VERSION = 1


def as_matrix(table: pa.Table) -> np.ndarray:
    """The (n_rows, n_features) float64 NumPy view of a dense plan output, without a copy.

    The view is Fortran-ordered (one contiguous column per feature) and read-only. A table whose
    columns are not consecutive slices of one buffer (not made by a plan) is copied, with a
    :class:`~mlcore.errors.CopyWarning`.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from mlcore.features import FeaturePlan, StandardScaler, as_matrix
    >>> out = FeaturePlan([StandardScaler(["a", "b"])]).fit_transform(pa.table({"a": [1.0, 3.0], "b": [0.0, 2.0]}))
    >>> as_matrix(out).tolist()
    [[-1.0, -1.0], [1.0, 1.0]]
    """
    import warnings

    n, f = table.num_rows, table.num_columns
    if f == 0 or n == 0:
        return np.zeros((n, f), order="F")
    chunks = [c.chunks for c in table.columns]
    ok = all(len(c) == 1 and c[0].type == pa.float64() and c[0].null_count == 0 and c[0].offset == 0
             for c in chunks)
    if ok:
        addrs = [c[0].buffers()[1].address for c in chunks]
        ok = all(addrs[k] == addrs[0] + 8 * n * k for k in range(f))
    if ok:
        buf = chunks[0][0].buffers()[1]
        base = pa.foreign_buffer(buf.address, 8 * n * f, base=table)
        flat = np.frombuffer(base, dtype=np.float64, count=n * f)
        return flat.reshape(f, n).T
    warnings.warn("the table's columns are not one contiguous buffer; copying them into a matrix",
                  CopyWarning, stacklevel=2)
    return np.asfortranarray(np.column_stack([c.to_numpy() for c in table.columns]))


class _ChainedNames(list):
    """Concatenated name segments, some lazy, without building every name."""

    def __init__(self, segments):
        super().__init__()
        self._segments = segments
        self._n = sum(len(s) for s in segments)

    def __len__(self):
        return self._n

    def __iter__(self):
        for seg in self._segments:
            yield from seg

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(self._n)[i]]
        if not -self._n <= i < self._n:
            raise IndexError(i)
        i %= self._n
        for seg in self._segments:
            if i < len(seg):
                return seg[i]
            i -= len(seg)
        raise IndexError(i)

    def __eq__(self, other):
        return len(self) == len(other) and all(a == b for a, b in zip(self, other))

    def __repr__(self):
        return f"[{self[0]!r}, …, {self[-1]!r}] ({self._n} names)"


def _steps(steps) -> list[Transform]:
    out = []
    for s in steps:
        if isinstance(s, Transform):
            out.append(s)
        elif isinstance(s, tuple) and len(s) == 2 and isinstance(s[0], Transform):
            t, cols = s
            params = t.get_params()
            params["columns"] = [cols] if isinstance(cols, str) else list(cols)
            out.append(type(t)(**params))
        else:
            raise TypeError(f"FeaturePlan steps must be transforms or (transform, columns) pairs, got {s!r}")
    if not out:
        raise ValueError("FeaturePlan needs at least one step, got []")
    return out


def _kind_of(t: pa.DataType) -> str:
    k = _arrow.type_kind(t)
    if k == "bool":
        return "numeric"
    if k == "dictionary":
        return "string"
    return k or str(t)


def _kind_of_str(t: str) -> str:
    try:
        return _kind_of(pa.type_for_alias(t))
    except ValueError:
        pass
    for prefix, kind in (("timestamp", "temporal"), ("date", "temporal"), ("time", "temporal"),
                         ("duration", "temporal"), ("dictionary", "string")):
        if t.startswith(prefix):
            return kind
    return t


class FeaturePlan:
    """Fitted transforms over named columns, with one output matrix (scikit-learn's ColumnTransformer).

    Parameters
    ----------
    steps : list
        Transforms (built with their ``columns``), or ``(transform, columns)`` pairs.
    n_threads : int, optional, keyword-only
        Threads that run steps (and text blocks) at once; default Numba's thread count.
    verbose_feature_names : bool, keyword-only
        Prefix every output name with ``<step number>_<kind>__`` (scikit-learn's
        ``verbose_feature_names_out``). Without it, two steps that output the same name are an
        error at fit.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from mlcore.features import FeaturePlan, StandardScaler, OneHotEncoder
    >>> t = pa.table({"x": [1.0, 2.0, 3.0], "c": ["a", "b", "a"]})
    >>> plan = FeaturePlan([StandardScaler(["x"]), OneHotEncoder(["c"], handle_unknown="ignore")])
    >>> plan.fit(t).feature_names_out_
    ['x', 'c_a', 'c_b']
    >>> plan.transform(t).column("c_b").to_pylist()
    [0.0, 1.0, 0.0]
    """

    def __init__(self, steps, *, n_threads: int | None = None, verbose_feature_names: bool = False):
        self.steps = _steps(steps)
        self.n_threads = n_threads
        self.verbose_feature_names = bool(verbose_feature_names)

    # -- fitting and transforming ------------------------------------------------------------------
    @property
    def is_fitted(self) -> bool:
        return all(s.is_fitted for s in self.steps) and hasattr(self, "input_schema_")

    def _threads(self) -> int:
        return max(1, self.n_threads or numba.get_num_threads())

    def fit(self, data: Any, y: Any = None) -> "FeaturePlan":
        """Fit every step on ``data`` (``y`` goes to the steps that use a target). Returns self."""
        table = _arrow.as_table(data)
        self._record_schema(table)
        def fit_step(s):
            s.fit(table, y if s.needs_target else None)

        if len(self.steps) > 1 and self._threads() > 1:
            with cf.ThreadPoolExecutor(min(len(self.steps), self._threads())) as ex:
                list(ex.map(fit_step, self.steps))  # kernels release the GIL
        else:
            for s in self.steps:
                fit_step(s)
        # hashed blocks are named <prefix><j> and not listed: check the listed names
        names = [n for seg in self._name_segments() if not isinstance(seg, _LazyNames) for n in seg]
        if len(set(names)) != len(names):
            seen, dup = set(), []
            for n in names:
                if n in seen and n not in dup:
                    dup.append(n)
                seen.add(n)
            raise ValueError(
                f"FeaturePlan: output feature names {dup} come from more than one step; rename the "
                "inputs or build the plan with verbose_feature_names=True"
            )
        return self

    def fit_transform(self, data: Any, y: Any = None):
        """Fit, then transform the same rows; target encoders give cross-fitted values here."""
        table = _arrow.as_table(data)
        self.fit(table, y)
        return self._transform(table, y_crossfit=y)

    def transform(self, data: Any):
        """Output features: a float64 ``pyarrow.Table`` (dense plans) or a :class:`CSRMatrix`."""
        return self._transform(_arrow.as_table(data))

    def transform_parts(self, data: Any) -> tuple[pa.Table, list[CSRMatrix]]:
        """(dense table, one CSRMatrix per sparse step), before they are stacked."""
        self._check_fitted()
        table = _arrow.as_table(data)
        self._check_schema(table)
        return self._dense(table, None), [s.transform(table) for s in self.steps if s.sparse]

    def _record_schema(self, table):
        schema = {}
        for s in self.steps:
            for c in s.columns:
                schema[c] = str(_arrow.get_column(table, c).type)
        self.input_schema_ = schema

    def _check_fitted(self):
        if not self.is_fitted:
            raise NotFittedError("This FeaturePlan is not fitted yet; call fit(table) first")

    def _check_schema(self, table):
        for c, t in self.input_schema_.items():
            got = _arrow.get_column(table, c).type
            if _kind_of(got) != _kind_of_str(t):
                raise SchemaError(f"Expected a `{t}`-like column as at fit, got `{got}` - at column `{c}`")

    def _dense(self, table, y_crossfit):
        dense = [s for s in self.steps if not s.sparse]
        widths = [s.n_features_out_ for s in dense]
        starts = np.cumsum([0] + widths)
        mat = new_matrix(int(starts[-1]), table.num_rows)

        def run(i):
            s = dense[i]
            if y_crossfit is not None and isinstance(s, TargetEncoder):
                s.write_crossfit(table, y_crossfit, mat, int(starts[i]))
            else:
                s.write(table, mat, int(starts[i]))

        if table.num_rows:
            if len(dense) > 1 and self._threads() > 1:
                with cf.ThreadPoolExecutor(min(len(dense), self._threads())) as ex:
                    list(ex.map(run, range(len(dense))))
            else:
                for i in range(len(dense)):
                    run(i)
        names = []
        for seg in self._name_segments()[:len(dense)]:
            names.extend(seg)
        return matrix_table(mat, names)

    def _transform(self, table, y_crossfit=None):
        self._check_fitted()
        self._check_schema(table)
        dense = self._dense(table, y_crossfit)
        sparse_steps = [s for s in self.steps if s.sparse]
        if not sparse_steps:
            return dense
        n = table.num_rows
        mats = [s.transform(table) for s in sparse_steps]
        return self._stack(dense, mats, n)

    def _stack(self, dense: pa.Table, mats: list[CSRMatrix], n: int) -> CSRMatrix:
        """One CSR: the dense features (zeros not stored), then each sparse block; every entry is
        written once, at its final place."""
        d = dense.num_columns
        dm = as_matrix(dense).T if d and n else np.zeros((0, n))
        counts = np.zeros(n + 1, np.int64)
        if d:
            kt.dense_row_counts(n, dm, counts[1:])
        blocks = [m.buffers() for m in mats]
        for ip, _, _ in blocks:
            counts[1:] += np.diff(ip)
        indptr = np.cumsum(counts)
        nnz = int(indptr[-1])
        itype = np.int32 if nnz < 2**31 - 1 and d + sum(m.shape[1] for m in mats) < 2**31 - 1 else np.int64
        indices = _arrow.empty_numeric(nnz, itype)
        values = _arrow.empty_numeric(nnz, np.float64)
        cursor = indptr[:-1].copy()
        if d:
            kt.place_dense(n, dm, cursor, indices, values)
        col0 = d
        for (ip, ix, dv), m in zip(blocks, mats):
            kt.place_block(n, ip, ix, dv, col0, cursor, indices, values)
            col0 += m.shape[1]
        return CSRMatrix(pa.array(indptr.astype(itype)), _arrow.wrap_numeric(indices), _arrow.wrap_numeric(values),
                         (n, col0), feature_names=self.feature_names_out_)

    # -- description ---------------------------------------------------------------------------
    @property
    def feature_names_out_(self) -> list[str]:
        """Output feature names: dense steps first, then sparse ones, each in step order."""
        segments = self._name_segments()
        if all(isinstance(seg, list) and not isinstance(seg, _LazyNames) for seg in segments):
            return [n for seg in segments for n in seg]
        return _ChainedNames(segments)

    def _name_segments(self) -> list:
        """Output names per step, dense steps first; big hashed blocks stay lazy."""
        if not all(s.is_fitted for s in self.steps):
            raise NotFittedError("This FeaturePlan is not fitted yet; call fit(table) first")
        segments = []
        for dense_pass in (True, False):
            for i, s in enumerate(self.steps, 1):
                if s.sparse == dense_pass:
                    continue
                names = s.feature_names_out_
                if self.verbose_feature_names:
                    names = _LazyNames(f"{i}_{s.kind}__{names._prefix}", len(names)) if isinstance(names, _LazyNames) \
                        else [f"{i}_{s.kind}__{n}" for n in names]
                segments.append(names)
        return segments

    @property
    def n_features_out_(self) -> int:
        self._check_fitted()
        return sum(s.n_features_out_ for s in self.steps)

    def describe(self) -> str:
        """A readable description: each step, its columns, options and fitted state; the output."""
        lines = [f"FeaturePlan with {len(self.steps)} step(s)"]
        for i, s in enumerate(self.steps, 1):
            lines.append(f"  {i}. {s.describe()}")
        if self.is_fitted:
            d = sum(s.n_features_out_ for s in self.steps if not s.sparse)
            sp = self.n_features_out_ - d
            lines.append(f"  output: {self.n_features_out_} features ({d} dense" + (f", {sp} sparse)" if sp else ")"))
            lines.append("  inputs: " + ", ".join(f"{c}: {t}" for c, t in self.input_schema_.items()))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.describe()

    # -- persistence -----------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> None:
        """Write ``plan.json`` and ``arrays.npz`` into the folder ``path`` (created if needed)."""
        self._check_fitted()
        os.makedirs(path, exist_ok=True)
        arrays: dict[str, np.ndarray] = {}
        steps = []
        for i, s in enumerate(self.steps):
            meta, arrs = s.state()
            for k, a in arrs.items():
                arrays[f"{i}/{k}"] = a
            steps.append({"kind": s.kind, "params": s.get_params(), "state": meta, "arrays": sorted(arrs)})
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        raw = buf.getvalue()
        manifest = {
            "format": FORMAT, "version": VERSION, "mlcore_version": __version__,
            "input_schema": self.input_schema_, "steps": steps,
            "options": {"verbose_feature_names": self.verbose_feature_names},
            "arrays_file": "arrays.npz", "arrays_sha256": hashlib.sha256(raw).hexdigest(),
        }
        with open(os.path.join(path, "arrays.npz"), "wb") as f:
            f.write(raw)
        with open(os.path.join(path, "plan.json"), "w", encoding="utf-8") as f:
            json.dump(manifest, f, indent=1, allow_nan=True)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "FeaturePlan":
        """Read a plan written by :meth:`save`; data only (no pickle, closed list of kinds).

        Raises :class:`~mlcore.errors.ArtifactError` for an unknown format, version or kind, a
        changed arrays file (SHA-256) or an array that is not plain numeric data.
        """
        try:
            with open(os.path.join(path, "plan.json"), encoding="utf-8") as f:
                manifest = json.load(f)
        except (OSError, ValueError) as exc:
            raise ArtifactError(f"cannot read a feature plan at {os.fspath(path)!r}: {exc}") from exc
        if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
            raise ArtifactError(
                f"not a feature plan of a known version: format {manifest.get('format')!r}, version "
                f"{manifest.get('version')!r}; expected {FORMAT!r} version {VERSION}"
            )
        with open(os.path.join(path, "arrays.npz"), "rb") as f:
            raw = f.read()
        digest = hashlib.sha256(raw).hexdigest()
        if digest != manifest.get("arrays_sha256"):
            raise ArtifactError(
                f"arrays.npz of the feature plan at {os.fspath(path)!r} has SHA-256 {digest}, expected "
                f"{manifest.get('arrays_sha256')}: the file changed since it was saved"
            )
        try:
            with np.load(io.BytesIO(raw), allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
        except ValueError as exc:
            raise ArtifactError(f"arrays.npz holds something other than plain arrays: {exc}") from exc
        for k, a in arrays.items():
            if a.dtype.kind not in "biuf":
                raise ArtifactError(f"array {k!r} has dtype {a.dtype}; a plan holds numeric arrays only")
        steps = []
        for i, st in enumerate(manifest.get("steps", [])):
            kind = st.get("kind")
            if kind not in KINDS:
                raise ArtifactError(f"step {i} has unknown kind {kind!r}; known kinds: {sorted(KINDS)}")
            mine = {k: arrays[f"{i}/{k}"] for k in st.get("arrays", []) if f"{i}/{k}" in arrays}
            if len(mine) != len(st.get("arrays", [])):
                raise ArtifactError(f"step {i} ({kind}) misses arrays in arrays.npz")
            try:
                steps.append(KINDS[kind].from_state(st["params"], st["state"], mine))
            except (TypeError, KeyError, ValueError) as exc:
                raise ArtifactError(f"step {i} ({kind}) cannot be rebuilt from its saved state: {exc}") from exc
        opts = manifest.get("options", {})
        plan = cls(steps, verbose_feature_names=bool(opts.get("verbose_feature_names", False)))
        plan.input_schema_ = dict(manifest["input_schema"])
        return plan

