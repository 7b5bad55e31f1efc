"""Column-pointer tables: read a table of feature columns of mixed dtypes from raw addresses.

A feature matrix that lives in Arrow is a set of columns, each in its own buffer. Kernels take an
int64 table of the columns' first-row addresses and a table of dtype codes (``DTYPE_CODES``), and
turn an address into a typed array with ``column(addr, code, start, n, dtype)``. A tuple of arrays
would recompile for every column count and a typed List is slow to build (ENGINEERING_NOTES §2.8).

The caller keeps the buffers alive for the duration of the call and checks that every address
covers the rows it asks for: the kernel does not (it cannot: it sees addresses, not buffers).
"""

from __future__ import annotations

import numba
import numpy as np

from ._jit import kernel
from ._ptr import typed_ptr

#: dtype code per NumPy dtype a feature column may have.
DTYPE_CODES = {
    np.dtype(np.float64): 0,
    np.dtype(np.float32): 1,
    np.dtype(np.int64): 2,
    np.dtype(np.int32): 3,
    np.dtype(np.int16): 4,
    np.dtype(np.int8): 5,
    np.dtype(np.uint64): 6,
    np.dtype(np.uint32): 7,
    np.dtype(np.uint16): 8,
    np.dtype(np.uint8): 9,
}


@kernel(inline="always")
def f64_col(addr, start, n):
    return numba.carray(typed_ptr(addr + 8 * start, np.float64), n)


@kernel(inline="always")
def f32_col(addr, start, n):
    return numba.carray(typed_ptr(addr + 4 * start, np.float32), n)


@kernel(inline="always")
def i64_col(addr, start, n):
    return numba.carray(typed_ptr(addr + 8 * start, np.int64), n)


@kernel(inline="always")
def i32_col(addr, start, n):
    return numba.carray(typed_ptr(addr + 4 * start, np.int32), n)


@kernel(inline="always")
def i16_col(addr, start, n):
    return numba.carray(typed_ptr(addr + 2 * start, np.int16), n)


@kernel(inline="always")
def i8_col(addr, start, n):
    return numba.carray(typed_ptr(addr + start, np.int8), n)


@kernel(inline="always")
def u64_col(addr, start, n):
    return numba.carray(typed_ptr(addr + 8 * start, np.uint64), n)


@kernel(inline="always")
def u32_col(addr, start, n):
    return numba.carray(typed_ptr(addr + 4 * start, np.uint32), n)


@kernel(inline="always")
def u16_col(addr, start, n):
    return numba.carray(typed_ptr(addr + 2 * start, np.uint16), n)


@kernel(inline="always")
def u8_col(addr, start, n):
    return numba.carray(typed_ptr(addr + start, np.uint8), n)
