"""Calendar parts with Python's datetime (reference for DateTimeParts)."""

from __future__ import annotations

import datetime as dt
import math


def parts(values, names):
    out = {n: [] for n in names}
    for v in values:
        for n in names:
            if v is None:
                out[n].append(math.nan)
                continue
            x = {"hour": v.hour if isinstance(v, dt.datetime) else 0,
                 "minute": v.minute if isinstance(v, dt.datetime) else 0,
                 "dayofweek": v.weekday(), "day": v.day, "month": v.month, "year": v.year,
                 "dayofyear": v.timetuple().tm_yday}[n]
            out[n].append(float(x))
    return out
