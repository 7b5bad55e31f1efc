"""LightGBM boosters to :class:`~mlcore.train.trees.TreeEnsemble`.

Reads the booster's text model (thresholds printed with full precision), so every split is
reproduced bit for bit: numeric splits (``<=`` goes left), categorical bitsets, default
directions and the three missing types (None: NaN reads as 0; Zero: 0 and NaN take the default
direction; NaN: NaN takes it). LightGBM's predictor reads ``|x| <= 1e-35f`` as 0: that flush is
folded into the thresholds (:func:`~mlcore.train.tree_layout.snap_lightgbm`).
"""

from __future__ import annotations

import re

import numpy as np

from . import tree_layout as tl
from .trees import TreeEnsemble, make_model

__all__ = ["convert_lightgbm"]

_CAT_MASK = 1
_LEFT_MASK = 2


def _parse(text: str):
    head, _, rest = text.partition("\nTree=")
    header = {}
    for line in head.splitlines():
        if line.strip() == "average_output":
            header["average_output"] = "1"
        if "=" in line:
            k, _, v = line.partition("=")
            header[k.strip()] = v.strip()
    blocks = re.split(r"\nTree=\d+\n", "\nTree=" + rest)
    trees = []
    for blk in blocks:
        if not blk.strip():
            continue
        body = blk.split("\nend of trees")[0]
        d = {}
        for line in body.splitlines():
            if "=" in line:
                k, _, v = line.partition("=")
                d[k.strip()] = v.strip()
        if "num_leaves" in d:
            trees.append(d)
    return header, trees


def _arr(d, key, dtype):
    s = d.get(key, "")
    if not s:
        return np.zeros(0, dtype=dtype)
    return np.array([float(t) if dtype is float else int(t) for t in s.split()], dtype=dtype)


def _convert_tree(d, out):
    n_leaves = int(d["num_leaves"])
    leaf_value = _arr(d, "leaf_value", float)
    leaf_count = _arr(d, "leaf_count", float) if "leaf_count" in d else np.ones(n_leaves)
    if n_leaves == 1:
        return tl.SourceTree(
            left=np.array([-1]), right=np.array([-1]), feature=np.zeros(1, np.int64), mode=np.zeros(1, np.int64),
            thr=np.array([np.inf]), value=leaf_value[:1].reshape(1, 1), cats=[None], weight=np.ones(1), out=out)
    if d.get("is_linear", "0") not in ("0", ""):
        raise ValueError("LightGBM linear trees (linear_tree=True) are not supported by convert_tree_model")
    n_int = n_leaves - 1
    split_feature = _arr(d, "split_feature", int)
    threshold = _arr(d, "threshold", float)
    decision_type = _arr(d, "decision_type", int)
    left_child = _arr(d, "left_child", int)
    right_child = _arr(d, "right_child", int)
    internal_count = _arr(d, "internal_count", float) if "internal_count" in d else np.ones(n_int)
    cat_boundaries = _arr(d, "cat_boundaries", int)
    cat_threshold = _arr(d, "cat_threshold", int)
    # Canonical ids: internal nodes 0..n_int-1, leaf j at n_int + j.
    n = n_int + n_leaves

    def cid(c):
        return c if c >= 0 else n_int + (~c)

    left = np.full(n, -1, dtype=np.int64)
    right = np.full(n, -1, dtype=np.int64)
    feature = np.zeros(n, dtype=np.int64)
    mode = np.zeros(n, dtype=np.int64)
    thr = np.full(n, np.inf)
    cats: list = [None] * n
    value = np.zeros((n, 1))
    weight = np.zeros(n)
    thr[:n_int] = tl.snap_lightgbm(threshold)
    for i in range(n_int):
        left[i] = cid(left_child[i])
        right[i] = cid(right_child[i])
        feature[i] = split_feature[i]
        dt = int(decision_type[i])
        missing = (dt >> 2) & 3
        default_left = bool(dt & _LEFT_MASK)
        weight[i] = internal_count[i]
        if dt & _CAT_MASK:
            idx = int(threshold[i])
            words = cat_threshold[cat_boundaries[idx]:cat_boundaries[idx + 1]]
            codes = [32 * w + b for w, word in enumerate(words) for b in range(32) if (int(word) >> b) & 1]
            cats[i] = codes
            mode[i] = tl.CAT_TRUNC
            thr[i] = np.inf
        elif missing == 0:
            mode[i] = tl.MISSING_AS_ZERO
        elif missing == 1:
            mode[i] = tl.ZERO_LEFT if default_left else tl.ZERO_RIGHT
        else:
            mode[i] = tl.MISSING_LEFT if default_left else tl.MISSING_RIGHT
    value[n_int:, 0] = leaf_value
    weight[n_int:] = leaf_count
    has_cat = any(c is not None for c in cats)
    # Canonical layout wants node 0 as root: LightGBM's root is internal node 0 already.
    return tl.SourceTree(left=left, right=right, feature=feature, mode=mode, thr=thr, value=value,
                         cats=cats if has_cat else [], weight=weight, out=out)


