"""Calendar parts of temporal columns from their integer storage.

Buffer contract: ``values`` int32/int64 storage of one chunk (timestamp ticks with
``ticks_per_second`` ticks a second, or days when ``is_days``), ``validity``/``offset`` as usual.
``out`` is a (n_features, n_rows) float64 matrix; part ``p`` of ``parts`` writes row
``row0 + p * width`` (value), then sin and cos rows when ``cyclical`` (width 3, else 1), at
columns ``pos + i``. Part codes: 0 hour, 1 minute, 2 day of week (Monday 0), 3 day of month,
4 month, 5 year, 6 day of year (1-based). Null gives NaN.
"""

from __future__ import annotations

import numpy as np

from ._jit import kernel

PERIODS = np.array([24.0, 60.0, 7.0, 31.0, 12.0, 0.0, 366.0])


@kernel
def civil_from_days(z):
    """(year, month, day) of days since 1970-01-01 (H. Hinnant's algorithm, proleptic Gregorian)."""
    z = z + 719468
    era = (z if z >= 0 else z - 146096) // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    if m <= 2:
        y += 1
    return y, m, d


@kernel(inline="always")
def part_value(days, sod, y, m, d, code):
    """(value, phase) of calendar part ``code`` of a day (days since the epoch, its civil date
    y/m/d) at second-of-day ``sod``; the phase starts at 0 (day of month 1 -> 0) for sin/cos."""
    if code == 0:
        x = np.float64(sod // 3600)
        phase = x
    elif code == 1:
        x = np.float64((sod % 3600) // 60)
        phase = x
    elif code == 2:
        x = np.float64((days + 3) % 7)
        phase = x
    elif code == 3:
        x = np.float64(d)
        phase = x - 1.0
    elif code == 4:
        x = np.float64(m)
        phase = x - 1.0
    elif code == 5:
        x = np.float64(y)
        phase = 0.0
    else:
        cum = 0  # days in the months before this one
        for mo in range(1, m):
            if mo == 2:
                leap = (y % 4 == 0 and y % 100 != 0) or y % 400 == 0
                cum += 29 if leap else 28
            elif mo == 4 or mo == 6 or mo == 9 or mo == 11:
                cum += 30
            else:
                cum += 31
        x = np.float64(cum + d)
        phase = x - 1.0
    return x, phase


@kernel
def time_parts(length, offset, validity, values, ticks_per_second, is_days, parts, cyclical,
               periods, out, row0, pos):
    masked = validity.size != 0
    width = 3 if cyclical else 1
    two_pi = 2.0 * np.pi
    for i in range(length):
        j = offset + i
        if masked and not ((validity[j >> 3] >> (j & 7)) & 1):
            for p in range(parts.size):
                for w in range(width):
                    out[row0 + p * width + w, pos + i] = np.nan
            continue
        v = np.int64(values[j])
        if is_days:
            days = v
            sod = np.int64(0)
        else:
            sec = v // ticks_per_second  # floor division: correct before 1970 too
            days = sec // 86400
            sod = sec - days * 86400
        y, m, d = civil_from_days(days)
        for p in range(parts.size):
            code = parts[p]
            x, phase = part_value(days, sod, y, m, d, code)
            r = row0 + p * width
            out[r, pos + i] = x
            if cyclical:
                per = periods[code]
                if per > 0.0:
                    out[r + 1, pos + i] = np.sin(two_pi * phase / per)
                    out[r + 2, pos + i] = np.cos(two_pi * phase / per)
                else:
                    out[r + 1, pos + i] = 0.0
                    out[r + 2, pos + i] = 1.0
