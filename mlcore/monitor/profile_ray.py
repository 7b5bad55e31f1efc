"""Profiles of a Ray Dataset: per-block profiles on the workers, merged exactly on the driver.

Every part of a :class:`~mlcore.monitor.profile.Profile` is a sum of integers or a min/max, so
the merge of the blocks' profiles is the profile of the whole dataset, bit for bit, in any block
order. What needs care is the bin edges: a reference profile's edges are quantiles of the whole
column. Given ``edges`` (a reference's, for a current batch) the profile takes one pass. Without
them it takes three, and the edges are still exact, equal to the single-machine ones:

1. each block profiles with no bins; the merge holds exact counts and the quantile sketch;
2. for each order statistic :func:`~mlcore.monitor.univariate.quantile_edges` reads, the merged
   sketch names the bucket (a value range) that holds it; each block returns how many of its
   finite values lie below that range and the values inside it (about ``2·alpha`` of the values
   near that quantile); the driver sorts those few values and reads the order statistic at its
   rank. The rank is checked to fall inside the gathered range; if it ever did not, the column's
   finite values would be gathered whole (exact, slower);
3. each block profiles on the exact edges; the driver merges.

Blocks travel as JSON text (:meth:`Profile.to_json`): no pickle of mlcore objects.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .._kernels import profile_pass as _pp
from ..errors import SchemaError, missing_dependency
from .profile import Profile, profile

__all__ = ["profile_ray", "is_ray_dataset"]


def is_ray_dataset(data: Any) -> bool:
    """True for a ``ray.data.Dataset`` (checked without importing Ray)."""
    return any(c.__module__.startswith("ray.data") and c.__name__ == "Dataset" for c in type(data).__mro__)


def _block_profile(batch: pa.Table, columns, edges, sketch_alpha) -> pa.Table:
    p = profile(batch, columns, edges=edges, sketch_alpha=sketch_alpha)
    return pa.table({"state": pa.array([p.to_json()], pa.large_string())})


def _finite(batch: pa.Table, name: str) -> np.ndarray:
    col = pc.drop_null(batch.column(name).combine_chunks() if batch.num_rows else pa.array([], pa.float64()))
    x = col.to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
    return x[np.isfinite(x)]


def _block_gather(batch: pa.Table, intervals) -> pa.Table:
    keys, below, values = [], [], []
    cache = {}
    for key, name, lo, hi in intervals:
        if name not in cache:
            cache[name] = _finite(batch, name)
        x = cache[name]
        keys.append(key)
        below.append(int(np.count_nonzero(x < lo)))
        values.append(x[(x >= lo) & (x <= hi)])
    return pa.table({"key": pa.array(keys, pa.int64()), "below": pa.array(below, pa.int64()),
                     "values": pa.array(values, pa.large_list(pa.float64()))})


def _bucket_interval(c, rank: int) -> tuple[float, float]:
    """A closed value range [lo, hi] that holds the finite value of ``rank`` (0-based) according
    to the merged sketch (walked as :meth:`ColumnProfile.quantile` does), widened a little so
    that the rounding of the bucket bounds cannot exclude it (the caller checks anyway)."""
    gamma = (1 + c.sketch_alpha) / (1 - c.sketch_alpha)
    wide_lo, wide_hi = 1 - 1e-9, 1 + 1e-9
    neg = c.sk_neg[::-1]
    seen = 0
    for k in np.nonzero(neg)[0]:
        seen += int(neg[k])
        if seen > rank:
            kk = int(neg.size - 1 - k)  # index into sk_neg: |x| in (gamma**(kk-1-OFF), gamma**(kk-OFF)]
            top = math.inf if kk == _pp.SK_SIZE - 1 else gamma ** (kk - _pp.SK_OFFSET) * wide_hi
            bottom = 0.0 if kk == 0 else gamma ** (kk - 1 - _pp.SK_OFFSET) * wide_lo
            return -top, -bottom
    seen += int(c.counts[_pp.C_ZERO])
    if seen > rank:
        return -0.0, 0.0
    for k in np.nonzero(c.sk_pos)[0]:
        seen += int(c.sk_pos[k])
        if seen > rank:
            top = math.inf if k == _pp.SK_SIZE - 1 else gamma ** (int(k) - _pp.SK_OFFSET) * wide_hi
            bottom = 0.0 if k == 0 else gamma ** (int(k) - 1 - _pp.SK_OFFSET) * wide_lo
            return bottom, top
    return -math.inf, math.inf


def _states(ds) -> Profile:
    merged = None
    for row in ds.take_all():
        p = Profile.from_json(row["state"])
        merged = p if merged is None else merged.merge(p)
    return merged


def profile_ray(dataset: Any, columns: Sequence[str] | None = None, *, edges: Mapping[str, Any] | None = None,
                n_bins: int = 10, sketch_alpha: float = 0.01) -> Profile:
    """:func:`~mlcore.monitor.profile` of a Ray Dataset, computed block by block on the workers
    and merged exactly: the result equals ``profile(the whole table, ...)``.

    Parameters are those of :func:`~mlcore.monitor.profile`. Give ``edges`` (the reference's) to
    profile a current batch in one pass; without them the reference's quantile edges are found
    exactly in two more passes (see the module docstring).

    Examples
    --------
    >>> import numpy as np, pyarrow as pa, ray  # doctest: +SKIP
    >>> from mlcore.monitor import profile, profile_ray  # doctest: +SKIP
    >>> t = pa.table({"x": np.random.default_rng(0).normal(size=10_000)})  # doctest: +SKIP
    >>> profile_ray(ray.data.from_arrow(t).repartition(4)) == profile(t)  # doctest: +SKIP
    True
    """
    try:
        import ray  # noqa: F401
    except ImportError as exc:
        raise missing_dependency("ray", "ray") from exc
    from .univariate import edge_ranks, edges_from_ranks

    if not 0 < sketch_alpha < 1:
        raise ValueError(f"sketch_alpha must lie in (0, 1), got {sketch_alpha!r}")
    if n_bins < 2:
        raise ValueError(f"n_bins must be at least 2, got {n_bins}")
    schema = dataset.schema()
    names = list(schema.names)
    types = dict(zip(names, schema.types))
    if columns is None:
        from .. import _arrow

        columns = [n for n in names if _arrow.type_kind(types[n]) in ("numeric", "string", "dictionary", "bool")]
    columns = list(columns)
    for c in columns:
        if c not in types:
            raise SchemaError(f"Column `{c}` is not in the dataset; it has {names}")
    from .. import _arrow

    numeric = [c for c in columns if _arrow.type_kind(types[c]) == "numeric"]
    given = {k: np.asarray(v, dtype=np.float64) for k, v in (edges or {}).items()}
    missing = [c for c in numeric if c not in given]

    def run(edge_map):
        out = dataset.map_batches(_block_profile, batch_format="pyarrow", batch_size=None,
                                  fn_kwargs={"columns": columns, "edges": edge_map, "sketch_alpha": sketch_alpha})
        return _states(out)

    if not missing:
        return run(given) if columns else Profile({})
    # pass 1: counts and sketches (no bins)
    first = run({**given, **{c: np.zeros(0) for c in missing}})
    # pass 2: the exact order statistics the edges need
    wanted, intervals = {}, []
    for c in missing:
        cp = first[c]
        n = cp.n_finite
        if n == 0:
            continue
        below, above, frac = edge_ranks(n, n_bins)
        wanted[c] = (below, above, frac, {})
        for r in sorted(set(below.tolist()) | set(above.tolist())):
            lo, hi = _bucket_interval(cp, r)
            wanted[c][3][r] = len(intervals)
            intervals.append((len(intervals), c, lo, hi))
    found = _gather(dataset, intervals)
    exact = dict(given)
    for c in missing:
        if c not in wanted:
            exact[c] = np.zeros(0)
            continue
        below, above, frac, where = wanted[c]
        value = {}
        for r, key in where.items():
            n_below, vals = found[key]
            if not n_below <= r < n_below + vals.size:  # never seen; exact fallback on the whole column
                n_below, vals = _gather(dataset, [(0, c, -math.inf, math.inf)])[0]
            value[r] = vals[r - n_below]
        exact[c] = edges_from_ranks(np.array([value[r] for r in below.tolist()]),
                                    np.array([value[r] for r in above.tolist()]), frac)
    # pass 3: the histograms on the exact edges
    return run(exact)


def _gather(dataset, intervals) -> dict[int, tuple[int, np.ndarray]]:
    if not intervals:
        return {}
    out = dataset.map_batches(_block_gather, batch_format="pyarrow", batch_size=None,
                              fn_kwargs={"intervals": intervals})
    n_below = {k: 0 for k, *_ in intervals}
    parts = {k: [] for k, *_ in intervals}
    for row in out.take_all():
        n_below[row["key"]] += int(row["below"])
        parts[row["key"]].append(np.asarray(row["values"], dtype=np.float64))
    return {k: (n_below[k], np.sort(np.concatenate(parts[k])) if parts[k] else np.zeros(0)) for k in n_below}