def convert_lightgbm(model) -> TreeEnsemble:
    """Convert a LightGBM ``Booster`` or a fitted ``LGBMModel`` (classifier, regressor, ranker).

    Examples
    --------
    >>> import lightgbm as lgb, numpy as np
    >>> X = np.random.default_rng(0).normal(size=(200, 3)); y = X[:, 0] + X[:, 1]
    >>> bst = lgb.train({"verbose": -1, "num_leaves": 7}, lgb.Dataset(X, y), num_boost_round=5)
    >>> m = convert_lightgbm(bst)
    >>> bool(np.allclose(m.predict(np.asfortranarray(X)), bst.predict(X), atol=1e-9))
    True
    """
    import lightgbm as lgb  # noqa: PLC0415

    classes = None
    if isinstance(model, lgb.LGBMModel):
        booster = model.booster_
        if hasattr(model, "classes_"):
            classes = model.classes_
    elif isinstance(model, lgb.Booster):
        booster = model
    else:
        raise TypeError(f"Expected a lightgbm Booster or LGBMModel, got {type(model).__qualname__}")
    header, raw_trees = _parse(booster.model_to_string())
    n_class = int(header.get("num_class", "1"))
    per_iter = int(header.get("num_tree_per_iteration", "1"))
    n_features = int(header["max_feature_idx"]) + 1
    names = header.get("feature_names", "").split()
    if names and all(re.fullmatch(r"Column_\d+", nm) for nm in names):
        names = None
    objective = header.get("objective", "regression").split()
    obj = objective[0] if objective else "regression"
    params = dict(p.split(":", 1) for p in objective[1:] if ":" in p)
    average = "average_output" in header
    trees = [_convert_tree(d, i % per_iter) for i, d in enumerate(raw_trees)]
    n_out = per_iter
    if obj in ("binary", "cross_entropy", "xentropy"):
        task, post = "binary", "sigmoid"
        post_params = {"scale": float(params.get("sigmoid", 1.0))}
    elif obj in ("multiclass", "softmax"):
        task, post, post_params = "multiclass", "softmax", {}
    elif obj in ("multiclassova", "multiclass_ova", "ova", "ovr"):
        task, post = "multiclass", "ova_sigmoid"
        post_params = {"scale": float(params.get("sigmoid", 1.0))}
    elif obj in ("poisson", "gamma", "tweedie"):
        task, post, post_params = "regression", "exp", {}
    elif obj in ("regression", "regression_l2", "l2", "mean_squared_error", "mse", "regression_l1", "l1",
                 "huber", "fair", "quantile", "mape", "lambdarank", "rank_xendcg", "custom", "none"):
        task, post, post_params = "regression", "identity", {}
    else:
        raise ValueError(f"LightGBM objective {obj!r} is not supported by convert_tree_model")
    if average:
        raise ValueError("LightGBM random-forest mode (boosting='rf', average_output) is not supported yet")
    if task == "multiclass" and n_out != n_class:
        raise ValueError(f"LightGBM model has num_class={n_class} but {n_out} trees per iteration")
    if classes is None and task in ("binary", "multiclass"):
        classes = np.arange(max(n_class, 2))
    return make_model(source="lightgbm", task=task, post=post, trees=trees, n_val=1, n_outputs=n_out,
                      n_features=n_features, base=np.zeros(n_out), feature_names=names, classes=classes,
                      post_params=post_params, estimator="LightGBM " + type(model).__name__)
