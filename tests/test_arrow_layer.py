"""The Arrow layer: zero copy by buffer address, every input kind, and clear errors."""

from __future__ import annotations

import warnings

import numpy as np
import pyarrow as pa
import pytest

from mlcore import _arrow
from mlcore.errors import ColumnNotFoundError, CopyWarning, SchemaError, ShapeError


def _addr(a: np.ndarray) -> int:
    return a.__array_interface__["data"][0]


@pytest.mark.parametrize("t", [pa.float64(), pa.int64(), pa.int32(), pa.float32(), pa.uint8()])
@pytest.mark.parametrize("nulls", [False, True])
def test_numeric_views_share_arrow_buffers(t, nulls):
    raw = [None if nulls and i % 7 == 3 else i % 200 for i in range(1000)]
    arr = pa.array(raw, type=t)
    v = _arrow.chunk_view(arr)
    bufs = arr.buffers()
    assert _addr(v.values) == bufs[1].address
    assert not v.values.flags.writeable
    if nulls:
        assert _addr(v.validity) == bufs[0].address
        assert v.null_count == arr.null_count
    else:
        assert v.validity.size == 0


@pytest.mark.parametrize("start", [1, 3, 8, 13, 500])
def test_sliced_views_keep_parent_buffers_and_offset(start):
    arr = pa.array([None if i % 5 == 0 else float(i) for i in range(2000)])
    sl = arr.slice(start, 777)
    v = _arrow.chunk_view(sl)
    assert v.offset == start
    assert _addr(v.values) == arr.buffers()[1].address
    assert _addr(v.validity) == arr.buffers()[0].address
    # row i of the slice is values[offset + i]
    got = [None if not ((v.validity[(start + i) >> 3] >> ((start + i) & 7)) & 1) else v.values[start + i]
           for i in range(len(sl))]
    assert got == sl.to_pylist()


def test_chunked_views_one_per_chunk_zero_copy():
    chunks = [pa.array([1.0, None, 3.0]), pa.array([4.0] * 10), pa.array([], pa.float64())]
    col = pa.chunked_array(chunks)
    views = _arrow.column_views(col)
    assert len(views) == 3
    for v, c in zip(views, chunks):
        if len(c):
            assert _addr(v.values) == c.buffers()[1].address


@pytest.mark.parametrize("t", [pa.string(), pa.large_string()])
def test_string_views_are_zero_copy_and_absolute(t):
    arr = pa.array(["alpha", None, "b", "", "gamma-delta"] * 50, type=t).slice(7, 101)
    v = _arrow.chunk_view(arr)
    bufs = arr.buffers()
    assert v.kind == "string"
    assert _addr(v.offsets) == bufs[1].address
    assert _addr(v.values) == bufs[2].address
    decoded = []
    for i in range(len(arr)):
        j = v.offset + i
        ok = (v.validity[j >> 3] >> (j & 7)) & 1
        decoded.append(bytes(v.values[v.offsets[j]:v.offsets[j + 1]]).decode() if ok else None)
    assert decoded == arr.to_pylist()


def test_dictionary_views_indices_zero_copy():
    arr = pa.array(["x", "y", None, "x", "z"] * 20).dictionary_encode().slice(3, 50)
    v = _arrow.chunk_view(arr)
    assert v.kind == "dictionary"
    assert _addr(v.values) == arr.indices.buffers()[1].address
    assert v.dictionary.to_pylist() == ["x", "y", "z"]
    idx = [v.values[v.offset + i] for i in range(len(arr))]
    vals = [None if s is None else v.dictionary[k].as_py() for s, k in zip(arr.to_pylist(), idx)]
    assert vals == arr.to_pylist()


def test_bool_views_are_bitmaps():
    arr = pa.array([True, False, None, True] * 9).slice(5)
    v = _arrow.chunk_view(arr)
    assert v.kind == "bool"
    bits = [bool((v.values[(v.offset + i) >> 3] >> ((v.offset + i) & 7)) & 1) for i in range(len(arr))]
    assert [b if x is not None else None for b, x in zip(bits, arr.to_pylist())] == arr.to_pylist()


