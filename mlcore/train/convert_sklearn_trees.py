"""scikit-learn tree models to :class:`~mlcore.train.trees.TreeEnsemble`.

scikit-learn's ``tree_`` models read X as float32 and send a row left when
``float32(x) <= threshold`` (threshold float64), NaN following ``missing_go_to_left``; the
thresholds are snapped (:func:`~mlcore.train.tree_layout.snap_f32_gt`) so that float64 inputs
route exactly as scikit-learn's cast would. HistGradientBoosting reads float64 and
``x <= threshold`` directly; its categorical splits use bitsets of raw category codes, with
negative, unknown and missing categories sent the missing direction.
"""

from __future__ import annotations

import numpy as np

from . import tree_layout as tl
from .trees import TreeEnsemble, make_model

__all__ = ["convert_sklearn"]


def _flags(model):
    """What the source accepts: scikit-learn refuses infinities (HistGradientBoosting excepted)
    and NaN where its tags say so; the compiled model refuses the same."""
    from sklearn import ensemble  # noqa: PLC0415

    hgb = isinstance(model, (ensemble.HistGradientBoostingClassifier, ensemble.HistGradientBoostingRegressor))
    return {"allow_nan": bool(model.__sklearn_tags__().input_tags.allow_nan), "allow_inf": hgb,
            "estimator": type(model).__name__}


def _names(model):
    names = getattr(model, "feature_names_in_", None)
    return None if names is None else [str(n) for n in names]


def _tree(t, *, value_fn, out=0, feature_map=None):
    """A fitted ``sklearn.tree._tree.Tree`` as a canonical SourceTree."""
    left = t.children_left.astype(np.int64)
    right = t.children_right.astype(np.int64)
    leaf = left < 0
    feature = t.feature.astype(np.int64).copy()
    feature[leaf] = 0
    if feature_map is not None:
        feature[~leaf] = np.asarray(feature_map, dtype=np.int64)[feature[~leaf]]
    thr = np.full(left.size, np.inf)
    thr[~leaf] = tl.snap_f32_gt(t.threshold[~leaf])
    mgl = getattr(t, "missing_go_to_left", None)
    if mgl is None:
        mgl = np.zeros(left.size, dtype=np.uint8)
    mode = np.where(np.asarray(mgl) != 0, tl.MISSING_LEFT, tl.MISSING_RIGHT).astype(np.int64)
    mode[leaf] = 0
    left[leaf] = -1
    right[leaf] = -1
    return tl.SourceTree(left=left, right=right, feature=feature, mode=mode, thr=thr, value=value_fn(t),
                         weight=t.n_node_samples.astype(np.float64), out=out)


def _class_fractions(t):
    v = t.value[:, 0, :].astype(np.float64)
    norm = v.sum(axis=1, keepdims=True)
    norm[norm == 0.0] = 1.0
    return v / norm


def _regression_value(t):
    return t.value[:, 0, :1].astype(np.float64)


def _check_single_output(model):
    n_out = getattr(model, "n_outputs_", 1)
    if n_out != 1:
        raise ValueError(f"{type(model).__name__} with n_outputs_={n_out} (multi-output) is not supported; "
                         "expected a single target")


