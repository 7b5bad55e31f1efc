"""The dataset-level drift check: many features, one verdict.

:class:`DriftMonitor` is fitted on a reference table (numeric columns are sorted once and kept;
categorical columns are counted) and checks current tables against it. For each feature it runs
the verdict test (default: Cramér-von Mises for numeric columns, chi-square for categorical ones)
plus any extra tests asked for, adjusts the verdict p-values for the number of features (default:
Holm), and calls a feature drifted only when its adjusted p-value is <= ``alpha`` AND its effect
size is >= the stated floor: a very large sample with a negligible difference raises no alarm.
Both numbers are reported for every feature, drifted or not.

Effect sizes: numeric, Wasserstein-1 divided by the reference standard deviation (a pure location
shift of d standard deviations gives d); categorical, the total variation distance.
"""

from __future__ import annotations

import json
import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Sequence

import numba
import numpy as np
import pyarrow as pa

from .. import _arrow
from ..errors import ArtifactError, NotFittedError, SchemaError
from . import categorical as _cat
from . import univariate as _uni
from ._samples import _THREADED_FROM, SortedColumns, sort_columns
from .multiple import CORRECTIONS, adjust_pvalues
from .result import TestResult

__all__ = ["DriftMonitor", "DriftReport", "FeatureDrift", "SegmentedDriftMonitor"]

_FORMAT = "mlcore.monitor.DriftMonitor/1"


@dataclass(frozen=True)
class FeatureDrift:
    """The verdict on one feature, with the numbers behind it."""

    column: str
    kind: str                # "numeric" or "categorical"
    test: str
    statistic: float
    p_value: float | None
    adjusted_p_value: float | None
    effect_size: float
    effect_size_name: str
    effect_floor: float
    significant: bool
    drifted: bool
    n_ref: int
    n_cur: int
    quality: dict
    results: tuple[TestResult, ...]


@dataclass(frozen=True)
class DriftReport:
    """Per-feature verdicts and the dataset-level verdict of one check."""

    features: tuple[FeatureDrift, ...]
    alpha: float
    correction: str
    drifted: bool
    n_drifted: int
    settings: dict = field(default_factory=dict)

    @property
    def drifted_columns(self) -> list[str]:
        return [f.column for f in self.features if f.drifted]

    def ranked(self) -> list[FeatureDrift]:
        """Features from the strongest evidence of drift to the weakest (explains an alarm)."""
        return sorted(self.features, key=lambda f: (not f.drifted, -(f.effect_size if math.isfinite(f.effect_size) else -1)))

    def to_table(self) -> pa.Table:
        """One row per feature: verdict test, statistic, p, adjusted p, effect size and floor."""
        cols = {k: [] for k in ("column", "kind", "test", "statistic", "p_value", "adjusted_p_value",
                                "effect_size", "effect_floor", "significant", "drifted", "n_ref", "n_cur")}
        for f in self.features:
            for k in cols:
                cols[k].append(getattr(f, k))
        return pa.table(cols)

    def to_dict(self) -> dict:
        """JSON-ready form, every test result included."""
        return {
            "drifted": self.drifted, "n_drifted": self.n_drifted, "alpha": self.alpha,
            "correction": self.correction, "settings": self.settings,
            "features": [
                {k: getattr(f, k) for k in FeatureDrift.__dataclass_fields__ if k != "results"}
                | {"results": [r.to_dict() for r in f.results]}
                for f in self.features
            ],
        }


def _kind(t: pa.DataType) -> str:
    k = _arrow.type_kind(t)
    if k == "numeric":
        return "numeric"
    if k in ("string", "dictionary", "bool"):
        return "categorical"
    raise SchemaError(f"Expected a numeric, string, dictionary or bool column, got `{t}`")


