"""Two-sample tests and distances on categorical columns (strings, dictionaries, bools, integers).

Categories are counted once per column with Arrow's compiled ``value_counts``; nulls are counted
apart and left out of every statistic (they are a data-quality number). The 2 x K table of
reference and current counts over the union of categories feeds every statistic. Categories that
appear in the current data but not in the reference are listed in ``details['unseen']``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy.stats import distributions

from .. import _arrow
from .result import TestResult
from .univariate import PSI_EPS

__all__ = [
    "CATEGORICAL_TESTS",
    "CategoryCounts",
    "category_counts",
    "categorical_results",
    "chi2_test",
    "g_test",
    "fisher_test",
    "total_variation",
    "linf_distance",
    "categorical_psi",
    "categorical_jensen_shannon",
]

CATEGORICAL_TESTS = ("chi2", "g_test", "fisher", "total_variation", "linf", "psi", "jensen_shannon")


@dataclass(frozen=True)
class CategoryCounts:
    """Counts of each category of one column (``categories`` as Python values), and of nulls."""

    categories: tuple
    counts: np.ndarray
    n_null: int

    def as_dict(self) -> dict:
        return dict(zip(self.categories, self.counts.tolist()))


def category_counts(data: Any, name: str | None = None) -> CategoryCounts:
    """Count the categories of a column (or of column ``name`` of a table).

    Examples
    --------
    >>> import pyarrow as pa
    >>> from mlcore.monitor.categorical import category_counts
    >>> category_counts(pa.array(["a", "b", "a", None])).as_dict()
    {'a': 2, 'b': 1}
    """
    col = _arrow.as_chunked(data) if name is None else _arrow.get_column(_arrow.as_table(data), name)
    if pa.types.is_dictionary(col.type):
        col = col.cast(col.type.value_type)
    if pa.types.is_floating(col.type):
        raise _arrow.SchemaError(
            f"Expected a categorical column (string, dictionary, bool or integer), got `{col.type}`"
            + (f" - at column `{name}`" if name else "") + "; use the numeric tests for floats")
    n_null = col.null_count
    vc = pc.value_counts(col.drop_null()) if len(col) else pa.array([], pa.struct([("values", col.type), ("counts", pa.int64())]))
    cats = tuple(vc.field("values").to_pylist()) if len(vc) else ()
    counts = np.asarray(vc.field("counts").to_numpy(zero_copy_only=False), dtype=np.int64) if len(vc) else np.zeros(0, np.int64)
    # a deterministic category order (sorted values) makes tables, odds ratios and saved states stable
    order = sorted(range(len(cats)), key=lambda i: cats[i])
    return CategoryCounts(tuple(cats[i] for i in order), counts[order] if len(order) else counts, n_null)


def _table(ref: CategoryCounts, cur: CategoryCounts) -> tuple[list, np.ndarray, np.ndarray]:
    cats = list(ref.categories)
    index = {c: i for i, c in enumerate(cats)}
    for c in cur.categories:
        if c not in index:
            index[c] = len(cats)
            cats.append(c)
    p = np.zeros(len(cats), np.int64)
    q = np.zeros(len(cats), np.int64)
    p[:len(ref.categories)] = ref.counts
    for c, k in zip(cur.categories, cur.counts):
        q[index[c]] = k
    return cats, p, q


def _contingency(p: np.ndarray, q: np.ndarray, lambda_: str, correction: bool) -> tuple[float, int]:
    # scipy.stats.chi2_contingency on the 2 x K table, zero columns dropped, Yates when dof == 1.
    keep = (p + q) > 0
    obs = np.vstack([p[keep], q[keep]]).astype(np.float64)
    if obs.shape[1] < 2:
        return 0.0, 0
    expected = np.outer(obs.sum(axis=1), obs.sum(axis=0)) / obs.sum()
    dof = obs.shape[1] - 1
    if dof == 1 and correction:
        diff = expected - obs
        obs = obs + np.minimum(0.5, np.abs(diff)) * np.sign(diff)
    if lambda_ == "pearson":
        stat = float(np.sum((obs - expected) ** 2 / expected))
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(obs > 0, obs * np.log(obs / expected), 0.0)
        stat = float(2.0 * np.sum(terms))
    return stat, dof


def _null_distances(p: np.ndarray, q: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    # Parametric bootstrap under no drift: both samples multinomial with the pooled proportions.
    n1, n2 = int(p.sum()), int(q.sum())
    pooled = (p + q) / (n1 + n2)
    rng = np.random.default_rng(seed)
    a = rng.multinomial(n1, pooled, size=n_boot) / n1
    b = rng.multinomial(n2, pooled, size=n_boot) / n2
    d = np.abs(a - b)
    return np.stack([0.5 * d.sum(axis=1), d.max(axis=1)])


def categorical_results(
    ref: CategoryCounts,
    cur: CategoryCounts,
    *,
    column: str | None = None,
    tests: Sequence[str] = CATEGORICAL_TESTS,
    alpha: float = 0.05,
    correction: bool = True,
    n_boot: int = 1000,
    seed: int = 0,
) -> list[TestResult]:
    """Every requested categorical test of one column's reference and current counts."""
    for t in tests:
        if t not in CATEGORICAL_TESTS:
            raise ValueError(f"unknown categorical test {t!r}; expected one of {CATEGORICAL_TESTS}")
    cats, p, q = _table(ref, cur)
    n1, n2 = int(p.sum()), int(q.sum())
    unseen = [c for c, k in zip(cats[len(ref.categories):], q[len(ref.categories):]) if k]
    details = {"categories": [str(c) for c in cats], "ref_counts": p.tolist(), "cur_counts": q.tolist(),
               "unseen": [str(c) for c in unseen]}
    pp = p / n1 if n1 else np.zeros(p.size)
    qq = q / n2 if n2 else np.zeros(q.size)
    tv = float(0.5 * np.abs(pp - qq).sum())
    eff_name = "total variation distance"
    binning = "one bin per category (union of reference and current)"
    out: list[TestResult] = []
    empty = n1 == 0 or n2 == 0
    boot = None
    for t in tests:
        if empty:
            out.append(TestResult(column, t, math.nan, None, math.nan, eff_name, None,
                                  "empty sample", n1, n2, "none", binning=binning, details=dict(details)))
            continue
        if t in ("chi2", "g_test"):
            stat, dof = _contingency(p, q, "pearson" if t == "chi2" else "log-likelihood", correction)
            pv = float(distributions.chi2.sf(stat, dof)) if dof else 1.0
            out.append(TestResult(column, t, stat, pv, tv, eff_name, alpha, "alpha", n1, n2,
                                  f"chi2({dof})" + (" with Yates' correction" if dof == 1 and correction else ""),
                                  log_base=math.e if t == "g_test" else None, binning=binning,
                                  details=dict(details, dof=dof)))
        elif t == "fisher":
            keep = (p + q) > 0
            if keep.sum() != 2:
                out.append(TestResult(column, t, math.nan, None, tv, eff_name, None,
                                      f"defined for 2 categories, found {int(keep.sum())}", n1, n2, "none",
                                      binning=binning, details=dict(details)))
                continue
            from scipy.stats import fisher_exact

            res = fisher_exact(np.vstack([p[keep], q[keep]]))
            out.append(TestResult(column, t, float(res.statistic), float(res.pvalue), tv, eff_name, alpha,
                                  "alpha", n1, n2, "exact (hypergeometric)", binning=binning,
                                  details=dict(details)))
        elif t in ("total_variation", "linf"):
            if boot is None:
                boot = _null_distances(p, q, n_boot, seed)
            row = 0 if t == "total_variation" else 1
            stat = tv if t == "total_variation" else float(np.abs(pp - qq).max())
            null = boot[row]
            thr = float(np.quantile(null, 1 - alpha))
            pv = float((1 + np.sum(null >= stat - 1e-15)) / (1 + n_boot))
            out.append(TestResult(column, t, stat, pv, tv, eff_name, thr,
                                  f"parametric bootstrap under no drift ({n_boot} draws, pooled proportions)",
                                  n1, n2, "bootstrap", binning=binning, details=dict(details)))
        elif t in ("psi", "jensen_shannon"):
            from .univariate import hist_distances

            r = hist_distances(p, q, alpha=alpha, column=column, binning=binning, which=(t,), eps=PSI_EPS)[0]
            out.append(TestResult(r.column, r.test, r.statistic, r.p_value, tv, eff_name, r.threshold,
                                  r.threshold_kind, r.n_ref, r.n_cur, r.method, r.log_base, binning,
                                  dict(details, eps=PSI_EPS)))
    return out


