"""The Arrow layer and two kernels against pyarrow.compute and NumPy, in one run.

10M float64 rows in four layouts: dense, 10% nulls, sliced (array offset 3, so a bitmap offset
that is not a multiple of 8) and chunked (10 chunks, as a Parquet read gives). Each operation goes
through the public API (Arrow in, scalar or Arrow out). All three run single-threaded.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

import mlcore.compute as mc

N = 10_000_000


def _layouts():
    rng = np.random.default_rng(42)
    x = rng.normal(size=N + 3)
    valid = rng.random(N + 3) >= 0.1
    dense = pa.array(x[:N])
    nulls = pa.array(x[:N], mask=~valid[:N])
    sliced = pa.array(x, mask=~valid).slice(3, N)
    chunked = pa.chunked_array([nulls.slice(i * (N // 10), N // 10) for i in range(10)])
    np_views = {
        "dense": (x[:N], None),
        "nulls": (x[:N], valid[:N]),
        "sliced": (x[3:N + 3], valid[3:N + 3]),
        "chunked": (x[:N], valid[:N]),
    }
    return {"dense": dense, "nulls": nulls, "sliced": sliced, "chunked": chunked}, np_views


ARROW, NUMPY = _layouts()
LAYOUTS = list(ARROW)


def _np_sum(values, valid):
    return values.sum() if valid is None else values.sum(where=valid)


def _np_affine(values, valid):
    out = values * 2.0 + 1.0
    return out if valid is None else (out, valid)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("impl", ["mlcore", "pyarrow", "numpy"])
def bench_sum(benchmark, layout, impl):
    benchmark.group = f"sum/{layout}"
    arr = ARROW[layout]
    if impl == "mlcore":
        got = benchmark(mc.sum, arr)
    elif impl == "pyarrow":
        got = benchmark(lambda: pc.sum(arr).as_py())
    else:
        values, valid = NUMPY[layout]
        got = benchmark(_np_sum, values, valid)
    assert got == pytest.approx(pc.sum(arr).as_py(), rel=1e-9)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("impl", ["mlcore", "pyarrow", "numpy"])
def bench_affine(benchmark, layout, impl):
    benchmark.group = f"affine/{layout}"
    arr = ARROW[layout]
    if impl == "mlcore":
        out = benchmark(mc.affine, arr, scale=2.0, shift=1.0)
        assert len(out) == len(arr) and out.null_count == arr.null_count
    elif impl == "pyarrow":
        benchmark(lambda: pc.add(pc.multiply(arr, 2.0), 1.0))
    else:
        values, valid = NUMPY[layout]
        benchmark(_np_affine, values, valid)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("impl", ["mlcore", "pyarrow", "numpy"])
def bench_min_max(benchmark, layout, impl):
    benchmark.group = f"min_max/{layout}"
    arr = ARROW[layout]
    if impl == "mlcore":
        benchmark(mc.min_max, arr)
    elif impl == "pyarrow":
        benchmark(lambda: pc.min_max(arr).as_py())
    else:
        values, valid = NUMPY[layout]
        if valid is None:
            benchmark(lambda: (np.nanmin(values), np.nanmax(values)))
        else:
            benchmark(lambda: (np.min(values, where=valid, initial=np.inf), np.max(values, where=valid, initial=-np.inf)))