class DriftMonitor:
    """Fit on a reference table, then check current tables for drift feature by feature.

    Parameters
    ----------
    columns : list of str, optional
        Features to watch (default: every numeric, string, dictionary and bool column).
    numeric_test : {"cvm", "ks", "ad"}
        Test behind the numeric verdict (CvM: calibrated asymptotic p-values and more power than
        KS against shifts; AD's p-values are capped to [0.001, 0.25] by its table).
    categorical_test : {"chi2", "g_test"}
        Test behind the categorical verdict.
    alpha : float
        Level of the dataset-level family of tests.
    correction : {"holm", "bonferroni", "bh", "none"}
        Multiple-testing control across features.
    effect_floor : float
        Smallest numeric effect (Wasserstein-1 / reference std) called drift.
    categorical_effect_floor : float
        Smallest total variation distance called drift.
    extra_tests : list of str
        Other tests to run and report (not used by the verdict), e.g. ``["ks", "psi"]``.
    n_bins : int
        Quantile bins of the histogram distances.
    ks_method : {"auto", "exact", "asymp"}
        p-value method of the KS test.
    keep : {"table", "sorted"}
        What the fitted monitor keeps of the reference's numeric columns. ``"table"`` (default):
        the Arrow table itself (no copy); each check sorts one reference column and the matching
        current column at a time, per worker thread, so that a check needs a few columns of extra
        memory instead of two sorted copies of both tables; the reference's bin edges, standard
        deviation and range are computed once, on first use. ``"sorted"``: fit sorts every
        reference column once and keeps them (8 bytes per value), which saves the reference's
        sort in every later check: the choice for many checks against one large reference.
        Results are identical. A loaded monitor keeps its saved sorted reference.

    Examples
    --------
    >>> import numpy as np, pyarrow as pa
    >>> from mlcore.monitor import DriftMonitor
    >>> rng = np.random.default_rng(0)
    >>> ref = pa.table({"a": rng.normal(size=5000), "b": rng.normal(size=5000)})
    >>> cur = pa.table({"a": rng.normal(0.5, size=5000), "b": rng.normal(size=5000)})
    >>> DriftMonitor().fit(ref).check(cur).drifted_columns
    ['a']
    """

    def __init__(self, *, columns: Sequence[str] | None = None, numeric_test: str = "cvm",
                 categorical_test: str = "chi2", alpha: float = 0.05, correction: str = "holm",
                 effect_floor: float = 0.01, categorical_effect_floor: float = 0.01,
                 extra_tests: Sequence[str] = (), n_bins: int = 10, ks_method: str = "auto",
                 keep: str = "table"):
        if keep not in ("table", "sorted"):
            raise ValueError(f"keep must be 'table' or 'sorted', got {keep!r}")
        if numeric_test not in ("cvm", "ks", "ad"):
            raise ValueError(f"numeric_test must be 'cvm', 'ks' or 'ad', got {numeric_test!r}")
        if categorical_test not in ("chi2", "g_test"):
            raise ValueError(f"categorical_test must be 'chi2' or 'g_test', got {categorical_test!r}")
        if correction not in CORRECTIONS:
            raise ValueError(f"correction must be one of {CORRECTIONS}, got {correction!r}")
        if not 0 < alpha < 1:
            raise ValueError(f"alpha must lie in (0, 1), got {alpha!r}")
        if effect_floor < 0 or categorical_effect_floor < 0:
            raise ValueError("effect floors must be >= 0")
        self.columns = list(columns) if columns is not None else None
        self.numeric_test = numeric_test
        self.categorical_test = categorical_test
        self.alpha = float(alpha)
        self.correction = correction
        self.effect_floor = float(effect_floor)
        self.categorical_effect_floor = float(categorical_effect_floor)
        self.extra_tests = tuple(extra_tests)
        self.n_bins = int(n_bins)
        self.ks_method = ks_method
        self.keep = keep

    # ---- fit ---------------------------------------------------------------------------------

    def fit(self, reference: Any) -> "DriftMonitor":
        """Sort the reference's numeric columns, count its categorical ones, fix the bin edges."""
        table = _arrow.as_table(reference)
        cols = self.columns if self.columns is not None else [
            n for n, f in zip(table.column_names, table.schema)
            if _arrow.type_kind(f.type) in ("numeric", "string", "dictionary", "bool")]
        kinds = {}
        for c in cols:
            kinds[c] = _kind(_arrow.get_column(table, c).type)
        self._fit_table = table  # kept for the 'expanding' reference policy of check_windows
        self.columns_ = cols
        self.kinds_ = kinds
        self.types_ = {c: str(_arrow.get_column(table, c).type) for c in cols}
        num = [c for c in cols if kinds[c] == "numeric"]
        self.numeric_ = num
        self.edges_ = [None] * len(num)
        self.std_ = [None] * len(num)
        self.range_ = [None] * len(num)
        if self.keep == "sorted":
            self.reference_ = sort_columns(table, num)
            for f in range(len(num)):
                self._describe(f, self.reference_.column(f))
        else:
            self.reference_ = None  # each check sorts the columns of self._fit_table it needs
        self.categories_ = {c: _cat.category_counts(table, c) for c in cols if kinds[c] == "categorical"}
        return self

    def _describe(self, f: int, a: np.ndarray) -> None:
        """Bin edges, standard deviation and range of reference column ``f`` (sorted, non-NaN)."""
        self.edges_[f] = _uni.quantile_edges(a, self.n_bins)
        self.std_[f] = _uni._std(a)
        self.range_[f] = (float(a[0]), float(a[-1])) if a.size else (math.nan, math.nan)

    def _reference_column(self, f: int) -> SortedColumns:
        """Reference column ``f`` sorted: a view of the kept sorted reference, or sorted now."""
        r = self.reference_
        if r is not None:
            sl = slice(f, f + 1)
            return SortedColumns((self.numeric_[f],), r.values, r.start[sl], r.n[sl], r.n_nan[sl], r.n_null[sl],
                                 r.n_rows[sl])
        rs = sort_columns(self._fit_table, [self.numeric_[f]])
        if self.edges_[f] is None:
            self._describe(f, rs.column(0))
        return rs

    def _check_numeric(self, f: int, table: pa.Table, tests: tuple, type_changed: dict):
        """Tests and data quality of numeric column ``f``: sorts it (and the reference's, when not
        kept sorted), walks the two once, and lets the buffers go."""
        c = self.numeric_[f]
        rs = self._reference_column(f)
        cs = sort_columns(table, [c])
        walked = _uni.walk_serial(rs.column(0), cs.column(0), _uni.walk_mode(tests))
        res = _uni.numeric_results(rs, cs, tests=tests, alpha=self.alpha, ks_method=self.ks_method,
                                   n_bins=self.n_bins, edges=[self.edges_[f]], ref_std=[self.std_[f]],
                                   walked=walked)[0]
        a = cs.column(0)
        lo, hi = self.range_[f]
        out_of_range = int(np.searchsorted(a, lo, "left") + (a.size - np.searchsorted(a, hi, "right"))) if a.size else 0
        quality = {"rows": int(cs.n_rows[0]), "null": int(cs.n_null[0]), "nan": int(cs.n_nan[0]),
                   "inf": int(np.searchsorted(a, -np.inf, "right") + a.size - np.searchsorted(a, np.inf, "left"))
                   if a.size else 0,
                   "out_of_reference_range": out_of_range, "type_changed_to": type_changed[c]}
        return res, quality

    def _check_fitted(self):
        if not hasattr(self, "columns_"):
            raise NotFittedError("This DriftMonitor is not fitted yet; call fit(reference) first")

    # ---- check -------------------------------------------------------------------------------

    def check(self, current: Any) -> DriftReport:
        """Test every watched feature of ``current`` against the reference.

        A column whose Arrow type differs from the reference's raises :class:`SchemaError`;
        empty or all-null columns give undefined p-values, which never count as drift.
        """
        self._check_fitted()
        table = _arrow.as_table(current)
        type_changed = {}
        for c in self.columns_:
            t = _arrow.get_column(table, c).type
            if _kind(t) != self.kinds_[c]:
                raise SchemaError(f"Column `{c}` changed type: the reference had `{self.types_[c]}`, "
                                  f"the current data has `{t}`")
            # same kind, other type (int64 -> float64, string -> dictionary): tested, and reported
            type_changed[c] = str(t) if str(t) != self.types_[c] else None
        num_tests = tuple(dict.fromkeys((self.numeric_test, "wasserstein")
                                        + tuple(t for t in self.extra_tests if t in _uni.NUMERIC_TESTS)))
        cat_tests = tuple(dict.fromkeys(("total_variation", self.categorical_test)
                                        + tuple(t for t in self.extra_tests if t in _cat.CATEGORICAL_TESTS)))
        n_num = len(self.numeric_)
        threads = min(numba.get_num_threads(), n_num)
        if threads > 1 and table.num_rows * n_num >= _THREADED_FROM:
            # one column per worker at a time: the sorts (NumPy) and the walk (nogil) run in parallel
            with ThreadPoolExecutor(max_workers=threads) as pool:
                done = list(pool.map(lambda f: self._check_numeric(f, table, num_tests, type_changed), range(n_num)))
        else:
            done = [self._check_numeric(f, table, num_tests, type_changed) for f in range(n_num)]
        rows = []
        for f, c in enumerate(self.numeric_):
            res, quality = done[f]
            main = next(r for r in res if r.test == self.numeric_test)
            rows.append((c, "numeric", main, res, self.effect_floor, quality))
        for c in self.columns_:
            if self.kinds_[c] != "categorical":
                continue
            cc = _cat.category_counts(table, c)
            res = _cat.categorical_results(self.categories_[c], cc, column=c, tests=cat_tests, alpha=self.alpha)
            main = next(r for r in res if r.test == self.categorical_test)
            quality = {"rows": int(cc.counts.sum() + cc.n_null), "null": cc.n_null,
                       "unseen_categories": main.details.get("unseen", []), "type_changed_to": type_changed[c]}
            rows.append((c, "categorical", main, res, self.categorical_effect_floor, quality))
        order = {c: i for i, c in enumerate(self.columns_)}
        rows.sort(key=lambda r: order[r[0]])
        adj = adjust_pvalues([r[2].p_value for r in rows], self.correction)
        feats = []
        for (c, kind, main, res, floor, quality), ap in zip(rows, adj):
            eff = main.effect_size
            sig = bool(ap <= self.alpha) if not math.isnan(ap) else False
            # an infinite effect (W1 with ±inf values on one side only) is a drift; NaN is never one
            big = bool(eff >= floor) if eff is not None and not math.isnan(eff) else False
            feats.append(FeatureDrift(c, kind, main.test, main.statistic, main.p_value,
                                      None if math.isnan(ap) else float(ap), eff, main.effect_size_name,
                                      floor, sig, sig and big, main.n_ref, main.n_cur, quality, tuple(res)))
        n_drift = sum(f.drifted for f in feats)
        settings = {"numeric_test": self.numeric_test, "categorical_test": self.categorical_test,
                    "effect_floor": self.effect_floor, "categorical_effect_floor": self.categorical_effect_floor,
                    "n_bins": self.n_bins, "ks_method": self.ks_method}
        return DriftReport(tuple(feats), self.alpha, self.correction, n_drift > 0, n_drift, settings)

    # ---- save / load ---------------------------------------------------------------------------

    def save(self, path: str | os.PathLike) -> None:
        """Save to a folder: ``monitor.json`` (settings, counts, edges) and ``reference.npy``
        (the sorted reference values). No pickle."""
        self._check_fitted()
        os.makedirs(path, exist_ok=True)
        r = self.reference_
        if r is None:  # keep="table": sort now, as keep="sorted" would have at fit
            r = sort_columns(self._fit_table, self.numeric_)
            for f in range(len(self.numeric_)):
                if self.edges_[f] is None:
                    self._describe(f, r.column(f))
        state = {
            "format": _FORMAT,
            "settings": {k: getattr(self, k) for k in ("columns", "numeric_test", "categorical_test", "alpha",
                                                       "correction", "effect_floor", "categorical_effect_floor",
                                                       "n_bins", "ks_method")} | {"extra_tests": list(self.extra_tests)},
            "columns": self.columns_, "kinds": self.kinds_, "types": self.types_, "numeric": self.numeric_,
            "start": r.start.tolist(), "n": r.n.tolist(), "n_nan": r.n_nan.tolist(),
            "n_null": r.n_null.tolist(), "n_rows": r.n_rows.tolist(),
            "edges": [e.tolist() for e in self.edges_], "std": self.std_, "range": self.range_,
            "categories": {c: {"values": [_json_value(v) for v in cc.categories], "counts": cc.counts.tolist(),
                               "n_null": cc.n_null} for c, cc in self.categories_.items()},
        }
        with open(os.path.join(path, "monitor.json"), "w") as fh:
            json.dump(state, fh, allow_nan=True)
        np.save(os.path.join(path, "reference.npy"), np.ascontiguousarray(r.values), allow_pickle=False)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "DriftMonitor":
        """Load a monitor saved by :meth:`save` (JSON and a float64 .npy, never pickle)."""
        try:
            with open(os.path.join(path, "monitor.json")) as fh:
                state = json.load(fh)
        except (OSError, json.JSONDecodeError) as exc:
            raise ArtifactError(f"Could not read a DriftMonitor from `{path}`: {exc}") from exc
        if state.get("format") != _FORMAT:
            raise ArtifactError(f"Expected format `{_FORMAT}`, found `{state.get('format')}` in `{path}`")
        values = np.load(os.path.join(path, "reference.npy"), allow_pickle=False)
        if values.dtype != np.float64 or values.ndim != 1:
            raise ArtifactError(f"reference.npy must hold float64 values, found {values.dtype} {values.shape}")
        s = state["settings"]
        m = cls(**{k: v for k, v in s.items()})
        m.keep = "sorted"  # the saved reference is sorted: keep it
        m.columns_, m.kinds_, m.types_, m.numeric_ = state["columns"], state["kinds"], state["types"], state["numeric"]
        arr = {k: np.asarray(state[k], dtype=np.int64) for k in ("start", "n", "n_nan", "n_null", "n_rows")}
        if np.any(arr["start"] + arr["n"] > values.size) or np.any(arr["n"] < 0) or np.any(arr["start"] < 0):
            raise ArtifactError("reference.npy is shorter than the column segments monitor.json describes")
        m.reference_ = SortedColumns(tuple(m.numeric_), values, arr["start"], arr["n"], arr["n_nan"],
                                     arr["n_null"], arr["n_rows"])
        m.edges_ = [np.asarray(e, dtype=np.float64) for e in state["edges"]]
        m.std_ = [float(x) for x in state["std"]]
        m.range_ = [tuple(x) for x in state["range"]]
        m.categories_ = {c: _cat.CategoryCounts(tuple(v["values"]), np.asarray(v["counts"], np.int64), int(v["n_null"]))
                         for c, v in state["categories"].items()}
        return m