def convert_sklearn(model) -> TreeEnsemble:
    """Convert a fitted scikit-learn tree model (see :func:`~mlcore.train.trees.convert_tree_model`).

    Examples
    --------
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> import numpy as np
    >>> X = np.asfortranarray(np.random.default_rng(1).normal(size=(40, 2))); y = X[:, 1] > 0
    >>> m = convert_sklearn(DecisionTreeClassifier().fit(X, y))
    >>> m.predict_proba(X).shape
    (40, 2)
    """
    from sklearn import ensemble, tree  # noqa: PLC0415

    if not hasattr(model, "n_features_in_"):
        raise ValueError(f"{type(model).__name__} is not fitted; call fit first")
    nf = int(model.n_features_in_)
    names = _names(model)
    if isinstance(model, tree.BaseDecisionTree):
        _check_single_output(model)
        if hasattr(model, "classes_"):
            k = int(model.n_classes_)
            st = _tree(model.tree_, value_fn=_class_fractions)
            return make_model(**_flags(model), source="sklearn", task="binary" if k == 2 else "multiclass", post="average",
                              post_params={"divisor": 1}, trees=[st], n_val=k, n_outputs=k, n_features=nf,
                              base=np.zeros(k), feature_names=names, classes=model.classes_)
        st = _tree(model.tree_, value_fn=_regression_value)
        return make_model(**_flags(model), source="sklearn", task="regression", post="identity", trees=[st], n_val=1,
                          n_outputs=1, n_features=nf, base=np.zeros(1), feature_names=names)
    if isinstance(model, ensemble.IsolationForest):
        return _iforest(model, nf, names)
    if isinstance(model, (ensemble.RandomForestClassifier, ensemble.ExtraTreesClassifier,
                          ensemble.RandomForestRegressor, ensemble.ExtraTreesRegressor)):
        _check_single_output(model)
        n = len(model.estimators_)
        if hasattr(model, "classes_"):
            k = int(model.n_classes_)
            trees = [_tree(e.tree_, value_fn=_class_fractions) for e in model.estimators_]
            return make_model(**_flags(model), source="sklearn", task="binary" if k == 2 else "multiclass", post="average",
                              post_params={"divisor": n}, trees=trees, n_val=k, n_outputs=k, n_features=nf,
                              base=np.zeros(k), feature_names=names, classes=model.classes_)
        trees = [_tree(e.tree_, value_fn=_regression_value) for e in model.estimators_]
        return make_model(**_flags(model), source="sklearn", task="regression", post="average", post_params={"divisor": n},
                          trees=trees, n_val=1, n_outputs=1, n_features=nf, base=np.zeros(1),
                          feature_names=names)
    if isinstance(model, (ensemble.GradientBoostingClassifier, ensemble.GradientBoostingRegressor)):
        return _gradient_boosting(model, nf, names)
    if isinstance(model, (ensemble.HistGradientBoostingClassifier, ensemble.HistGradientBoostingRegressor)):
        return _hist_gradient_boosting(model, nf, names)
    raise TypeError(f"convert_tree_model does not support scikit-learn's {type(model).__name__}; expected a "
                    "DecisionTree, RandomForest, ExtraTrees, GradientBoosting, HistGradientBoosting or "
                    "IsolationForest model")


def _gradient_boosting(model, nf, names):
    init = model.init_
    if not (isinstance(init, str) and init == "zero") and type(init).__module__ != "sklearn.dummy":
        raise ValueError(f"GradientBoosting with a custom init estimator ({type(init).__name__}) is not supported; "
                         "expected init=None or 'zero'")
    base = np.asarray(model._raw_predict_init(np.zeros((1, nf), dtype=np.float32)), dtype=np.float64)[0]
    lr = float(model.learning_rate)
    est = model.estimators_
    n_stages, k = est.shape
    trees = []
    for i in range(n_stages):
        for j in range(k):
            trees.append(_tree(est[i, j].tree_, value_fn=lambda t: lr * _regression_value(t), out=j))
    if hasattr(model, "classes_"):
        n_classes = int(model.n_classes_)
        if model.loss == "exponential":
            post, params = "sigmoid", {"scale": 2.0}
        elif n_classes == 2:
            post, params = "sigmoid", {"scale": 1.0}
        else:
            post, params = "softmax", {}
        params["binary_rule"] = 1  # sklearn decides binary classes by raw > 0
        return make_model(**_flags(model), source="sklearn", task="binary" if n_classes == 2 else "multiclass", post=post,
                          post_params=params, trees=trees, n_val=1, n_outputs=k, n_features=nf, base=base,
                          feature_names=names, classes=model.classes_)
    return make_model(**_flags(model), source="sklearn", task="regression", post="identity", trees=trees, n_val=1, n_outputs=1,
                      n_features=nf, base=base, feature_names=names)


