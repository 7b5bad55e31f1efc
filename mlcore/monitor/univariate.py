"""Two-sample tests and distances on numeric columns, all from one compiled merge walk.

The samples are sorted once (the reference at fit, the current per check); one walk per feature
over the two sorted samples emits the Kolmogorov-Smirnov D, the Cramér-von Mises rank sums (as
exact integers), the Anderson-Darling midrank terms and the Wasserstein-1 area. Histogram
distances (PSI, Jensen-Shannon, Hellinger, KL) use the reference's deduplicated quantile edges and
binary searches in the sorted samples. p-values are computed in Python from these numbers, with
scipy's formulas (``ks_2samp``, ``cramervonmises_2samp``, ``anderson_ksamp(variant='midrank')``).

NaN and nulls are left out of every statistic (their rates are data-quality numbers reported
separately); ±inf take part in the rank statistics and make the Wasserstein distance infinite.
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache
from typing import Any, Sequence

import numpy as np
from scipy import special
from scipy.stats import distributions

from .._kernels import _jit
from .._kernels import drift_smirnov as _smirnov
from .._kernels import drift_walk as _walk
from .._kernels import reduce as _reduce
from ..errors import ShapeError
from ._samples import SortedColumns, sort_array
from .result import TestResult

__all__ = [
    "NUMERIC_TESTS",
    "ks_test",
    "cvm_test",
    "ad_test",
    "wasserstein_distance",
    "psi",
    "jensen_shannon",
    "hellinger",
    "kl_divergence",
    "numeric_tests",
    "quantile_edges",
]

NUMERIC_TESTS = ("ks", "cvm", "ad", "wasserstein", "psi", "jensen_shannon", "hellinger", "kl")
_MAX_AUTO_N = 10000           # scipy ks_2samp: 'auto' is exact up to this size
_MAX_EXACT_CELLS = 200_000_000  # n1*n2 above which the unequal-size exact path is refused
PSI_EPS = 1e-4                # floor of empty-bin proportions (trap 5 of the kernel notes)
_NO_BITMAP = np.zeros(0, dtype=np.uint8)


# --------------------------------------------------------------------------------------------
# the walk over many features


def walk_mode(tests: Sequence[str]) -> int:
    """What the merge walk must compute for ``tests``: 0 KS only, 1 also CvM and W1 (and the
    histogram distances, which need no walk), 2 also Anderson-Darling."""
    if "ad" in tests:
        return 2
    return 1 if any(t != "ks" for t in tests) else 0


def walk(ref: SortedColumns, cur: SortedColumns, full: int | bool = 2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run the fused merge walk for every feature; (out_f, out_u, out_c) as in ``kernels/drift_walk``.
    ``full`` (see :func:`walk_mode`): 0 computes the KS numbers only, 1 adds CvM and W1, 2 adds
    AD (slots not computed are not meaningful)."""
    full = 2 if full is True else (0 if full is False else int(full))
    if len(ref.names) != len(cur.names):
        raise ShapeError(f"reference has {len(ref.names)} columns, current has {len(cur.names)}")
    nf = len(ref.names)
    out_f = np.empty((nf, _walk.N_FLOAT), dtype=np.float64)
    out_u = np.zeros((nf, _walk.N_UINT), dtype=np.uint64)
    out_c = np.zeros((nf, 4 * _walk.N_TIES), dtype=np.int64)
    if nf:
        with _jit.parallel_section():
            _walk.merge_walk(ref.values, ref.start, ref.n, cur.values, cur.start, cur.n, full, out_f, out_u, out_c)
    return out_f, out_u, out_c