def _json_value(v):
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    return v


class SegmentedDriftMonitor:
    """One :class:`DriftMonitor` per segment: the rows of each value of a categorical column.

    ``check`` returns ``{segment: DriftReport}`` (segment values as Python objects, nulls as None),
    so that a drift can be traced to where it happens. Segments seen in the current data but not
    in the reference, or with fewer than ``min_rows`` reference rows, are listed in
    ``unmatched_`` after a check and not tested. The multiple-testing correction applies within
    each segment's report; ``overall`` corrects across every (segment, feature) test with
    Bonferroni, so that the number of segments does not inflate false alarms.

    Examples
    --------
    >>> import numpy as np, pyarrow as pa
    >>> from mlcore.monitor import SegmentedDriftMonitor
    >>> rng = np.random.default_rng(1)
    >>> seg = np.repeat(["eu", "us"], 3000)
    >>> ref = pa.table({"region": seg, "a": rng.normal(size=6000)})
    >>> cur = pa.table({"region": seg, "a": np.r_[rng.normal(size=3000), rng.normal(0.5, size=3000)]})
    >>> reps = SegmentedDriftMonitor("region").fit(ref).check(cur)
    >>> {k: r.drifted for k, r in reps.items()}
    {'eu': False, 'us': True}
    """

    def __init__(self, by: str, *, min_rows: int = 50, **monitor_kwargs):
        self.by = by
        self.min_rows = int(min_rows)
        self.monitor_kwargs = monitor_kwargs

    @staticmethod
    def _split(table: pa.Table, by: str) -> dict:
        import pyarrow.compute as pc

        col = _arrow.get_column(table, by)
        if _arrow.type_kind(col.type) not in ("string", "dictionary", "bool", "numeric"):
            raise SchemaError(f"Expected a categorical segment column, got `{col.type}` - at column `{by}`")
        out = {}
        for value in pc.unique(col).to_pylist():
            mask = pc.is_null(col) if value is None else pc.fill_null(pc.equal(col, pa.scalar(value, col.type)), False)
            out[value] = table.filter(mask).drop_columns([by])
        return out

    def fit(self, reference: Any) -> "SegmentedDriftMonitor":
        table = _arrow.as_table(reference)
        self.monitors_ = {}
        for value, part in self._split(table, self.by).items():
            if part.num_rows >= self.min_rows:
                self.monitors_[value] = DriftMonitor(**self.monitor_kwargs).fit(part)
        return self

    def check(self, current: Any) -> dict:
        if not hasattr(self, "monitors_"):
            raise NotFittedError("This SegmentedDriftMonitor is not fitted yet; call fit(reference) first")
        parts = self._split(_arrow.as_table(current), self.by)
        self.unmatched_ = sorted((v for v in parts if v not in self.monitors_), key=str)
        return {v: self.monitors_[v].check(p) for v, p in parts.items() if v in self.monitors_}

    @staticmethod
    def overall(reports: dict, alpha: float = 0.05) -> list[tuple[Any, str]]:
        """(segment, column) pairs drifted after Bonferroni across all segments' tests (and above
        their effect floors)."""
        rows = [(seg, f) for seg, rep in reports.items() for f in rep.features]
        adj = adjust_pvalues([f.p_value for _, f in rows], "bonferroni")
        return [(seg, f.column) for (seg, f), a in zip(rows, adj)
                if not math.isnan(a) and a <= alpha and math.isfinite(f.effect_size) and f.effect_size >= f.effect_floor]
