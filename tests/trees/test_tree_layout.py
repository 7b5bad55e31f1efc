"""Unit tests of the layout builder: categorical runs, threshold snapping, sibling layout."""

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from mlcore.train import tree_layout as tl
from reference.tree_reference import remap


def _side_of(runs, v):
    side = runs[0][1]
    for thr, s in runs[1:]:
        if v > thr:
            side = s
    return side


@settings(max_examples=60, deadline=None)
@given(st.sets(st.integers(-1, 40), max_size=20), st.floats(-5, 60, allow_nan=False))
def test_integer_code_runs_route_like_a_bitset(codes, x):
    runs = tl._runs(sorted(codes))
    v = remap(x, tl.CAT_TRUNC)
    want = 0 if int(v) in codes else 1
    assert _side_of(runs, v) == want


def test_point_split_runs():
    ps = tl.PointSplit(points=np.array([0.25, 1.5, 7.0]), sides=np.array([0, 1, 0]), other=1)
    runs = ps.runs()
    for v, want in [(0.25, 0), (0.2500001, 1), (1.5, 1), (7.0, 0), (math.nextafter(7.0, 0), 1), (-math.inf, 1),
                    (100.0, 1)]:
        assert _side_of(runs, v) == want, v


@settings(max_examples=200, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False, width=32), st.floats(allow_nan=False, allow_infinity=False))
def test_f32_snapping(t32, x):
    t32 = np.float32(t32)
    d = tl.snap_f32_ge(np.array([t32]))[0]
    with np.errstate(over="ignore"):
        assert (x > d) == (np.float32(x) >= t32)
    t64 = float(t32) + (float(x) % 1e-3) * 1e-9  # a float64 threshold near a float32 value
    d2 = tl.snap_f32_gt(np.array([t64]))[0]
    with np.errstate(over="ignore"):
        assert (x > d2) == (float(np.float32(x)) > t64)


@settings(max_examples=200, deadline=None)
@given(st.floats(-1e-34, 1e-34), st.floats(-1e-34, 1e-34))
def test_lightgbm_flush_snapping(t, x):
    z = float(np.float32(1e-35))
    flushed = 0.0 if abs(x) <= z else x
    d = tl.snap_lightgbm(np.array([t]))[0]
    assert (x > d) == (flushed > t)