def walk_serial(a: np.ndarray, b: np.ndarray, full: int = 2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`walk` for one column (sorted non-NaN ``a``, ``b``) on the calling thread: the
    compiled walk releases the GIL, so several Python threads can walk different columns."""
    out_f = np.empty((1, _walk.N_FLOAT), dtype=np.float64)
    out_u = np.zeros((1, _walk.N_UINT), dtype=np.uint64)
    out_c = np.zeros((1, 4 * _walk.N_TIES), dtype=np.int64)
    if a.size == 0 or b.size == 0:
        out_f[:] = np.nan
    else:
        _walk.walk_one(a, b, int(full), out_f[0], out_u[0], out_c[0])
    return out_f, out_u, out_c


# --------------------------------------------------------------------------------------------
# p-values


def _tie_values(a, b, i, j, count, cand, side):
    n1, n2 = a.size, b.size
    k_max = _walk.N_TIES
    if count <= k_max:  # the first walk kept every tie
        oi = cand[(2 * side) * k_max:(2 * side) * k_max + count]
        oj = cand[(2 * side + 1) * k_max:(2 * side + 1) * k_max + count]
        return oi / n1 - oj / n2
    target = i * n2 - j * n1
    oi = np.empty(count, dtype=np.int64)
    oj = np.empty(count, dtype=np.int64)
    k = _walk.ks_ties(a, b, target, oi, oj)
    return oi[:k] / n1 - oj[:k] / n2


def ks_d(row: np.ndarray, a: np.ndarray, b: np.ndarray, cand: np.ndarray) -> tuple[float, float]:
    """(D+, D-) from the walk's extreme counts, divided as scipy divides (correctly rounded).
    When several group ends share the extreme rational (common when n1 == n2), their floats may
    differ in the last bit: the walk keeps up to ``N_TIES`` of them (a second walk lists more)
    and the float extreme is taken, as scipy's max does."""
    n1, n2 = a.size, b.size
    ip, jp, im, jm = (int(row[k]) for k in (_walk.KS_IP, _walk.KS_JP, _walk.KS_IM, _walk.KS_JM))
    if row[_walk.KS_NP] > 1:
        d_plus = float(np.max(_tie_values(a, b, ip, jp, int(row[_walk.KS_NP]), cand, 0)))
    else:
        d_plus = ip / n1 - jp / n2
    if row[_walk.KS_NM] > 1:
        d_minus = -float(np.min(_tie_values(a, b, im, jm, int(row[_walk.KS_NM]), cand, 1)))
    else:
        d_minus = -(im / n1 - jm / n2)
    return d_plus, min(max(d_minus, 0.0), 1.0)


def ks_pvalue(d: float, n1: int, n2: int, method: str = "auto") -> tuple[float, float, str]:
    """(p-value, statistic, method used) of the two-sided two-sample KS test, as scipy's ks_2samp:
    exact up to 10,000 values a side in 'auto' (the statistic is then rounded to h/lcm as scipy
    does), else Smirnov's asymptotic ``kstwo.sf(D, round(n1 n2 / (n1 + n2)))``. ``"fast"`` reports
    Kolmogorov's limit ``kolmogorov(sqrt(en) D)`` (method ``"asymp-limit"``) above 10,000 values
    a side, and 'auto' below. On the grid the tests check (n_eff 1e4 to 5e5) the limit is never
    below scipy's finite-n value (it is conservative) and within 1.5% of it where p >= 1e-4."""
    if method not in ("auto", "exact", "asymp", "fast"):
        raise ValueError(f"ks method must be 'auto', 'exact', 'asymp' or 'fast', got {method!r}")
    if method == "fast":
        # Kolmogorov's limit (microseconds; the finite-n value costs tens of milliseconds at
        # n_eff = 500,000). Measured against scipy's finite-n value (tests): never below it,
        # within 1.5% relative where p >= 1e-4 (0.2% at n_eff = 500,000).
        if max(n1, n2) > _MAX_AUTO_N:
            m, n = sorted([float(n1), float(n2)], reverse=True)
            en = np.round(m * n / (m + n))
            return float(special.kolmogorov(math.sqrt(en) * d)), d, "asymp-limit"
        method = "auto"
    if method == "auto":
        method = "exact" if max(n1, n2) <= _MAX_AUTO_N else "asymp"
    if method == "exact":
        g = math.gcd(n1, n2)
        n1g, n2g = n1 // g, n2 // g
        if n1 == n2 or (n1g < np.iinfo(np.int32).max / n2g and n1 * n2 <= _MAX_EXACT_CELLS):
            lcm = n1g * n2
            h = int(np.round(d * lcm))
            d = h * 1.0 / lcm
            if h == 0:
                return 1.0, d, "exact"
            if n1 == n2:
                p = _walk.ks_exact_square(n1, h)
            else:
                p = _walk.ks_exact_inside(n1, n2, g, h)
            if 0.0 <= p <= 1.0:
                return float(p), d, "exact"
        method = "asymp"  # too large for the exact lattice count: say so in the result
    m, n = sorted([float(n1), float(n2)], reverse=True)
    en = float(np.round(m * n / (m + n)))
    return kstwo_sf(d, en), d, "asymp"


def kstwo_sf(d: float, n: float) -> float:
    """``scipy.stats.kstwo.sf(d, n)`` clipped to [0, 1]: scipy's own branches, except that its
    costliest one (n > 140, d < 0.5, 2.2 <= n d^2 < 370, where it sums the Birnbaum-Tingey series
    of ``2 * smirnov(n, d)`` in double-double arithmetic, 0.4-1 s a call at n = 500,000) is the
    compiled log-domain sum of :mod:`kernels.drift_smirnov`, which agrees with it to ~1e-12."""
    t = n * d
    nd2 = t * d
    if n > 140 and 1.0 < t < n - 1 and d < 0.5 and 2.2 <= nd2 < 370.0:
        logs = np.empty(int(math.floor(n * (1.0 - d))) + 1)
        p = 2.0 * math.exp(_smirnov.smirnov_log_sf(n, d, logs))
    else:
        p = distributions.kstwo.sf(d, n)
    return float(np.clip(p, 0, 1))


def _cdf_cvm_inf(x: float) -> float:
    # Csörgő & Faraway (1996) eq. 1.2, the series scipy sums, term by term until < 1e-7.
    tot = 0.0
    k = 0
    while True:
        u = math.exp(special.gammaln(k + 0.5) - special.gammaln(k + 1)) / (math.pi ** 1.5 * math.sqrt(x))
        y = 4 * k + 1
        q = y ** 2 / (16 * x)
        z = u * math.sqrt(y) * math.exp(-q) * special.kv(0.25, q)
        tot += z
        k += 1
        if not abs(z) >= 1e-7:
            return tot


def cvm_from_sums(s_ref: int, s_cur: int, nx: int, ny: int) -> float:
    """T of Anderson (1962) from the exact integer sums of (2 r - 2 i)^2: computed exactly in
    rationals, so it does not lose the ~7 digits that T = U/(kN) - (4k-1)/(6N) cancels at 1M."""
    k, big_n = nx * ny, nx + ny
    num = 3 * (nx * s_ref + ny * s_cur) - 2 * k * (4 * k - 1)
    return float(Fraction(num, 12 * k * big_n))


def cvm_pvalue(t: float, nx: int, ny: int) -> float:
    """scipy's asymptotic p-value of the two-sample CvM T (Anderson 1962, eqs. 11, 14, 15)."""
    k, big_n = nx * ny, nx + ny
    et = (1 + 1 / big_n) / 6
    vt = (big_n + 1) * (4 * k * big_n - 3 * (nx ** 2 + ny ** 2) - 2 * k)
    vt = vt / (45 * big_n ** 2 * 4 * k)
    tn = 1 / 6 + (t - et) / math.sqrt(45 * vt)
    if tn < 0.003:
        return 1.0
    return float(max(0.0, 1.0 - _cdf_cvm_inf(tn)))


@lru_cache(maxsize=256)
def _ad_sigma(n1: int, n2: int) -> float:
    # Scholz & Stephens' variance of A2kN for k = 2, in scipy's order; O(N) once per (n1, n2).
    big_n = n1 + n2
    k = 2
    hh, g = _walk.ad_normaliser_terms(big_n)
    big_h = 1.0 / n1 + 1.0 / n2
    a = (4 * g - 6) * (k - 1) + (10 - 6 * g) * big_h
    b = (2 * g - 4) * k ** 2 + 8 * hh * k + (2 * g - 14 * hh - 4) * big_h - 8 * hh + 4 * g - 6
    c = (6 * hh + 2 * g - 2) * k ** 2 + (4 * hh - 4 * g + 6) * k + (2 * hh - 6) * big_h + 4 * hh
    d = (2 * hh + 6) * k ** 2 - 4 * hh * k
    sigmasq = (a * big_n ** 3 + b * big_n ** 2 + c * big_n + d) / ((big_n - 1.) * (big_n - 2.) * (big_n - 3.))
    return math.sqrt(sigmasq)


# Scholz & Stephens (1987), table 2 interpolation for k - 1 = 1, as scipy fits it.
_AD_SIG = np.array([0.25, 0.1, 0.05, 0.025, 0.01, 0.005, 0.001])
_AD_CRIT = (np.array([0.675, 1.281, 1.645, 1.96, 2.326, 2.573, 3.085])
            + np.array([-0.245, 0.25, 0.678, 1.149, 1.822, 2.364, 3.615]) / math.sqrt(1)
            + np.array([-0.105, -0.305, -0.362, -0.391, -0.396, -0.345, -0.154]) / 1)
_AD_FIT = np.polyfit(_AD_CRIT, np.log(_AD_SIG), 2)


def ad_from_terms(ad1: float, ad2: float, n1: int, n2: int) -> tuple[float, float, str]:
    """(standardised A2, p-value, bound) of the 2-sample midrank AD test as scipy's anderson_ksamp:
    the p-value is interpolated in Scholz & Stephens' table and capped to [0.001, 0.25]; ``bound``
    says "capped" (true p larger), "floored" (true p smaller) or "interpolated"."""
    big_n = n1 + n2
    a2kn = 0.0
    a2kn += ad1 / n1
    a2kn += ad2 / n2
    a2kn *= (big_n - 1.) / big_n
    a2 = (a2kn - 1) / _ad_sigma(n1, n2)
    if a2 < _AD_CRIT.min():
        return a2, float(_AD_SIG.max()), "capped"
    if a2 > _AD_CRIT.max():
        return a2, float(_AD_SIG.min()), "floored"
    return a2, math.exp(np.polyval(_AD_FIT, a2)), "interpolated"


# --------------------------------------------------------------------------------------------
# histogram distances on the reference's quantile bins


def quantile_edges(sorted_ref: np.ndarray, n_bins: int = 10) -> np.ndarray:
    """Interior bin edges: the reference's k/n_bins quantiles (linear interpolation), deduplicated
    so that discrete data do not make empty zero-width bins. Bins are (-inf, e0), [e0, e1), …,
    [e_last, inf)."""
    if n_bins < 2:
        raise ValueError(f"n_bins must be at least 2, got {n_bins}")
    # the input is sorted: the finite values are one slice, and the quantiles are read by index
    # (NumPy's 'linear' definition, virtual index q (n - 1)) without np.quantile's partition
    lo = int(np.searchsorted(sorted_ref, -np.inf, side="right"))
    hi = int(np.searchsorted(sorted_ref, np.inf, side="left"))
    finite = sorted_ref[lo:hi]
    if finite.size == 0:
        return np.zeros(0)
    below, above, frac = edge_ranks(finite.size, n_bins)
    return edges_from_ranks(finite[below], finite[above], frac)


def edge_ranks(n_finite: int, n_bins: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ranks (0-based, among the sorted finite values) that :func:`quantile_edges` reads,
    and the interpolation fractions: edge k = v[below_k] + (v[above_k] - v[below_k]) * frac_k."""
    pos = np.linspace(0, 1, n_bins + 1)[1:-1] * (n_finite - 1)
    below = np.floor(pos).astype(np.int64)
    above = np.minimum(below + 1, n_finite - 1)
    return below, above, pos - below


def edges_from_ranks(v_below: np.ndarray, v_above: np.ndarray, frac: np.ndarray) -> np.ndarray:
    """:func:`quantile_edges` from the order statistics at :func:`edge_ranks`."""
    return np.unique(v_below + (v_above - v_below) * frac)


def bin_counts(sorted_values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts of a sorted NaN-free sample in the bins of ``edges`` (search left: [e_k, e_k+1))."""
    pos = np.searchsorted(sorted_values, edges, side="left")
    return np.diff(np.concatenate(([0], pos, [sorted_values.size]))).astype(np.int64)


def _props(counts: np.ndarray) -> np.ndarray:
    tot = counts.sum()
    return counts / tot if tot else np.zeros(counts.size)


def _chi2_null(stat_over_scale: float, dof: int, alpha: float) -> tuple[float, float]:
    # (p-value, quantile at 1 - alpha) of a chi-square with dof degrees of freedom
    if dof < 1:
        return 1.0, math.inf
    return float(distributions.chi2.sf(stat_over_scale, dof)), float(distributions.chi2.isf(alpha, dof))


def hist_distances(p_counts: np.ndarray, q_counts: np.ndarray, *, alpha: float, column: str | None,
                   binning: str, which: Sequence[str], eps: float = PSI_EPS) -> list[TestResult]:
    """PSI, Jensen-Shannon, Hellinger and KL between two count vectors on the same bins, each with
    its chi-square null approximation: under no drift, with s = 1/n_ref + 1/n_cur,
    PSI/s, 8 JS_e/s, 8 H^2/s and 2 KL/s are ~ chi2(bins - 1) (second-order expansion)."""
    n1, n2 = int(p_counts.sum()), int(q_counts.sum())
    p, q = _props(p_counts), _props(q_counts)
    dof = int(np.count_nonzero((p_counts + q_counts) > 0)) - 1
    s = (1.0 / n1 + 1.0 / n2) if n1 and n2 else math.nan
    pe, qe = np.maximum(p, eps), np.maximum(q, eps)
    details = {"ref_counts": p_counts.tolist(), "cur_counts": q_counts.tolist(), "eps": eps}
    out = []
    for name in which:
        if name == "psi":
            stat = float(np.sum((qe - pe) * np.log(qe / pe)))
            scale, base, eff = 1.0, math.e, stat
        elif name == "jensen_shannon":
            m = 0.5 * (p + q)
            with np.errstate(divide="ignore", invalid="ignore"):
                t1 = np.where(p > 0, p * np.log(p / m), 0.0)
                t2 = np.where(q > 0, q * np.log(q / m), 0.0)
            js_e = 0.5 * float(t1.sum() + t2.sum())
            stat = js_e / math.log(2)
            scale, base, eff = 8.0 * math.log(2), 2.0, stat
        elif name == "hellinger":
            h2 = max(0.0, 1.0 - float(np.sum(np.sqrt(p * q))))
            stat = math.sqrt(h2)
            scale, base, eff = None, None, stat
        elif name == "kl":
            stat = float(np.sum(qe * np.log(qe / pe)))
            scale, base, eff = 2.0, math.e, stat
        else:
            raise ValueError(f"unknown histogram distance {name!r}")
        if n1 == 0 or n2 == 0:
            pval, thr = None, None
        elif name == "hellinger":
            pval, qq = _chi2_null(8.0 * stat * stat / s, dof, alpha)
            thr = math.sqrt(qq * s / 8.0)
        else:
            pval, qq = _chi2_null(scale * stat / s, dof, alpha)
            thr = qq * s / scale
        out.append(TestResult(column, name, stat, pval, eff, name, thr,
                              "chi2-approx null quantile", n1, n2, "chi2-approx", base, binning,
                              dict(details)))
    return out


# --------------------------------------------------------------------------------------------
# per-feature results from one walk


def _std(sorted_x: np.ndarray) -> float:
    # one compiled pass over the finite values (Welford), instead of NumPy's masked copy + 2 passes
    out = np.empty(9)
    _reduce.summary(sorted_x.size, 0, _NO_BITMAP, sorted_x, out)
    count = int(out[0] - out[2] - out[3] - out[4])
    return math.sqrt(out[6] / (count - 1)) if count > 1 else math.nan


def _w1_null_quantile(sorted_ref: np.ndarray, n1: int, n2: int, alpha: float, n_boot: int,
                      seed: int) -> float:
    # Bootstrap on the reference at a small size m, rescaled by sqrt(m_eff / n_eff): under no
    # drift sqrt(n_eff) * W1 has a limit law, so the quantile scales as 1/sqrt(n_eff).
    fin = sorted_ref[np.isfinite(sorted_ref)]
    if fin.size < 2:
        return math.nan
    rng = np.random.default_rng(seed)
    m = int(min(n1, n2, 2000))
    m = max(m, 2)
    stats_ = np.empty(n_boot)
    grid_n = 2 * m
    for b in range(n_boot):
        x = np.sort(rng.choice(fin, m))
        y = np.sort(rng.choice(fin, m))
        z = np.sort(np.concatenate([x, y]))
        fx = np.searchsorted(x, z[:-1], side="right") / m
        fy = np.searchsorted(y, z[:-1], side="right") / m
        stats_[b] = np.sum(np.abs(fx - fy) * np.diff(z))
    del grid_n
    m_eff = m / 2.0
    n_eff = n1 * n2 / (n1 + n2)
    return float(np.quantile(stats_, 1 - alpha) * math.sqrt(m_eff / n_eff))


def numeric_results(
    ref: SortedColumns,
    cur: SortedColumns,
    *,
    tests: Sequence[str] = NUMERIC_TESTS,
    alpha: float = 0.05,
    ks_method: str = "auto",
    n_bins: int = 10,
    edges: Sequence[np.ndarray] | None = None,
    ref_std: Sequence[float] | None = None,
    w1_bootstrap: int = 0,
    seed: int = 0,
    walked: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> list[list[TestResult]]:
    """Every requested test for every column of two sorted samples: one list per column."""
    for t in tests:
        if t not in NUMERIC_TESTS:
            raise ValueError(f"unknown numeric test {t!r}; expected one of {NUMERIC_TESTS}")
    full = any(t != "ks" for t in tests)
    out_f, out_u, out_c = walked if walked is not None else walk(ref, cur, walk_mode(tests))
    hist = [t for t in tests if t in ("psi", "jensen_shannon", "hellinger", "kl")]
    results = []
    for f, name in enumerate(ref.names):
        n1, n2 = int(ref.n[f]), int(cur.n[f])
        a = ref.column(f)
        row = out_f[f]
        if full:
            sd = ref_std[f] if ref_std is not None else _std(a)
            w1 = float(row[_walk.W1])
            eff = w1 / sd if sd and math.isfinite(sd) and sd > 0 else math.nan
        else:  # KS only: its effect size is D; the reference std is not needed
            sd, w1, eff = math.nan, math.nan, math.nan
        eff_name = "wasserstein / reference std"
        res: list[TestResult] = []
        small = n1 < 2 or n2 < 2
        for t in tests:
            if t in hist:
                continue
            if small:
                res.append(TestResult(name, t, math.nan, None, math.nan, eff_name, None,
                                      "too few values (need 2 per side)", n1, n2, "none"))
                continue
            if t == "ks":
                d_plus, d_minus = ks_d(row, a, cur.column(f), out_c[f])
                p, d, meth = ks_pvalue(max(d_plus, d_minus), n1, n2, ks_method)
                res.append(TestResult(name, "ks", d, p, d, "ks D (max |F_ref - F_cur|)", alpha, "alpha",
                                      n1, n2, meth, details={"d_plus": d_plus, "d_minus": d_minus}))
            elif t == "cvm":
                s_ref = (int(out_u[f, _walk.CVM_REF_HI]) << 64) | int(out_u[f, _walk.CVM_REF_LO])
                s_cur = (int(out_u[f, _walk.CVM_CUR_HI]) << 64) | int(out_u[f, _walk.CVM_CUR_LO])
                tt = cvm_from_sums(s_ref, s_cur, n1, n2)
                if max(n1, n2) <= 20:
                    from scipy.stats import cramervonmises_2samp

                    p = float(cramervonmises_2samp(a, cur.column(f), method="exact").pvalue)
                    meth = "exact"
                else:
                    p, meth = cvm_pvalue(tt, n1, n2), "asymp"
                res.append(TestResult(name, "cvm", tt, p, eff, eff_name, alpha, "alpha", n1, n2, meth))
            elif t == "ad":
                if row[_walk.N_DISTINCT] < 2:
                    a2, p, bound = math.nan, 1.0, "constant"
                else:
                    a2, p, bound = ad_from_terms(float(row[_walk.AD_REF]), float(row[_walk.AD_CUR]), n1, n2)
                res.append(TestResult(name, "ad", a2, p, eff, eff_name, alpha, "alpha", n1, n2,
                                      "table-interpolation", details={"p_value_bound": bound}))
            elif t == "wasserstein":
                thr = (_w1_null_quantile(a, n1, n2, alpha, w1_bootstrap, seed)
                       if w1_bootstrap else None)
                res.append(TestResult(name, "wasserstein", w1, None, eff, eff_name, thr,
                                      "bootstrap on the reference, rescaled" if thr is not None
                                      else "none (pass w1_bootstrap > 0)", n1, n2, "none",
                                      details={"reference_std": sd}))
        if hist:
            e = edges[f] if edges is not None else quantile_edges(a, n_bins)
            pc, qc = bin_counts(a, e), bin_counts(cur.column(f), e)
            binning = f"reference quantiles, {n_bins} requested, {e.size + 1} after deduplication"
            hres = hist_distances(pc, qc, alpha=alpha, column=name, binning=binning, which=hist)
            by = {r.test: r for r in hres}
            res.extend(by[t] for t in hist)
        order = {t: i for i, t in enumerate(tests)}
        res.sort(key=lambda r: order[r.test])
        results.append(res)
    return results


# --------------------------------------------------------------------------------------------
# one-column public functions


def _pair(x: Any, y: Any) -> tuple[SortedColumns, SortedColumns]:
    if isinstance(x, (list, tuple)):
        x = np.asarray(x, dtype=np.float64)
    if isinstance(y, (list, tuple)):
        y = np.asarray(y, dtype=np.float64)
    return sort_array(x, "x"), sort_array(y, "x")


def _one(x: Any, y: Any, test: str, **kw) -> TestResult:
    a, b = _pair(x, y)
    return numeric_results(a, b, tests=(test,), **kw)[0][0]


def ks_test(reference: Any, current: Any, *, method: str = "auto", alpha: float = 0.05) -> TestResult:
    """Two-sided two-sample Kolmogorov-Smirnov test, as ``scipy.stats.ks_2samp``.

    Nulls and NaN are left out. ``method`` is ``"auto"`` (exact up to 10,000 values a side),
    ``"exact"``, ``"asymp"`` or ``"fast"`` (see :func:`ks_pvalue`).

    Examples
    --------
    >>> import numpy as np
    >>> from mlcore.monitor import ks_test
    >>> r = ks_test(np.array([0.1, 0.4, 0.5, 0.9]), np.array([0.2, 0.3, 1.5, 2.0]))
    >>> round(r.statistic, 3), round(r.p_value, 3)
    (0.5, 0.771)
    """
    return _one(reference, current, "ks", ks_method=method, alpha=alpha)


def cvm_test(reference: Any, current: Any, *, alpha: float = 0.05) -> TestResult:
    """Two-sample Cramér-von Mises test (T of Anderson 1962), as ``scipy.stats.cramervonmises_2samp``
    (exact p-value up to 20 values a side, asymptotic above).

    Examples
    --------
    >>> import numpy as np
    >>> from mlcore.monitor import cvm_test
    >>> rng = np.random.default_rng(0)
    >>> cvm_test(rng.normal(size=500), rng.normal(1.0, size=500)).p_value < 1e-6
    True
    """
    return _one(reference, current, "cvm", alpha=alpha)


def ad_test(reference: Any, current: Any, *, alpha: float = 0.05) -> TestResult:
    """Two-sample Anderson-Darling midrank test, as ``scipy.stats.anderson_ksamp(variant='midrank')``:
    statistic standardised by Scholz & Stephens' variance; p-value interpolated in their table and
    capped to [0.001, 0.25] (``details['p_value_bound']`` says which).

    Examples
    --------
    >>> import numpy as np
    >>> from mlcore.monitor import ad_test
    >>> rng = np.random.default_rng(0)
    >>> ad_test(rng.normal(size=500), rng.normal(1.0, size=500)).details["p_value_bound"]
    'floored'
    """
    return _one(reference, current, "ad", alpha=alpha)


def wasserstein_distance(reference: Any, current: Any, *, alpha: float = 0.05, bootstrap: int = 0,
                         seed: int = 0) -> TestResult:
    """Wasserstein-1 distance between the two empirical distributions, as
    ``scipy.stats.wasserstein_distance``; ``bootstrap > 0`` adds a null threshold from that many
    resamples of the reference.

    Examples
    --------
    >>> from mlcore.monitor import wasserstein_distance
    >>> wasserstein_distance([0.0, 1.0, 3.0], [5.0, 6.0, 8.0]).statistic
    5.0
    """
    return _one(reference, current, "wasserstein", alpha=alpha, w1_bootstrap=bootstrap, seed=seed)


def _hist_one(reference, current, name, n_bins, alpha):
    return _one(reference, current, name, n_bins=n_bins, alpha=alpha)


def psi(reference: Any, current: Any, *, n_bins: int = 10, alpha: float = 0.05) -> TestResult:
    """Population stability index sum (q - p) ln(q / p) on the reference's quantile bins (empty
    bins floored at 1e-4), with its chi-square null: PSI / (1/n_ref + 1/n_cur) ~ chi2(bins - 1).

    Examples
    --------
    >>> import numpy as np
    >>> from mlcore.monitor import psi
    >>> rng = np.random.default_rng(0)
    >>> r = psi(rng.normal(size=10_000), rng.normal(size=10_000))
    >>> r.statistic < r.threshold
    True
    """
    return _hist_one(reference, current, "psi", n_bins, alpha)


def jensen_shannon(reference: Any, current: Any, *, n_bins: int = 10, alpha: float = 0.05) -> TestResult:
    """Jensen-Shannon divergence in bits (base 2, in [0, 1]) on the reference's quantile bins.

    Examples
    --------
    >>> from mlcore.monitor import jensen_shannon
    >>> round(jensen_shannon([0.0, 1.0, 2.0, 3.0], [10.0, 11.0, 12.0, 13.0], n_bins=2).statistic, 3)
    0.311
    """
    return _hist_one(reference, current, "jensen_shannon", n_bins, alpha)


def hellinger(reference: Any, current: Any, *, n_bins: int = 10, alpha: float = 0.05) -> TestResult:
    """Hellinger distance sqrt(1 - sum sqrt(p q)) (in [0, 1]) on the reference's quantile bins.

    Examples
    --------
    >>> from mlcore.monitor import hellinger
    >>> round(hellinger([0.0, 1.0, 2.0, 3.0], [10.0, 11.0, 12.0, 13.0], n_bins=2).statistic, 3)
    0.541
    """
    return _hist_one(reference, current, "hellinger", n_bins, alpha)


def kl_divergence(reference: Any, current: Any, *, n_bins: int = 10, alpha: float = 0.05) -> TestResult:
    """KL(current || reference) in nats on the reference's quantile bins, empty bins floored at 1e-4.

    Examples
    --------
    >>> import numpy as np
    >>> from mlcore.monitor import kl_divergence
    >>> kl_divergence(np.arange(100.0), np.arange(100.0)).statistic
    0.0
    """
    return _hist_one(reference, current, "kl", n_bins, alpha)


def numeric_tests(reference: Any, current: Any, columns: Sequence[str], **kwargs) -> list[list[TestResult]]:
    """All numeric tests on ``columns`` of two tables (see :func:`numeric_results` for options).

    Examples
    --------
    >>> import numpy as np, pyarrow as pa
    >>> from mlcore.monitor import numeric_tests
    >>> rng = np.random.default_rng(0)
    >>> ref = pa.table({"a": rng.normal(size=1000)}); cur = pa.table({"a": rng.normal(size=1000)})
    >>> [r.test for r in numeric_tests(ref, cur, ["a"], tests=("ks", "psi"))[0]]
    ['ks', 'psi']
    """
    from ._samples import sort_columns

    return numeric_results(sort_columns(reference, columns), sort_columns(current, columns), **kwargs)