def _one(reference, current, test, **kw) -> TestResult:
    return categorical_results(category_counts(reference), category_counts(current), tests=(test,), **kw)[0]


def chi2_test(reference: Any, current: Any, *, alpha: float = 0.05, correction: bool = True) -> TestResult:
    """Pearson's chi-square test of homogeneity on the 2 x K table, as
    ``scipy.stats.chi2_contingency`` (Yates' correction when K = 2 unless ``correction=False``).

    Examples
    --------
    >>> from mlcore.monitor import chi2_test
    >>> r = chi2_test(["a"] * 50 + ["b"] * 50, ["a"] * 80 + ["b"] * 20)
    >>> r.p_value < 0.001
    True
    """
    return _one(_col(reference), _col(current), "chi2", alpha=alpha, correction=correction)


def g_test(reference: Any, current: Any, *, alpha: float = 0.05, correction: bool = True) -> TestResult:
    """G-test (log-likelihood ratio, natural log), as ``chi2_contingency(lambda_='log-likelihood')``.

    Examples
    --------
    >>> from mlcore.monitor import g_test
    >>> g_test(["a", "b"] * 50, ["a", "b"] * 40).p_value
    1.0
    """
    return _one(_col(reference), _col(current), "g_test", alpha=alpha, correction=correction)


