"""Mergeable batch profiles: what a monitor keeps of a batch, and how a reference is stored.

A :class:`Profile` holds, per column, counts (rows, nulls, NaN, ±inf, zeros), min and max, the
exact sums of x and x² (integers: the mean and variance are correctly rounded from them),
a histogram on fixed bin edges (the reference's quantiles), and a logarithmic quantile sketch
with relative accuracy ``alpha`` (default 1%: an estimated quantile q̂ of a finite value x_q
satisfies |q̂ − x_q| ≤ alpha·|x_q|, where x_q is the sorted value at rank floor(q·(n−1))). For
categorical columns, the category counts. Every part is a sum of integers or a min/max, so
:meth:`Profile.merge` is exact, associative and order-independent: the profile of the
concatenation of batches equals the merge of their profiles, bit for bit.

One compiled pass per numeric chunk computes it (``kernels/profile_pass.py``). Profiles save to a
folder as ``profile.json`` plus ``arrays.npz`` (integer and float arrays only, loaded with
``allow_pickle=False``).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Mapping, Sequence

import numpy as np
import pyarrow as pa

from .. import _arrow
from .._kernels import profile_pass as _pp
from ..errors import ArtifactError, SchemaError, ShapeError
from .categorical import category_counts

__all__ = ["ColumnProfile", "Profile", "profile", "profile_drift"]

_FORMAT = "mlcore.monitor.Profile/1"
_KINDS = ("numeric", "categorical")


@dataclass
class ColumnProfile:
    """The profile of one column (see the module docstring)."""

    name: str
    kind: str
    type: str
    n_rows: int = 0
    n_null: int = 0
    counts: np.ndarray = field(default_factory=lambda: np.zeros(_pp.N_COUNTS, np.int64))
    minmax: np.ndarray = field(default_factory=lambda: np.array([np.inf, -np.inf]))
    limbs1: np.ndarray = field(default_factory=lambda: np.zeros(_pp.N_LIMBS1, np.int64))
    limbs2: np.ndarray = field(default_factory=lambda: np.zeros(_pp.N_LIMBS2, np.int64))
    edges: np.ndarray = field(default_factory=lambda: np.zeros(0))
    hist: np.ndarray = field(default_factory=lambda: np.zeros(1, np.int64))
    sketch_alpha: float = 0.01
    sk_pos: np.ndarray | None = None
    sk_neg: np.ndarray | None = None
    categories: dict = field(default_factory=dict)

    # ---- derived numbers ----------------------------------------------------------------------

    @property
    def n_nan(self) -> int:
        return int(self.counts[_pp.C_NAN])

    @property
    def n_inf(self) -> int:
        return int(self.counts[_pp.C_PINF] + self.counts[_pp.C_NINF])

    @property
    def n_finite(self) -> int:
        return int(self.counts[_pp.C_FINITE])

    def _sum(self, limbs: np.ndarray, base: int) -> Fraction:
        total = 0
        for k in range(limbs.size - 1, -1, -1):
            total = (total << 32) + int(limbs[k])
        return Fraction(total, 1 << base)

    @property
    def sum(self) -> float:
        """Sum of the finite values, correctly rounded from the exact integer sum."""
        return _to_float(self._sum(self.limbs1, _pp.BASE1))

    @property
    def mean(self) -> float:
        n = self.n_finite
        return _to_float(self._sum(self.limbs1, _pp.BASE1) / n) if n else math.nan

    @property
    def variance(self) -> float:
        """Sample variance (ddof=1) of the finite values, from exact sums."""
        n = self.n_finite
        if n < 2:
            return math.nan
        s1 = self._sum(self.limbs1, _pp.BASE1)
        s2 = self._sum(self.limbs2, _pp.BASE2)
        return _to_float((s2 - s1 * s1 / n) / (n - 1))

    @property
    def std(self) -> float:
        v = self.variance
        return math.sqrt(v) if v == v else math.nan

    @property
    def min(self) -> float:
        return float(self.minmax[0]) if self.n_finite else math.nan

    @property
    def max(self) -> float:
        return float(self.minmax[1]) if self.n_finite else math.nan

    def quantile(self, q: float) -> float:
        """Sketch estimate of the q-quantile of the finite values (relative error <= alpha)."""
        if not 0 <= q <= 1:
            raise ValueError(f"q must lie in [0, 1], got {q!r}")
        if self.kind != "numeric" or self.n_finite == 0:
            return math.nan
        gamma = (1 + self.sketch_alpha) / (1 - self.sketch_alpha)
        rank = int(math.floor(q * (self.n_finite - 1)))
        neg = self.sk_neg[::-1]  # most negative first: largest |x| bucket first
        seen = 0
        for k in np.nonzero(neg)[0]:
            seen += int(neg[k])
            if seen > rank:
                kk = (neg.size - 1 - k) - _pp.SK_OFFSET
                return -2.0 * gamma ** kk / (gamma + 1)
        seen += int(self.counts[_pp.C_ZERO])
        if seen > rank:
            return 0.0
        for k in np.nonzero(self.sk_pos)[0]:
            seen += int(self.sk_pos[k])
            if seen > rank:
                kk = k - _pp.SK_OFFSET
                return 2.0 * gamma ** kk / (gamma + 1)
        return float(self.minmax[1])

    # ---- merge ----------------------------------------------------------------------------------

    def merge(self, other: "ColumnProfile") -> "ColumnProfile":
        """A new profile of both batches (exact; raises when the layouts differ)."""
        if (other.name, other.kind) != (self.name, self.kind):
            raise ShapeError(f"Cannot merge the profile of `{other.name}` ({other.kind}) into `{self.name}` ({self.kind})")
        if self.type != other.type:
            raise SchemaError(f"Column `{self.name}` has type `{self.type}` in one profile and `{other.type}` in the other")
        if self.kind == "numeric":
            if not np.array_equal(self.edges, other.edges) or self.sketch_alpha != other.sketch_alpha:
                raise ShapeError(f"Column `{self.name}`: profiles with different bin edges or sketch accuracy do not merge")
        out = ColumnProfile(self.name, self.kind, self.type, self.n_rows + other.n_rows, self.n_null + other.n_null)
        out.counts = self.counts + other.counts
        lo = _signed_min(self.minmax[0], other.minmax[0])
        hi = _signed_max(self.minmax[1], other.minmax[1])
        out.minmax = np.array([lo, hi])
        out.limbs1 = self.limbs1 + other.limbs1
        out.limbs2 = self.limbs2 + other.limbs2
        _pp.normalise(out.limbs1)
        _pp.normalise(out.limbs2)
        out.edges = self.edges.copy()
        out.hist = self.hist + other.hist
        out.sketch_alpha = self.sketch_alpha
        if self.sk_pos is not None:
            out.sk_pos = self.sk_pos + other.sk_pos
            out.sk_neg = self.sk_neg + other.sk_neg
        cats = dict(self.categories)
        for k, v in other.categories.items():
            cats[k] = cats.get(k, 0) + v
        out.categories = dict(sorted(cats.items(), key=lambda kv: (kv[0] is None, str(kv[0]))))
        return out

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ColumnProfile):
            return NotImplemented
        arrays = ("counts", "limbs1", "limbs2", "edges", "hist")
        same = all(np.array_equal(getattr(self, a), getattr(other, a)) for a in arrays)
        same &= np.array_equal(self.minmax, other.minmax) and np.array_equal(np.signbit(self.minmax), np.signbit(other.minmax))
        if self.sk_pos is not None or other.sk_pos is not None:
            same &= (self.sk_pos is not None and other.sk_pos is not None and np.array_equal(self.sk_pos, other.sk_pos)
                     and np.array_equal(self.sk_neg, other.sk_neg))
        return bool(same) and (self.name, self.kind, self.type, self.n_rows, self.n_null, self.sketch_alpha,
                               self.categories) == (other.name, other.kind, other.type, other.n_rows,
                                                    other.n_null, other.sketch_alpha, other.categories)


def _to_float(v: Fraction) -> float:
    # correctly rounded; beyond the float range the true value is an overflow, i.e. +-inf
    try:
        return float(v)
    except OverflowError:
        return math.inf if v > 0 else -math.inf


def _signed_min(a: float, b: float) -> float:
    if a < b:
        return a
    if b < a:
        return b
    return a if np.signbit(a) else b


def _signed_max(a: float, b: float) -> float:
    if a > b:
        return a
    if b > a:
        return b
    return b if np.signbit(a) else a


class Profile:
    """Profiles of several columns: build with :func:`profile`, combine with :meth:`merge`.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from mlcore.monitor import profile
    >>> a = profile(pa.table({"x": [1.0, 2.0, None]}))
    >>> p = a.merge(profile(pa.table({"x": [3.0]}), edges=a.edges))  # batches share the reference's bins
    >>> p["x"].mean, p["x"].n_null
    (2.0, 1)
    """

    def __init__(self, columns: Mapping[str, ColumnProfile]):
        self.columns = dict(columns)

    def __getitem__(self, name: str) -> ColumnProfile:
        return self.columns[name]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Profile) and self.columns == other.columns

    @property
    def edges(self) -> dict[str, np.ndarray]:
        """The bin edges of each numeric column (pass them to profile the next batches)."""
        return {k: c.edges for k, c in self.columns.items() if c.kind == "numeric"}

    def merge(self, other: "Profile") -> "Profile":
        """The exact profile of both batches."""
        if set(self.columns) != set(other.columns):
            raise ShapeError(f"Profiles cover different columns: {sorted(self.columns)} vs {sorted(other.columns)}")
        return Profile({k: self.columns[k].merge(other.columns[k]) for k in self.columns})

    def summary(self) -> pa.Table:
        """One row per column: counts, mean, std, min, max, median (sketch)."""
        rows = {k: [] for k in ("column", "kind", "rows", "nulls", "nan", "inf", "mean", "std", "min", "max", "median")}
        for c in self.columns.values():
            num = c.kind == "numeric"
            vals = (c.name, c.kind, c.n_rows, c.n_null, c.n_nan if num else None, c.n_inf if num else None,
                    c.mean if num else None, c.std if num else None, c.min if num else None,
                    c.max if num else None, c.quantile(0.5) if num else None)
            for k, v in zip(rows, vals):
                rows[k].append(v)
        return pa.table(rows)

    # ---- save / load ----------------------------------------------------------------------------

    def to_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """The profile as (JSON-ready metadata, named integer/float arrays): what :meth:`save`
        writes and the store keeps. :meth:`from_state` reads it back exactly."""
        meta = {"format": _FORMAT, "columns": []}
        arrays = {}
        for i, c in enumerate(self.columns.values()):
            meta["columns"].append({"name": c.name, "kind": c.kind, "type": c.type, "n_rows": c.n_rows,
                                    "n_null": c.n_null, "sketch_alpha": c.sketch_alpha,
                                    "categories": [[_jsonable(k), v] for k, v in c.categories.items()]})
            if c.kind == "numeric":
                arrays[f"{i}_counts"] = c.counts
                arrays[f"{i}_minmax"] = c.minmax
                arrays[f"{i}_limbs1"] = c.limbs1
                arrays[f"{i}_limbs2"] = c.limbs2
                arrays[f"{i}_edges"] = c.edges
                arrays[f"{i}_hist"] = c.hist
                for side in ("pos", "neg"):
                    sk = getattr(c, f"sk_{side}")
                    nz = np.nonzero(sk)[0]
                    arrays[f"{i}_sk{side}_idx"] = nz.astype(np.int64)
                    arrays[f"{i}_sk{side}_cnt"] = sk[nz]
        return meta, arrays

    @classmethod
    def from_state(cls, meta: Mapping, arrays: Mapping[str, np.ndarray], where: str = "the state") -> "Profile":
        """Rebuild a profile from :meth:`to_state`'s output, checking every array's type and size
        (closed list of column kinds; no pickle anywhere)."""
        if meta.get("format") != _FORMAT:
            raise ArtifactError(f"Expected format `{_FORMAT}`, found `{meta.get('format')}` in {where}")
        cols = {}
        for i, m in enumerate(meta["columns"]):
            if m["kind"] not in _KINDS:
                raise ArtifactError(f"Unknown column kind `{m['kind']}` in {where}; expected one of {_KINDS}")
            c = ColumnProfile(m["name"], m["kind"], m["type"], int(m["n_rows"]), int(m["n_null"]),
                              sketch_alpha=float(m["sketch_alpha"]))
            c.categories = {(tuple(k) if isinstance(k, list) else k): int(v) for k, v in m["categories"]}
            if c.kind == "numeric":
                expect = {"counts": (np.int64, _pp.N_COUNTS), "minmax": (np.float64, 2),
                          "limbs1": (np.int64, _pp.N_LIMBS1), "limbs2": (np.int64, _pp.N_LIMBS2)}
                try:
                    for a, (dt, size) in expect.items():
                        arr = np.asarray(arrays[f"{i}_{a}"])
                        if arr.dtype != dt or arr.shape != (size,):
                            raise ArtifactError(f"`{a}` of column `{c.name}` has {arr.dtype} {arr.shape}, "
                                                f"expected {np.dtype(dt)} ({size},)")
                        setattr(c, a, arr.copy())
                    c.edges = np.asarray(arrays[f"{i}_edges"]).astype(np.float64)
                    c.hist = np.asarray(arrays[f"{i}_hist"]).astype(np.int64)
                    if c.edges.ndim != 1 or c.hist.shape != (c.edges.size + 1,):
                        raise ArtifactError(f"histogram of `{c.name}` does not fit its edges")
                    for side in ("pos", "neg"):
                        idx = np.asarray(arrays[f"{i}_sk{side}_idx"]).astype(np.int64)
                        cnt = np.asarray(arrays[f"{i}_sk{side}_cnt"]).astype(np.int64)
                        if idx.shape != cnt.shape or (idx.size and (idx.min() < 0 or idx.max() >= _pp.SK_SIZE)):
                            raise ArtifactError(f"sketch index of `{c.name}` out of range")
                        sk = np.zeros(_pp.SK_SIZE, np.int64)
                        sk[idx] = cnt
                        setattr(c, f"sk_{side}", sk)
                except KeyError as exc:
                    raise ArtifactError(f"array {exc} of column `{c.name}` is missing in {where}") from None
            cols[c.name] = c
        return cls(cols)

    def to_json(self) -> str:
        """The whole profile as one JSON text (arrays as lists; floats round-trip exactly)."""
        meta, arrays = self.to_state()
        return json.dumps({"meta": meta, "arrays": {k: v.tolist() for k, v in arrays.items()},
                           "dtypes": {k: v.dtype.str for k, v in arrays.items()}}, allow_nan=True)

    @classmethod
    def from_json(cls, text: str) -> "Profile":
        """Read :meth:`to_json`'s text back (the same profile, bit for bit)."""
        try:
            d = json.loads(text)
            allowed = {"<i8": np.int64, "<f8": np.float64}
            arrays = {}
            for k, v in d["arrays"].items():
                dt = d["dtypes"][k]
                if dt not in allowed:
                    raise ArtifactError(f"array `{k}` has dtype {dt!r}; expected one of {sorted(allowed)}")
                arrays[k] = np.asarray(v, dtype=allowed[dt]).reshape(-1)
            meta = d["meta"]
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, ArtifactError):
                raise
            raise ArtifactError(f"Could not read a profile from its JSON text: {exc}") from exc
        return cls.from_state(meta, arrays, "the JSON text")

    def save(self, path: str | os.PathLike) -> None:
        """Write ``profile.json`` and ``arrays.npz`` (numeric arrays only) into folder ``path``."""
        os.makedirs(path, exist_ok=True)
        meta, arrays = self.to_state()
        with open(os.path.join(path, "profile.json"), "w") as fh:
            json.dump(meta, fh)
        np.savez(os.path.join(path, "arrays.npz"), **arrays)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Profile":
        """Read a profile written by :meth:`save` (JSON + npz, no pickle, closed list of kinds)."""
        try:
            with open(os.path.join(path, "profile.json")) as fh:
                meta = json.load(fh)
        except (OSError, json.JSONDecodeError) as exc:
            raise ArtifactError(f"Could not read a profile from `{path}`: {exc}") from exc
        if meta.get("format") != _FORMAT:
            raise ArtifactError(f"Expected format `{_FORMAT}`, found `{meta.get('format')}` in `{path}`")
        try:
            with np.load(os.path.join(path, "arrays.npz"), allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
        except (OSError, ValueError) as exc:
            raise ArtifactError(f"Could not read the arrays of the profile in `{path}`: {exc}") from exc
        return cls.from_state(meta, arrays, f"`{path}`")


def _jsonable(v):
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    return v


def profile(data: Any, columns: Sequence[str] | None = None, *, edges: Mapping[str, Any] | None = None,
            n_bins: int = 10, sketch_alpha: float = 0.01) -> Profile:
    """Profile a batch: one compiled pass per numeric chunk, Arrow's value counts per categorical.

    Parameters
    ----------
    data : table-like or ray.data.Dataset
        Any input :func:`mlcore._arrow.as_table` accepts, or a Ray Dataset (profiled block by
        block on the workers and merged exactly: :func:`~mlcore.monitor.profile_ray.profile_ray`).
    columns : list of str, optional
        Columns to profile (default: every numeric, string, dictionary and bool column).
    edges : dict, optional
        Bin edges per numeric column (use ``reference_profile.edges`` so that batch profiles
        share the reference's bins and can be merged). Columns without edges get the batch's own
        deduplicated quantile edges (``n_bins`` bins): do that for the reference only.
    sketch_alpha : float
        Relative accuracy of the quantile sketch.

    Examples
    --------
    >>> import numpy as np, pyarrow as pa
    >>> from mlcore.monitor import profile
    >>> p = profile(pa.table({"x": np.arange(1.0, 101.0)}))
    >>> p["x"].n_finite, int(p["x"].hist.sum()), bool(abs(p["x"].quantile(0.5) - 50.0) <= 0.01 * 50)
    (100, 100, True)
    """
    if not 0 < sketch_alpha < 1:
        raise ValueError(f"sketch_alpha must lie in (0, 1), got {sketch_alpha!r}")
    from .profile_ray import is_ray_dataset

    if is_ray_dataset(data):
        from .profile_ray import profile_ray

        return profile_ray(data, columns, edges=edges, n_bins=n_bins, sketch_alpha=sketch_alpha)
    table = _arrow.as_table(data)
    if columns is None:
        columns = [n for n, f in zip(table.column_names, table.schema)
                   if _arrow.type_kind(f.type) in ("numeric", "string", "dictionary", "bool")]
    gamma = (1 + sketch_alpha) / (1 - sketch_alpha)
    inv_log_gamma = 1.0 / math.log(gamma)
    out = {}
    for name in columns:
        col = _arrow.get_column(table, name)
        kind = _arrow.type_kind(col.type)
        if kind == "numeric":
            c = ColumnProfile(name, "numeric", str(col.type), len(col), col.null_count, sketch_alpha=sketch_alpha)
            if edges is not None and name in edges:
                e = np.asarray(edges[name], dtype=np.float64)
            else:
                from ._samples import sort_columns
                from .univariate import quantile_edges

                s = sort_columns(table, [name])
                e = quantile_edges(s.column(0), n_bins)
            if e.ndim != 1 or np.any(np.diff(e) <= 0) or not np.all(np.isfinite(e)):
                raise ValueError(f"edges of column `{name}` must be finite and strictly increasing")
            c.edges = np.ascontiguousarray(e)
            c.hist = np.zeros(e.size + 1, np.int64)
            c.sk_pos = np.zeros(_pp.SK_SIZE, np.int64)
            c.sk_neg = np.zeros(_pp.SK_SIZE, np.int64)
            for v in _arrow.numeric_views(table, name):
                if v.length == 0 or v.null_count == v.length:
                    continue
                _pp.profile_numeric(v.length, v.offset, v.validity, v.values, c.edges, inv_log_gamma,
                                    c.counts, c.minmax, c.limbs1, c.limbs2, c.hist, c.sk_pos, c.sk_neg)
        elif kind in ("string", "dictionary", "bool"):
            cc = category_counts(table, name)
            c = ColumnProfile(name, "categorical", str(col.type), len(col), cc.n_null, sketch_alpha=sketch_alpha)
            c.categories = {k: int(v) for k, v in zip(cc.categories, cc.counts)}
        else:
            raise SchemaError(f"Expected a numeric, string, dictionary or bool column, got `{col.type}` - at column `{name}`")
        out[name] = c
    return Profile(out)


def profile_drift(reference: Profile, current: Profile, *, alpha: float = 0.05) -> dict:
    """Drift statistics read from two profiles alone (no raw data): for numeric columns PSI,
    Jensen-Shannon, Hellinger and KL on the shared bin edges; for categorical columns chi-square,
    G-test, total variation, L∞, PSI and Jensen-Shannon on the category counts. The exact rank
    tests (KS, CvM, AD) need the values and are run by :class:`DriftMonitor` instead.

    Examples
    --------
    >>> import numpy as np, pyarrow as pa
    >>> from mlcore.monitor import profile, profile_drift
    >>> rng = np.random.default_rng(0)
    >>> ref = profile(pa.table({"x": rng.normal(size=5000)}))
    >>> cur = profile(pa.table({"x": rng.normal(0.5, size=5000)}), edges=ref.edges)
    >>> [r.test for r in profile_drift(ref, cur)["x"]][:2], profile_drift(ref, cur)["x"][0].exceeds
    (['psi', 'jensen_shannon'], True)
    """
    from .categorical import CategoryCounts, categorical_results
    from .univariate import hist_distances

    out = {}
    for name, r in reference.columns.items():
        if name not in current.columns:
            raise ShapeError(f"Column `{name}` is in the reference profile but not in the current one")
        c = current.columns[name]
        if r.kind != c.kind:
            raise SchemaError(f"Column `{name}` is {r.kind} in the reference profile and {c.kind} in the current one")
        if r.kind == "numeric":
            if not np.array_equal(r.edges, c.edges):
                raise ShapeError(f"Column `{name}`: profile the current batch with the reference's edges "
                                 "(profile(data, edges=reference.edges))")
            binning = f"reference profile bins ({r.edges.size + 1}), finite values only"
            out[name] = hist_distances(r.hist, c.hist, alpha=alpha, column=name, binning=binning,
                                       which=("psi", "jensen_shannon", "hellinger", "kl"))
        else:
            def counts(p):
                keys = list(p.categories)
                return CategoryCounts(tuple(keys), np.array([p.categories[k] for k in keys], np.int64), p.n_null)
            out[name] = categorical_results(counts(r), counts(c), column=name, alpha=alpha,
                                            tests=("chi2", "g_test", "total_variation", "linf", "psi", "jensen_shannon"))
    return out
