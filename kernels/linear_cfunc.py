"""The single-row linear kernel as a C function pointer, for C hosts and cffi callers.

C signature (all pointers to caller-owned memory; nothing is allocated, nothing raises)::

    double mlcore_linear_row(const double *packed, int64_t p, int64_t k, const double *x,
                             int64_t op, double *out, double *scratch);

``packed`` holds ``k * (p + 1)`` doubles ([coef row-major, intercept]), ``x`` ``p``, ``out``
``width(op)`` and ``scratch`` ``k``. Returns ``out[0]``, or NaN when a raw score is not finite
(the caller then reports the bad input). Semantics: ``linear_predict.linear_row_into``.
"""

from __future__ import annotations

import numba
from numba import types

from ._jit import FASTMATH, _CACHE
from .linear_predict import linear_row_into, out_width

C_SIGNATURE = ("double (*)(const double *, int64_t, int64_t, const double *, int64_t, double *, double *)")

_f64p = types.CPointer(types.float64)


@numba.cfunc(types.float64(_f64p, types.int64, types.int64, _f64p, types.int64, _f64p, _f64p),
             nopython=True, cache=_CACHE, fastmath=set(FASTMATH), error_model="numpy")
def linear_row_c(packed, p, k, x, op, out, scratch):
    return linear_row_into(numba.carray(packed, (k * (p + 1),)), numba.carray(x, (p,)), op,
                           numba.carray(out, (out_width(op, k),)), numba.carray(scratch, (k,)))