def test_temporal_views_read_integer_storage():
    arr = pa.array(np.array(["2024-01-01T00:00", "2024-06-01T12:30"], dtype="datetime64[us]"))
    v = _arrow.chunk_view(arr)
    assert v.kind == "temporal" and v.values.dtype == np.int64
    assert _addr(v.values) == arr.buffers()[1].address


def test_wrap_numeric_is_zero_copy_and_valid():
    out = np.arange(20, dtype=np.float64)
    bitmap = np.packbits(np.arange(20) % 3 != 0, bitorder="little")
    arr = _arrow.wrap_numeric(out, bitmap)
    arr.validate(full=True)
    assert arr.buffers()[1].address == _addr(out)
    assert arr.to_pylist() == [None if i % 3 == 0 else float(i) for i in range(20)]
    plain = _arrow.wrap_numeric(out)
    assert plain.null_count == 0 and plain.buffers()[1].address == _addr(out)


def test_numpy_inputs():
    x = np.linspace(0, 1, 50)
    t = _arrow.as_table(x)
    assert t.column("x0").chunk(0).buffers()[1].address == _addr(x)
    f = np.asfortranarray(np.arange(12.0).reshape(4, 3))
    tf = _arrow.as_table(f)
    assert tf.column_names == ["x0", "x1", "x2"]
    assert tf.column("x1").chunk(0).buffers()[1].address == _addr(f[:, 1])
    c = np.arange(12.0).reshape(4, 3)
    with pytest.warns(CopyWarning, match="C-ordered"):
        tc = _arrow.as_table(c)
    assert tc.column("x2").to_pylist() == c[:, 2].tolist()


def test_numpy_bad_inputs_name_the_problem():
    with pytest.raises(SchemaError, match="object"):
        _arrow.as_table(np.array(["a", 1], dtype=object))
    with pytest.raises(SchemaError, match="contiguous"):
        _arrow.as_chunked(np.arange(10.0)[::2])
    with pytest.raises(ShapeError, match="shape"):
        _arrow.as_table(np.zeros((2, 2, 2)))
    with pytest.raises(TypeError, match="Expected tabular data"):
        _arrow.as_table(42)


def test_dict_and_batches_and_reader():
    a = np.arange(5.0)
    t = _arrow.as_table({"a": a, "b": pa.array(list("vwxyz"))})
    assert t.column("a").chunk(0).buffers()[1].address == _addr(a)
    rb = pa.record_batch({"a": [1, 2]})
    assert _arrow.as_table(rb).num_rows == 2
    reader = pa.RecordBatchReader.from_batches(rb.schema, [rb, rb])
    assert _arrow.as_table(reader).num_rows == 4
    with pytest.raises(ShapeError):
        _arrow.as_table({"a": np.arange(3.0), "b": np.arange(4.0)})


class _StreamOnly:
    """Exposes only the Arrow PyCapsule stream interface, as Polars and DuckDB objects do."""

    def __init__(self, table):
        self._t = table

    def __arrow_c_stream__(self, requested_schema=None):
        return self._t.__arrow_c_stream__(requested_schema)


class _ArrayOnly:
    def __init__(self, arr):
        self._a = arr

    def __arrow_c_array__(self, requested_schema=None):
        return self._a.__arrow_c_array__(requested_schema)


def test_pycapsule_inputs_are_zero_copy():
    base = pa.table({"x": np.arange(1000.0)})
    t = _arrow.as_table(_StreamOnly(base))
    assert t.column("x").chunk(0).buffers()[1].address == base.column("x").chunk(0).buffers()[1].address
    arr = pa.array(np.arange(10.0))
    col = _arrow.as_chunked(_ArrayOnly(arr))
    assert col.chunk(0).buffers()[1].address == arr.buffers()[1].address
    rb = pa.record_batch({"y": [1.0, 2.0]})
    assert _arrow.as_table(_ArrayOnly(rb)).column_names == ["y"]


