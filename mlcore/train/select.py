"""Model selection: candidate estimators × hyper-parameter grids, ranked by a named metric.

Validation is k-fold cross-validation (stratified for classifiers) or a time-based split (train
on the earliest rows, validate on the latest ``validation_fraction`` by ``time_column``). The
feature matrix is built once from the Arrow columns; every candidate's fold scores are kept, and
the best candidate is refitted on all rows.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import _arrow
from ..errors import SchemaError, ShapeError
from .fit import _feature_names, feature_matrix, fit_matrix, target_vector
from .progress import Progress

__all__ = ["select_model", "SelectionResult", "CandidateScore"]


@dataclass
class CandidateScore:
    """One candidate: an estimator class with one set of hyper-parameters, and its scores."""

    name: str
    params: dict
    fold_scores: list[float]
    mean_score: float
    std_score: float
    fit_seconds: float
    error: str | None = None
    rank: int = 0


@dataclass
class SelectionResult:
    """Every candidate's scores, ranked (best first), and the best estimator refitted on all rows.

    ``metric`` follows scikit-learn's scorer names: greater is better (losses are ``neg_*``).
    """

    metric: str
    validation: str
    candidates: list[CandidateScore]
    best_estimator_: Any = None
    feature_names: list[str] = field(default_factory=list)

    @property
    def best(self) -> CandidateScore:
        return self.candidates[0]

    @property
    def best_params_(self) -> dict:
        return dict(self.best.params)

    @property
    def best_score_(self) -> float:
        return self.best.mean_score

    def to_table(self) -> pa.Table:
        """The ranking as an Arrow table: rank, name, params (JSON text), mean, std, folds, fit seconds, error."""
        import json

        return pa.table({
            "rank": [c.rank for c in self.candidates],
            "name": [c.name for c in self.candidates],
            "params": [json.dumps(c.params, default=repr, sort_keys=True) for c in self.candidates],
            f"mean_{self.metric}": [c.mean_score for c in self.candidates],
            f"std_{self.metric}": [c.std_score for c in self.candidates],
            "fold_scores": pa.array([c.fold_scores for c in self.candidates], type=pa.list_(pa.float64())),
            "fit_seconds": [c.fit_seconds for c in self.candidates],
            "error": [c.error for c in self.candidates],
        })


def _candidates(candidates) -> list[tuple[str, Any, list[dict]]]:
    from sklearn.base import clone
    from sklearn.model_selection import ParameterGrid

    if isinstance(candidates, dict):
        items = list(candidates.items())
    elif isinstance(candidates, (list, tuple)):
        items = [(None, c) for c in candidates]
    else:
        items = [(None, candidates)]
    out = []
    for name, item in items:
        if isinstance(item, tuple):
            if len(item) != 2:
                raise TypeError(f"A candidate is an estimator or (estimator, param_grid), got a {len(item)}-tuple")
            est, grid = item
        else:
            est, grid = item, {}
        if not hasattr(est, "fit") or not hasattr(est, "get_params"):
            raise TypeError(f"A candidate must be a scikit-learn-compatible estimator, got {type(est).__name__}")
        clone(est)  # fails early on estimators that cannot be cloned
        try:
            grid_list = list(ParameterGrid(grid))
        except (TypeError, ValueError) as exc:
            raise TypeError(f"Bad param_grid for {type(est).__name__}: {exc}") from exc
        valid = set(est.get_params())
        for params in grid_list:
            unknown = sorted(set(params) - valid)
            if unknown:
                raise SchemaError(f"{type(est).__name__} has no parameter(s) {unknown}; it has {sorted(valid)}")
        out.append((name or type(est).__name__, est, grid_list))
    if not out:
        raise ValueError("`candidates` is empty")
    return out


def _splits(X, y, *, classifier: bool, cv, time_order, validation_fraction, shuffle, random_state,
            time_splits=1):
    n = X.shape[0]
    if time_order is not None and time_splits > 1:
        from sklearn.model_selection import TimeSeriesSplit

        folds = TimeSeriesSplit(n_splits=time_splits).split(time_order)
        splits = [(time_order[tr], time_order[va]) for tr, va in folds]
        return splits, f"{time_splits} expanding-window time splits"
    if time_order is not None:
        if not 0.0 < validation_fraction < 1.0:
            raise ValueError(f"`validation_fraction` must be in (0, 1), got {validation_fraction!r}")
        n_val = int(math.ceil(n * validation_fraction))
        if n_val < 1 or n - n_val < 1:
            raise ShapeError(f"{n} rows cannot be split into train and validation with fraction {validation_fraction}")
        label = f"time split ({n - n_val} train / {n_val} validation rows)"
        return [(time_order[:n - n_val], time_order[n - n_val:])], label
    from sklearn.model_selection import KFold, StratifiedKFold

    if isinstance(cv, int):
        if cv < 2:
            raise ValueError(f"`cv` must be at least 2 folds, got {cv}")
        kw = dict(n_splits=cv, shuffle=shuffle, random_state=random_state if shuffle else None)
        splitter = StratifiedKFold(**kw) if classifier else KFold(**kw)
        label = f"{cv}-fold {'stratified ' if classifier else ''}cross-validation"
    elif hasattr(cv, "split"):
        splitter = cv
        label = type(cv).__name__
    else:
        raise TypeError(f"`cv` must be a number of folds or a scikit-learn splitter, got {cv!r}")
    return list(splitter.split(X, y)), label


def select_model(candidates, data: Any, *, target: str, features: Sequence[str] | None = None,
                 metric: str | None = None, cv: Any = 5, time_column: str | None = None,
                 validation_fraction: float = 0.2, time_splits: int = 1, shuffle: bool = False,
                 random_state: int | None = 0, refit: bool = True, progress: bool | None = None) -> SelectionResult:
    """Fit every candidate × hyper-parameter set, score it, rank them and refit the best.

    Parameters
    ----------
    candidates
        An estimator, a list of estimators or ``(estimator, param_grid)`` pairs, or a dict
        ``name -> estimator | (estimator, param_grid)``. ``param_grid`` is a dict of lists (or a
        list of such dicts), as scikit-learn's ``ParameterGrid``.
    data
        Any table mlcore reads (Arrow, Polars, DuckDB, pandas, dict).
    target : str
        The target column.
    features : list of str, optional
        Feature columns; default every column but the target and ``time_column``.
    metric : str, optional
        A scikit-learn scorer name (``"accuracy"``, ``"roc_auc"``, ``"neg_log_loss"``, ``"r2"``,
        ``"neg_mean_squared_error"``, …); greater is better. Default: accuracy for classifiers,
        r2 for regressors (of the first candidate).
    cv : int or splitter
        Folds of cross-validation (stratified for classifiers) when ``time_column`` is None.
    time_column : str, optional
        Validate on the latest ``validation_fraction`` of rows by this column (ties keep row order),
        train on the rest.
    time_splits : int
        With ``time_column``: more than 1 gives that many expanding-window splits (scikit-learn's
        ``TimeSeriesSplit`` over the rows in time order) instead of one validation fraction.
    refit : bool
        Refit the best candidate on every row (``best_estimator_``).
    progress : bool, optional
        Show a progress line per fit (default: on a terminal).

    Returns
    -------
    SelectionResult
        ``candidates`` ranked best first (failed fits last, with their error), ``best_estimator_``.

    Examples
    --------
    >>> import numpy as np, pyarrow as pa
    >>> from sklearn.linear_model import LogisticRegression, RidgeClassifier
    >>> from mlcore.train import select_model
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=200)
    >>> t = pa.table({"x": x, "noise": rng.normal(size=200), "y": (x > 0).astype(np.int64)})
    >>> res = select_model({"logreg": (LogisticRegression(), {"C": [0.01, 1.0]}),
    ...                     "ridge": RidgeClassifier()}, t, target="y", cv=3, progress=False)
    >>> len(res.candidates), res.best.name in ("logreg", "ridge")
    (3, True)
    """
    from sklearn.base import clone, is_classifier
    from sklearn.metrics import check_scoring, get_scorer

    cands = _candidates(candidates)
    table = _arrow.as_table(data)
    exclude = (time_column,) if time_column else ()
    names = _feature_names(table, target, features, exclude=exclude)
    if time_column is not None and time_column in names:
        raise SchemaError(f"The time column `{time_column}` is also a feature; leave it out of `features`")
    X, names = feature_matrix(table, names)
    y = target_vector(table, target)
    time_order = None
    if time_column is not None:
        tcol = _arrow.get_column(table, time_column)
        if tcol.null_count:
            raise SchemaError(f"Time column `{time_column}` has {tcol.null_count} null value(s)")
        time_order = pc.sort_indices(tcol).to_numpy()  # stable: ties keep row order
    classifier = is_classifier(cands[0][1])
    if metric is None:
        metric = "accuracy" if classifier else "r2"
    try:
        scorer = get_scorer(metric)
    except ValueError as exc:
        raise ValueError(f"Unknown metric {metric!r}: use a scikit-learn scorer name ({exc})") from None
    splits, validation = _splits(X, y, classifier=classifier, cv=cv, time_order=time_order,
                                 validation_fraction=validation_fraction, shuffle=shuffle,
                                 random_state=random_state, time_splits=time_splits)
    total = sum(len(g) for _, _, g in cands) * len(splits)
    bar = Progress(total, enabled=progress)
    results: list[CandidateScore] = []
    for name, est, grid in cands:
        check_scoring(est, scoring=scorer)
        for params in grid:
            scores, seconds, error = [], 0.0, None
            label = name + (f"({', '.join(f'{k}={v!r}' for k, v in params.items())})" if params else "")
            for i, (tr, va) in enumerate(splits):
                model = clone(est).set_params(**params)
                t0 = time.perf_counter()
                try:
                    model.fit(X[tr], y[tr])
                    scores.append(float(scorer(model, X[va], y[va])))
                except Exception as exc:  # a failing candidate is recorded and ranked last, as in sklearn
                    error = f"{type(exc).__name__}: {exc}"
                seconds += time.perf_counter() - t0
                bar.step(f"{label} fold {i + 1}/{len(splits)}")
                if error is not None:
                    for _ in range(i + 1, len(splits)):
                        bar.step(f"{label} skipped")
                    break
            ok = error is None and scores and all(np.isfinite(scores))
            results.append(CandidateScore(
                name=name, params=dict(params), fold_scores=scores,
                mean_score=float(np.mean(scores)) if ok else float("nan"),
                std_score=float(np.std(scores)) if ok else float("nan"),
                fit_seconds=seconds, error=error,
            ))
    bar.close()
    # Stable sort: equal scores keep the order in which candidates were given.
    order = sorted(range(len(results)), key=lambda i: (math.isnan(results[i].mean_score), -results[i].mean_score
                                                      if not math.isnan(results[i].mean_score) else 0.0))
    ranked = [results[i] for i in order]
    for r, c in enumerate(ranked, 1):
        c.rank = r
    result = SelectionResult(metric=metric, validation=validation, candidates=ranked, feature_names=names)
    if math.isnan(ranked[0].mean_score):
        raise ValueError(f"Every candidate failed; the first error: {ranked[0].error}")
    if refit:
        best_est = dict((n, e) for n, e, _ in cands)[ranked[0].name]
        result.best_estimator_ = fit_matrix(clone(best_est).set_params(**ranked[0].params), X, y, names)
    return result