def _hist_gradient_boosting(model, nf, names):
    known, f_idx_map = model._bin_mapper.make_known_categories_bitsets()
    pre = getattr(model, "_preprocessor", None)
    orig_of = np.arange(nf)
    categories = {}
    if pre is not None:
        # The OrdinalEncoder's columns come first in the transformed matrix, then the numeric ones.
        is_cat = np.asarray(model.is_categorical_, dtype=bool)
        orig_of = np.concatenate([np.flatnonzero(is_cat), np.flatnonzero(~is_cat)])
        enc = pre.named_transformers_["encoder"]
        for j, cats in enumerate(enc.categories_):
            cats = np.asarray(cats)
            if not np.issubdtype(cats.dtype, np.number):
                raise ValueError(
                    f"HistGradientBoosting categorical feature {names[orig_of[j]] if names else orig_of[j]} has "
                    f"non-numeric categories ({cats.dtype}); convert_tree_model needs numeric category values")
            cats = cats.astype(np.float64)
            categories[j] = cats[~np.isnan(cats)]
    trees = []
    for preds in model._predictors:
        for j, p in enumerate(preds):
            trees.append(_hgb_tree(p, j, known, f_idx_map, orig_of, categories))
    base = np.asarray(model._baseline_prediction, dtype=np.float64).reshape(-1)
    k = base.size
    link = type(model._loss.link).__name__
    if hasattr(model, "classes_"):
        n_classes = len(model.classes_)
        post = "sigmoid" if n_classes == 2 else "softmax"
        return make_model(**_flags(model), source="sklearn", task="binary" if n_classes == 2 else "multiclass", post=post,
                          post_params={"scale": 1.0} if n_classes == 2 else {}, trees=trees, n_val=1,
                          n_outputs=k, n_features=nf, base=base, feature_names=names, classes=model.classes_)
    if link == "IdentityLink":
        post = "identity"
    elif link == "LogLink":
        post = "exp"
    else:
        raise ValueError(f"HistGradientBoostingRegressor with link {link} is not supported")
    return make_model(**_flags(model), source="sklearn", task="regression", post=post, trees=trees, n_val=1, n_outputs=1,
                      n_features=nf, base=base, feature_names=names)


def _bits(words):
    return [32 * w + b for w, word in enumerate(np.asarray(words)) for b in range(32) if (int(word) >> b) & 1]


def _hgb_tree(pred, out, known, f_idx_map, orig_of, categories):
    nodes = pred.nodes
    n = nodes.shape[0]
    is_leaf = nodes["is_leaf"].astype(bool)
    left = np.where(is_leaf, -1, nodes["left"].astype(np.int64))
    right = np.where(is_leaf, -1, nodes["right"].astype(np.int64))
    fidx = np.where(is_leaf, 0, nodes["feature_idx"].astype(np.int64))
    feature = orig_of[fidx]
    mgl = nodes["missing_go_to_left"].astype(bool)
    thr = np.where(is_leaf, np.inf, nodes["num_threshold"].astype(np.float64))
    mode = np.where(mgl, tl.MISSING_LEFT, tl.MISSING_RIGHT).astype(np.int64)
    cats: list = [None] * n
    is_cat = nodes["is_categorical"].astype(bool) & ~is_leaf
    for i in np.flatnonzero(is_cat):
        j = int(fidx[i])
        left_codes = set(_bits(pred.raw_left_cat_bitsets[nodes["bitset_idx"][i]]))
        known_codes = set(_bits(known[f_idx_map[j]]))
        miss = 0 if mgl[i] else 1
        if j in categories:
            # Raw value -> ordinal code by exact match; unknown values and NaN go the missing way.
            vals = categories[j]
            sides = np.array([0 if c in left_codes else (1 if c in known_codes else miss) for c in range(vals.size)])
            cats[i] = tl.PointSplit(points=vals, sides=sides, other=miss)
            mode[i] = tl.MISSING_LEFT  # NaN -> -inf, which lies in the 'other' run
        else:
            if mgl[i]:
                # Negative (-1), unknown and >= 256 (code 256) categories follow the missing direction.
                left_codes |= {-1, 256} | (set(range(256)) - known_codes)
            cats[i] = sorted(left_codes)
            mode[i] = tl.CAT_NEG_MISSING
        thr[i] = np.inf
    value = nodes["value"].astype(np.float64).reshape(n, 1)
    return tl.SourceTree(left=left, right=right, feature=feature, mode=mode, thr=thr, value=value,
                         cats=cats if is_cat.any() else [], weight=nodes["count"].astype(np.float64), out=out)


def _iforest(model, nf, names):
    from sklearn.ensemble._iforest import _average_path_length  # noqa: PLC0415

    subsample = model._max_features != nf
    trees = []
    for t_idx, (e, feats) in enumerate(zip(model.estimators_, model.estimators_features_)):
        dpl = np.asarray(model._decision_path_lengths[t_idx], dtype=np.float64)
        apl = np.asarray(model._average_path_length_per_tree[t_idx], dtype=np.float64)
        trees.append(_tree(e.tree_, value_fn=lambda t, d=dpl, a=apl: (d + a - 1.0).reshape(-1, 1),
                           feature_map=feats if subsample else None))
    denom = float(len(model.estimators_) * _average_path_length([model._max_samples])[0])
    return make_model(**_flags(model), source="sklearn", task="anomaly", post="iforest",
                      post_params={"denominator": denom, "offset": float(model.offset_)}, trees=trees, n_val=1,
                      n_outputs=1, n_features=nf, base=np.zeros(1), feature_names=names)
