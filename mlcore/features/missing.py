"""Missing-value indicators (scikit-learn's MissingIndicator)."""

from __future__ import annotations

import numpy as np
import pyarrow.types as pat

from .. import _arrow
from .._kernels import feat_numeric as kn
from ._base import Transform

__all__ = ["MissingIndicator"]


def _write_mask(table, name, row):
    col = _arrow.get_column(table, name)
    pos = 0
    for chunk in col.chunks:
        n = len(chunk)
        if n:
            if pat.is_float32(chunk.type) or pat.is_float64(chunk.type):
                v = _arrow.chunk_view(chunk, name=name)
                kn.missing_mask(v.length, v.offset, v.validity, v.values, True, row[pos:pos + n])
            else:
                validity = np.zeros(0, np.uint8)
                off = chunk.offset
                if chunk.null_count:
                    buf = chunk.buffers()[0]
                    if buf is None:  # types without a validity bitmap (null type): all null
                        row[pos:pos + n] = 1.0
                        pos += n
                        continue
                    validity = np.frombuffer(buf, np.uint8, count=(off + n + 7) // 8)
                kn.null_mask(n, off, validity, row[pos:pos + n])
        pos += n


class MissingIndicator(Transform):
    """1.0 where a value is missing (null, or NaN in a float column), else 0.0.

    ``features='missing-only'`` (scikit-learn's default) keeps the columns that had a missing value
    at fit; ``'all'`` keeps every column. Output names are ``<col>_missing``. Any column type.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from mlcore.features import MissingIndicator
    >>> MissingIndicator(["x"]).fit_transform(pa.table({"x": [1.0, None, float("nan")]}))["x_missing"].to_pylist()
    [0.0, 1.0, 1.0]
    """

    kind = "missing_indicator"
    _params = ("features",)
    _json_state = ("features_",)

    def __init__(self, columns, *, features: str = "missing-only"):
        super().__init__(columns)
        if features not in ("missing-only", "all"):
            raise ValueError(f"MissingIndicator: parameter `features` must be 'missing-only' or 'all', got {features!r}")
        self.features = features

    def _fit(self, table, y):
        keep = []
        row = np.empty(table.num_rows)
        for c in self.columns:
            _write_mask(table, c, row)
            if self.features == "all" or row.any():
                keep.append(c)
        self.features_ = keep
        self.feature_names_out_ = [f"{c}_missing" for c in keep]

    def write(self, table, out, col0):
        for k, c in enumerate(self.features_):
            _write_mask(table, c, out[col0 + k])
