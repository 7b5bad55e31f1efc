"""Categorical encoders: one-hot, ordinal and frequency, with the unseen-category policy chosen at fit.

Categories are sorted (strings by code point, integers by value), as scikit-learn sorts them. Null
is a category of its own when it occurs at fit (scikit-learn's NaN category, placed last); a null
that was never seen at fit is an unseen category. ``handle_unknown``:

- ``'error'``: transform raises, naming the column, the category and its row;
- ``'ignore'``: one-hot writes all zeros, ordinal writes ``unknown_value``, frequency writes 0;
- ``'infrequent'``: categories rarer than ``min_frequency`` (a count, or a fraction of the rows)
  or beyond ``max_categories`` share one bucket, and unseen categories go into it too.
"""

from __future__ import annotations

import numpy as np

from .. import _arrow
from .._kernels import feat_strings as ks
from ._base import Transform
from ._categories import CategorySet, codes_of, fit_categories, raise_unseen
from .sparse import CSRMatrix

__all__ = ["OneHotEncoder", "OrdinalEncoder", "FrequencyEncoder", "CategoryCross", "CategoricalTransform"]

_POLICIES = ("error", "ignore", "infrequent")


def _infrequent_mask(counts: np.ndarray, n_rows: int, min_frequency, max_categories) -> np.ndarray:
    """scikit-learn's OneHotEncoder._identify_infrequent, on counts in category order."""
    if min_frequency is None:
        mask = np.zeros(counts.size, dtype=bool)
    elif isinstance(min_frequency, int):
        mask = counts < min_frequency
    else:
        mask = counts < n_rows * float(min_frequency)
    n_current = counts.size - mask.sum() + 1
    if max_categories is not None and max_categories < n_current:
        keep = max_categories - 1
        if keep == 0:
            mask[:] = True
        else:
            smallest = np.argsort(counts, kind="mergesort")[:-keep]
            mask[smallest] = True
    return mask


class CategoricalTransform(Transform):
    """Shared fit of the category sets: ``cat_offsets_``/``cat_data_`` arrays per column,
    ``counts_`` per category (null last when it occurred: ``null_seen_``)."""

    _array_state = ("cat_offsets_", "cat_data_", "counts_")
    _json_state = ("null_seen_", "value_types_", "n_rows_fit_")

    def _sources(self) -> list[str]:
        """Names of the categorical inputs (the columns, or derived ones: see CategoryCross)."""
        return list(self.columns)

    def _source_table(self, table):
        return table

    def _fit_categories(self, table):
        table = self._source_table(table)
        self.cat_offsets_, self.cat_data_, self.counts_ = [], [], []
        self.null_seen_, self.value_types_ = [], []
        for c in self._sources():
            cats, counts, n_null, vtype = fit_categories(table, c, type(self).__name__)
            self.cat_offsets_.append(cats.cat_offsets)
            self.cat_data_.append(cats.cat_data)
            self.null_seen_.append(bool(n_null))
            self.counts_.append(np.append(counts, n_null) if n_null else counts)
            self.value_types_.append(vtype)
        self.n_rows_fit_ = table.num_rows
        self._restore()

    def _restore(self):
        self._cats = [CategorySet(o, d) for o, d in zip(self.cat_offsets_, self.cat_data_)]
        self._build_maps()

    def _build_maps(self):
        pass

    @property
    def categories_(self) -> list[list]:
        """Categories per column (null, when seen at fit, as ``None`` at the end)."""
        out = []
        for cats, null_seen in zip(self._cats, self.null_seen_):
            labels = cats.labels()
            out.append(labels + [None] if null_seen else labels)
        return out

    def _labels(self, k: int) -> list[str]:
        labels = self._cats[k].labels()
        return labels + ["null"] if self.null_seen_[k] else labels

    def _codes(self, table, k):
        name = self._sources()[k]  # ``table`` is already the source table
        codes = codes_of(table, name, self._cats[k], type(self).__name__)
        if getattr(self, "handle_unknown", None) == "error":
            raise_unseen(table, name, codes, self.null_seen_[k], type(self).__name__)
        return codes

    def _describe_state(self):
        parts = []
        for c, labels in zip(self._sources(), self.categories_):
            shown = ", ".join(repr(x) for x in labels[:5]) + (", …" if len(labels) > 5 else "")
            parts.append(f"{c}: {len(labels)} categories [{shown}]")
        return "; " + "; ".join(parts)


