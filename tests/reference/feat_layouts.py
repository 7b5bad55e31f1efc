"""Arrow layouts for feature tests: the same column contiguous, sliced (offset 3) and chunked."""

from __future__ import annotations

import numpy as np
import pyarrow as pa


def layouts(arr: pa.Array) -> dict[str, pa.ChunkedArray]:
    """{name: column} holding the same values in different buffer layouts."""
    n = len(arr)
    pad = pa.concat_arrays([arr.slice(0, min(3, n)) if n else arr, arr]) if n else arr
    sliced = pad.slice(min(3, n), n) if n else arr
    cuts = sorted({0, n // 3, (2 * n) // 3, n})
    chunked = pa.chunked_array([arr.slice(a, b - a) for a, b in zip(cuts[:-1], cuts[1:])] or [arr], type=arr.type)
    return {"contiguous": pa.chunked_array([arr]), "sliced": pa.chunked_array([sliced]), "chunked": chunked}


def table_layouts(columns: dict[str, pa.Array]) -> dict[str, pa.Table]:
    per = {k: layouts(v) for k, v in columns.items()}
    names = ["contiguous", "sliced", "chunked"]
    return {n: pa.table({k: per[k][n] for k in columns}) for n in names}


def dense(table: pa.Table) -> np.ndarray:
    if table.num_columns == 0:
        return np.zeros((table.num_rows, 0))
    return np.column_stack([c.to_numpy() for c in table.columns])
