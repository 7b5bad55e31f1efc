"""Compiled multi-layer perceptrons: scikit-learn's MLPClassifier and MLPRegressor as arrays.

The forward pass is scikit-learn's (``H @ W + b`` then the activation, per layer; the output
activation as scikit-learn sets it: identity or exp (Poisson loss) for regression, logistic for
binary, softmax for multiclass classification), in a Numba kernel that reads the first layer's
inputs straight from the Arrow columns.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._kernels import mlp_predict as _mk
from ..errors import ArtifactError, NotFittedError, SchemaError
from . import _common

__all__ = ["CompiledMLP", "convert_mlp", "MLP_ESTIMATORS"]

MLP_ESTIMATORS = ("MLPClassifier", "MLPRegressor")
KINDS = ("mlp_regressor", "mlp_classifier")

_ACTIVATIONS = {"identity": _mk.IDENTITY, "logistic": _mk.LOGISTIC, "tanh": _mk.TANH, "relu": _mk.RELU,
                "softmax": _mk.SOFTMAX, "exp": _mk.EXP}
_HIDDEN = ("identity", "logistic", "tanh", "relu")
_F64 = np.dtype(np.float64)


class CompiledMLP:
    """A fitted MLP as arrays (``sizes``, ``weights``, ``biases``), predicting with Numba kernels.

    Attributes
    ----------
    kind : str
        ``"mlp_regressor"`` or ``"mlp_classifier"``.
    n_features_in_ : int
    feature_names_in_ : list of str or None
    classes_ : ndarray or None
    activation, out_activation_ : str
        As in scikit-learn.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.neural_network import MLPClassifier
    >>> from mlcore.train import compile_model
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(40, 3)); y = (X[:, 0] > 0).astype(int)
    >>> est = MLPClassifier(hidden_layer_sizes=(5,), max_iter=50, random_state=0).fit(X, y)  # doctest: +SKIP
    >>> m = compile_model(est)  # doctest: +SKIP
    >>> bool(np.allclose(m.predict_proba(X), est.predict_proba(X)))  # doctest: +SKIP
    True
    """

    def __init__(self, *, kind: str, estimator: str, sizes: np.ndarray, weights: np.ndarray, biases: np.ndarray,
                 activation: str, out_activation: str, feature_names: list[str] | None,
                 classes: np.ndarray | None, output_1d: bool):
        self.kind = kind
        self.estimator = estimator
        self.sizes_ = np.ascontiguousarray(sizes, dtype=np.int64)
        self.weights_ = np.ascontiguousarray(weights, dtype=np.float64)
        self.biases_ = np.ascontiguousarray(biases, dtype=np.float64)
        self.activation = activation
        self.out_activation_ = out_activation
        self.n_features_in_ = int(self.sizes_[0])
        self.n_outputs_ = int(self.sizes_[-1])
        self.feature_names_in_ = feature_names
        self.classes_ = classes
        self._classes_list = None if classes is None else list(classes)
        self._output_1d = bool(output_1d)
        self._hidden = _ACTIVATIONS[activation]
        self._out = _ACTIVATIONS[out_activation]
        self._model = f"{estimator} model"

    # ---- batch -----------------------------------------------------------------------------

    def _width(self, op: int) -> int:
        return {_mk.OUT_VALUES: self.n_outputs_, _mk.OUT_LABEL: 1, _mk.OUT_BINARY_PROBA: 2}[op]

    def _run_input(self, inp, op: int, n_threads: int | None) -> np.ndarray:
        n = inp.n_rows
        out = _common.empty_output(n, self._width(op))
        if n == 0:
            return out
        args = (self.sizes_, self.weights_, self.biases_, self._hidden, self._out, op)
        bad = 0
        parallel = _common.use_parallel(n, n_threads)
        with _common.numba_threads(n_threads if parallel else None):
            if inp.mode == "rows":
                if parallel:
                    with _common.parallel_section():
                        bad = _mk.mlp_rows_parallel(inp.matrix, *args, out)
                else:
                    bad = _mk.mlp_rows(inp.matrix, *args, out)
            else:
                for start, length, addrs, codes in inp.pieces:
                    dst = out[start:start + length]
                    if parallel:
                        with _common.parallel_section():
                            bad += _mk.mlp_columns_parallel(length, addrs, codes, *args, dst)
                    else:
                        bad += _mk.mlp_columns(length, addrs, codes, *args, dst)
        if bad:
            err = _common.nonfinite_error(inp, self._model)
            if err is not None:
                raise err
        return out

    def _run(self, X: Any, op: int, n_threads: int | None) -> np.ndarray:
        inp = _common.resolve_batch(X, n_features=self.n_features_in_, feature_names=self.feature_names_in_,
                                    model=self._model)
        return self._run_input(inp, op, n_threads)

    def predict(self, X: Any, *, n_threads: int | None = None) -> np.ndarray:
        """Predicted values (regressor) or class labels (classifier), as scikit-learn's ``predict``."""
        if self.kind == "mlp_regressor":
            out = self._run(X, _mk.OUT_VALUES, n_threads)
            return out[:, 0] if self._output_1d else out
        out = self._run(X, _mk.OUT_LABEL, n_threads)
        return self.classes_.take(out[:, 0].astype(np.intp))

    @property
    def predict_proba(self):
        """Class probabilities ``(n, n_classes)`` (classifiers only), as scikit-learn's."""
        if self.kind != "mlp_classifier":
            raise AttributeError("MLPRegressor has no predict_proba")
        return self._predict_proba

    def _proba_op(self) -> int:
        return _mk.OUT_BINARY_PROBA if self.n_outputs_ == 1 else _mk.OUT_VALUES

    def _predict_proba(self, X: Any, *, n_threads: int | None = None) -> np.ndarray:
        return self._run(X, self._proba_op(), n_threads)

    # ---- one row -------------------------------------------------------------------------------

    def _row(self, x: Any, op: int) -> np.ndarray:
        if not (type(x) is np.ndarray and x.dtype is _F64 and x.ndim == 1 and x.shape[0] == self.n_features_in_
                and x.flags.c_contiguous):
            x = _common.resolve_row(x, n_features=self.n_features_in_, feature_names=self.feature_names_in_,
                                    model=self._model)
        out = np.empty((1, self._width(op)))
        if _mk.mlp_rows(x.reshape(1, -1), self.sizes_, self.weights_, self.biases_, self._hidden, self._out,
                        op, out):
            err = _common.row_nonfinite_error(x, self.feature_names_in_, self._model)
            if err is not None:
                raise err
        return out[0]

    def predict_row(self, x: Any):
        """The prediction for one row (a dict of feature values or a 1-D vector): a class label,
        a float, or a 1-D array for several targets."""
        if self.kind == "mlp_regressor":
            out = self._row(x, _mk.OUT_VALUES)
            return float(out[0]) if self._output_1d else out
        return self._classes_list[int(self._row(x, _mk.OUT_LABEL)[0])]

    @property
    def predict_proba_row(self):
        """Class probabilities of one row (classifiers only)."""
        if self.kind != "mlp_classifier":
            raise AttributeError("MLPRegressor has no predict_proba")
        return lambda x: self._row(x, self._proba_op())

    # ---- saved form ---------------------------------------------------------------------------

    def to_arrays(self) -> tuple[dict, dict[str, np.ndarray]]:
        """``(manifest, arrays)`` with arrays ``sizes`` (int64), ``weights`` and ``biases`` (float64)."""
        manifest = _common.header(self.kind, self.estimator, self.n_features_in_, self.feature_names_in_)
        manifest.update({
            "activation": self.activation,
            "out_activation": self.out_activation_,
            "output_1d": self._output_1d,
            "classes": None if self.classes_ is None else _common.encode_classes(self.classes_),
        })
        return manifest, {"sizes": self.sizes_.copy(), "weights": self.weights_.copy(), "biases": self.biases_.copy()}

    @classmethod
    def from_arrays(cls, manifest: dict, arrays: dict[str, np.ndarray]) -> "CompiledMLP":
        """Rebuild a model from :meth:`to_arrays` output; validates kinds, shapes and dtypes."""
        m = _common.check_manifest(manifest, KINDS, ("estimator", "activation", "out_activation", "output_1d",
                                                     "classes"))
        if m["estimator"] not in MLP_ESTIMATORS:
            raise ArtifactError(f"Unknown MLP estimator {m['estimator']!r}")
        if m["activation"] not in _HIDDEN:
            raise ArtifactError(f"`activation` must be one of {_HIDDEN}, got {m['activation']!r}")
        if not isinstance(arrays, dict) or not isinstance(arrays.get("sizes"), np.ndarray):
            raise ArtifactError("Array `sizes` is missing")
        sizes = arrays["sizes"]
        if sizes.dtype != np.int64 or sizes.ndim != 1 or sizes.shape[0] < 2 or (sizes < 1).any():
            raise ArtifactError(f"`sizes` must be int64 (L+1,) of positive sizes, got {sizes!r}")
        if sizes[0] != m["n_features_in"]:
            raise ArtifactError(f"`sizes[0]` is {sizes[0]} but n_features_in is {m['n_features_in']}")
        n_w = int(np.sum(sizes[:-1] * sizes[1:]))
        weights = _common.check_array(arrays, "weights", (n_w,))
        biases = _common.check_array(arrays, "biases", (int(np.sum(sizes[1:])),))
        n_out = int(sizes[-1])
        classes = None
        out_act = m["out_activation"]
        if m["kind"] == "mlp_classifier":
            if m["estimator"] != "MLPClassifier":
                raise ArtifactError(f"{m['estimator']} is not a classifier")
            classes = _common.decode_classes(m["classes"])
            want = ("logistic", 1) if len(classes) == 2 else ("softmax", len(classes))
            if len(classes) < 2 or (out_act, n_out) != want:
                raise ArtifactError(f"{len(classes)} classes need output {want}, got ({out_act!r}, {n_out})")
        else:
            if m["estimator"] != "MLPRegressor" or m["classes"] is not None:
                raise ArtifactError("An mlp_regressor is an MLPRegressor without classes")
            if out_act not in ("identity", "exp"):
                raise ArtifactError(f"`out_activation` of a regressor must be identity or exp, got {out_act!r}")
            if m["output_1d"] and n_out != 1:
                raise ArtifactError("`output_1d` needs exactly one output")
        return cls(kind=m["kind"], estimator=m["estimator"], sizes=sizes, weights=weights, biases=biases,
                   activation=m["activation"], out_activation=out_act, feature_names=m["feature_names_in"],
                   classes=classes, output_1d=bool(m["output_1d"]))

    def __repr__(self) -> str:
        return (f"CompiledMLP(kind={self.kind!r}, sizes={self.sizes_.tolist()}, activation={self.activation!r}, "
                f"out_activation_={self.out_activation_!r})")