def _check_policy(owner, handle_unknown, min_frequency, max_categories):
    if handle_unknown not in _POLICIES:
        raise ValueError(f"{owner}: parameter `handle_unknown` must be one of {list(_POLICIES)}, got {handle_unknown!r}")
    if min_frequency is not None:
        if isinstance(min_frequency, bool) or not isinstance(min_frequency, (int, float)):
            raise TypeError(f"{owner}: parameter `min_frequency` must be an int count or a float fraction, got {min_frequency!r}")
        if isinstance(min_frequency, float) and not 0.0 < min_frequency < 1.0:
            raise ValueError(f"{owner}: a float `min_frequency` must be in (0, 1), got {min_frequency!r}")
        if isinstance(min_frequency, int) and min_frequency < 1:
            raise ValueError(f"{owner}: an int `min_frequency` must be >= 1, got {min_frequency!r}")
    if max_categories is not None and (int(max_categories) != max_categories or max_categories < 1):
        raise ValueError(f"{owner}: parameter `max_categories` must be an integer >= 1, got {max_categories!r}")
    if (min_frequency is not None or max_categories is not None) and handle_unknown != "infrequent":
        raise ValueError(
            f"{owner}: `min_frequency`/`max_categories` build an infrequent bucket; they need "
            f"handle_unknown='infrequent', got {handle_unknown!r}"
        )


class OneHotEncoder(CategoricalTransform):
    """One 0/1 feature per category (scikit-learn's OneHotEncoder with dense output).

    Output order per column: the frequent categories in sorted order, null when seen at fit
    (``<col>_null``), then ``<col>_infrequent`` under ``handle_unknown='infrequent'``. With
    ``sparse_output=True`` the output is a :class:`~mlcore.features.CSRMatrix` (one stored 1.0 per
    row and column), as scikit-learn's default sparse output: the right choice for many categories.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from mlcore.features import OneHotEncoder
    >>> enc = OneHotEncoder(["c"], handle_unknown="ignore").fit(pa.table({"c": ["b", "a", "b"]}))
    >>> enc.feature_names_out_
    ['c_a', 'c_b']
    >>> enc.transform(pa.table({"c": ["a", "z"]}))["c_a"].to_pylist()
    [1.0, 0.0]
    """

    kind = "one_hot"
    _params = ("handle_unknown", "min_frequency", "max_categories", "sparse_output")
    _json_state = CategoricalTransform._json_state + ("infrequent_",)

    def __init__(self, columns, *, handle_unknown: str = "error", min_frequency=None, max_categories=None,
                 sparse_output: bool = False):
        super().__init__(columns)
        self.sparse_output = bool(sparse_output)
        self.sparse = self.sparse_output
        _check_policy("OneHotEncoder", handle_unknown, min_frequency, max_categories)
        self.handle_unknown = handle_unknown
        self.min_frequency = min_frequency
        self.max_categories = max_categories

    def _fit(self, table, y):
        self._fit_categories(table)
        self.infrequent_ = []
        for counts in self.counts_:
            if self.handle_unknown == "infrequent":
                mask = _infrequent_mask(counts, table.num_rows, self.min_frequency, self.max_categories)
            else:
                mask = np.zeros(counts.size, dtype=bool)
            self.infrequent_.append(np.flatnonzero(mask).tolist())
        self._build_maps()
        names = []
        for k, c in enumerate(self._sources()):
            labels = self._labels(k)
            inf = set(self.infrequent_[k])
            names += [f"{c}_{labels[i]}" for i in range(len(labels)) if i not in inf]
            if self.handle_unknown == "infrequent":
                names.append(f"{c}_infrequent")
        self.feature_names_out_ = names

    def _build_maps(self):
        if not hasattr(self, "infrequent_"):
            return
        self._column_of, self._widths = [], []
        for k, cats in enumerate(self._cats):
            n = len(cats)
            n_all = n + (1 if self.null_seen_[k] else 0)
            inf = set(self.infrequent_[k])
            col_of = np.full(n + 2, -1, dtype=np.int64)
            j = 0
            for i in range(n_all):
                if i not in inf:
                    col_of[i if i < n else n] = j
                    j += 1
            bucket = j if self.handle_unknown == "infrequent" else -1
            for i in inf:
                col_of[i if i < n else n] = bucket
            width = j + (1 if self.handle_unknown == "infrequent" else 0)
            col_of[n + 1] = bucket  # unseen
            if not self.null_seen_[k]:
                col_of[n] = bucket  # a null never seen at fit is unseen
            self._column_of.append(col_of)
            self._widths.append(width)

    def transform(self, data):
        """Dense float64 table, or a CSRMatrix with ``sparse_output=True``."""
        if not self.sparse_output:
            return super().transform(data)
        self._check_fitted()
        table = _arrow.as_table(data)
        n = table.num_rows
        src = self._source_table(table)
        cols = _arrow.empty_numeric(len(self._sources()) * n, np.int64).reshape(len(self._sources()), n)
        base = 0
        for k in range(len(self._sources())):
            ks.output_columns(self._codes(src, k), self._column_of[k], base, cols[k])
            base += self._widths[k]
        indptr = _arrow.empty_numeric(n + 1, np.int64)
        indices = _arrow.empty_numeric(len(self._sources()) * n, np.int64)
        nnz = ks.one_hot_rows(cols, indptr, indices)
        return CSRMatrix.from_numpy(indptr, indices[:nnz], np.ones(nnz), shape=(n, self.n_features_out_),
                                    feature_names=self.feature_names_out_)

    def write(self, table, out, col0):
        if self.sparse_output:
            raise TypeError("OneHotEncoder(sparse_output=True) has sparse output; use transform() or a FeaturePlan")
        out[col0:col0 + self.n_features_out_] = 0.0
        pos = col0
        src = self._source_table(table)
        for k in range(len(self._sources())):
            codes = self._codes(src, k)
            ks.one_hot(codes, self._column_of[k], out, pos)
            pos += self._widths[k]


