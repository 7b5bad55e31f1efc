"""Bag of words and TF-IDF over an Arrow string column, by the hashing trick or a fitted vocabulary.

Documents are tokenised by a Numba kernel directly over the column's offsets and UTF-8 bytes
(string, large_string, binary or large_binary; a dictionary column is decoded once). Tokens follow
scikit-learn's defaults: ``str.lower()`` then ``(?u)\\b\\w\\w+\\b``. The kernel reproduces them from
tables built with Python's own ``str.isalnum``/``str.lower`` for every code point below U+20000;
what it does not reproduce (documented and tested): context-dependent lowering (final sigma: 'Σ'
at a word end lowers to 'σ' here, 'ς' in Python) and case/word properties above U+1FFFF (treated
as lower-case word characters). Invalid UTF-8 follows ``invalid_utf8``: ``'replace'`` (the bad
bytes separate tokens, as ``bytes.decode(errors='replace')``), ``'ignore'`` (dropped, as
``errors='ignore'``) or ``'error'`` (a ValueError naming the column, row and byte). A null
document is an empty row.

Hashing matches scikit-learn's HashingVectorizer exactly: signed 32-bit MurmurHash3 (seed 0) of
the token's UTF-8 bytes, column ``abs(h) % n_features``, sign of ``h`` under ``alternate_sign``.
"""

from __future__ import annotations

import concurrent.futures as cf
import functools

import numba
import numpy as np
import pyarrow as pa
import pyarrow.types as pat

from .. import _arrow
from .._kernels import feat_text as kt
from ..errors import SchemaError
from ._base import Transform
from ._categories import CategorySet
from .sparse import CSRMatrix

__all__ = ["HashingVectorizer", "CountVectorizer", "TfidfVectorizer"]

_POLICY = {"replace": 0, "ignore": 1, "error": 2}
_NORM = {None: 0, "l2": 1, "l1": 2}
_TABLE_LIMIT = 0x20000
_MIN_BLOCK = 20_000  # documents per thread below which threads cost more than they give


@functools.lru_cache(maxsize=1)
def char_tables() -> tuple[np.ndarray, np.ndarray]:
    """(word, lower): per code point below U+20000, 1 if Python's re ``\\w`` matches it, and the
    single code point ``str.lower()`` gives (-1: unchanged, -2: U+0130's two code points)."""
    word = np.zeros(_TABLE_LIMIT, dtype=np.uint8)
    lower = np.full(_TABLE_LIMIT, -1, dtype=np.int32)
    for cp in range(_TABLE_LIMIT):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        ch = chr(cp)
        if ch.isalnum() or cp == 0x5F:
            word[cp] = 1
        low = ch.lower()
        if low != ch:
            lower[cp] = ord(low) if len(low) == 1 else -2
    return word, lower


def _text_chunks(table: pa.Table, name: str, owner: str) -> list[pa.Array]:
    col = _arrow.get_column(table, name)
    t = col.type
    if pat.is_dictionary(t):
        col = col.cast(t.value_type)
        t = col.type
    if not (pat.is_string(t) or pat.is_large_string(t) or pat.is_binary(t) or pat.is_large_binary(t)):
        raise SchemaError(
            f"{owner} expects a text column (string, large_string, binary, large_binary), got `{t}` - "
            f"at column `{name}`"
        )
    return [c for c in col.chunks if len(c)]


