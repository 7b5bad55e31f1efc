"""Obvious pure-Python references for mlcore.data's validation, as-of join and parsing.

Values come from ``to_pylist()`` (nulls are None). Slow on purpose: one readable loop each.
"""

from __future__ import annotations

import math
import re

KINDS = ("null", "nan", "posinf", "neginf", "below_min", "above_max", "unseen_category", "duplicate",
         "type_mismatch")


def _key(v):
    """Equality as the validation defines it: -0.0 == 0.0, NaN == NaN."""
    if isinstance(v, float):
        if math.isnan(v):
            return ("nan",)
        if v == 0.0:
            return 0.0
    return v


def ref_check_column(values, *, lo=-math.inf, hi=math.inf, categories=None, unique=False,
                     integral=False, parse=None):
    """Counts of every problem kind, the rows of each, finite min/max and constancy."""
    rows = {k: [] for k in KINDS}
    seen = set()
    cats = None if categories is None else {_key(c) for c in categories}
    finite = []
    distinct = set()
    for i, v in enumerate(values):
        if v is None:
            rows["null"].append(i)
            continue
        distinct.add(_key(v))
        if unique:
            if _key(v) in seen:
                rows["duplicate"].append(i)
            seen.add(_key(v))
        if cats is not None and _key(v) not in cats:
            rows["unseen_category"].append(i)
        if isinstance(v, str):
            if parse is not None and not ref_parses(v, parse):
                rows["type_mismatch"].append(i)
            continue
        if isinstance(v, bool):
            continue
        x = float(v)
        if math.isnan(x):
            rows["nan"].append(i)
            continue
        if x == math.inf:
            rows["posinf"].append(i)
            continue
        if x == -math.inf:
            rows["neginf"].append(i)
            continue
        finite.append(v)
        if x < lo:
            rows["below_min"].append(i)
        elif x > hi:
            rows["above_max"].append(i)
        if integral and x != math.floor(x):
            rows["type_mismatch"].append(i)
    return {
        "rows": rows,
        "counts": {k: len(r) for k, r in rows.items()},
        "min": min(finite) if finite else None,
        "max": max(finite) if finite else None,
        "constant": len(distinct) == 1,
    }


_INT = re.compile(r"^[ \t\n\r\f\v]*[+-]?[0-9]{1,18}[ \t\n\r\f\v]*$")
_FLOAT = re.compile(
    r"^[ \t\n\r\f\v]*[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|nan|inf|infinity)[ \t\n\r\f\v]*$",
    re.IGNORECASE,
)


def ref_parses(s: str, mode: str) -> bool:
    """Whether ``s`` is an integer ("int") or float ("float") literal (ASCII, as documented)."""
    if not s.isascii():
        return False
    return bool((_INT if mode == "int" else _FLOAT).match(s))


def ref_duplicate_rows(rows):
    """Row numbers that repeat an earlier row (tuples of values), with the earlier row."""
    first = {}
    out = []
    for i, r in enumerate(rows):
        k = tuple(_key(v) for v in r)
        if k in first:
            out.append((i, first[k]))
        else:
            first[k] = i
    return out


def ref_asof(left_times, left_keys, right_times, right_keys, *, tolerance=None, forward=False,
             allow_exact=True):
    """For each left row, the index of the matching right row (or None), by scanning all rows:
    backward takes the largest time <= t (last such row on ties), forward the smallest >= t
    (first such row on ties)."""
    out = []
    for t, k in zip(left_times, left_keys):
        best = None
        if t is None or k is None:
            out.append(None)
            continue
        for j, (rt, rk) in enumerate(zip(right_times, right_keys)):
            if rt is None or rk != k:
                continue
            if forward:
                ok = rt > t or (allow_exact and rt == t)
                if ok and (tolerance is None or rt - t <= tolerance):
                    if best is None or rt < right_times[best]:
                        best = j
            else:
                ok = rt < t or (allow_exact and rt == t)
                if ok and (tolerance is None or t - rt <= tolerance):
                    if best is None or rt >= right_times[best]:
                        best = j
        out.append(best)
    return out
