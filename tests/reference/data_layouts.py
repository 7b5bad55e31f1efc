"""Hypothesis strategies for mlcore.data tests: the same values as a plain array, a slice of a
larger array (bit offset not a multiple of 8), chunks, or a sliced-and-chunked array."""

from __future__ import annotations

import pyarrow as pa
from hypothesis import strategies as st


@st.composite
def layouts(draw, values_strategy, arrow_type, filler=None):
    values = draw(values_strategy)
    how = draw(st.sampled_from(["plain", "sliced", "chunked", "sliced-chunked"]))
    if how == "plain":
        return values, pa.chunked_array([pa.array(values, type=arrow_type)], type=arrow_type)
    if how in ("sliced", "sliced-chunked"):
        pre = draw(st.integers(0, 19))
        post = draw(st.integers(0, 5))
        padded = [None] * (pre // 2) + [filler] * (pre - pre // 2) + values + [filler] * post
        arr = pa.array(padded, type=arrow_type).slice(pre, len(values))
        if how == "sliced":
            return values, pa.chunked_array([arr], type=arrow_type)
        base = arr
    else:
        base = pa.array(values, type=arrow_type)
    cuts = sorted(draw(st.lists(st.integers(0, len(values)), max_size=4)))
    bounds = [0] + cuts + [len(values)]
    return values, pa.chunked_array([base.slice(a, b - a) for a, b in zip(bounds[:-1], bounds[1:])], type=arrow_type)
