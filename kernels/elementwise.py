"""Element-wise transforms over one Arrow chunk (buffer contract as in ``reduce``).

Null slots are computed like the others (their values are undefined in Arrow); the caller
carries the validity bitmap over to the result.
"""

from __future__ import annotations

import numpy as np

from ._jit import kernel


@kernel
def affine(length, offset, values, scale, shift, out):
    """out[i] = values[offset + i] * scale + shift, as float64."""
    v = values[offset:offset + length]  # slice first: keeps the loop free of wraparound code
    for i in range(length):
        out[i] = np.float64(v[i]) * scale + shift
