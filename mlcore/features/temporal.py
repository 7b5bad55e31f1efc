"""Timestamp parts: hour, minute, day of week, day, month, year, day of year, with cyclical sin/cos."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.types as pat

from .. import _arrow
from .._kernels import feat_time as kt
from ..errors import SchemaError
from ._base import Transform

__all__ = ["DateTimeParts"]

_PARTS = {"hour": 0, "minute": 1, "dayofweek": 2, "day": 3, "month": 4, "year": 5, "dayofyear": 6}
_TICKS = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}


def _prepared(table: pa.Table, name: str) -> tuple[pa.ChunkedArray, int, bool]:
    col = _arrow.get_column(table, name)
    t = col.type
    if pat.is_timestamp(t):
        if t.tz is not None:
            # local wall-clock time of the zone: one copy through Arrow's tz database
            col = pc.local_timestamp(col)
        return col, _TICKS[t.unit], False
    if pat.is_date32(t):
        return col, 1, True
    if pat.is_date64(t):
        return col, 1_000, False
    raise SchemaError(f"DateTimeParts expects a timestamp, date32 or date64 column, got `{t}` - at column `{name}`")


class DateTimeParts(Transform):
    """Calendar parts of timestamp/date columns as float64 features, each optionally with its
    cyclical encoding ``sin(2π·phase/period)``, ``cos(…)`` (hour/24, minute/60, day of week/7,
    (day-1)/31, (month-1)/12, (day of year-1)/366; year has no period: sin 0, cos 1).

    Day of week counts Monday as 0 (pandas' ``dayofweek``). A time-zone-aware column gives the
    parts of its local wall-clock time; a naive one the parts of the stored value. Null gives NaN.

    Examples
    --------
    >>> import datetime as dt, pyarrow as pa
    >>> from mlcore.features import DateTimeParts
    >>> t = pa.table({"t": [dt.datetime(2013, 1, 1, 5, 30)]})
    >>> DateTimeParts(["t"], parts=["hour", "dayofweek"], cyclical=False).fit_transform(t).to_pylist()
    [{'t_hour': 5.0, 't_dayofweek': 1.0}]
    """

    kind = "datetime_parts"
    _params = ("parts", "cyclical")

    def _fits_without_rows(self):
        return True

    def __init__(self, columns, *, parts=("hour", "dayofweek", "month"), cyclical: bool = True):
        super().__init__(columns)
        parts = [parts] if isinstance(parts, str) else list(parts)
        bad = [p for p in parts if p not in _PARTS]
        if bad or not parts:
            raise ValueError(f"DateTimeParts: parameter `parts` must list parts among {list(_PARTS)}, got {parts!r}")
        self.parts = parts
        self.cyclical = bool(cyclical)

    def _fit(self, table, y):
        names = []
        for c in self.columns:
            _prepared(table, c)
            for p in self.parts:
                names.append(f"{c}_{p}")
                if self.cyclical:
                    names += [f"{c}_{p}_sin", f"{c}_{p}_cos"]
        self.feature_names_out_ = names

    def write(self, table, out, col0):
        codes = np.array([_PARTS[p] for p in self.parts], dtype=np.int64)
        width = len(self.parts) * (3 if self.cyclical else 1)
        for k, name in enumerate(self.columns):
            col, ticks, is_days = _prepared(table, name)
            pos = 0
            for chunk in col.chunks:
                v = _arrow.chunk_view(chunk, name=name)
                if v.length:
                    kt.time_parts(v.length, v.offset, v.validity, v.values, np.int64(ticks), is_days, codes,
                                  self.cyclical, kt.PERIODS, out, col0 + k * width, pos)
                pos += v.length
