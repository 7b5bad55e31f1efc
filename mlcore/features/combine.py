"""Crosses and ratios: new features from pairs of numeric columns."""

from __future__ import annotations

from .._kernels import feat_numeric as kn
from ._base import Transform, read_float

__all__ = ["Combine"]

_OPS = {"product": 0, "ratio": 1, "sum": 2, "difference": 3}
_SYMBOL = {"product": "*", "ratio": "/", "sum": "+", "difference": "-"}


class Combine(Transform):
    """One feature per pair ``(a, b)`` of ``pairs``: ``a * b`` (a numeric cross), ``a / b``,
    ``a + b`` or ``a - b``. A ratio by zero gives NaN (``zero_division='nan'``) or IEEE ±inf/NaN
    (``'inf'``); null operands give NaN.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from mlcore.features import Combine
    >>> t = pa.table({"d": [10.0, 5.0], "t": [2.0, 0.0]})
    >>> Combine(pairs=[("d", "t")], op="ratio").fit_transform(t)["d/t"].to_pylist()
    [5.0, nan]
    """

    kind = "combine"
    _params = ("pairs", "op", "zero_division")

    def _fits_without_rows(self):
        return True

    def __init__(self, columns=None, *, pairs, op: str = "product", zero_division: str = "nan"):
        pairs = [list(p) for p in pairs]
        for p in pairs:
            if len(p) != 2 or not all(isinstance(c, str) for c in p):
                raise ValueError(f"Combine: parameter `pairs` must hold (column, column) pairs, got {p!r}")
        if not pairs:
            raise ValueError("Combine: parameter `pairs` must hold at least one pair, got []")
        if op not in _OPS:
            raise ValueError(f"Combine: parameter `op` must be one of {list(_OPS)}, got {op!r}")
        if zero_division not in ("nan", "inf"):
            raise ValueError(f"Combine: parameter `zero_division` must be 'nan' or 'inf', got {zero_division!r}")
        cols = list(dict.fromkeys(c for p in pairs for c in p))
        if columns is not None and sorted(columns) != sorted(cols):
            raise ValueError(f"Combine: `columns` {list(columns)} must be the columns of `pairs` {cols}")
        super().__init__(cols)
        self.pairs = pairs
        self.op = op
        self.zero_division = zero_division

    def get_params(self):
        return {"pairs": self.pairs, "op": self.op, "zero_division": self.zero_division}

    def _fit(self, table, y):
        for c in self.columns:
            read_float(table.slice(0, 1), c, "Combine")  # type check on one row
        self.feature_names_out_ = [f"{a}{_SYMBOL[self.op]}{b}" for a, b in self.pairs]

    def write(self, table, out, col0):
        cache = {}
        for c in self.columns:
            cache[c] = read_float(table, c, "Combine")
        for k, (a, b) in enumerate(self.pairs):
            kn.combine(table.num_rows, cache[a], cache[b], _OPS[self.op],
                       0 if self.zero_division == "nan" else 1, out[col0 + k])