class OrdinalEncoder(CategoricalTransform):
    """Each category's rank in sorted order as a float64 (scikit-learn's OrdinalEncoder).

    Null gives NaN (scikit-learn's ``encoded_missing_value``); an unseen category gives
    ``unknown_value`` under ``'ignore'`` and the infrequent code (after the frequent ones) under
    ``'infrequent'``.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from mlcore.features import OrdinalEncoder
    >>> enc = OrdinalEncoder(["c"], handle_unknown="ignore").fit(pa.table({"c": ["b", "a", None]}))
    >>> enc.transform(pa.table({"c": ["a", "b", None, "z"]}))["c"].to_pylist()
    [0.0, 1.0, nan, -1.0]
    """

    kind = "ordinal"
    _params = ("handle_unknown", "unknown_value", "min_frequency", "max_categories")
    _json_state = CategoricalTransform._json_state + ("infrequent_",)

    def __init__(self, columns, *, handle_unknown: str = "error", unknown_value: float = -1.0,
                 min_frequency=None, max_categories=None):
        super().__init__(columns)
        _check_policy("OrdinalEncoder", handle_unknown, min_frequency, max_categories)
        self.handle_unknown = handle_unknown
        self.unknown_value = float(unknown_value)
        self.min_frequency = min_frequency
        self.max_categories = max_categories

    def _fit(self, table, y):
        self._fit_categories(table)
        self.infrequent_ = []
        for k, counts in enumerate(self.counts_):
            n = len(self._cats[k])
            if self.handle_unknown == "infrequent":
                # null is not a category of the ordinal codes (it encodes as NaN)
                mask = _infrequent_mask(counts[:n], table.num_rows, self.min_frequency, self.max_categories)
            else:
                mask = np.zeros(n, dtype=bool)
            self.infrequent_.append(np.flatnonzero(mask).tolist())
        self._build_maps()
        self.feature_names_out_ = list(self.columns)

    def _build_maps(self):
        if not hasattr(self, "infrequent_"):
            return
        self._maps = []
        for k, cats in enumerate(self._cats):
            n = len(cats)
            inf = set(self.infrequent_[k])
            m = np.empty(n + 2, dtype=np.float64)
            j = 0
            for i in range(n):
                if i not in inf:
                    m[i] = j
                    j += 1
            for i in inf:
                m[i] = j
            m[n] = np.nan
            m[n + 1] = j if self.handle_unknown == "infrequent" else self.unknown_value
            self._maps.append(m)

    def _codes(self, table, k):
        name = self.columns[k]
        codes = codes_of(table, name, self._cats[k], "OrdinalEncoder")
        if self.handle_unknown == "error":
            raise_unseen(table, name, codes, True, "OrdinalEncoder")  # null is always accepted: NaN
        return codes

    def write(self, table, out, col0):
        for k in range(len(self.columns)):
            ks.remap(self._codes(table, k), self._maps[k], out[col0 + k])


