"""XGBoost models (their JSON form) to :class:`~mlcore.train.trees.TreeEnsemble`.

XGBoost reads inputs as float32 and sends a row left when ``float32(x) < split_condition``, NaN
following ``default_left``. The thresholds are snapped (:func:`~mlcore.train.tree_layout.snap_f32_ge`)
so that float64 inputs route exactly as XGBoost's cast would. XGBoost sums leaf values in
float32; mlcore sums them in float64, so margins agree to float32 rounding (about 1e-7 relative).
"""

from __future__ import annotations

import json
import math

import numpy as np

from . import tree_layout as tl
from .trees import TreeEnsemble, make_model

__all__ = ["convert_xgboost"]

_LOGIT = ("binary:logistic", "reg:logistic", "binary:logitraw")
_LOG = ("count:poisson", "reg:gamma", "reg:tweedie")
_IDENTITY = ("reg:squarederror", "reg:squaredlogerror", "reg:pseudohubererror", "reg:absoluteerror",
             "reg:quantileerror", "reg:linear", "rank:pairwise", "rank:ndcg", "rank:map", "multi:softprob",
             "multi:softmax")


def _tree(t, out):
    left = np.asarray(t["left_children"], dtype=np.int64)
    right = np.asarray(t["right_children"], dtype=np.int64)
    n = left.size
    if any(int(s) != 0 for s in t.get("split_type", [])):
        raise ValueError("XGBoost categorical splits are not supported by convert_tree_model; "
                         "one-hot or ordinal-encode the categories")
    leaf = left < 0
    cond = np.asarray(t["split_conditions"], dtype=np.float64).astype(np.float32)
    feature = np.where(leaf, 0, np.asarray(t["split_indices"], dtype=np.int64))
    thr = np.full(n, np.inf)
    thr[~leaf] = tl.snap_f32_ge(cond[~leaf])
    dl = np.asarray(t["default_left"], dtype=np.int64) != 0
    mode = np.where(dl, tl.MISSING_LEFT, tl.MISSING_RIGHT).astype(np.int64)
    value = np.where(leaf, cond.astype(np.float64), 0.0).reshape(n, 1)
    weight = np.asarray(t.get("sum_hessian", np.ones(n)), dtype=np.float64)
    return tl.SourceTree(left=np.where(leaf, -1, left), right=np.where(leaf, -1, right), feature=feature,
                         mode=mode, thr=thr, value=value, weight=weight, out=out)


def _floats(s):
    s = s.strip()
    if s.startswith("["):
        s = s[1:-1]
    return [float(v) for v in s.split(",") if v.strip()]


def convert_xgboost(model) -> TreeEnsemble:
    """Convert an XGBoost ``Booster`` or a fitted ``XGBModel`` (gbtree booster, numeric splits).

    Examples
    --------
    >>> import xgboost as xgb, numpy as np
    >>> X = np.random.default_rng(0).normal(size=(200, 3)); y = X[:, 0] > 0
    >>> bst = xgb.train({"objective": "binary:logistic", "max_depth": 3}, xgb.DMatrix(X, y), 5)
    >>> m = convert_xgboost(bst)
    >>> bool(np.allclose(m.predict_proba(np.asfortranarray(X))[:, 1], bst.predict(xgb.DMatrix(X)), atol=1e-6))
    True
    """
    import xgboost as xgb  # noqa: PLC0415

    classes = None
    n_iter = None
    if isinstance(model, xgb.XGBModel):
        booster = model.get_booster()
        classes = getattr(model, "classes_", None)
        best = getattr(model, "best_iteration", None) if getattr(model, "early_stopping_rounds", None) else None
        if best is not None:
            n_iter = int(best) + 1
    elif isinstance(model, xgb.Booster):
        booster = model
    else:
        raise TypeError(f"Expected an xgboost Booster or XGBModel, got {type(model).__qualname__}")
    doc = json.loads(bytes(booster.save_raw("json")))
    learner = doc["learner"]
    gb = learner["gradient_booster"]
    if gb.get("name") != "gbtree":
        raise ValueError(f"XGBoost booster {gb.get('name')!r} is not supported; expected 'gbtree'")
    m = gb["model"]
    params = learner["learner_model_param"]
    obj = learner["objective"]["name"]
    n_features = int(params["num_feature"])
    n_class = int(params.get("num_class", "0"))
    if int(params.get("num_target", "1")) != 1:
        raise ValueError("multi-target XGBoost models are not supported")
    trees_json = m["trees"]
    info = m["tree_info"]
    if n_iter is not None and "iteration_indptr" in m:
        trees_json = trees_json[: m["iteration_indptr"][n_iter]]
    n_out = max(n_class, 1)
    trees = [_tree(t, int(info[i])) for i, t in enumerate(trees_json)]
    base_score = _floats(params["base_score"])
    if len(base_score) == 1:
        base_score = base_score * n_out
    if obj in _LOGIT:
        base = [math.log(b / (1.0 - b)) for b in base_score]
    elif obj in _LOG:
        base = [math.log(b) for b in base_score]
    elif obj in _IDENTITY:
        base = list(base_score)
    else:
        raise ValueError(f"XGBoost objective {obj!r} is not supported by convert_tree_model")
    base = [float(np.float32(b)) for b in base]  # XGBoost keeps its margin base in float32
    if obj in ("binary:logistic",):
        task, post = "binary", "sigmoid"
    elif obj == "binary:logitraw":
        task, post = "binary", "identity"
    elif obj.startswith("multi:"):
        task, post = "multiclass", "softmax"
    elif obj == "reg:logistic":
        task, post = "regression", "sigmoid"
    elif obj in _LOG:
        task, post = "regression", "exp"
    else:
        task, post = "regression", "identity"
    if task == "binary" and post == "identity":
        raise ValueError("XGBoost objective 'binary:logitraw' has no probabilities; not supported")
    if classes is None and task in ("binary", "multiclass"):
        classes = np.arange(max(n_out, 2))
    names = booster.feature_names
    return make_model(source="xgboost", task=task, post=post, post_params={"scale": 1.0} if post == "sigmoid" else {},
                      trees=trees, n_val=1, n_outputs=n_out, n_features=n_features, base=np.asarray(base),
                      feature_names=list(names) if names else None, classes=classes,
                      allow_nan=True, allow_inf=False, estimator="XGBoost " + type(model).__name__)
