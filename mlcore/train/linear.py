"""Compiled linear models: scikit-learn's linear estimators as two arrays and a Numba kernel.

Supported: LinearRegression, Ridge, Lasso, ElasticNet, SGDRegressor, LinearSVR (kind
``linear_regressor``); LogisticRegression (binary and multinomial), SGDClassifier, LinearSVC (kind
``linear_classifier``). The model is data (``coef`` (K, p), ``intercept`` (K,)): nothing compiles
per model. Batches are read column by column from the Arrow buffers (``out += w_j * x_j`` over
row blocks); one row goes through a dedicated kernel with the model packed in one array.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._kernels import linear_predict as _lp
from ..errors import ArtifactError, NotFittedError, SchemaError, ShapeError
from . import _common

__all__ = ["CompiledLinear", "convert_linear", "LINEAR_REGRESSORS", "LINEAR_CLASSIFIERS"]

LINEAR_REGRESSORS = ("LinearRegression", "Ridge", "Lasso", "ElasticNet", "SGDRegressor", "LinearSVR")
LINEAR_CLASSIFIERS = ("LogisticRegression", "SGDClassifier", "LinearSVC")

KINDS = ("linear_regressor", "linear_classifier")

#: predict_proba variants, by name in the manifest (closed list) -> kernel op.
_PROBA_OPS = {
    "logistic_binary": _lp.LOGISTIC_BINARY,
    "softmax": _lp.SOFTMAX,
    "ovr_logistic": _lp.OVR_LOGISTIC,
    "huber_binary": _lp.HUBER_BINARY,
    "huber_ovr": _lp.HUBER_OVR,
}

_F64 = np.dtype(np.float64)

_ROW_ENTRY = None


def _row_entry():
    """The single-row kernel's compiled entry point, bypassing the dispatcher's type resolution
    (~150 ns a call). Compiled for a float64 vector of any stride: the entry point itself refuses
    other dtypes (TypeError) but not other ranks, so callers check ``x.shape`` first."""
    global _ROW_ENTRY
    if _ROW_ENTRY is None:
        from numba import types

        c1 = types.Array(types.float64, 1, "C")
        sig = (c1, types.Array(types.float64, 1, "A"), types.int64, c1)
        _lp.linear_row.compile(sig)
        entry = getattr(_lp.linear_row.overloads.get(sig), "entry_point", None)
        _ROW_ENTRY = entry if entry is not None else _lp.linear_row
    return _ROW_ENTRY


class CompiledLinear:
    """A fitted linear model as arrays, predicting with Numba kernels over Arrow buffers.

    Build one with :func:`mlcore.train.compile_model` (or :func:`convert_linear`), or load one
    with :meth:`from_arrays`.

    Attributes
    ----------
    kind : str
        ``"linear_regressor"`` or ``"linear_classifier"``.
    n_features_in_ : int
    feature_names_in_ : list of str or None
        When set, batch input is read by column name; otherwise by position.
    classes_ : ndarray or None
        The class labels of a classifier, in scikit-learn's order.
    predict_proba_row : callable
        Class probabilities of one row (a 1-D array); present only where ``predict_proba`` is.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from mlcore.train import compile_model
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 0.0]])
    >>> est = LogisticRegression().fit(X, [0, 0, 1, 1])
    >>> model = compile_model(est)
    >>> bool(np.allclose(model.predict_proba(X), est.predict_proba(X)))
    True
    >>> int(model.predict_row(np.array([3.0, 0.0])))
    1
    """

    def __init__(self, *, kind: str, estimator: str, coef: np.ndarray, intercept: np.ndarray,
                 feature_names: list[str] | None, output_1d: bool, classes: np.ndarray | None,
                 proba: str | None):
        self.kind = kind
        self.estimator = estimator
        self.coef_ = np.ascontiguousarray(coef, dtype=np.float64)
        self.intercept_ = np.ascontiguousarray(intercept, dtype=np.float64)
        self.n_outputs_, self.n_features_in_ = self.coef_.shape
        self.feature_names_in_ = feature_names
        self.classes_ = classes
        self._output_1d = bool(output_1d)
        self._proba = proba
        self._proba_op = None if proba is None else _PROBA_OPS[proba]
        self._model = f"{estimator} model"
        # The single-row kernel's one model array: [coef row-major, intercept].
        self._packed = np.concatenate([self.coef_.ravel(), self.intercept_])
        self._p = self.n_features_in_
        self._k = self.n_outputs_
        self._classes_list = None if classes is None else list(classes)
        self._proba_width = None if proba is None else _lp.out_width(self._proba_op, self._k)
        self._shape = (self._p,)
        self._ep = _row_entry()
        if self._proba_op is not None:
            # An instance attribute, not a property: ~100 ns less per call on the latency path,
            # and absent (hasattr False) where scikit-learn has no predict_proba.
            self.predict_proba_row = self._predict_proba_row

    # ---- batch -----------------------------------------------------------------------------

    def _run(self, X: Any, op: int, n_threads: int | None) -> np.ndarray:
        inp = _common.resolve_batch(X, n_features=self._p, feature_names=self.feature_names_in_,
                                    model=self._model)
        n = inp.n_rows
        out = _common.empty_output(n, _lp.out_width(op, self._k))
        if n == 0:
            return out
        bad = 0
        parallel = _common.use_parallel(n, n_threads)
        with _common.numba_threads(n_threads if parallel else None):
            if inp.mode == "rows":
                if parallel:
                    with _common.parallel_section():
                        bad = _lp.linear_rows_parallel(inp.matrix, self.coef_, self.intercept_, op, out)
                else:
                    bad = _lp.linear_rows(inp.matrix, self.coef_, self.intercept_, op, out)
            else:
                for start, length, addrs, codes in inp.pieces:
                    dst = out[start:start + length]
                    if parallel:
                        with _common.parallel_section():
                            bad += _lp.linear_columns_parallel(length, addrs, codes, self.coef_,
                                                               self.intercept_, op, dst)
                    else:
                        bad += _lp.linear_columns(length, addrs, codes, self.coef_, self.intercept_, op, dst)
        if bad:
            err = _common.nonfinite_error(inp, self._model)
            if err is not None:
                raise err
            # Finite inputs whose scores overflowed: scikit-learn returns the same ±inf.
        return out

    def decision_function(self, X: Any, *, n_threads: int | None = None) -> np.ndarray:
        """Raw scores ``X @ coef_.T + intercept_``, shaped as scikit-learn's (``(n,)`` for one column).

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.svm import LinearSVC
        >>> from mlcore.train import compile_model
        >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
        >>> m = compile_model(LinearSVC().fit(X, [0, 0, 1, 1]))
        >>> m.decision_function(X).shape
        (4,)
        """
        out = self._run(X, _lp.RAW, n_threads)
        if self.kind == "linear_classifier":
            return out[:, 0] if self._k == 1 else out
        return out[:, 0] if self._output_1d else out

    def predict(self, X: Any, *, n_threads: int | None = None) -> np.ndarray:
        """Predicted values (regressors) or class labels (classifiers), as scikit-learn's ``predict``.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.linear_model import Ridge
        >>> from mlcore.train import compile_model
        >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]])
        >>> est = Ridge().fit(X, [1.0, 2.0, 3.0])
        >>> bool(np.allclose(compile_model(est).predict(X), est.predict(X)))
        True
        """
        if self.kind == "linear_regressor":
            return self.decision_function(X, n_threads=n_threads)
        out = self._run(X, _lp.LABEL, n_threads)
        return self.classes_.take(out[:, 0].astype(np.intp))

    @property
    def predict_proba(self):
        """Class probabilities ``(n, n_classes)``, as scikit-learn's ``predict_proba`` (where it has one).

        LogisticRegression: logistic (binary) or softmax (multinomial); SGDClassifier with
        ``loss='log_loss'``: one-vs-rest logistic, normalised; ``loss='modified_huber'``: clipped
        scores, normalised. Other estimators have none (``AttributeError``), as in scikit-learn.
        """
        if self._proba_op is None:
            raise AttributeError(f"{self.estimator} has no predict_proba (scikit-learn has none for it either)")
        return self._predict_proba

    def _predict_proba(self, X: Any, *, n_threads: int | None = None) -> np.ndarray:
        return self._run(X, self._proba_op, n_threads)

    # ---- one row -----------------------------------------------------------------------------

    def _row_slow(self, x: Any, op: int):
        v = _common.resolve_row(x, n_features=self._p, feature_names=self.feature_names_in_, model=self._model)
        out = np.empty(_lp.out_width(op, self._k))
        r = _lp.linear_row(self._packed, v, op, out)
        if r != r:
            err = _common.row_nonfinite_error(v, self.feature_names_in_, self._model)
            if err is not None:
                raise err
            out = self._run(v.reshape(1, -1), op, 1)[0]  # overflow on finite inputs: as scikit-learn
        return out

    def decision_function_row(self, x: Any):
        """The raw score(s) of one row (a dict of feature values or a 1-D vector): a float, or a
        1-D array when there are several score columns."""
        if self._k == 1 and type(x) is np.ndarray and x.shape == self._shape:
            out = np.empty(1)
            try:
                r = self._ep(self._packed, x, 0, out)
            except TypeError:  # another dtype: the slow path converts it
                r = np.nan
            if r == r:
                return r
        out = self._row_slow(x, _lp.RAW)
        return float(out[0]) if (self._k == 1 and (self._output_1d or self.kind == "linear_classifier")) else out

    def predict_row(self, x: Any):
        """The prediction for one row: a class label (classifiers), a float (one target) or a 1-D
        array (several targets).

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.linear_model import LinearRegression
        >>> from mlcore.train import compile_model
        >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]])
        >>> m = compile_model(LinearRegression().fit(X, [1.0, 2.0, 3.0]))
        >>> round(m.predict_row({"x0": 1.0, "x1": 0.0}), 6)
        2.0
        """
        if self.kind == "linear_regressor":
            return self.decision_function_row(x)
        if type(x) is np.ndarray and x.shape == self._shape:
            out = np.empty(1)
            try:
                r = self._ep(self._packed, x, 6, out)
            except TypeError:
                r = np.nan
            if r == r:
                return self._classes_list[int(r)]
        out = self._row_slow(x, _lp.LABEL)
        return self._classes_list[int(out[0])]

    def _predict_proba_row(self, x: Any) -> np.ndarray:
        """Class probabilities of one row (``predict_proba_row``, where ``predict_proba`` exists)."""
        if type(x) is np.ndarray and x.shape == self._shape:
            out = np.empty(self._proba_width)
            try:
                r = self._ep(self._packed, x, self._proba_op, out)
            except TypeError:
                r = np.nan
            if r == r:  # NaN: a score is not finite; the slow path says why
                return out
        return self._row_slow(x, self._proba_op)

    def row_cfunc(self, method: str = "predict_proba"):
        """The single-row kernel as a C function pointer, for C hosts (``bindings/``) and cffi.

        Returns ``(address, packed, op, width)``: the address of
        ``double f(const double *packed, int64_t p, int64_t k, const double *x, int64_t op,
        double *out, double *scratch)`` (see ``mlcore._kernels.linear_cfunc``), the model array
        to pass as ``packed`` (keep it alive as long as the pointer is used), the ``op`` code of
        ``method`` (``"predict_proba"``, ``"decision_function"`` or ``"predict"``, which gives
        the class index) and the number of doubles it writes to ``out``. ``scratch`` needs
        ``n_outputs_`` doubles. It returns NaN when a score is not finite (bad input).
        """
        from .._kernels.linear_cfunc import linear_row_c

        ops = {"decision_function": _lp.RAW, "predict": _lp.LABEL if self.kind == "linear_classifier" else _lp.RAW}
        if self._proba_op is not None:
            ops["predict_proba"] = self._proba_op
        if method not in ops:
            raise ValueError(f"`method` must be one of {sorted(ops)} for {self.estimator}, got {method!r}")
        op = ops[method]
        return linear_row_c.address, self._packed, op, int(_lp.out_width(op, self._k))

    # ---- folding a per-feature affine transform -----------------------------------------------

    def fold_affine(self, scale: Any, shift: Any) -> "CompiledLinear":
        """The same model applied to ``x * scale + shift`` (per feature), as one linear model.

        ``coef' = coef * scale``, ``intercept' = intercept + coef @ shift``: a scaler in front of a
        linear model costs nothing at prediction time. Results equal the two-step computation up
        to rounding (the sums are taken in another order).

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.linear_model import LinearRegression
        >>> from mlcore.train import compile_model
        >>> m = compile_model(LinearRegression().fit(np.eye(2), [1.0, 3.0]))
        >>> x = np.array([4.0, 5.0])
        >>> folded = m.fold_affine([2.0, 0.5], [1.0, -1.0])
        >>> bool(np.isclose(folded.predict_row(x), m.predict_row(x * [2.0, 0.5] + [1.0, -1.0])))
        True
        """
        scale = np.asarray(scale, dtype=np.float64)
        shift = np.asarray(shift, dtype=np.float64)
        if scale.shape != (self._p,) or shift.shape != (self._p,):
            raise ShapeError(f"`scale` and `shift` must have {self._p} values (one per feature), "
                             f"got shapes {scale.shape} and {shift.shape}")
        if not (np.isfinite(scale).all() and np.isfinite(shift).all()):
            raise SchemaError("`scale` and `shift` must be finite")
        coef = self.coef_ * scale
        intercept = self.intercept_ + self.coef_ @ shift
        return CompiledLinear(kind=self.kind, estimator=self.estimator, coef=coef, intercept=intercept,
                              feature_names=self.feature_names_in_, output_1d=self._output_1d,
                              classes=self.classes_, proba=self._proba)

    # ---- saved form ---------------------------------------------------------------------------

    def to_arrays(self) -> tuple[dict, dict[str, np.ndarray]]:
        """``(manifest, arrays)``: JSON-able values and float64 arrays ``coef`` (K, p), ``intercept`` (K,).

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.linear_model import LinearRegression
        >>> from mlcore.train import compile_model, CompiledLinear
        >>> m = compile_model(LinearRegression().fit(np.eye(3), [1.0, 2.0, 3.0]))
        >>> manifest, arrays = m.to_arrays()
        >>> manifest["kind"], sorted(arrays)
        ('linear_regressor', ['coef', 'intercept'])
        >>> CompiledLinear.from_arrays(manifest, arrays).predict_row(np.eye(3)[1]) == m.predict_row(np.eye(3)[1])
        True
        """
        manifest = _common.header(self.kind, self.estimator, self._p, self.feature_names_in_)
        manifest.update({
            "n_outputs": int(self._k),
            "output_1d": self._output_1d,
            "proba": self._proba,
            "classes": None if self.classes_ is None else _common.encode_classes(self.classes_),
        })
        return manifest, {"coef": self.coef_.copy(), "intercept": self.intercept_.copy()}

    @classmethod
    def from_arrays(cls, manifest: dict, arrays: dict[str, np.ndarray]) -> "CompiledLinear":
        """Rebuild a model from :meth:`to_arrays` output; validates kinds, shapes and dtypes."""
        m = _common.check_manifest(manifest, KINDS, ("estimator", "n_outputs", "output_1d", "proba", "classes"))
        if m["estimator"] not in LINEAR_REGRESSORS + LINEAR_CLASSIFIERS:
            raise ArtifactError(f"Unknown linear estimator {m['estimator']!r}")
        k = m["n_outputs"]
        if not isinstance(k, int) or isinstance(k, bool) or k < 1:
            raise ArtifactError(f"`n_outputs` must be a positive integer, got {k!r}")
        if not isinstance(m["output_1d"], bool):
            raise ArtifactError(f"`output_1d` must be a boolean, got {m['output_1d']!r}")
        p = m["n_features_in"]
        coef = _common.check_array(arrays, "coef", (k, p))
        intercept = _common.check_array(arrays, "intercept", (k,))
        proba = m["proba"]
        classes = None
        if m["kind"] == "linear_classifier":
            if m["estimator"] not in LINEAR_CLASSIFIERS:
                raise ArtifactError(f"{m['estimator']} is not a classifier")
            if proba is not None and proba not in _PROBA_OPS:
                raise ArtifactError(f"`proba` must be null or one of {sorted(_PROBA_OPS)}, got {proba!r}")
            classes = _common.decode_classes(m["classes"])
            expect_k = 1 if len(classes) == 2 else len(classes)
            if len(classes) < 2 or k != expect_k:
                raise ArtifactError(f"{len(classes)} classes need {expect_k} score column(s), got {k}")
            if proba in ("logistic_binary", "huber_binary") and k != 1 or proba in (
                    "softmax", "ovr_logistic", "huber_ovr") and k == 1:
                raise ArtifactError(f"`proba` {proba!r} does not fit {len(classes)} classes")
        else:
            if m["estimator"] not in LINEAR_REGRESSORS:
                raise ArtifactError(f"{m['estimator']} is not a regressor")
            if proba is not None or m["classes"] is not None:
                raise ArtifactError("A regressor has neither `proba` nor `classes`")
            if m["output_1d"] and k != 1:
                raise ArtifactError("`output_1d` needs exactly one output")
        return cls(kind=m["kind"], estimator=m["estimator"], coef=coef, intercept=intercept,
                   feature_names=m["feature_names_in"], output_1d=m["output_1d"], classes=classes, proba=proba)

    def __repr__(self) -> str:
        return (f"CompiledLinear(kind={self.kind!r}, estimator={self.estimator!r}, "
                f"n_features_in_={self._p}, n_outputs_={self._k})")


def _sgd_proba(est, n_classes: int) -> str | None:
    loss = est.loss
    if loss == "log_loss":
        return "logistic_binary" if n_classes == 2 else "ovr_logistic"
    if loss == "modified_huber":
        return "huber_binary" if n_classes == 2 else "huber_ovr"
    return None


def convert_linear(estimator) -> CompiledLinear:
    """Convert a fitted scikit-learn linear estimator (see the module docstring for the list).

    Raises
    ------
    NotFittedError
        The estimator has no ``coef_``.
    SchemaError
        A fitted state the converter does not handle (sparse ``coef_`` after ``sparsify()``,
        a LogisticRegression fitted with another ``multi_class`` than multinomial, …).
    """
    name = type(estimator).__name__
    if name not in LINEAR_REGRESSORS + LINEAR_CLASSIFIERS:
        raise SchemaError(f"{name} is not a supported linear estimator; expected one of "
                          f"{list(LINEAR_REGRESSORS + LINEAR_CLASSIFIERS)}")
    if not hasattr(estimator, "coef_"):
        raise NotFittedError(f"This {name} instance is not fitted yet: call fit before compile_model")
    coef = estimator.coef_
    if not isinstance(coef, np.ndarray):
        raise SchemaError(f"{name}.coef_ is a {type(coef).__name__} (after sparsify()?); "
                          "call estimator.densify() before compile_model")
    if coef.ndim not in (1, 2) or coef.dtype.kind != "f":
        raise SchemaError(f"{name}.coef_ must be a 1-D or 2-D float array, got shape {coef.shape} "
                          f"dtype {coef.dtype}")
    output_1d = coef.ndim == 1
    coef2 = np.atleast_2d(np.asarray(coef, dtype=np.float64))
    k, p = coef2.shape
    intercept = np.broadcast_to(np.asarray(estimator.intercept_, dtype=np.float64).ravel(), (k,)) \
        if np.size(estimator.intercept_) in (1, k) else None
    if intercept is None:
        raise SchemaError(f"{name}.intercept_ has {np.size(estimator.intercept_)} values for {k} outputs")
    n_features = getattr(estimator, "n_features_in_", p)
    if n_features != p:
        raise SchemaError(f"{name}.coef_ has {p} columns but n_features_in_ is {n_features}")
    names = _common.feature_names_of(estimator)
    if name in LINEAR_CLASSIFIERS:
        classes = np.asarray(estimator.classes_)
        n_classes = len(classes)
        if coef2.shape[0] != (1 if n_classes == 2 else n_classes):
            raise SchemaError(f"{name} has {n_classes} classes but coef_ has {coef2.shape[0]} rows")
        if name == "LogisticRegression":
            # scikit-learn < 1.7 still had multi_class: "ovr" (or "auto" with liblinear) normalises
            # one-vs-rest logistic scores instead of a softmax.
            mc = getattr(estimator, "multi_class", "deprecated")
            ovr = mc == "ovr" or (mc == "auto" and getattr(estimator, "solver", None) == "liblinear")
            if mc not in ("deprecated", "auto", "multinomial", "ovr"):
                raise SchemaError(f"LogisticRegression(multi_class={mc!r}) is not supported")
            proba = "logistic_binary" if n_classes == 2 else ("ovr_logistic" if ovr else "softmax")
        elif name == "SGDClassifier":
            proba = _sgd_proba(estimator, n_classes)
        else:
            proba = None
        return CompiledLinear(kind="linear_classifier", estimator=name, coef=coef2, intercept=intercept,
                              feature_names=names, output_1d=False, classes=classes, proba=proba)
    return CompiledLinear(kind="linear_regressor", estimator=name, coef=coef2, intercept=intercept,
                          feature_names=names, output_1d=output_1d, classes=None, proba=None)
