"""The radix sort behind the drift checks, against NumPy's sort (the obvious reference)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from mlcore._kernels import drift_sort


def _check(x):
    a = x.copy()
    drift_sort.radix_sort_f64(a)
    b = np.sort(x)
    nan = np.isnan(b)
    assert np.array_equal(np.isnan(a), nan)  # every NaN last, whatever its sign or payload
    assert np.array_equal(a[~nan], b[~nan])  # -0.0 and 0.0 compare equal, so this holds either order


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, st.integers(0, 3000), elements=st.floats(allow_nan=True, allow_infinity=True, width=64)))
def test_radix_sort_matches_numpy_on_any_floats(x):
    _check(x)


@pytest.mark.parametrize("kind", ["normal", "negative", "discrete", "constant", "nan_payloads", "subnormal"])
def test_radix_sort_matches_numpy_at_scale(kind):
    rng = np.random.default_rng(3)
    n = 150_000
    x = {"normal": lambda: rng.normal(size=n),
         "negative": lambda: -np.abs(rng.normal(size=n)),
         "discrete": lambda: rng.integers(-3, 4, n).astype(np.float64),
         "constant": lambda: np.full(n, 2.5),
         "nan_payloads": lambda: np.where(rng.random(n) < 0.1,
                                          np.array([0x7FF8000000000001, 0xFFF8000000000000, 0x7FF0000000000001],
                                                   dtype=np.uint64).view(np.float64)[rng.integers(0, 3, n)],
                                          rng.normal(size=n)),
         "subnormal": lambda: rng.normal(size=n) * 5e-320}[kind]()
    _check(x)
    _check(np.r_[x, [np.inf, -np.inf, 0.0, -0.0, np.nan]])
