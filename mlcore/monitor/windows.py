"""Windows over a table, by row count or by time, tumbling or sliding; checks over windows with a
reference-update policy.

Windows are zero-copy slices when the rows are in order (row windows always; time windows when
the time column is sorted, else the rows are gathered once per window).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np
import pyarrow as pa

from .. import _arrow
from ..errors import SchemaError

__all__ = ["Window", "row_windows", "time_windows", "check_windows"]


@dataclass(frozen=True)
class Window:
    """One window: its position (first row, or start time as the column's integer storage), its
    end (exclusive) and its rows."""

    start: Any
    end: Any
    data: pa.Table


def row_windows(data: Any, size: int, *, step: int | None = None, drop_partial: bool = False) -> Iterator[Window]:
    """Windows of ``size`` rows every ``step`` rows (tumbling when step is None or == size).

    Examples
    --------
    >>> import pyarrow as pa
    >>> from mlcore.monitor import row_windows
    >>> [(w.start, w.data.num_rows) for w in row_windows(pa.table({"x": list(range(5))}), 2)]
    [(0, 2), (2, 2), (4, 1)]
    """
    if size < 1:
        raise ValueError(f"size must be >= 1, got {size}")
    step = size if step is None else step
    if step < 1:
        raise ValueError(f"step must be >= 1, got {step}")
    table = _arrow.as_table(data)
    n = table.num_rows
    for s in range(0, max(n, 1), step):
        e = min(s + size, n)
        if e <= s or (drop_partial and e - s < size):
            break
        yield Window(s, e, table.slice(s, e - s))
        if e == n:
            break


def time_windows(data: Any, column: str, every: Any, *, period: Any = None, origin: Any = None) -> Iterator[Window]:
    """Windows [origin + k·every, origin + k·every + period) over a timestamp/date/integer column;
    tumbling when ``period`` is None (== every), sliding when period > every. ``every`` and
    ``period`` are ``datetime.timedelta``/``numpy.timedelta64`` for temporal columns, numbers for
    integer ones. Empty windows are skipped; rows with a null time belong to no window.

    Examples
    --------
    >>> import datetime as dt, pyarrow as pa
    >>> from mlcore.monitor import time_windows
    >>> t = pa.table({"t": pa.array([0, 5, 61, 130], pa.timestamp("s")), "x": [1, 2, 3, 4]})
    >>> [w.data["x"].to_pylist() for w in time_windows(t, "t", dt.timedelta(minutes=1))]
    [[1, 2], [3], [4]]
    """
    table = _arrow.as_table(data)
    col = _arrow.get_column(table, column)
    t = col.type
    if pa.types.is_timestamp(t) or pa.types.is_duration(t) or pa.types.is_time(t):
        unit = np.timedelta64(1, t.unit)
    elif pa.types.is_date32(t):
        unit = np.timedelta64(1, "D")
    elif pa.types.is_date64(t):
        unit = np.timedelta64(1, "ms")
    elif pa.types.is_integer(t):
        unit = None
    else:
        raise SchemaError(f"Expected a timestamp, date, time, duration or integer column, got `{t}` - at column `{column}`")

    def ticks(v):
        if v is None:
            return None
        if unit is None:
            return int(v)
        return int(np.timedelta64(v) // unit)

    step = ticks(every)
    width = ticks(period) if period is not None else step
    if not step or step <= 0 or width <= 0:
        raise ValueError("every and period must be positive")
    storage = pa.int64() if (unit is None or t.bit_width == 64) else pa.int32()
    times = col.cast(storage) if unit is not None else col
    vals = times.to_numpy(zero_copy_only=False) if times.null_count == 0 else \
        np.where(times.is_valid().to_numpy(zero_copy_only=False), times.fill_null(0).to_numpy(zero_copy_only=False), 0)
    valid = times.is_valid().to_numpy(zero_copy_only=False) if times.null_count else np.ones(len(vals), bool)
    vals = np.asarray(vals, dtype=np.int64)
    if not valid.any():
        return
    order = None
    if np.any(np.diff(vals[valid]) < 0) or not valid.all():
        order = np.flatnonzero(valid)[np.argsort(vals[valid], kind="stable")]
        sorted_vals = vals[order]
    else:
        sorted_vals = vals
    lo = ticks(origin) if origin is not None else int(sorted_vals[0]) // step * step
    last = int(sorted_vals[-1])
    k0 = (int(sorted_vals[0]) - lo - width) // step + 1
    k = max(k0, 0) if origin is not None else 0
    while lo + k * step <= last:
        s, e = lo + k * step, lo + k * step + width
        a, b = np.searchsorted(sorted_vals, [s, e], side="left")
        if b > a:
            if order is None:
                yield Window(s, e, table.slice(int(a), int(b - a)))
            else:
                yield Window(s, e, table.take(pa.array(order[a:b])))
        k += 1


def check_windows(monitor, windows, *, policy: str = "fixed"):
    """Check each window with a fitted :class:`DriftMonitor`; yields ``(window, report)``.

    ``policy``: ``"fixed"`` keeps the reference; ``"previous"`` compares each window with the one
    before it (refits on it after checking); ``"expanding"`` refits on the reference plus every
    window seen (only for monitors fitted on a table, at the cost of re-sorting).

    Examples
    --------
    >>> import numpy as np, pyarrow as pa
    >>> from mlcore.monitor import DriftMonitor, check_windows, row_windows
    >>> rng = np.random.default_rng(0)
    >>> ref = pa.table({"a": rng.normal(size=2000)})
    >>> cur = pa.table({"a": np.r_[rng.normal(size=2000), rng.normal(1.0, size=2000)]})
    >>> [r.drifted for _, r in check_windows(DriftMonitor().fit(ref), row_windows(cur, 2000))]
    [False, True]
    """
    if policy not in ("fixed", "previous", "expanding"):
        raise ValueError(f"policy must be 'fixed', 'previous' or 'expanding', got {policy!r}")
    seen = []
    for w in windows:
        rep = monitor.check(w.data)
        yield w, rep
        if policy == "previous":
            monitor.fit(w.data)
        elif policy == "expanding":
            seen.append(w.data)
            base = getattr(monitor, "_fit_table", None)
            if base is None:
                raise ValueError("policy='expanding' needs a monitor fitted in this session (it keeps its table)")
            monitor.fit(pa.concat_tables([base] + seen, promote_options="default"))
            monitor._fit_table = base