class FrequencyEncoder(CategoricalTransform):
    """Each category's share of the fit rows (or its count with ``normalize=False``).

    Null is a category (its share at fit); an unseen category gives ``unknown_value``. No
    scikit-learn peer: tested against a reference in ``tests/reference/feat_encoders.py``.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from mlcore.features import FrequencyEncoder
    >>> enc = FrequencyEncoder(["c"]).fit(pa.table({"c": ["a", "a", "b", None]}))
    >>> enc.transform(pa.table({"c": ["a", "b", None, "z"]}))["c"].to_pylist()
    [0.5, 0.25, 0.25, 0.0]
    """

    kind = "frequency"
    _params = ("normalize", "unknown_value")

    def __init__(self, columns, *, normalize: bool = True, unknown_value: float = 0.0):
        super().__init__(columns)
        self.normalize = bool(normalize)
        self.unknown_value = float(unknown_value)

    def _fit(self, table, y):
        self._fit_categories(table)
        self.feature_names_out_ = list(self.columns)

    def _build_maps(self):
        self._maps = []
        for k, cats in enumerate(self._cats):
            n = len(cats)
            counts = np.asarray(self.counts_[k], dtype=np.float64)
            scale = 1.0 / self.n_rows_fit_ if self.normalize else 1.0
            m = np.empty(n + 2, dtype=np.float64)
            m[:n] = counts[:n] * scale
            m[n] = counts[n] * scale if self.null_seen_[k] else self.unknown_value
            m[n + 1] = self.unknown_value
            self._maps.append(m)

    def write(self, table, out, col0):
        for k in range(len(self.columns)):
            codes = codes_of(table, self.columns[k], self._cats[k], "FrequencyEncoder")
            ks.remap(codes, self._maps[k], out[col0 + k])


_SEP = "\x1f"  # unit separator: joins the two categories of a cross


class CategoryCross(OneHotEncoder):
    """One-hot of crossed categories: for each pair ``(a, b)`` of ``pairs``, one feature per
    combination of an ``a`` category and a ``b`` category seen at fit (named ``a*b_<va>*<vb>``).

    A row with a null in ``a`` or ``b`` has a null cross (its own category when seen at fit). The
    options are :class:`OneHotEncoder`'s; ``min_frequency``/``max_categories`` with
    ``handle_unknown='infrequent'`` keep rare combinations in one bucket. Joining the two columns
    as strings is one Arrow compute pass (a copy) per pair.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from mlcore.features import CategoryCross
    >>> t = pa.table({"o": ["EWR", "JFK", "EWR"], "d": ["ATL", "ATL", "BOS"]})
    >>> CategoryCross(pairs=[("o", "d")], handle_unknown="ignore").fit(t).feature_names_out_
    ['o*d_EWR*ATL', 'o*d_EWR*BOS', 'o*d_JFK*ATL']
    """

    kind = "category_cross"
    _params = ("pairs", "handle_unknown", "min_frequency", "max_categories", "sparse_output")

    def __init__(self, columns=None, *, pairs, handle_unknown: str = "error", min_frequency=None,
                 max_categories=None, sparse_output: bool = False):
        pairs = [list(p) for p in pairs]
        if not pairs or any(len(p) != 2 or not all(isinstance(c, str) for c in p) or p[0] == p[1] for p in pairs):
            raise ValueError(f"CategoryCross: parameter `pairs` must hold pairs of two different column names, got {pairs!r}")
        cols = list(dict.fromkeys(c for p in pairs for c in p))
        if columns is not None and sorted(columns) != sorted(cols):
            raise ValueError(f"CategoryCross: `columns` {list(columns)} must be the columns of `pairs` {cols}")
        super().__init__(cols, handle_unknown=handle_unknown, min_frequency=min_frequency,
                         max_categories=max_categories, sparse_output=sparse_output)
        self.pairs = pairs

    def get_params(self):
        return {p: getattr(self, p) for p in self._params}

    def _sources(self):
        return [f"{a}*{b}" for a, b in self.pairs]

    def _source_table(self, table):
        import pyarrow as pa
        import pyarrow.compute as pc

        from ._categories import _string_column

        out = {}
        for a, b in self.pairs:
            ca, _ = _string_column(_arrow.get_column(table, a), a, "CategoryCross")
            cb, _ = _string_column(_arrow.get_column(table, b), b, "CategoryCross")
            ca = ca.cast(pa.string()) if not pa.types.is_string(ca.type) else ca
            cb = cb.cast(pa.string()) if not pa.types.is_string(cb.type) else cb
            out[f"{a}*{b}"] = pc.binary_join_element_wise(ca, cb, _SEP)
        return pa.table(out)

    def _labels(self, k):
        return [lab.replace(_SEP, "*") for lab in super()._labels(k)]
