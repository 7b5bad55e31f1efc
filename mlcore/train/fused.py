"""The fused predictor: a fitted feature plan and a compiled model as one predictor.

:func:`compile_predictor` turns ``(plan, model)`` into a :class:`FusedPredictor` that reads the raw
input columns (Arrow, or anything ``mlcore._arrow`` accepts) and returns predictions, computing
only the plan outputs the model uses (a tree ensemble: the features with at least one split; a
linear model: the features with a nonzero weight) in one pass over row blocks, without an
intermediate feature matrix. The per-row computations of the plan's transforms become a program
of ops passed to the kernels of ``kernels/fused_predict.py`` as data: nothing compiles per plan or
per model. A scaler in front of a linear model folds into its weights.

Steps the program does not express (a dense :class:`~mlcore.features.CategoryCross`) are
computed by the plan's own transform, for that step only and only when one of its outputs is
used; :meth:`FusedPredictor.explain` lists them. Sparse outputs (text vectorizers,
``OneHotEncoder(sparse_output=True)``) that the model uses are refused with an error naming the step.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import threading
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.types as pat

from .. import _arrow
from .._version import __version__
from ..errors import ArtifactError, ColumnNotFoundError, NotFittedError, SchemaError, ShapeError
from . import _common

__all__ = ["FusedPredictor", "compile_predictor"]

FORMAT = "mlcore.fused_predictor"
VERSION = 1

_NUMERIC_KINDS = {"standard_scaler", "min_max_scaler", "robust_scaler", "passthrough", "log", "power", "kbins",
                  "variance_threshold", "correlation_filter", "mutual_info"}
_CODE_KINDS = {"ordinal", "frequency", "target", "one_hot"}
_TICKS = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}
_UTC = {"UTC", "utc", "Etc/UTC", "+00:00", "Z", "GMT"}


def _kernels():
    from .._kernels import fused_predict  # noqa: PLC0415  (keeps numba out of plain imports)

    return fused_predict


class _Program:
    """Builds the op program, the input list and the slot numbering for one (plan, model)."""

    def __init__(self):
        self.inputs: list[tuple[str, str]] = []   # (column, role): numeric / string / temporal / any
        self._input_ix: dict[tuple[str, str], int] = {}
        self.ops_i: list[list[int]] = []
        self.ops_f: list[list[float]] = []
        self.aux_f: list[np.ndarray] = []
        self.aux_i: list[np.ndarray] = []
        self._aux_f_len = 0
        self._aux_i_len = 0
        self.cats: list = []                       # CategorySet per cat set
        self.code_ops: list[dict] = []             # per code slot: step, k, column, owner, flags, lookup
        self._code_ix: dict[tuple[int, int], int] = {}
        self.slot_feature: list[int] = []          # plan output index of each slot
        self.fold: dict[int, tuple[float, float]] = {}  # slot -> (scale, shift) of a foldable op
        self.fallback: dict[int, list[int]] = {}   # step index -> its local outputs that are used
        self.notes: list[str] = []

    def input(self, name: str, role: str) -> int:
        key = (name, role)
        if key not in self._input_ix:
            self._input_ix[key] = len(self.inputs)
            self.inputs.append(key)
        return self._input_ix[key]

    def _aux_f(self, a) -> tuple[int, int]:
        a = np.ascontiguousarray(a, dtype=np.float64)
        start = self._aux_f_len
        self.aux_f.append(a)
        self._aux_f_len += a.size
        return start, a.size

    def _aux_i(self, a) -> tuple[int, int]:
        a = np.ascontiguousarray(a, dtype=np.int64)
        start = self._aux_i_len
        self.aux_i.append(a)
        self._aux_i_len += a.size
        return start, a.size

    def op(self, code, feature, *, inp=0, inp2=0, aux=(0, 0), e1=0, e2=0, f=(0.0, 0.0, 0.0, 0.0)):
        slot = len(self.slot_feature)
        self.slot_feature.append(feature)
        self.ops_i.append([code, inp, inp2, slot, aux[0], aux[1], e1, e2])
        self.ops_f.append([float(x) for x in f])
        return slot

    def code(self, step, si: int, k: int, column: str, flags: int, owner: str) -> int:
        """The code slot of categorical input ``k`` of step ``si`` (one CODE op per (step, column))."""
        key = (si, k)
        if key in self._code_ix:
            return self._code_ix[key]
        kn = _kernels()
        cs = len(self.code_ops)
        cats = step._cats[k]
        self.cats.append(cats)
        inp = self.input(column, "string")
        self.ops_i.append([kn.OP_CODE, inp, 0, cs, len(self.cats) - 1, 0, flags, 0])
        self.ops_f.append([0.0] * 4)
        vtype = step.value_types_[k]
        self.code_ops.append({"step": step, "k": k, "column": column, "owner": owner, "flags": flags,
                              "lookup": {lab: i for i, lab in enumerate(cats.labels())}, "vtype": vtype,
                              "null_ok": not (flags & 2)})
        self._code_ix[key] = cs
        return cs

    def arrays(self):
        kn = _kernels()
        # CODE ops run first: the ops that read a code slot come after it whatever the plan order.
        order = sorted(range(len(self.ops_i)), key=lambda o: self.ops_i[o][0] != kn.OP_CODE)
        prog_i = np.array([self.ops_i[o] for o in order], dtype=np.int64).reshape(-1, kn.PROG_WORDS)
        prog_f = np.array([self.ops_f[o] for o in order], dtype=np.float64).reshape(-1, 4)
        aux_f = np.concatenate(self.aux_f) if self.aux_f else np.zeros(1)
        aux_i = np.concatenate(self.aux_i) if self.aux_i else np.zeros(1, np.int64)
        cats_i = np.zeros((max(len(self.cats), 1), 6), dtype=np.int64)
        offs, datas, slots = [], [], []
        o_len = d_len = s_len = 0
        for c, cs in enumerate(self.cats):
            cats_i[c] = (o_len, len(cs), d_len, cs.cat_data.size, s_len, cs.slots.size)
            offs.append(cs.cat_offsets)
            datas.append(cs.cat_data)
            slots.append(cs.slots)
            o_len += cs.cat_offsets.size
            d_len += cs.cat_data.size
            s_len += cs.slots.size
        cat_off = np.concatenate(offs).astype(np.int64) if offs else np.zeros(1, np.int64)
        cat_data = np.concatenate(datas).astype(np.uint8) if datas and d_len else np.zeros(1, np.uint8)
        cat_slots = np.concatenate(slots).astype(np.int32) if slots else np.full(1, -1, np.int32)
        return (prog_i, prog_f, aux_f, aux_i, cats_i, cat_off, cat_data, cat_slots)


def _feature_map(plan, model) -> np.ndarray:
    """Plan output index of each model feature (by name when the model has matching names)."""
    names = list(plan.feature_names_out_)
    nf = int(model.n_features_in_)
    mnames = getattr(model, "feature_names_in_", None)
    if mnames is not None:
        pos = {n: i for i, n in enumerate(names)}
        mnames = [str(n) for n in mnames]
        if all(n in pos for n in mnames):
            return np.array([pos[n] for n in mnames], dtype=np.int64)
    if nf != len(names):
        raise ShapeError(f"The model reads {nf} features, but the feature plan outputs {len(names)}; "
                         "compile the model that was fitted on this plan's output")
    return np.arange(nf, dtype=np.int64)


def _model_family(model) -> str:
    kind = getattr(model, "kind", None)
    if kind == "tree_ensemble":
        return "trees"
    if kind in ("linear_regressor", "linear_classifier"):
        return "linear"
    if kind in ("mlp_regressor", "mlp_classifier"):
        return "matrix"
    raise SchemaError(f"compile_predictor takes a compiled model (mlcore.train.compile_model), got "
                      f"{type(model).__module__}.{type(model).__qualname__}")


def _used_features(model, family) -> np.ndarray:
    if family == "trees":
        return np.asarray(model._used, dtype=np.int64)
    if family == "linear":
        return np.flatnonzero((model.coef_ != 0).any(axis=0)).astype(np.int64)
    return np.arange(int(model.n_features_in_), dtype=np.int64)


def _build(plan, needed: dict[int, int]) -> _Program:
    """The program for the plan outputs in ``needed`` (plan output index -> model feature index)."""
    from ..features.temporal import _PARTS

    kn = _kernels()
    from .._kernels.feat_time import PERIODS  # noqa: PLC0415

    prog = _Program()
    pos = 0
    dense = [(si, s) for si, s in enumerate(plan.steps) if not s.sparse]
    sparse = [(si, s) for si, s in enumerate(plan.steps) if s.sparse]
    for si, step in dense + sparse:
        width = step.n_features_out_
        local = [j for j in range(width) if pos + j in needed]
        if not local:
            pos += width
            continue
        if step.sparse:
            raise SchemaError(
                f"step {si + 1} ({type(step).__name__} on {step.columns}) has sparse output, and the model "
                f"uses {len(local)} of its features; the fused predictor computes dense features only"
            )
        kind = step.kind
        owner = type(step).__name__
        if kind in _NUMERIC_KINDS:
            cols = step.selected_ if hasattr(step, "selected_") else step.columns
            for j in local:
                inp = prog.input(cols[j], "numeric")
                g = pos + j
                if kind in ("passthrough", "variance_threshold", "correlation_filter", "mutual_info"):
                    prog.op(kn.OP_FLOAT, g, inp=inp)
                elif kind == "standard_scaler":
                    c = float(step.mean_[j]) if step.with_mean else 0.0
                    s = prog.op(kn.OP_CENTER, g, inp=inp, f=(c, float(step.scale_[j]), 0, 0))
                    prog.fold[s] = (1.0 / float(step.scale_[j]), -c / float(step.scale_[j]))
                elif kind == "robust_scaler":
                    c, sc = float(step.center_[j]), float(step.scale_[j])
                    s = prog.op(kn.OP_CENTER, g, inp=inp, f=(c, sc, 0, 0))
                    prog.fold[s] = (1.0 / sc, -c / sc)
                elif kind == "min_max_scaler":
                    sc, sh = float(step.scale_[j]), float(step.min_[j])
                    s = prog.op(kn.OP_AFFINE, g, inp=inp, f=(sc, sh, 0, 0))
                    prog.fold[s] = (sc, sh)
                elif kind == "log":
                    prog.op(kn.OP_LOG, g, inp=inp, f=(step.shift, 0, 0, 0))
                elif kind == "power":
                    method = 0 if step.method == "yeo-johnson" else 1
                    prog.op(kn.OP_POWER, g, inp=inp, e1=method,
                            f=(float(step.lambdas_[j]), float(np.finfo(np.float64).eps), float(step.mean_[j]),
                               float(step.scale_[j])))
                else:  # kbins
                    inner = np.ascontiguousarray(step.bin_edges_[j][1:-1], dtype=np.float64)
                    prog.op(kn.OP_BIN, g, inp=inp, aux=prog._aux_f(inner))
        elif kind == "missing_indicator":
            for j in local:
                prog.op(kn.OP_MISSING, pos + j, inp=prog.input(step.features_[j], "any"))
        elif kind == "combine":
            ops = {"product": 0, "ratio": 1, "sum": 2, "difference": 3}
            for j in local:
                a, b = step.pairs[j]
                prog.op(kn.OP_COMBINE, pos + j, inp=prog.input(a, "numeric"), inp2=prog.input(b, "numeric"),
                        e1=ops[step.op], e2=0 if step.zero_division == "nan" else 1)
        elif kind in ("ordinal", "frequency", "target"):
            for j in local:
                flags = 1 if (kind == "ordinal" and step.handle_unknown == "error") else 0
                cs = prog.code(step, si, j, step.columns[j], flags, owner)
                prog.op(kn.OP_MAP, pos + j, inp2=cs, aux=prog._aux_f(step._maps[j]))
        elif kind == "one_hot":
            starts = np.cumsum([0] + list(step._widths))
            for j in local:
                k = int(np.searchsorted(starts, j, side="right") - 1)
                flags = 0
                if step.handle_unknown == "error":
                    flags = 1 | (0 if step.null_seen_[k] else 2)
                cs = prog.code(step, si, k, step.columns[k], flags, owner)
                prog.op(kn.OP_ONEHOT, pos + j, inp2=cs, aux=prog._aux_i(step._column_of[k]),
                        e1=int(j - starts[k]))
        elif kind == "datetime_parts":
            w = 3 if step.cyclical else 1
            per_col = len(step.parts) * w
            for j in local:
                k, rem = divmod(j, per_col)
                p, sub = divmod(rem, w)
                code = _PARTS[step.parts[p]]
                prog.op(kn.OP_TIME, pos + j, inp=prog.input(step.columns[k], "temporal"), e1=code, e2=sub,
                        f=(float(PERIODS[code]), 0, 0, 0))
        else:
            # Not expressible as ops (a dense CategoryCross): the plan's own transform computes this
            # step, and its used outputs enter the program as precomputed columns.
            prog.fallback[si] = local
            for j in local:
                prog.op(kn.OP_FLOAT, pos + j, inp=prog.input(f"\x00fallback/{si}/{j}", "numeric"))
            prog.notes.append(f"step {si + 1} ({owner}) is not fused: computed by the plan's transform "
                              f"({len(local)} of its {width} outputs used)")
        pos += width
    return prog


class FusedPredictor:
    """A feature plan and a compiled model predicting in one compiled pass (see the module doc).

    Build one with :func:`compile_predictor`. ``predict``/``predict_proba``/``decision_function``
    take raw input columns (an Arrow table or anything ``mlcore._arrow`` accepts, chunked and
    sliced arrays included) and return NumPy arrays shaped as the compiled model's; the ``*_row``
    methods take one row as a dict ``{column: value}`` (None for null) or a 1-D array in the order
    of :attr:`input_columns`.

    Attributes
    ----------
    plan : FeaturePlan
    model : the compiled model (CompiledLinear, TreeEnsemble, CompiledMLP)
    input_columns : list of str
        The raw columns the predictor reads (those the used features come from).
    used_features : list of str
        The plan outputs that are computed (the model's used features).
    """

    def __init__(self, plan, model):
        if not plan.is_fitted:
            raise NotFittedError("compile_predictor needs a fitted FeaturePlan; call plan.fit(table) first")
        self.plan = plan
        self.model = model
        self._family = _model_family(model)
        fmap = _feature_map(plan, model)
        used = _used_features(model, self._family)
        needed = {int(fmap[f]): int(f) for f in used}
        prog = _build(plan, needed)
        self._prog = prog
        names = list(plan.feature_names_out_)
        self._slot_model = np.array([needed[g] for g in prog.slot_feature], dtype=np.int64)
        self.used_features = [names[g] for g in prog.slot_feature]
        kn = _kernels()
        # The raw column behind each computed feature, for error messages.
        self._slot_source = [""] * len(prog.slot_feature)
        for o in prog.ops_i:
            if o[0] == kn.OP_CODE:
                continue
            if o[0] in (kn.OP_MAP, kn.OP_ONEHOT):
                src = prog.code_ops[o[2]]["column"]
            else:
                src = prog.inputs[o[1]][0]
                if src.startswith("\x00"):
                    src = ", ".join(plan.steps[int(src.split("/")[1])].columns)
            self._slot_source[o[3]] = src
        self.input_columns = list(dict.fromkeys(
            c for c, _ in prog.inputs if not c.startswith("\x00")))
        for si in prog.fallback:
            for c in plan.steps[si].columns:
                if c not in self.input_columns:
                    self.input_columns.append(c)
        self._arrays = prog.arrays()
        self._n_slots = len(prog.slot_feature)
        self._n_cslots = len(prog.code_ops)
        self._is_code_op = self._arrays[0][:, 0] == kn.OP_CODE
        self._folded = []
        if self._family == "linear":
            scale = np.ones(model.n_features_in_)
            shift = np.zeros(model.n_features_in_)
            prog_i = self._arrays[0]
            for s, (sc, sh) in prog.fold.items():
                f = self._slot_model[s]
                scale[f], shift[f] = sc, sh
                row = [r for r in range(prog_i.shape[0]) if not self._is_code_op[r] and prog_i[r, 3] == s][0]
                prog_i[row, 0] = kn.OP_FLOAT  # the op reads x; the weights take the scaling
                self._folded.append(self.used_features[s])
            folded = model.fold_affine(scale, shift)
            from .linear import CompiledLinear  # noqa: PLC0415

            self._linear = CompiledLinear(kind=model.kind, estimator=model.estimator,
                                          coef=folded.coef_[:, self._slot_model], intercept=folded.intercept_,
                                          feature_names=None, output_1d=model._output_1d, classes=model.classes_,
                                          proba=model._proba)
        self._row_local = threading.local()
        self._check = 0
        self._sigmoid = None
        if self._family == "trees":
            self._check = (0 if model.allow_nan else 1) | (0 if model.allow_inf else 2)
            if model.task == "binary" and model.post == "sigmoid" and model.n_outputs == 1:
                # one row of a binary model: Python float math, not NumPy on a 1x1 array (~5 µs)
                self._sigmoid = (float(model.post_params.get("scale", 1.0)),
                                 model.post_params.get("binary_rule") == 1,
                                 None if model.classes_ is None else model.classes_.tolist())

    # -- description --------------------------------------------------------------------------

    def explain(self) -> str:
        """What runs: the model, the features computed (of the plan's outputs), folds and fallbacks.

        Examples
        --------
        >>> import numpy as np, pyarrow as pa
        >>> from sklearn.linear_model import Ridge
        >>> from mlcore.features import FeaturePlan, StandardScaler, as_matrix
        >>> from mlcore.train import compile_model, compile_predictor
        >>> t = pa.table({"a": [1.0, 2.0, 4.0], "b": [0.0, 1.0, 0.0]})
        >>> plan = FeaturePlan([StandardScaler(["a", "b"])]).fit(t)
        >>> model = compile_model(Ridge().fit(as_matrix(plan.transform(t)), [1.0, 2.0, 3.0]))
        >>> print(compile_predictor(plan, model).explain().splitlines()[0])
        FusedPredictor: linear_regressor (Ridge) behind a 1-step feature plan
        """
        est = getattr(self.model, "estimator", None) or getattr(self.model, "source", "")
        n_out = self.plan.n_features_out_
        lines = [f"FusedPredictor: {self.model.kind} ({est}) behind a {len(self.plan.steps)}-step feature plan",
                 f"  computes {self._n_slots} of the plan's {n_out} features (the ones the model uses), "
                 f"from {len(self.input_columns)} input column(s): {', '.join(self.input_columns)}"]
        if self._folded:
            lines.append(f"  scalers folded into the linear weights: {', '.join(self._folded)}")
        if self._prog.fallback:
            lines += ["  " + n for n in self._prog.notes]
            lines.append("  single rows go through a one-row Arrow table (the unfused step needs one)")
        else:
            lines.append("  every used feature is fused (one compiled pass per row block)")
        if self._family == "matrix":
            lines.append("  model: the fused features are written to a matrix, then the model's kernel runs")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.explain()

    # -- batch ----------------------------------------------------------------------------------

    def _pieces(self, data):
        """(table, n_rows, one ChunkedArray per program input): the input columns, and the used
        outputs of unfused steps computed by the plan's own transform."""
        table = _arrow.as_table(data)
        n = table.num_rows
        plan = self.plan
        cols = []
        for name, role in self._prog.inputs:
            if name.startswith("\x00"):
                continue
            col = _arrow.get_column(table, name)
            want = plan.input_schema_.get(name)
            if want is not None:
                from ..features.plan import _kind_of, _kind_of_str  # noqa: PLC0415

                if _kind_of(col.type) != _kind_of_str(want) and not pat.is_null(col.type):
                    raise SchemaError(f"Expected a `{want}`-like column as at fit, got `{col.type}` - at column `{name}`")
            cols.append(col)
        fallback = {}
        for si, local in self._prog.fallback.items():
            step = plan.steps[si]
            from ..features._base import new_matrix  # noqa: PLC0415

            mat = new_matrix(step.n_features_out_, n)
            if n:
                step.write(table, mat, 0)
            for j in local:
                fallback[f"\x00fallback/{si}/{j}"] = pa.chunked_array([pa.array(mat[j])], type=pa.float64())
        all_cols = []
        ci = iter(cols)
        for name, _role in self._prog.inputs:
            all_cols.append(fallback[name] if name.startswith("\x00") else next(ci))
        return table, n, all_cols

    def _input_table(self, arrs, names_roles, n):
        kn = _kernels()
        from .._kernels import feat_strings as ks  # noqa: PLC0415
        from .._kernels.linear_ptr import DTYPE_CODES  # noqa: PLC0415

        in_i = np.zeros((max(len(arrs), 1), kn.IN_WORDS), dtype=np.int64)
        keep = []
        dict_arrays = {}
        for i, (arr, (name, role)) in enumerate(zip(arrs, names_roles)):
            t = arr.type
            if pat.is_null(t):
                in_i[i, 0] = kn.K_NULL
                continue
            if role == "any" and not (pat.is_integer(t) or pat.is_floating(t) or pat.is_boolean(t)):
                in_i[i, 0] = 4  # validity only
            elif role in ("numeric", "any"):
                if pat.is_boolean(t):
                    arr = arr.cast(pa.int8())
                elif not (pat.is_integer(t) or pat.is_floating(t)) or pat.is_float16(t):
                    raise SchemaError(f"Expected a numeric column (int or float), got `{t}` - at column `{name}`")
                v = _arrow.chunk_view(arr, name=name)
                in_i[i, 0] = kn.K_NUMERIC
                in_i[i, 1] = v.values.ctypes.data + v.offset * v.values.itemsize if v.length else 0
                in_i[i, 2] = DTYPE_CODES[v.values.dtype]
                keep.append(v)
            elif role == "temporal":
                if pat.is_timestamp(t):
                    if t.tz is not None and t.tz not in _UTC:
                        arr = pc.local_timestamp(arr)  # wall-clock time of the zone, as the plan does
                    ticks = _TICKS[t.unit]
                    arr = arr.view(pa.int64())
                elif pat.is_date32(t):
                    ticks = 0
                    arr = arr.view(pa.int32())
                elif pat.is_date64(t):
                    ticks = 1_000
                    arr = arr.view(pa.int64())
                else:
                    raise SchemaError(f"DateTimeParts expects a timestamp, date32 or date64 column, got `{t}` - "
                                      f"at column `{name}`")
                v = _arrow.chunk_view(arr, name=name)
                in_i[i, 0] = kn.K_TEMPORAL
                in_i[i, 1] = v.values.ctypes.data + v.offset * v.values.itemsize if v.length else 0
                in_i[i, 2] = DTYPE_CODES[v.values.dtype]
                in_i[i, 7] = ticks
                keep.append(v)
            else:  # string (categorical)
                if pat.is_integer(t) or pat.is_boolean(t):
                    arr = arr.cast(pa.string())  # as the encoders do: categories are their strings
                    t = arr.type
                if pat.is_dictionary(t):
                    v = _arrow.chunk_view(arr, name=name)
                    in_i[i, 0] = kn.K_DICT
                    in_i[i, 1] = v.values.ctypes.data + v.offset * v.values.itemsize if v.length else 0
                    in_i[i, 2] = DTYPE_CODES[v.values.dtype]
                    dictionary = arr.dictionary
                    if not (pat.is_string(dictionary.type) or pat.is_large_string(dictionary.type)
                            or pat.is_binary(dictionary.type) or pat.is_large_binary(dictionary.type)):
                        dictionary = dictionary.cast(pa.string())
                    dict_arrays[i] = _arrow.chunk_view(dictionary, name=name)
                    keep.append(v)
                elif pat.is_string(t) or pat.is_large_string(t) or pat.is_binary(t) or pat.is_large_binary(t):
                    v = _arrow.chunk_view(arr, name=name)
                    in_i[i, 0] = kn.K_STRING
                    in_i[i, 1] = v.offsets.ctypes.data + v.offset * v.offsets.itemsize
                    in_i[i, 2] = DTYPE_CODES[v.offsets.dtype]
                    in_i[i, 5] = v.values.ctypes.data if v.values.size else 0
                    in_i[i, 6] = v.values.size
                    keep.append(v)
                else:
                    raise SchemaError(f"Expected a categorical column (string, large_string, binary, dictionary, "
                                      f"integer or bool), got `{t}` - at column `{name}`")
            if len(arr) and arr.null_count and arr.buffers()[0] is not None:
                vv = np.frombuffer(arr.buffers()[0], np.uint8, count=(arr.offset + len(arr) + 7) // 8)
                in_i[i, 3] = vv.ctypes.data
                in_i[i, 4] = arr.offset
                keep.append(vv)
            elif len(arr) and arr.null_count == len(arr):
                in_i[i, 0] = kn.K_NULL
            keep.append(arr)
        # Dictionary inputs: each CODE op maps the dictionary once with its own category set.
        prog_i = self._arrays[0]
        dstart = np.zeros(max(prog_i.shape[0], 1), dtype=np.int64)
        parts, total = [], 0
        for o in range(prog_i.shape[0]):
            if prog_i[o, 0] != kn.OP_CODE or int(prog_i[o, 1]) not in dict_arrays:
                continue
            dv = dict_arrays[int(prog_i[o, 1])]
            cs = self._prog.cats[int(prog_i[o, 4])]
            codes = np.empty(dv.length, dtype=np.int32)
            if dv.length:
                ks.lookup(dv.length, dv.offset, dv.validity, dv.offsets, dv.values, cs.cat_offsets, cs.cat_data,
                          cs.slots, np.int32(-2), codes)
            dstart[o] = total
            parts.append(codes)
            total += codes.size
        dict_codes = np.concatenate(parts) if parts else np.zeros(1, np.int32)
        return in_i, dstart, dict_codes, keep

    def _run(self, data, n_threads, *, linear_op=None):
        """Run the fused kernel; returns (table, output) with output raw scores / linear ``op`` output."""
        kn = _kernels()
        table, n, cols = self._pieces(data)
        model = self.model
        if self._family == "trees":
            width = model.n_outputs
        elif self._family == "linear":
            from .._kernels import linear_predict as lp  # noqa: PLC0415

            width = int(lp.out_width(linear_op, self._linear.n_outputs_))
        else:
            width = model.n_features_in_
        if self._family == "matrix":
            from ..features._base import new_matrix  # noqa: PLC0415

            out = new_matrix(width, n)
            out[:] = 0.0
        else:
            out = _common.empty_output(n, width)
        if n == 0:
            return table, out
        parallel = _common.use_parallel(n, n_threads)
        pieces = _arrow.align_chunks(*cols) if cols else [()]
        start = 0
        names_roles = self._prog.inputs
        a = self._arrays
        for piece in pieces:
            length = len(piece[0]) if piece else n
            in_i, dstart, dict_codes, keep = self._input_table(piece, names_roles, length)
            n_tasks = (length + kn.SUPER - 1) // kn.SUPER
            bad = np.zeros((max(n_tasks, 1), self._n_cslots + 2), dtype=np.int64)
            common = (length, in_i, dict_codes, dstart, *a, self._n_slots, self._n_cslots)
            with _common.numba_threads(n_threads if parallel else None):
                with _parallel(parallel):
                    if self._family == "trees":
                        t = model
                        arr = t._arrays
                        vsrc = self._tree_vsrc()
                        dst = out.reshape(-1)[start * width:(start + length) * width]
                        fn = kn.fused_trees_parallel if parallel else kn.fused_trees_serial
                        fn(*common, self._check, vsrc, t._vmode, arr["child_base"], t._featoff, arr["thr"],
                           arr["val"], t.n_val, arr["root"], arr["steps"], arr["tail"], arr["tree_out"], arr["base"],
                           dst, bad)
                    elif self._family == "linear":
                        fn = kn.fused_linear_parallel if parallel else kn.fused_linear_serial
                        fn(*common, self._linear.coef_, self._linear.intercept_, linear_op, out[start:start + length],
                           bad)
                    else:
                        fn = kn.fused_matrix_parallel if parallel else kn.fused_matrix_serial
                        fn(*common, self._slot_model, out[:, start:start + length], bad)
            del keep
            self._raise_bad(bad.sum(axis=0), table, start, length)
            start += length
        return table, out

    def _tree_vsrc(self):
        vs = getattr(self, "_vsrc_cache", None)
        if vs is None:
            # The tree's virtual columns read model features; the fused buffer holds slots.
            slot_of = np.zeros(max(self.model.n_features_in_, 1), dtype=np.int32)
            slot_of[self._slot_model] = np.arange(self._n_slots, dtype=np.int32)
            vs = self._vsrc_cache = slot_of[self.model._vsrc].astype(np.int32)
        return vs

    def _raise_bad(self, bad, table, start, length):
        for cs, info in enumerate(self._prog.code_ops):
            if bad[cs]:
                from ..features._categories import codes_of, raise_unseen  # noqa: PLC0415

                step, k = info["step"], info["k"]
                codes = codes_of(table, info["column"], step._cats[k], info["owner"])
                raise_unseen(table, info["column"], codes, info["null_ok"], info["owner"])
        if bad[self._n_cslots] or bad[self._n_cslots + 1]:
            self._raise_nonfinite(table.slice(start, length), start)

    def _features(self, table) -> np.ndarray:
        """The used features of ``table`` as (n_slots, n) (for error messages)."""
        kn = _kernels()
        _, n, cols = self._pieces(table)
        mat = np.zeros((max(self._n_slots, 1), n))
        start = 0
        for piece in (_arrow.align_chunks(*cols) if cols else [()]):
            length = len(piece[0]) if piece else n
            in_i, dstart, dict_codes, keep = self._input_table(piece, self._prog.inputs, length)
            bad = np.zeros(((length + kn.SUPER - 1) // kn.SUPER + 1, self._n_cslots + 2), dtype=np.int64)
            kn.fused_matrix_serial(length, in_i, dict_codes, dstart, *self._arrays, self._n_slots, self._n_cslots,
                                   np.arange(self._n_slots, dtype=np.int64), mat[:, start:start + length], bad)
            start += length
        return mat

    def _raise_nonfinite(self, table, row0):
        mat = self._features(table)
        if self._family == "trees":
            for s in range(self._n_slots):
                self.model._check_values(mat[s], lambda i, s=s: f"feature `{self.used_features[s]}` (from column "
                                                                f"`{self._slot_source[s]}`)")
            return
        bad = ~np.isfinite(mat[:self._n_slots])
        if not bad.any():
            return  # finite features whose scores overflowed: as the unfused model
        s, i = np.argwhere(bad)[0]
        raise SchemaError(
            f"Expected finite values, got {mat[s, i]} - at feature `{self.used_features[s]}` (from column "
            f"`{self._slot_source[s]}`, row {row0 + i}); "
            f"{self.model.estimator} does not accept missing or infinite values (scikit-learn rejects them "
            "too): impute them before the model"
        )

    def _tree_outputs(self, raw, what):
        m = self.model
        if what == "raw":
            return raw
        if what == "predict":
            if m.task == "anomaly":
                return np.where(m._iforest_decision(raw) < 0, -1, 1)
            if m.task == "regression":
                o = m._transform(raw)
                return o[:, 0] if o.shape[1] == 1 else o
            return m._labels(raw)
        if what == "proba":
            if m.task not in ("binary", "multiclass"):
                raise AttributeError(f"predict_proba is only available for classifiers; this model's task is {m.task!r}")
            return m._proba(raw)
        if what == "decision":
            if m.post == "average":
                raise AttributeError("decision_function is not available: the source model has none; use predict_proba")
            if m.task == "anomaly":
                return m._iforest_decision(raw)
            return raw[:, 0] if raw.shape[1] == 1 else raw
        raise AssertionError(what)

    def predict(self, data: Any, *, n_threads: int | None = None) -> np.ndarray:
        """Predictions for the raw input ``data``: values, or class labels for classifiers.

        Equal to ``model.predict(plan.transform(data))`` (within rounding for a folded scaler).

        Examples
        --------
        >>> import numpy as np, pyarrow as pa
        >>> from sklearn.linear_model import LogisticRegression
        >>> from mlcore.features import FeaturePlan, OneHotEncoder, StandardScaler, as_matrix
        >>> from mlcore.train import compile_model, compile_predictor
        >>> t = pa.table({"x": [0.0, 1.0, 2.0, 3.0], "c": ["a", "b", "a", "b"]})
        >>> plan = FeaturePlan([StandardScaler(["x"]), OneHotEncoder(["c"], handle_unknown="ignore")]).fit(t)
        >>> est = LogisticRegression().fit(as_matrix(plan.transform(t)), [0, 0, 1, 1])
        >>> fused = compile_predictor(plan, compile_model(est))
        >>> fused.predict(t).tolist()
        [0, 0, 1, 1]
        >>> int(fused.predict_row({"x": 3.0, "c": "z"}))
        1
        """
        if self._family == "trees":
            _, raw = self._run(data, n_threads)
            return self._tree_outputs(raw, "predict")
        if self._family == "linear":
            from .._kernels import linear_predict as lp  # noqa: PLC0415

            lin = self._linear
            if lin.kind == "linear_regressor":
                return self.decision_function(data, n_threads=n_threads)
            _, out = self._run(data, n_threads, linear_op=lp.LABEL)
            return lin.classes_.take(out[:, 0].astype(np.intp))
        return self.model.predict(self._matrix(data, n_threads))

    def _matrix(self, data, n_threads):
        _, mat = self._run(data, n_threads)
        return mat.T

    def predict_proba(self, data: Any, *, n_threads: int | None = None) -> np.ndarray:
        """Class probabilities ``(n, n_classes)``, where the model has ``predict_proba``."""
        if self._family == "trees":
            if self.model.task not in ("binary", "multiclass"):
                raise AttributeError(f"predict_proba is only available for classifiers; this model's task is "
                                     f"{self.model.task!r}")
            _, raw = self._run(data, n_threads)
            return self._tree_outputs(raw, "proba")
        if self._family == "linear":
            if self._linear._proba_op is None:
                raise AttributeError(f"{self._linear.estimator} has no predict_proba")
            _, out = self._run(data, n_threads, linear_op=self._linear._proba_op)
            return out
        return self.model.predict_proba(self._matrix(data, n_threads))

    def decision_function(self, data: Any, *, n_threads: int | None = None) -> np.ndarray:
        """Raw scores, shaped as the model's ``decision_function``."""
        if self._family == "trees":
            _, raw = self._run(data, n_threads)
            return self._tree_outputs(raw, "decision")
        if self._family == "linear":
            from .._kernels import linear_predict as lp  # noqa: PLC0415

            lin = self._linear
            _, out = self._run(data, n_threads, linear_op=lp.RAW)
            if lin.kind == "linear_classifier":
                return out[:, 0] if lin.n_outputs_ == 1 else out
            return out[:, 0] if lin._output_1d else out
        return self.model.decision_function(self._matrix(data, n_threads))

    def raw_score(self, data: Any, *, n_threads: int | None = None) -> np.ndarray:
        """Tree ensembles: the summed leaf values plus the base score, (n, n_outputs)."""
        if self._family != "trees":
            raise AttributeError("raw_score is only available for tree ensembles")
        return self._run(data, n_threads)[1]

    # -- one row --------------------------------------------------------------------------------

    def _row_state(self):
        st = getattr(self._row_local, "state", None)
        if st is None:
            st = self._row_local.state = _RowState(self)
        return st

    def _row_features(self, row):
        """Fill the row state's inputs from ``row`` and run the program; returns the state."""
        st = self._row_state()
        if type(row) is not dict:
            row = self._row_dict(row)
        try:
            st.rowf[:st.n_num] = [_NAN if v is None else v for v in [row[n] for n in st.num_names]]
            for i, name in st.temporal:
                v = row[name]
                if v is None:
                    st.valid[i] = 0
                else:
                    st.valid[i] = 1
                    st.rowt[i] = _ticks_us(v, name)
            for i, name in st.validity:
                st.valid[i] = row[name] is not None
            codes = st.codes
            for cs, (name, lookup, vtype, flags, owner) in enumerate(st.code_specs):
                v = row[name]
                if v is None:
                    c = -2
                else:
                    c = lookup.get(_cat_key(v, vtype), -1)
                if (c == -1 and flags & 1) or (c == -2 and flags & 2):
                    what = "null" if v is None else repr(v)
                    raise ValueError(
                        f"{owner}: column `{name}` has category {what} not seen at fit, and handle_unknown='error'; "
                        "fit with handle_unknown='ignore' or 'infrequent' to accept unseen categories")
                codes[cs] = c
        except KeyError as exc:
            raise ColumnNotFoundError(f"Column `{exc.args[0]}` not found in the row; the predictor reads "
                                      f"{self.input_columns}") from None
        except (TypeError, ValueError) as exc:
            if isinstance(exc, ValueError) and "not seen at fit" in str(exc):
                raise
            raise SchemaError(f"A row value cannot be read as the plan expects: {exc}") from None
        st.entry(*st.args)
        return st

    def _row_dict(self, row):
        if isinstance(row, np.ndarray) and row.ndim == 1:
            if row.shape[0] != len(self.input_columns):
                raise ShapeError(f"Expected one row of {len(self.input_columns)} values (the columns "
                                 f"{self.input_columns}), got shape {row.shape}")
            vals = row.tolist()
            return {c: (None if (isinstance(v, float) and v != v and self._row_state().is_cat.get(c)) else v)
                    for c, v in zip(self.input_columns, vals)}
        if isinstance(row, dict):
            return row
        if hasattr(row, "keys"):
            return dict(row)
        raise TypeError(f"A row is a dict {{column: value}} or a 1-D NumPy array, got {type(row).__name__}")

    def _row_table(self, row):
        """One row as a one-row Arrow table: the row path of a predictor with an unfused step."""
        if type(row) is not dict:
            row = self._row_dict(row)
        try:
            cols = {}
            for c in self.input_columns:
                v = row[c]
                t = _type_of_str(self.plan.input_schema_.get(c, ""))
                cols[c] = pa.array([v], type=t) if v is None and t is not None else pa.array([v])
            return pa.table(cols)
        except KeyError as exc:
            raise ColumnNotFoundError(f"Column `{exc.args[0]}` not found in the row; the predictor reads "
                                      f"{self.input_columns}") from None

    def _row_raw_trees(self, row):
        if self._prog.fallback:
            return self.raw_score(self._row_table(row))[0]
        st = self._row_features(row)
        ts = st.tree
        if ts.fn(ts.xp, ts.tp, ts.op) != 0:
            self.model._check_values(ts.x[self._slot_model],
                                     lambda i: f"feature `{self.used_features[i]}` (from column "
                                               f"`{self._slot_source[i]}`)")
            raise AssertionError("the row callback refused a value that the checks accept")
        return ts.out

    def _row_linear(self, row, op):
        st = self._row_features(row)
        out = st.lin_out[op]
        r = st.lin_ep(st.lin_packed, st.feat_x, op, out)
        if r != r:
            bad = np.flatnonzero(~np.isfinite(st.feat_x))
            if bad.size:
                s = int(bad[0])
                raise SchemaError(f"Expected finite values, got {st.feat_x[s]} - at feature `{self.used_features[s]}` "
                                  f"(from column `{self._slot_source[s]}`); "
                                  f"{self.model.estimator} does not accept missing or infinite values")
            return self._linear._row_slow(st.feat_x.copy(), op), None
        return out, r

    def predict_row(self, row):
        """The prediction for one row: a class label, a float, or a 1-D array (several outputs).

        ``row`` is a dict ``{column: value}`` (None for null) or a 1-D array of the values of
        :attr:`input_columns` in that order. The latency path: no Arrow, per-thread buffers.
        """
        if self._prog.fallback and self._family != "trees":
            return self.predict(self._row_table(row))[0]
        if self._family == "trees":
            raw = self._row_raw_trees(row)
            if self._sigmoid is not None:
                scale, by_raw, classes = self._sigmoid
                r = float(raw[0])
                if by_raw:
                    k = 1 if r > 0.0 else 0
                else:
                    e = _expit(scale * r)
                    k = 1 if e > 1.0 - e else 0  # argmax of [1 - e, e], first on a tie
                return k if classes is None else classes[k]
            return self._tree_outputs(raw.reshape(1, -1), "predict")[0]
        if self._family == "linear":
            from .._kernels import linear_predict as lp  # noqa: PLC0415

            lin = self._linear
            if lin.kind == "linear_regressor":
                out, r = self._row_linear(row, lp.RAW)
                if lin.n_outputs_ == 1 and lin._output_1d:
                    return float(out[0])
                return out.copy()
            out, r = self._row_linear(row, lp.LABEL)
            return lin._classes_list[int(out[0])]
        st = self._row_features(row)
        return self.model.predict(st.full_x.reshape(1, -1))[0]

    def predict_proba_row(self, row) -> np.ndarray:
        """Class probabilities of one row (see :meth:`predict_row` for ``row``)."""
        if self._prog.fallback and self._family != "trees":
            return self.predict_proba(self._row_table(row))[0]
        if self._family == "trees":
            if self.model.task not in ("binary", "multiclass"):
                raise AttributeError("predict_proba is only available for classifiers")
            raw = self._row_raw_trees(row)
            if self._sigmoid is not None:
                e = _expit(self._sigmoid[0] * float(raw[0]))
                out = np.empty(2)
                out[0] = 1.0 - e
                out[1] = e
                return out
            return self.model._proba(raw.reshape(1, -1))[0]
        if self._family == "linear":
            if self._linear._proba_op is None:
                raise AttributeError(f"{self._linear.estimator} has no predict_proba")
            out, _ = self._row_linear(row, self._linear._proba_op)
            return out.copy()
        st = self._row_features(row)
        return self.model.predict_proba(st.full_x.reshape(1, -1))[0]

    # -- saved form -------------------------------------------------------------------------------

    def save(self, path: str | os.PathLike) -> None:
        """Write the plan (``plan/``), the model (``model.json`` + ``model.npz``) and ``fused.json``.

        The program is not saved: :meth:`load` rebuilds it from the plan and the model (data only).
        """
        os.makedirs(path, exist_ok=True)
        self.plan.save(os.path.join(path, "plan"))
        manifest, arrays = self.model.to_arrays()
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        raw = buf.getvalue()
        with open(os.path.join(path, "model.npz"), "wb") as f:
            f.write(raw)
        with open(os.path.join(path, "model.json"), "w", encoding="utf-8") as f:
            json.dump(manifest, f, indent=1)
        with open(os.path.join(path, "fused.json"), "w", encoding="utf-8") as f:
            json.dump({"format": FORMAT, "version": VERSION, "mlcore_version": __version__,
                       "model_kind": self.model.kind, "model_sha256": hashlib.sha256(raw).hexdigest()}, f, indent=1)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "FusedPredictor":
        """Read a predictor written by :meth:`save`: JSON + arrays only, a closed list of kinds.

        Raises :class:`~mlcore.errors.ArtifactError` for an unknown format or model kind, or a
        changed model file.
        """
        from ..features import FeaturePlan  # noqa: PLC0415
        from .compile import load_model  # noqa: PLC0415

        try:
            with open(os.path.join(path, "fused.json"), encoding="utf-8") as f:
                head = json.load(f)
            with open(os.path.join(path, "model.json"), encoding="utf-8") as f:
                manifest = json.load(f)
            with open(os.path.join(path, "model.npz"), "rb") as f:
                raw = f.read()
        except (OSError, ValueError) as exc:
            raise ArtifactError(f"cannot read a fused predictor at {os.fspath(path)!r}: {exc}") from exc
        if head.get("format") != FORMAT or head.get("version") != VERSION:
            raise ArtifactError(f"not a fused predictor of a known version: format {head.get('format')!r}, version "
                                f"{head.get('version')!r}; expected {FORMAT!r} version {VERSION}")
        digest = hashlib.sha256(raw).hexdigest()
        if digest != head.get("model_sha256"):
            raise ArtifactError(f"model.npz has SHA-256 {digest}, expected {head.get('model_sha256')}: the file "
                                "changed since it was saved")
        try:
            with np.load(io.BytesIO(raw), allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
        except ValueError as exc:
            raise ArtifactError(f"model.npz holds something other than plain arrays: {exc}") from exc
        plan = FeaturePlan.load(os.path.join(path, "plan"))
        return cls(plan, load_model(manifest, arrays))


class _parallel:
    def __init__(self, on):
        self.on = on
        self.cm = None

    def __enter__(self):
        if self.on:
            from .._kernels._jit import parallel_section  # noqa: PLC0415

            self.cm = parallel_section()
            self.cm.__enter__()

    def __exit__(self, *exc):
        if self.cm is not None:
            self.cm.__exit__(*exc)


def _expit(x: float) -> float:
    try:
        return 1.0 / (1.0 + math.exp(-x))
    except OverflowError:  # exp(-x) beyond the doubles: NumPy gives inf, so 0
        return 0.0


def _type_of_str(s: str):
    """The Arrow type a plan's input schema string names (None when it cannot tell)."""
    import re

    try:
        return pa.type_for_alias(s)
    except ValueError:
        pass
    m = re.fullmatch(r"timestamp\[(\w+)(?:, tz=(.+))?\]", s)
    if m:
        return pa.timestamp(m.group(1), tz=m.group(2))
    if s.startswith("dictionary"):
        return pa.string()
    return None


def _cat_key(v, vtype):
    if isinstance(v, str):
        return v
    if isinstance(v, bool) or isinstance(v, np.bool_):
        return "true" if v else "false"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, bytes):
        return v.decode("utf-8", errors="replace")
    if isinstance(v, float) and v.is_integer() and vtype == "int":
        return str(int(v))
    return str(v)


def _ticks_us(v, name):
    """Microseconds since 1970-01-01 of the wall-clock time of ``v`` (as the plan reads a column)."""
    import datetime as dt

    if isinstance(v, np.datetime64):
        return int(v.astype("datetime64[us]").astype(np.int64))
    if isinstance(v, dt.datetime):
        d = v.replace(tzinfo=None) - dt.datetime(1970, 1, 1)
        return (d.days * 86400 + d.seconds) * 1_000_000 + d.microseconds
    if isinstance(v, dt.date):
        return (v - dt.date(1970, 1, 1)).days * 86_400_000_000
    raise TypeError(f"column `{name}` needs a date or datetime, got {type(v).__name__}")


class _RowState:
    """One thread's buffers and pointer table for the single-row path."""

    def __init__(self, p: FusedPredictor):
        kn = _kernels()
        prog = p._prog
        n_in = max(len(prog.inputs), 1)
        self.rowf = np.full(n_in, np.nan)
        self.rowt = np.zeros(n_in, dtype=np.int64)
        self.valid = np.ones(n_in, dtype=np.uint8)
        self.in_i = np.zeros((n_in, kn.IN_WORDS), dtype=np.int64)
        self.numeric, self.temporal, self.validity = [], [], []
        self.is_cat = {}
        for i, (name, role) in enumerate(prog.inputs):
            if name.startswith("\x00"):
                continue  # not reached: predictors with unfused steps take a one-row table instead
            if role == "numeric" or (role == "any" and p.plan.input_schema_.get(name, "") .startswith(
                    ("int", "uint", "float", "double", "bool", "halffloat"))):
                self.in_i[i, 0] = kn.K_NUMERIC
                self.in_i[i, 1] = self.rowf.ctypes.data + 8 * len(self.numeric)  # consecutive: one copy
                self.in_i[i, 2] = 0
                self.numeric.append((i, name))
            elif role == "temporal":
                self.in_i[i, 0] = kn.K_TEMPORAL
                self.in_i[i, 1] = self.rowt.ctypes.data + 8 * i
                self.in_i[i, 2] = 2
                self.in_i[i, 3] = self.valid.ctypes.data + i
                self.in_i[i, 7] = 1_000_000
                self.temporal.append((i, name))
            else:  # categorical inputs: codes are looked up in Python; validity for MissingIndicator
                self.in_i[i, 0] = 4
                self.in_i[i, 3] = self.valid.ctypes.data + i
                self.validity.append((i, name))
                self.is_cat[name] = True
        self.n_num = len(self.numeric)
        self.num_names = [name for _, name in self.numeric]
        self.code_specs = [(c["column"], c["lookup"], c["vtype"], c["flags"], c["owner"]) for c in prog.code_ops]
        for c in prog.code_ops:
            self.is_cat[c["column"]] = True
        self.codes = np.zeros(max(len(prog.code_ops), 1), dtype=np.int32)
        self.feat = np.zeros(max(p._n_slots, 1))
        self.tmp = np.zeros(2)
        self.bad = np.zeros(len(prog.code_ops) + 2, dtype=np.int64)
        a = p._arrays
        prog_row = a[0].copy()
        if p._family == "trees":
            self.tree = p.model._row_state()
            x_out = self.tree.x
            slot_index = p._slot_model
        elif p._family == "linear":
            self.feat_x = np.zeros(max(p._n_slots, 1))
            x_out = self.feat_x
            slot_index = np.arange(p._n_slots, dtype=np.int64)
            lin = p._linear
            from .linear import _row_entry  # noqa: PLC0415
            from .._kernels import linear_predict as lp  # noqa: PLC0415

            self.lin_ep = _row_entry()
            self.lin_packed = lin._packed
            self.lin_out = {op: np.empty(int(lp.out_width(op, lin.n_outputs_)))
                            for op in (lp.RAW, lp.LABEL) + ((lin._proba_op,) if lin._proba_op is not None else ())}
            if p._n_slots == 0:
                self.feat_x = np.zeros(0)
                x_out = np.zeros(1)
        else:
            self.full_x = np.zeros(max(p.model.n_features_in_, 1))
            x_out = self.full_x
            slot_index = p._slot_model
        self.args = (self.in_i, np.zeros(1, np.int32), np.zeros(max(prog_row.shape[0], 1), np.int64), prog_row,
                     *a[1:], self.feat, self.codes, self.tmp, self.bad, np.ascontiguousarray(slot_index, np.int64),
                     x_out)
        self.entry = _row_entry_fused(self.args)


_FUSED_ROW = {}
_NAN = float("nan")


def _row_entry_fused(args):
    """The row kernel's compiled entry point for these argument types (skips the dispatcher's
    type resolution on every call)."""
    kn = _kernels()
    fn = kn.fused_row
    key = tuple(a.dtype.str + str(a.ndim) for a in args)
    ep = _FUSED_ROW.get(key)
    if ep is None:
        fn(*args)  # compiles (or loads from the cache) this specialisation
        ep = fn
        for cres in list(fn.overloads.values()):
            try:
                cres.entry_point(*args)
            except TypeError:
                continue
            ep = cres.entry_point
            break
        _FUSED_ROW[key] = ep
    return ep


def compile_predictor(plan, model) -> FusedPredictor:
    """Compile a fitted feature plan and a compiled model into one :class:`FusedPredictor`.

    Parameters
    ----------
    plan : FeaturePlan
        Fitted; the model was fitted on its output.
    model
        A compiled model (:func:`mlcore.train.compile_model`): a linear model, a tree ensemble
        or an MLP. Its features map to the plan's outputs by name when it has names that the plan
        outputs, else by position.

    Returns
    -------
    FusedPredictor

    Raises
    ------
    ShapeError
        The model reads another number of features than the plan outputs.
    SchemaError
        The model uses a feature of a sparse step, or is not a compiled model.

    Examples
    --------
    >>> import numpy as np, pyarrow as pa
    >>> from sklearn.tree import DecisionTreeRegressor
    >>> from mlcore.features import FeaturePlan, OneHotEncoder, Passthrough, as_matrix
    >>> from mlcore.train import compile_model, compile_predictor
    >>> t = pa.table({"x": [0.0, 1.0, 2.0, 3.0], "c": ["a", "b", "a", "b"]})
    >>> plan = FeaturePlan([Passthrough(["x"]), OneHotEncoder(["c"], handle_unknown="ignore")]).fit(t)
    >>> X = as_matrix(plan.transform(t))
    >>> tree = compile_model(DecisionTreeRegressor(max_depth=1).fit(X, [0.0, 0.0, 1.0, 1.0]))
    >>> fused = compile_predictor(plan, tree)
    >>> fused.used_features
    ['x']
    >>> fused.predict(t).tolist()
    [0.0, 0.0, 1.0, 1.0]
    """
    return FusedPredictor(plan, model)