def convert_mlp(estimator) -> CompiledMLP:
    """Convert a fitted MLPClassifier (binary or multiclass) or MLPRegressor.

    Raises
    ------
    SchemaError
        A multilabel MLPClassifier, or an activation the converter does not know.
    NotFittedError
        The estimator is not fitted.
    """
    name = type(estimator).__name__
    if name not in MLP_ESTIMATORS:
        raise SchemaError(f"{name} is not MLPClassifier or MLPRegressor")
    if not hasattr(estimator, "coefs_"):
        raise NotFittedError(f"This {name} instance is not fitted yet: call fit before compile_model")
    if estimator.activation not in _HIDDEN:
        raise SchemaError(f"{name}(activation={estimator.activation!r}) is not supported; expected one of {_HIDDEN}")
    out_act = estimator.out_activation_
    sizes = [estimator.coefs_[0].shape[0]] + [c.shape[1] for c in estimator.coefs_]
    weights = np.concatenate([np.asarray(c, dtype=np.float64).ravel() for c in estimator.coefs_])
    biases = np.concatenate([np.asarray(b, dtype=np.float64).ravel() for b in estimator.intercepts_])
    names = _common.feature_names_of(estimator)
    if name == "MLPClassifier":
        lb = estimator._label_binarizer
        if lb.y_type_ not in ("binary", "multiclass"):
            raise SchemaError(f"MLPClassifier fitted on {lb.y_type_!r} targets is not supported: "
                              "only binary and multiclass")
        classes = np.asarray(estimator.classes_)
        want = ("logistic", 1) if len(classes) == 2 else ("softmax", len(classes))
        if (out_act, sizes[-1]) != want:
            raise SchemaError(f"MLPClassifier with {len(classes)} classes has output ({out_act!r}, {sizes[-1]}), "
                              f"expected {want}")
        return CompiledMLP(kind="mlp_classifier", estimator=name, sizes=np.array(sizes, dtype=np.int64),
                           weights=weights, biases=biases, activation=estimator.activation, out_activation=out_act,
                           feature_names=names, classes=classes, output_1d=False)
    if out_act not in ("identity", "exp"):
        raise SchemaError(f"MLPRegressor with out_activation_={out_act!r} is not supported")
    # scikit-learn ravels a single output column whatever the shape of y at fit time.
    return CompiledMLP(kind="mlp_regressor", estimator=name, sizes=np.array(sizes, dtype=np.int64),
                       weights=weights, biases=biases, activation=estimator.activation, out_activation=out_act,
                       feature_names=names, classes=None, output_1d=sizes[-1] == 1)
