"""Multivariate drift: a domain classifier with a confidence interval on its AUC, and MMD.

Both look at the joint distribution of several numeric columns, which per-feature tests miss (a
change of correlation with unchanged marginals). Rows with a null or NaN in any used column are
dropped (their number is reported). Large inputs are subsampled at random (``max_rows`` per
side, stated in the result) because both methods cost more than linear time or a model fit.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
from scipy import stats

from .. import _arrow
from .._kernels import _jit
from .._kernels import drift_mmd as _mmd
from ..errors import ShapeError
from .result import TestResult

__all__ = ["domain_classifier_test", "mmd_test", "pca_reconstruction_test", "delong_auc"]


def _matrix(data: Any, columns: Sequence[str] | None) -> tuple[np.ndarray, list[str]]:
    table = _arrow.as_table(data)
    cols = list(columns) if columns is not None else [
        n for n, f in zip(table.column_names, table.schema) if _arrow.type_kind(f.type) == "numeric"]
    if not cols:
        raise ShapeError("Expected at least one numeric column for a multivariate test, found none")
    mat = np.empty((table.num_rows, len(cols)))
    for k, c in enumerate(cols):
        col = _arrow.get_column(table, c)
        if _arrow.type_kind(col.type) != "numeric":
            raise _arrow.SchemaError(f"Expected a numeric column, got `{col.type}` - at column `{c}`")
        mat[:, k] = col.to_numpy(zero_copy_only=False).astype(np.float64)  # nulls become NaN
    return mat, cols


def _clean(mat: np.ndarray, max_rows: int, rng: np.random.Generator) -> tuple[np.ndarray, int]:
    ok = np.all(np.isfinite(mat), axis=1)
    dropped = int((~ok).sum())
    mat = mat[ok]
    if mat.shape[0] > max_rows:
        mat = mat[np.sort(rng.choice(mat.shape[0], max_rows, replace=False))]
    return np.ascontiguousarray(mat), dropped


def delong_auc(scores_pos: np.ndarray, scores_neg: np.ndarray) -> tuple[float, float]:
    """(AUC, its standard error) by DeLong, DeLong & Clarke-Pearson (1988), ties counted 1/2.

    Examples
    --------
    >>> import numpy as np
    >>> from mlcore.monitor.multivariate import delong_auc
    >>> delong_auc(np.array([0.9, 0.8, 0.4]), np.array([0.1, 0.5]))[0]
    0.8333333333333334
    """
    m, n = scores_pos.size, scores_neg.size
    allr = stats.rankdata(np.concatenate([scores_pos, scores_neg]))
    rp = stats.rankdata(scores_pos)
    rn = stats.rankdata(scores_neg)
    v10 = (allr[:m] - rp) / n          # per positive: share of negatives scored lower (ties 1/2)
    v01 = 1.0 - (allr[m:] - rn) / m    # per negative: share of positives scored higher
    auc = float(v10.mean())
    se = math.sqrt(v10.var(ddof=1) / m + v01.var(ddof=1) / n) if m > 1 and n > 1 else math.nan
    return auc, se


def domain_classifier_test(reference: Any, current: Any, columns: Sequence[str] | None = None, *,
                           alpha: float = 0.05, n_folds: int = 5, max_rows: int = 50_000, seed: int = 0,
                           auc_floor: float = 0.55) -> TestResult:
    """Can a classifier tell the current rows from the reference rows? Out-of-fold AUC of a
    gradient-boosted classifier (scikit-learn's HistGradientBoostingClassifier) with a DeLong
    confidence interval; p-value of H0: AUC = 0.5 from the DeLong z (one-sided). The effect size
    is AUC - 0.5; ``details['importances']`` ranks the columns by the drop of out-of-fold AUC
    when each is permuted (explains an alarm).

    Examples
    --------
    >>> import numpy as np, pyarrow as pa
    >>> from mlcore.monitor.multivariate import domain_classifier_test
    >>> rng = np.random.default_rng(0)
    >>> ref = pa.table({"a": rng.normal(size=600), "b": rng.normal(size=600)})
    >>> cur = pa.table({"a": rng.normal(1.0, size=600), "b": rng.normal(size=600)})
    >>> r = domain_classifier_test(ref, cur, n_folds=3)
    >>> r.p_value < 0.01, r.details["importances"][0][0]
    (True, 'a')
    """
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import StratifiedKFold
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(seed)
    xr, cols = _matrix(reference, columns)
    xc, _ = _matrix(current, cols)
    xr, dr = _clean(xr, max_rows, rng)
    xc, dc = _clean(xc, max_rows, rng)
    if min(xr.shape[0], xc.shape[0]) < n_folds * 2:
        return TestResult(None, "domain_classifier", math.nan, None, math.nan, "AUC - 0.5", None,
                          f"too few complete rows ({xr.shape[0]}, {xc.shape[0]})", xr.shape[0], xc.shape[0], "none")
    x = np.vstack([xr, xc])
    y = np.r_[np.zeros(xr.shape[0]), np.ones(xc.shape[0])]
    oof = np.empty(y.size)
    drops = np.zeros(len(cols))
    folds = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    # One OpenMP thread: HGB's OpenMP pool next to Numba's threads oversubscribed the cores here
    # (a 1,600-row fit took minutes under load); the folds are small.
    with threadpool_limits(limits=1, user_api="openmp"):
        _fit_folds(HistGradientBoostingClassifier, folds, x, y, cols, seed, rng, oof, drops, n_folds)
    auc, se = delong_auc(oof[y == 1], oof[y == 0])
    z = (auc - 0.5) / se if se and se > 0 else math.inf
    p = float(stats.norm.sf(z))
    q = stats.norm.isf(alpha / 2)
    ranked = sorted(zip(cols, drops.tolist()), key=lambda t: -t[1])
    return TestResult(None, "domain_classifier", auc, p, auc - 0.5, "AUC - 0.5", alpha, "alpha",
                      xr.shape[0], xc.shape[0], f"{n_folds}-fold out-of-fold AUC, DeLong z",
                      details={"auc_ci": [auc - q * se, auc + q * se], "auc_se": se, "auc_floor": auc_floor,
                               "importances": ranked, "dropped_rows": [dr, dc], "max_rows": max_rows,
                               "columns": cols})


def _fit_folds(model, folds, x, y, cols, seed, rng, oof, drops, n_folds):
    for train, test in folds.split(x, y):
        clf = model(max_iter=100, random_state=seed).fit(x[train], y[train])
        oof[test] = clf.predict_proba(x[test])[:, 1]
        base = delong_auc(oof[test][y[test] == 1], oof[test][y[test] == 0])[0]
        for k in range(len(cols)):
            xp = x[test].copy()
            xp[:, k] = rng.permutation(xp[:, k])
            s = clf.predict_proba(xp)[:, 1]
            drops[k] += (base - delong_auc(s[y[test] == 1], s[y[test] == 0])[0]) / n_folds


def _median_gamma(z: np.ndarray, rng: np.random.Generator) -> float:
    # median heuristic on at most 1000 rows: gamma = 1 / (2 median^2) of the pairwise distances
    idx = rng.choice(z.shape[0], min(z.shape[0], 1000), replace=False)
    s = z[idx]
    d2 = np.sum((s[:, None, :] - s[None, :, :]) ** 2, axis=-1)
    med = np.median(d2[np.triu_indices(s.shape[0], 1)])
    return 1.0 / med if med > 0 else 1.0


def mmd_test(reference: Any, current: Any, columns: Sequence[str] | None = None, *, alpha: float = 0.05,
             method: str = "full", n_permutations: int = 500, max_rows: int = 2000, seed: int = 0,
             gamma: float | None = None) -> TestResult:
    """Maximum mean discrepancy with a Gaussian kernel exp(-gamma ||x - y||^2), columns
    standardised by the reference, gamma by the median heuristic unless given.

    ``method="full"``: the unbiased MMD² with a permutation p-value (1 + #{perm >= obs}) / (1 + B),
    valid at any sample size (Phipson & Smyth 2010). ``method="linear"``: the linear-time
    statistic (Gretton et al. 2012, eq. 5), the mean of h over disjoint blocks of two reference
    and two current rows; it reads every row (``max_rows`` does not apply). Its p-value is a
    permutation p-value of the same form: each of the B permutations relabels the four points of
    every block at random, which under no drift leaves the joint law unchanged, so the test is
    exact at any size. A relabelled block's h is a difference of two of the block's three
    perfect-matching kernel sums, computed once: a permutation costs O(blocks), no kernel
    evaluation. ``n_permutations=0`` gives the normal approximation instead (Gretton et al.
    2012, section 6; also reported as ``details['normal_p_value']``), which is anti-conservative
    in small samples.

    Examples
    --------
    >>> import numpy as np, pyarrow as pa
    >>> from mlcore.monitor.multivariate import mmd_test
    >>> rng = np.random.default_rng(0)
    >>> ref = pa.table({"a": rng.normal(size=300), "b": rng.normal(size=300)})
    >>> cur = pa.table({"a": rng.normal(0.8, size=300), "b": rng.normal(size=300)})
    >>> mmd_test(ref, cur, n_permutations=200).p_value < 0.01
    True
    """
    if method not in ("full", "linear"):
        raise ValueError(f"method must be 'full' or 'linear', got {method!r}")
    rng = np.random.default_rng(seed)
    xr, cols = _matrix(reference, columns)
    xc, _ = _matrix(current, cols)
    big = 2**62 if method == "linear" else max_rows
    xr, dr = _clean(xr, big, rng)
    xc, dc = _clean(xc, big, rng)
    n1, n2 = xr.shape[0], xc.shape[0]
    if min(n1, n2) < 4:
        return TestResult(None, f"mmd_{method}", math.nan, None, math.nan, "MMD^2", None,
                          f"too few complete rows ({n1}, {n2})", n1, n2, "none")
    mu, sd = xr.mean(axis=0), xr.std(axis=0)
    sd[sd == 0] = 1.0
    xr = np.ascontiguousarray((xr - mu) / sd)
    xc = np.ascontiguousarray((xc - mu) / sd)
    g = gamma if gamma is not None else _median_gamma(np.vstack([xr, xc]), rng)
    details = {"gamma": g, "dropped_rows": [dr, dc], "columns": cols}
    if method == "linear":
        xs, ys = xr[rng.permutation(n1)], xc[rng.permutation(n2)]
        m = min(n1, n2) // 2
        sums = np.empty((m, 3))
        with _jit.parallel_section():
            _mmd.linear_blocks(xs, ys, g, sums)
        h = sums[:, 0] - sums[:, 2]
        stat = float(h.mean())
        var = float(h.var(ddof=1))
        p_normal = float(stats.norm.sf(stat / math.sqrt(var / m))) if var > 0 else (0.0 if stat > 0 else 1.0)
        details.update(normal_p_value=p_normal, blocks=m, n_permutations=n_permutations)
        if n_permutations > 0:
            null = np.empty(n_permutations)
            with _jit.parallel_section():
                _mmd.linear_permutations(sums, int(rng.integers(0, 2**62)), null)
            # the observed labelling is one of the relabellings: count it (Phipson & Smyth 2010)
            p = float((1 + np.sum(null >= stat)) / (1 + n_permutations))
            details["null_quantile"] = float(np.quantile(null, 1 - alpha))
            how = "block permutation (the 4 points of each block relabelled at random)"
        else:
            p, how = p_normal, "normal approximation"
        return TestResult(None, "mmd_linear", stat, p, stat, "MMD^2 (linear-time estimate)",
                          alpha, "alpha", n1, n2, how, details=details)
    z = np.vstack([xr, xc])
    kmat = np.empty((z.shape[0], z.shape[0]))
    with _jit.parallel_section():
        _mmd.gram(z, g, kmat)
    labels = np.r_[np.zeros(n1, np.int8), np.ones(n2, np.int8)]
    stat = _mmd.mmd2_unbiased(kmat, labels)
    perms = np.empty((n_permutations, labels.size), dtype=np.int8)
    for b in range(n_permutations):
        perms[b] = rng.permutation(labels)
    null = np.empty(n_permutations)
    with _jit.parallel_section():
        _mmd.mmd2_permutations(kmat, perms, null)
    p = float((1 + np.sum(null >= stat)) / (1 + n_permutations))
    details.update(n_permutations=n_permutations, max_rows=max_rows,
                   null_quantile=float(np.quantile(null, 1 - alpha)))
    return TestResult(None, "mmd_full", float(stat), p, float(stat), "MMD^2 (unbiased)", alpha, "alpha",
                      n1, n2, "permutation", details=details)


def pca_reconstruction_test(reference: Any, current: Any, columns: Sequence[str] | None = None, *,
                            alpha: float = 0.05, variance: float = 0.9, seed: int = 0) -> TestResult:
    """PCA reconstruction error: a change of the correlation structure raises the error of
    reconstructing rows from the reference's principal components.

    The reference is split in two at random: the components (enough to explain ``variance`` of
    the standardised reference) are fitted on one half, and the other half gives the error
    under no drift, so the comparison is not biased by fitting and testing on the same rows.
    The p-value is Welch's one-sided t-test of mean squared error, current > held-out reference;
    the effect size is the ratio of the two means minus 1.

    Examples
    --------
    >>> import numpy as np, pyarrow as pa
    >>> from mlcore.monitor.multivariate import pca_reconstruction_test
    >>> rng = np.random.default_rng(0)
    >>> z = rng.normal(size=(4000, 1))
    >>> ref = pa.table({"a": z[:2000, 0], "b": z[:2000, 0] + 0.1 * rng.normal(size=2000)})
    >>> cur = pa.table({"a": z[2000:, 0], "b": -z[2000:, 0] + 0.1 * rng.normal(size=2000)})
    >>> pca_reconstruction_test(ref, cur).p_value < 1e-6
    True
    """
    rng = np.random.default_rng(seed)
    xr, cols = _matrix(reference, columns)
    xc, _ = _matrix(current, cols)
    xr, dr = _clean(xr, 2**62, rng)
    xc, dc = _clean(xc, 2**62, rng)
    if xr.shape[0] < 10 or xc.shape[0] < 2:
        return TestResult(None, "pca_reconstruction", math.nan, None, math.nan, "error ratio - 1", None,
                          f"too few complete rows ({xr.shape[0]}, {xc.shape[0]})", xr.shape[0], xc.shape[0], "none")
    perm = rng.permutation(xr.shape[0])
    fit, hold = xr[perm[: xr.shape[0] // 2]], xr[perm[xr.shape[0] // 2:]]
    mu, sd = fit.mean(axis=0), fit.std(axis=0)
    sd[sd == 0] = 1.0
    zf = (fit - mu) / sd
    _, sv, vt = np.linalg.svd(zf, full_matrices=False)
    share = np.cumsum(sv ** 2) / np.sum(sv ** 2)
    k = int(np.searchsorted(share, variance) + 1)
    comps = vt[:k]

    def err(x):
        z = (x - mu) / sd
        return np.sum((z - (z @ comps.T) @ comps) ** 2, axis=1)

    e_hold, e_cur = err(hold), err(xc)
    t = stats.ttest_ind(e_cur, e_hold, equal_var=False, alternative="greater")
    m_hold = float(e_hold.mean())
    ratio = float(e_cur.mean()) / m_hold - 1 if m_hold > 0 else math.inf
    return TestResult(None, "pca_reconstruction", float(e_cur.mean()), float(t.pvalue), ratio, "error ratio - 1",
                      alpha, "alpha", xr.shape[0], xc.shape[0], "Welch t-test vs held-out reference half",
                      details={"components": k, "variance": variance, "reference_error": m_hold,
                               "dropped_rows": [dr, dc], "columns": cols})
