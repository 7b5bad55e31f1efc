"""``compile_model``: a fitted estimator in, mlcore's compiled model out (a closed list of classes).

Linear and MLP estimators convert here; tree ensembles (scikit-learn trees and forests,
gradient boosting, LightGBM, XGBoost) convert in ``mlcore.train.trees``, imported only when such
a model is asked for. ``load_model`` rebuilds any compiled model from its saved
``(manifest, arrays)`` by its ``kind``, again from a closed list.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from ..errors import ArtifactError, SchemaError
from .linear import LINEAR_CLASSIFIERS, LINEAR_REGRESSORS
from .mlp import MLP_ESTIMATORS

__all__ = ["compile_model", "load_model", "SUPPORTED_ESTIMATORS"]

#: (module the class must come from, class name) -> family. Exact classes only: a subclass may
#: override predict, and a silently different prediction is worse than an error.
_SKLEARN_LINEAR = {("sklearn.linear_model", n): "linear" for n in LINEAR_REGRESSORS + LINEAR_CLASSIFIERS}
_SKLEARN_LINEAR[("sklearn.svm", "LinearSVC")] = "linear"
_SKLEARN_LINEAR[("sklearn.svm", "LinearSVR")] = "linear"
del _SKLEARN_LINEAR[("sklearn.linear_model", "LinearSVC")]
del _SKLEARN_LINEAR[("sklearn.linear_model", "LinearSVR")]

_TREES = [
    ("sklearn.tree", "DecisionTreeClassifier"), ("sklearn.tree", "DecisionTreeRegressor"),
    ("sklearn.tree", "ExtraTreeClassifier"), ("sklearn.tree", "ExtraTreeRegressor"),
    ("sklearn.ensemble", "RandomForestClassifier"), ("sklearn.ensemble", "RandomForestRegressor"),
    ("sklearn.ensemble", "ExtraTreesClassifier"), ("sklearn.ensemble", "ExtraTreesRegressor"),
    ("sklearn.ensemble", "GradientBoostingClassifier"), ("sklearn.ensemble", "GradientBoostingRegressor"),
    ("sklearn.ensemble", "HistGradientBoostingClassifier"), ("sklearn.ensemble", "HistGradientBoostingRegressor"),
    ("sklearn.ensemble", "IsolationForest"),
    ("lightgbm", "LGBMClassifier"), ("lightgbm", "LGBMRegressor"), ("lightgbm", "LGBMRanker"),
    ("lightgbm", "Booster"),
    ("xgboost", "XGBClassifier"), ("xgboost", "XGBRegressor"), ("xgboost", "XGBRanker"), ("xgboost", "Booster"),
]

SUPPORTED_ESTIMATORS: dict[tuple[str, str], str] = {
    **_SKLEARN_LINEAR,
    **{("sklearn.neural_network", n): "mlp" for n in MLP_ESTIMATORS},
    **{k: "trees" for k in _TREES},
}

#: Compiled model kinds that this module loads itself; others go to the trees module.
_LINEAR_KINDS = ("linear_regressor", "linear_classifier")
_MLP_KINDS = ("mlp_regressor", "mlp_classifier")


def _family(estimator) -> tuple[str, str]:
    cls = type(estimator)
    for (module, name), family in SUPPORTED_ESTIMATORS.items():
        if cls.__name__ == name and (cls.__module__ == module or cls.__module__.startswith(module + ".")):
            public = sys.modules.get(module)
            if public is not None and getattr(public, name, None) is cls:
                return family, name
    supported = sorted({n for (_, n) in SUPPORTED_ESTIMATORS})
    raise SchemaError(
        f"Unsupported estimator {cls.__module__}.{cls.__qualname__}: compile_model converts exactly "
        f"these classes (subclasses excluded): {', '.join(supported)}"
    )


def compile_model(estimator: Any):
    """Convert a fitted estimator into mlcore's compiled form (arrays + Numba kernels).

    Parameters
    ----------
    estimator
        A fitted instance of one of ``SUPPORTED_ESTIMATORS``: scikit-learn's LinearRegression,
        Ridge, Lasso, ElasticNet, LogisticRegression, SGDClassifier, SGDRegressor, LinearSVC,
        LinearSVR, MLPClassifier, MLPRegressor, and the tree ensembles of ``mlcore.train.trees``.

    Returns
    -------
    CompiledLinear, CompiledMLP or a compiled tree model
        With ``predict``, ``predict_proba``/``decision_function`` where the source has them,
        single-row ``*_row`` methods, and ``to_arrays``/``from_arrays``.

    Raises
    ------
    SchemaError
        For any other class (subclasses included), or a fitted state the converter does not
        handle; the message names the class or the parameter.
    NotFittedError
        When the estimator is not fitted.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> from mlcore.train import compile_model
    >>> m = compile_model(LinearRegression().fit(np.eye(2), [1.0, 3.0]))
    >>> m.kind
    'linear_regressor'
    >>> compile_model(object())
    Traceback (most recent call last):
    ...
    mlcore.errors.SchemaError: Unsupported estimator builtins.object: ...
    """
    family, name = _family(estimator)
    if family == "linear":
        from .linear import convert_linear

        return convert_linear(estimator)
    if family == "mlp":
        from .mlp import convert_mlp

        return convert_mlp(estimator)
    try:
        from .trees import convert_tree_model
    except ImportError as exc:
        raise SchemaError(
            f"{name} is a tree ensemble, and the tree converters (mlcore.train.trees) are not "
            f"available in this installation: {exc}"
        ) from exc
    return convert_tree_model(estimator)


def load_model(manifest: dict, arrays: dict[str, np.ndarray]):
    """Rebuild a compiled model from ``(manifest, arrays)`` (see each model's ``to_arrays``).

    Only the kinds in the closed lists are loaded; anything else is an ``ArtifactError``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> from mlcore.train import compile_model, load_model
    >>> m = compile_model(Ridge().fit(np.eye(2), [1.0, 3.0]))
    >>> load_model(*m.to_arrays()).kind
    'linear_regressor'
    """
    kind = manifest.get("kind") if isinstance(manifest, dict) else None
    if kind in _LINEAR_KINDS:
        from .linear import CompiledLinear

        return CompiledLinear.from_arrays(manifest, arrays)
    if kind in _MLP_KINDS:
        from .mlp import CompiledMLP

        return CompiledMLP.from_arrays(manifest, arrays)
    try:
        from . import trees
    except ImportError:
        trees = None
    loader = getattr(trees, "load_tree_model", None) if trees is not None else None
    if loader is not None and kind in getattr(trees, "KINDS", ()):
        return loader(manifest, arrays)
    raise ArtifactError(f"Unknown model kind {kind!r}; this mlcore loads {list(_LINEAR_KINDS + _MLP_KINDS)}"
                        + (" and the tree kinds" if trees is not None else ""))