def _pieces(chunks: list[pa.Array]) -> list[pa.Array]:
    """Split the chunks into about one piece per thread (zero-copy slices)."""
    n = sum(len(c) for c in chunks)
    threads = max(1, numba.get_num_threads())
    if threads == 1 or n < 2 * _MIN_BLOCK:
        return chunks
    size = max(_MIN_BLOCK, -(-n // threads))
    out = []
    for c in chunks:
        for s in range(0, len(c), size):
            out.append(c.slice(s, size))
    return out


def _raise_invalid(piece: pa.Array, i: int, name: str, owner: str, row0: int):
    raw = piece[i].as_py()
    raw = raw.encode("utf-8", errors="surrogateescape") if isinstance(raw, str) else raw
    try:
        raw.decode("utf-8")
        where = ""
    except UnicodeDecodeError as exc:
        where = f" at byte {exc.start} (0x{raw[exc.start]:02x})"
    raise ValueError(
        f"{owner}: column `{name}` has invalid UTF-8 in row {row0 + i}{where}, and invalid_utf8='error'; "
        "use invalid_utf8='replace' or 'ignore' to tokenise it anyway"
    )


class _TextTransform(Transform):
    sparse = True

    def __init__(self, columns, *, lowercase: bool = True, invalid_utf8: str = "replace"):
        super().__init__(columns)
        if len(self.columns) != 1:
            raise ValueError(f"{type(self).__name__} takes one text column, got {self.columns}")
        if invalid_utf8 not in _POLICY:
            raise ValueError(f"{type(self).__name__}: parameter `invalid_utf8` must be one of {list(_POLICY)}, got {invalid_utf8!r}")
        self.lowercase = bool(lowercase)
        self.invalid_utf8 = invalid_utf8

    # -- the kernel call over one piece ---------------------------------------------------------
    def _run(self, piece: pa.Array, row0: int, *, mode, n_features, alternate_sign, cats, binary,
             sublinear, weights, norm):
        word, lower = char_tables()
        v = _arrow.chunk_view(piece, name=self.columns[0], accept=("string",))
        lens = np.diff(v.offsets[v.offset:v.offset + v.length + 1])
        maxlen = int(lens.max()) if lens.size else 0
        nbytes = int(lens.sum())
        tok = np.empty(2 * maxlen + 8, dtype=np.uint8)
        # a token takes >= 2 bytes and a separator: at most (maxlen + 1) // 3 + 1 per document
        cols = np.empty(maxlen // 2 + 8, dtype=np.int64)
        vals = np.empty(maxlen // 2 + 8, dtype=np.float64)
        # Outputs come from Arrow's pool: fresh np.empty memory page-faults on first write (the
        # notes measured 155 ms per 80 MB against 19 ms from the pool). A first guess of one value
        # per 6 bytes (an English word and a space) grows by doubling when it is short.
        indptr = _arrow.empty_numeric(v.length + 1, np.int64)
        cap = nbytes // 6 + 16
        indices = _arrow.empty_numeric(cap, np.int32)
        values = _arrow.empty_numeric(cap, np.float64)
        row, nnz, bad = 0, 0, -1
        while True:
            nnz, row, bad = kt.vectorize(
                v.length, v.offset, v.validity, v.offsets, v.values, word, lower, self.lowercase,
                _POLICY[self.invalid_utf8], mode, n_features, alternate_sign, cats.cat_offsets,
                cats.cat_data, cats.slots, binary, sublinear, weights, norm, cols, vals, tok,
                indptr, indices, values, row, nnz)
            if bad >= 0 or row >= v.length:
                break
            cap = 2 * cap + cols.size  # full: grow and resume at `row`
            grown_i = _arrow.empty_numeric(cap, np.int32)
            grown_v = _arrow.empty_numeric(cap, np.float64)
            grown_i[:nnz] = indices[:nnz]
            grown_v[:nnz] = values[:nnz]
            indices, values = grown_i, grown_v
        if bad >= 0:
            _raise_invalid(piece, int(bad), self.columns[0], type(self).__name__, row0)
        return indptr, indices[:nnz], values[:nnz]

    def _csr(self, table, **kw) -> CSRMatrix:
        chunks = _text_chunks(table, self.columns[0], type(self).__name__)
        pieces = _pieces(chunks)
        starts = np.cumsum([0] + [len(p) for p in pieces])
        if len(pieces) > 1:
            with cf.ThreadPoolExecutor(min(len(pieces), numba.get_num_threads())) as ex:
                parts = list(ex.map(lambda a: self._run(a[0], a[1], **kw), zip(pieces, starts)))
        else:
            parts = [self._run(p, s, **kw) for p, s in zip(pieces, starts)]
        n = table.num_rows
        if not parts:
            return CSRMatrix.from_numpy(np.zeros(n + 1, np.int64), np.zeros(0, np.int32),
                                        np.zeros(0), shape=(n, kw["n_features"]))
        nnz = np.cumsum([0] + [p[1].size for p in parts])
        indptr = np.empty(n + 1, dtype=np.int64)
        indptr[0] = 0
        for (ip, _, _), s, base in zip(parts, starts, nnz):
            indptr[s + 1:s + ip.size] = ip[1:] + base
        if len(parts) == 1:
            indices, data = parts[0][1], parts[0][2]
        else:
            indices = _arrow.empty_numeric(int(nnz[-1]), np.int32)
            data = _arrow.empty_numeric(int(nnz[-1]), np.float64)
            for (_, ix, dv), base in zip(parts, nnz):
                indices[base:base + ix.size] = ix
                data[base:base + dv.size] = dv
        return CSRMatrix.from_numpy(indptr, indices, data, shape=(n, kw["n_features"]))

    def transform(self, data) -> CSRMatrix:
        """Sparse CSR output of the text column, one row per document."""
        self._check_fitted()
        out = self._transform_csr(_arrow.as_table(data))
        out.feature_names = self.feature_names_out_
        return out

    def write(self, table, out, col0):
        raise TypeError(f"{type(self).__name__} has sparse output; use transform() or a FeaturePlan")


_EMPTY_CATS = CategorySet.from_values([b"__empty__"])


def _idf(df: np.ndarray, n_docs: int, smooth: bool) -> np.ndarray:
    df = df.astype(np.float64)
    if smooth:
        return np.log((n_docs + 1.0) / (df + 1.0)) + 1.0
    with np.errstate(divide="ignore"):
        return np.log(n_docs / df) + 1.0


class HashingVectorizer(_TextTransform):
    """Token counts hashed into ``n_features`` columns (scikit-learn's HashingVectorizer), then
    optionally weighted by IDF fitted on the hashed columns (``use_idf=True``: the same as
    HashingVectorizer(alternate_sign=False, norm=None) followed by TfidfTransformer).

    Examples
    --------
    >>> import pyarrow as pa
    >>> from mlcore.features import HashingVectorizer
    >>> hv = HashingVectorizer(["doc"], n_features=16, norm=None, alternate_sign=False)
    >>> hv.fit_transform(pa.table({"doc": ["the cat", "the the"]})).to_scipy().sum(axis=1).tolist()
    [[2.0], [2.0]]
    """

    kind = "hashing_vectorizer"
    _params = ("n_features", "alternate_sign", "norm", "binary", "lowercase", "invalid_utf8",
               "use_idf", "smooth_idf", "sublinear_tf")
    _array_state = ("idf_",)

    def __init__(self, columns, *, n_features: int = 2**20, alternate_sign: bool = True, norm="l2",
                 binary: bool = False, lowercase: bool = True, invalid_utf8: str = "replace",
                 use_idf: bool = False, smooth_idf: bool = True, sublinear_tf: bool = False):
        super().__init__(columns, lowercase=lowercase, invalid_utf8=invalid_utf8)
        if int(n_features) != n_features or not 1 <= n_features < 2**31:
            raise ValueError(f"HashingVectorizer: parameter `n_features` must be an integer in [1, 2**31), got {n_features!r}")
        if norm not in _NORM:
            raise ValueError(f"HashingVectorizer: parameter `norm` must be 'l2', 'l1' or None, got {norm!r}")
        if use_idf and alternate_sign:
            raise ValueError("HashingVectorizer: use_idf=True needs alternate_sign=False (IDF of signed counts is undefined)")
        self.n_features = int(n_features)
        self.alternate_sign = bool(alternate_sign)
        self.norm = norm
        self.binary = bool(binary)
        self.use_idf = bool(use_idf)
        self.smooth_idf = bool(smooth_idf)
        self.sublinear_tf = bool(sublinear_tf)

    def _fits_without_rows(self):
        return not self.use_idf

    def _kw(self, weights, norm, binary):
        return dict(mode=0, n_features=self.n_features, alternate_sign=self.alternate_sign,
                    cats=_EMPTY_CATS, binary=binary, sublinear=self.sublinear_tf and not binary,
                    weights=weights, norm=norm)

    def _fit(self, table, y):
        if self.use_idf:
            m = self._csr(table, **self._kw(np.zeros(0), 0, True))
            df = np.bincount(m.buffers()[1], minlength=self.n_features)
            self.idf_ = _idf(df, table.num_rows, self.smooth_idf)
        else:
            _text_chunks(table, self.columns[0], "HashingVectorizer")
            self.idf_ = np.zeros(0)
        self.feature_names_out_ = [f"{self.columns[0]}_h{j}" for j in range(self.n_features)] \
            if self.n_features <= 4096 else _LazyNames(self.columns[0] + "_h", self.n_features)

    def _transform_csr(self, table):
        return self._csr(table, **self._kw(self.idf_, _NORM[self.norm], self.binary))

    def state(self):
        meta, arrays = super().state()
        meta["feature_names_out_"] = None  # derived from n_features
        return meta, arrays

    @classmethod
    def from_state(cls, params, meta, arrays):
        meta = dict(meta)
        n, col = int(params["n_features"]), params["columns"][0]
        meta["feature_names_out_"] = [f"{col}_h{j}" for j in range(n)] if n <= 4096 else _LazyNames(col + "_h", n)
        return super().from_state(params, meta, arrays)


class _LazyNames(list):
    """Names ``prefix0 … prefix{n-1}`` without building a million strings up front."""

    def __init__(self, prefix, n):
        super().__init__()
        self._prefix, self._n = prefix, n

    def __len__(self):
        return self._n

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [f"{self._prefix}{j}" for j in range(self._n)[i]]
        if not -self._n <= i < self._n:
            raise IndexError(i)
        return f"{self._prefix}{i % self._n}"

    def __iter__(self):
        return (f"{self._prefix}{j}" for j in range(self._n))

    def __eq__(self, other):
        return len(self) == len(other) and all(a == b for a, b in zip(self, other))

    def __repr__(self):
        return f"[{self[0]!r}, …, {self[-1]!r}] ({self._n} names)"


class CountVectorizer(_TextTransform):
    """Counts of the tokens of a fitted vocabulary (scikit-learn's CountVectorizer): terms sorted,
    pruned by document frequency (``min_df``, ``max_df``: counts or fractions) and to the
    ``max_features`` most frequent, exactly as scikit-learn prunes them. Unknown tokens are skipped.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from mlcore.features import CountVectorizer
    >>> cv = CountVectorizer(["doc"]).fit(pa.table({"doc": ["the cat", "the dog sat"]}))
    >>> cv.vocabulary_
    ['cat', 'dog', 'sat', 'the']
    >>> cv.transform(pa.table({"doc": ["the the cat"]})).to_scipy().toarray().tolist()
    [[1.0, 0.0, 0.0, 2.0]]
    """

    kind = "count_vectorizer"
    _params = ("min_df", "max_df", "max_features", "binary", "lowercase", "invalid_utf8")
    _array_state = ("vocab_offsets_", "vocab_data_", "idf_")
    _norm = None

    def __init__(self, columns, *, min_df=1, max_df=1.0, max_features=None, binary: bool = False,
                 lowercase: bool = True, invalid_utf8: str = "replace"):
        super().__init__(columns, lowercase=lowercase, invalid_utf8=invalid_utf8)
        for p, v in (("min_df", min_df), ("max_df", max_df)):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0 or (isinstance(v, float) and v > 1):
                raise ValueError(f"{type(self).__name__}: parameter `{p}` must be an int >= 0 or a float in [0, 1], got {v!r}")
        if max_features is not None and (int(max_features) != max_features or max_features < 1):
            raise ValueError(f"{type(self).__name__}: parameter `max_features` must be None or an integer >= 1, got {max_features!r}")
        self.min_df = min_df
        self.max_df = max_df
        self.max_features = max_features
        self.binary = bool(binary)

    def _count_vocabulary(self, table):
        word, lower = char_tables()
        chunks = _text_chunks(table, self.columns[0], type(self).__name__)
        arena = np.empty(1 << 16, dtype=np.uint8)
        key_offsets = np.zeros(1 << 12, dtype=np.int64)
        slots = np.full(1 << 13, -1, dtype=np.int64)
        df = np.zeros(1 << 12, dtype=np.int64)
        tf = np.zeros(1 << 12, dtype=np.int64)
        last = np.full(1 << 12, -1, dtype=np.int64)
        n_keys = 0
        row0 = 0
        for c in chunks:
            v = _arrow.chunk_view(c, name=self.columns[0], accept=("string",))
            lens = np.diff(v.offsets[v.offset:v.offset + v.length + 1])
            tok = np.empty(2 * int(lens.max() if lens.size else 0) + 8, dtype=np.uint8)
            arena, key_offsets, slots, df, tf, last, n_keys, bad = kt.vocab_count(
                v.length, v.offset, v.validity, v.offsets, v.values, word, lower, self.lowercase,
                _POLICY[self.invalid_utf8], tok, arena, key_offsets, slots, df, tf, last, n_keys, row0)
            if bad >= 0:
                _raise_invalid(c, int(bad), self.columns[0], type(self).__name__, row0)
            row0 += v.length
        terms = [arena[key_offsets[i]:key_offsets[i + 1]].tobytes() for i in range(n_keys)]
        return terms, df[:n_keys], tf[:n_keys]

    def _fit(self, table, y):
        n_docs = table.num_rows
        terms, df, tf = self._count_vocabulary(table)
        order = sorted(range(len(terms)), key=terms.__getitem__)
        terms = [terms[i] for i in order]
        df = df[order]
        tf = tf[order]
        hi = self.max_df if isinstance(self.max_df, int) else self.max_df * n_docs
        lo = self.min_df if isinstance(self.min_df, int) else self.min_df * n_docs
        if hi < lo:
            raise ValueError(f"{type(self).__name__}: max_df corresponds to < documents than min_df")
        mask = (df <= hi) & (df >= lo)
        if self.max_features is not None and mask.sum() > self.max_features:
            tfs = tf[mask]
            keep = np.flatnonzero(mask)[(-tfs).argsort()[: self.max_features]]  # scikit-learn's pick
            mask = np.zeros_like(mask)
            mask[keep] = True
        if not mask.any():
            raise ValueError(
                f"{type(self).__name__}: after pruning, no terms remain in column `{self.columns[0]}`; "
                "try a lower min_df or a higher max_df"
            )
        kept = [t for t, m in zip(terms, mask) if m]
        cats = CategorySet.from_values(kept)
        self.vocab_offsets_, self.vocab_data_ = cats.cat_offsets, cats.cat_data
        self._vocab = cats
        self.idf_ = self._fit_idf(df[mask], n_docs)
        self.feature_names_out_ = [f"{self.columns[0]}_{t.decode('utf-8', errors='replace')}" for t in kept]

    def _fit_idf(self, df, n_docs):
        return np.zeros(0)

    def _restore(self):
        self._vocab = CategorySet(self.vocab_offsets_, self.vocab_data_)

    @property
    def vocabulary_(self) -> list[str]:
        """The fitted terms in column order."""
        return self._vocab.labels()

    def _transform_csr(self, table):
        return self._csr(table, mode=1, n_features=len(self._vocab), alternate_sign=False,
                         cats=self._vocab, binary=self.binary, sublinear=getattr(self, "sublinear_tf", False),
                         weights=self.idf_, norm=_NORM[self._norm])

    def _describe_state(self):
        v = self.vocabulary_
        return f"; vocabulary of {len(v)} terms [{', '.join(map(repr, v[:5]))}{', …' if len(v) > 5 else ''}]"


class TfidfVectorizer(CountVectorizer):
    """TF-IDF over a fitted vocabulary (scikit-learn's TfidfVectorizer): counts (or 1 + log counts
    with ``sublinear_tf``) times ``idf = ln((1 + n) / (1 + df)) + 1`` (``smooth_idf``; else
    ``ln(n / df) + 1``), rows scaled to unit ``norm``.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from mlcore.features import TfidfVectorizer
    >>> tv = TfidfVectorizer(["doc"]).fit(pa.table({"doc": ["a cat", "the cat", "the dog"]}))
    >>> [round(float(x), 4) for x in tv.idf_]
    [1.2877, 1.6931, 1.2877]
    """

    kind = "tfidf_vectorizer"
    _params = CountVectorizer._params + ("norm", "use_idf", "smooth_idf", "sublinear_tf")

    def __init__(self, columns, *, min_df=1, max_df=1.0, max_features=None, binary: bool = False,
                 lowercase: bool = True, invalid_utf8: str = "replace", norm="l2", use_idf: bool = True,
                 smooth_idf: bool = True, sublinear_tf: bool = False):
        super().__init__(columns, min_df=min_df, max_df=max_df, max_features=max_features, binary=binary,
                         lowercase=lowercase, invalid_utf8=invalid_utf8)
        if norm not in _NORM:
            raise ValueError(f"TfidfVectorizer: parameter `norm` must be 'l2', 'l1' or None, got {norm!r}")
        self.norm = norm
        self._norm = norm
        self.use_idf = bool(use_idf)
        self.smooth_idf = bool(smooth_idf)
        self.sublinear_tf = bool(sublinear_tf)

    def _fit_idf(self, df, n_docs):
        return _idf(df, n_docs, self.smooth_idf) if self.use_idf else np.zeros(0)