def fisher_test(reference: Any, current: Any, *, alpha: float = 0.05) -> TestResult:
    """Fisher's exact test on the 2 x 2 table (two categories), as ``scipy.stats.fisher_exact``.

    Examples
    --------
    >>> from mlcore.monitor import fisher_test
    >>> round(fisher_test([True] * 8 + [False] * 2, [True] * 2 + [False] * 8).p_value, 4)
    0.023
    """
    return _one(_col(reference), _col(current), "fisher", alpha=alpha)


def total_variation(reference: Any, current: Any, *, alpha: float = 0.05, n_boot: int = 1000,
                    seed: int = 0) -> TestResult:
    """Total variation distance ½ Σ|p - q|, threshold from a parametric bootstrap under no drift.

    Examples
    --------
    >>> from mlcore.monitor import total_variation
    >>> total_variation(["a", "a", "b", "b"], ["a", "b", "b", "b"]).statistic
    0.25
    """
    return _one(_col(reference), _col(current), "total_variation", alpha=alpha, n_boot=n_boot, seed=seed)


def linf_distance(reference: Any, current: Any, *, alpha: float = 0.05, n_boot: int = 1000,
                  seed: int = 0) -> TestResult:
    """L∞ distance max |p - q| between category proportions, bootstrap threshold.

    Examples
    --------
    >>> from mlcore.monitor import linf_distance
    >>> linf_distance(["a", "a", "b", "b"], ["a", "b", "b", "b"]).statistic
    0.25
    """
    return _one(_col(reference), _col(current), "linf", alpha=alpha, n_boot=n_boot, seed=seed)


def categorical_psi(reference: Any, current: Any, *, alpha: float = 0.05) -> TestResult:
    """PSI over categories (natural log, empty categories floored at 1e-4), chi-square null.

    Examples
    --------
    >>> from mlcore.monitor import categorical_psi
    >>> categorical_psi(["a", "b"] * 10, ["a", "b"] * 10).statistic
    0.0
    """
    return _one(_col(reference), _col(current), "psi", alpha=alpha)


def categorical_jensen_shannon(reference: Any, current: Any, *, alpha: float = 0.05) -> TestResult:
    """Jensen-Shannon divergence over categories, in bits (base 2).

    Examples
    --------
    >>> from mlcore.monitor import categorical_jensen_shannon
    >>> categorical_jensen_shannon(["a"] * 4, ["b"] * 4).statistic
    1.0
    """
    return _one(_col(reference), _col(current), "jensen_shannon", alpha=alpha)


def _col(x: Any) -> Any:
    if isinstance(x, (list, tuple)):
        return pa.array(x)
    return x
