"""Pure-Python references for mlcore.compute, over ``to_pylist()`` (nulls are None)."""

from __future__ import annotations

import math


def _float_sum(valid):
    """IEEE semantics: NaN propagates, +inf + -inf is NaN, otherwise the exact sum rounded once."""
    if any(math.isnan(v) for v in valid):
        return math.nan
    pos, neg = math.inf in valid, -math.inf in valid
    if pos and neg:
        return math.nan
    if pos or neg:
        return math.inf if pos else -math.inf
    return math.fsum(valid)


def ref_sum(values):
    valid = [v for v in values if v is not None]
    if not valid:
        return None
    if any(isinstance(v, float) for v in valid):
        return _float_sum([float(v) for v in valid])
    return sum(valid)


def ref_mean(values):
    valid = [v for v in values if v is not None]
    if not valid:
        return None
    return _float_sum([float(v) for v in valid]) / len(valid)


def ref_min_max(values):
    valid = [v for v in values if v is not None]
    if not valid:
        return {"min": None, "max": None}
    finite = [float(v) for v in valid if not (isinstance(v, float) and math.isnan(v))]
    if not finite:
        return {"min": math.nan, "max": math.nan}
    return {"min": min(finite), "max": max(finite)}


def ref_affine(values, scale, shift):
    return [None if v is None else float(v) * scale + shift for v in values]


def ref_describe_column(values):
    valid = [v for v in values if v is not None]
    finite = [float(v) for v in valid if math.isfinite(float(v))]
    n = len(finite)
    mean = math.fsum(finite) / n if n else None
    std = math.sqrt(math.fsum((x - mean) ** 2 for x in finite) / (n - 1)) if n > 1 else None
    return {
        "rows": len(values),
        "nulls": len(values) - len(valid),
        "nan": sum(1 for v in valid if math.isnan(float(v))),
        "inf": sum(1 for v in valid if math.isinf(float(v))),
        "mean": mean,
        "std": std,
        "min": min(finite) if n else None,
        "max": max(finite) if n else None,
    }