def test_duckdb_result_is_accepted():
    duckdb = pytest.importorskip("duckdb")
    rel = duckdb.sql("select range::DOUBLE as x from range(100)")
    t = _arrow.as_table(rel)
    assert t.column("x").to_pylist() == [float(i) for i in range(100)]


def test_pandas_inputs():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"a": np.arange(4.0), "b": [1, 2, 3, 4]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t = _arrow.as_table(df)
    assert t.column("a").to_pylist() == [0.0, 1.0, 2.0, 3.0]
    obj = pd.DataFrame({"s": pd.Series(["a", None, "c"], dtype=object)})
    with pytest.warns(CopyWarning, match=r"\['s'\]"):
        t2 = _arrow.as_table(obj)
    assert t2.column("s").to_pylist() == ["a", None, "c"]


def test_unsupported_type_names_column_type_and_accepted():
    t = pa.table({"tags": pa.array([[1, 2], [3]])})
    with pytest.raises(SchemaError) as exc:
        _arrow.column_views(t, "tags")
    msg = str(exc.value)
    assert "`tags`" in msg and "list<item: int64>" in msg and "float64" in msg
    with pytest.raises(SchemaError, match="`name`.*string|string.*`name`"):
        _arrow.numeric_views(pa.table({"name": ["a"]}), "name")


def test_missing_column_suggests_close_names():
    t = pa.table({"dep_delay": [1.0], "arr_delay": [2.0]})
    with pytest.raises(ColumnNotFoundError) as exc:
        _arrow.get_column(t, "dep_dely")
    assert "`dep_dely`" in str(exc.value) and "did you mean `dep_delay`" in str(exc.value)
    assert isinstance(exc.value, KeyError) and isinstance(exc.value, ValueError)


def test_align_chunks_slices_without_copy():
    a = pa.chunked_array([pa.array(np.arange(0.0, 5.0)), pa.array(np.arange(5.0, 12.0))])
    b = pa.chunked_array([pa.array(np.arange(100.0, 103.0)), pa.array(np.arange(103.0, 112.0))])
    pieces = _arrow.align_chunks(a, b)
    assert [len(p[0]) for p in pieces] == [3, 2, 7]
    for pa_, pb in pieces:
        assert len(pa_) == len(pb)
    assert pieces[1][0].buffers()[1].address == a.chunk(0).buffers()[1].address
    joined = [x for p in pieces for x in p[1].to_pylist()]
    assert joined == b.to_pylist()
    with pytest.raises(ShapeError, match=r"\[12, 3\]"):
        _arrow.align_chunks(a, pa.chunked_array([pa.array([1.0, 2.0, 3.0])]))


def test_pool_allocated_outputs_wrap_without_copy():
    out = _arrow.empty_numeric(1000)
    assert out.flags.writeable and out.dtype == np.float64
    out[:] = 2.5
    arr = _arrow.wrap_numeric(out)
    assert arr.buffers()[1].address == _addr(out)
    assert arr.buffers()[1] is out.base or arr.buffers()[1].address == out.base.address
    assert pa.compute.sum(arr).as_py() == 2500.0
    assert len(_arrow.wrap_numeric(_arrow.empty_numeric(0))) == 0


@pytest.mark.parametrize("offset", [0, 1, 5, 8, 13, 64, 67])
@pytest.mark.parametrize("length", [0, 1, 7, 8, 9, 100, 1001])
def test_copy_bits_matches_reference(offset, length):
    from mlcore._kernels.bitmap import copy_bits

    rng = np.random.default_rng(offset * 1000 + length)
    bits = rng.random(offset + length) < 0.6
    src = np.packbits(bits, bitorder="little")
    out = np.full((length + 7) // 8, 0xAA, dtype=np.uint8)
    copy_bits(length, offset, src, out)
    assert np.array_equal(np.unpackbits(out, bitorder="little", count=length).astype(bool), bits[offset:])
    # the padding bits of the last byte are zero, as Arrow expects
    if length % 8:
        assert out[-1] >> (length % 8) == 0
