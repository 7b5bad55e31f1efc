"""The data schema: per column its type, role, allowed values, nullability and uniqueness.

A :class:`Schema` is inferred from data with :func:`infer_schema`, edited in place (it is a plain
mutable object) and saved as JSON with :meth:`Schema.to_json` / :meth:`Schema.from_json`. Loading
reads data only: types come from a closed list of names, never from code in the file.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import re
from dataclasses import dataclass, fields
from typing import Any, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.types as pat

from .. import _arrow
from ..errors import ArtifactError, ColumnNotFoundError, SchemaError

__all__ = ["ROLES", "ColumnSpec", "Schema", "infer_schema", "parse_type"]

#: The roles a column can play.
ROLES = ("numeric", "categorical", "text", "timestamp", "target", "id", "weight")

_FORMAT = "mlcore.data.schema"
_FORMAT_VERSION = 1

_SIMPLE_TYPES = {
    "null": pa.null(), "bool": pa.bool_(),
    "int8": pa.int8(), "int16": pa.int16(), "int32": pa.int32(), "int64": pa.int64(),
    "uint8": pa.uint8(), "uint16": pa.uint16(), "uint32": pa.uint32(), "uint64": pa.uint64(),
    "halffloat": pa.float16(), "float": pa.float32(), "double": pa.float64(),
    "float32": pa.float32(), "float64": pa.float64(),
    "string": pa.string(), "large_string": pa.large_string(),
    "binary": pa.binary(), "large_binary": pa.large_binary(),
    "date32[day]": pa.date32(), "date64[ms]": pa.date64(),
}
_UNIT = r"(s|ms|us|ns)"
_RE_TS = re.compile(r"^timestamp\[" + _UNIT + r"(?:, tz=([A-Za-z0-9_/+:\-]+))?\]$")
_RE_DUR = re.compile(r"^duration\[" + _UNIT + r"\]$")
_RE_DICT = re.compile(r"^dictionary<values=(.+), indices=(int8|int16|int32|int64|uint8|uint16|uint32|uint64), ordered=([01])>$")


def parse_type(text: str) -> pa.DataType:
    """The Arrow type written as ``str(type)``, from a closed list (primitive, string, date,
    timestamp with unit and time zone, duration, dictionary of those).

    Examples
    --------
    >>> parse_type("timestamp[s, tz=UTC]")
    TimestampType(timestamp[s, tz=UTC])
    """
    if not isinstance(text, str):
        raise SchemaError(f"Expected an Arrow type name (a string), got {text!r}")
    t = _SIMPLE_TYPES.get(text)
    if t is not None:
        return t
    m = _RE_TS.match(text)
    if m:
        return pa.timestamp(m.group(1), tz=m.group(2))
    m = _RE_DUR.match(text)
    if m:
        return pa.duration(m.group(1))
    m = _RE_DICT.match(text)
    if m:
        return pa.dictionary(_SIMPLE_TYPES[m.group(2)], parse_type(m.group(1)), ordered=m.group(3) == "1")
    raise SchemaError(
        f"Unknown Arrow type {text!r}; expected one of {sorted(_SIMPLE_TYPES)}, 'timestamp[unit(, tz=…)]', "
        "'duration[unit]' or 'dictionary<values=…, indices=…, ordered=0>'"
    )


def _json_value(v: Any) -> Any:
    """A bound or category as JSON: numbers stay numbers (±inf as strings), datetimes as ISO."""
    if isinstance(v, (np.generic,)):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return "NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")
    if isinstance(v, (_dt.datetime, _dt.date, _dt.time)):
        return v.isoformat()
    if isinstance(v, _dt.timedelta):
        return v.total_seconds()
    return v


@dataclass
class ColumnSpec:
    """What one column must hold. Edit the attributes freely; :func:`validate` reads them.

    Attributes
    ----------
    name : str
    dtype : str
        The Arrow type as ``str(pyarrow type)``, e.g. ``"double"``, ``"timestamp[s, tz=UTC]"``.
    role : str
        One of ``numeric, categorical, text, timestamp, target, id, weight``.
    nullable : bool
        Whether nulls are allowed (a null in a non-nullable column is a problem).
    unique : bool
        Whether every non-null value must occur once.
    min, max : number or ISO timestamp string or None
        Allowed closed range (numeric and timestamp columns).
    categories : list or None
        Allowed values (categorical columns); ``None`` means any value.
    allow_nan, allow_inf : bool
        Whether NaN / ±inf are acceptable values of a floating-point column.
    """

    name: str
    dtype: str
    role: str = "numeric"
    nullable: bool = True
    unique: bool = False
    min: Any = None
    max: Any = None
    categories: list | None = None
    allow_nan: bool = False
    allow_inf: bool = False

    def __post_init__(self):
        self.check()

    @property
    def type(self) -> pa.DataType:
        """The Arrow type named by ``dtype``."""
        return parse_type(self.dtype)

    def check(self) -> None:
        """Raise :class:`SchemaError` when the spec contradicts itself."""
        if not isinstance(self.name, str) or not self.name:
            raise SchemaError(f"Column name must be a non-empty string, got {self.name!r}")
        parse_type(self.dtype)
        if self.role not in ROLES:
            raise SchemaError(f"Unknown role {self.role!r} at column `{self.name}`; expected one of {list(ROLES)}")
        if self.categories is not None and not isinstance(self.categories, list):
            raise SchemaError(f"categories must be a list or None at column `{self.name}`, got {type(self.categories).__name__}")
        lo, hi = self.min, self.max
        if lo is not None and hi is not None and _bound_number(self, lo) > _bound_number(self, hi):
            raise SchemaError(f"min {lo!r} is greater than max {hi!r} at column `{self.name}`")

    def to_dict(self) -> dict:
        out = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name in ("min", "max"):
                v = _json_value(v)
            elif f.name == "categories" and v is not None:
                v = [_json_value(c) for c in v]
            out[f.name] = v
        return out

    @classmethod
    def from_dict(cls, d: dict) -> "ColumnSpec":
        if not isinstance(d, dict):
            raise ArtifactError(f"A column entry must be an object, got {type(d).__name__}")
        known = {f.name for f in fields(cls)}
        extra = set(d) - known
        if extra:
            raise ArtifactError(f"Unknown keys {sorted(extra)} in the schema entry of column {d.get('name')!r}")
        kw = dict(d)
        for k in ("min", "max"):
            if kw.get(k) in ("Infinity", "-Infinity"):
                kw[k] = float(kw[k].replace("Infinity", "inf"))
        return cls(**kw)


def _bound_number(spec: ColumnSpec, v: Any) -> float:
    """A bound as a comparable number: timestamps in the column's unit, numbers as float."""
    t = parse_type(spec.dtype)
    if pat.is_dictionary(t):
        t = t.value_type
    if pat.is_temporal(t):
        if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
            return float(v)
        try:
            scalar = pa.scalar(v if not isinstance(v, str) else _dt.datetime.fromisoformat(v), type=t) \
                if not isinstance(v, (int, float)) else None
        except (pa.ArrowInvalid, pa.ArrowTypeError, ValueError, TypeError) as exc:
            raise SchemaError(f"Bound {v!r} of column `{spec.name}` is not a {t} value: {exc}") from None
        if scalar is None:
            return float(v)
        return float(scalar.cast(pa.int64()).as_py())
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise SchemaError(f"Bound {v!r} of column `{spec.name}` must be a number for type {t}")
    return float(v)


class Schema:
    """An ordered set of :class:`ColumnSpec`, editable, saved and loaded as JSON.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from mlcore.data import infer_schema, Schema
    >>> s = infer_schema(pa.table({"x": [1.0, 2.0], "c": ["a", "b"]}))
    >>> s["x"].max = 10.0
    >>> Schema.from_json(s.to_json())["x"].max
    10.0
    """

    def __init__(self, columns: list[ColumnSpec] | None = None):
        self._cols: dict[str, ColumnSpec] = {}
        for c in columns or []:
            self.add(c)

    def add(self, spec: ColumnSpec) -> "Schema":
        if not isinstance(spec, ColumnSpec):
            raise TypeError(f"Expected a ColumnSpec, got {type(spec).__name__}")
        if spec.name in self._cols:
            raise SchemaError(f"Column `{spec.name}` is already in the schema")
        self._cols[spec.name] = spec
        return self

    def __getitem__(self, name: str) -> ColumnSpec:
        try:
            return self._cols[name]
        except KeyError:
            raise ColumnNotFoundError(f"Column `{name}` is not in the schema; it has {list(self._cols)}") from None

    def __contains__(self, name: str) -> bool:
        return name in self._cols

    def __iter__(self) -> Iterator[ColumnSpec]:
        return iter(self._cols.values())

    def __len__(self) -> int:
        return len(self._cols)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Schema) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        lines = [f"Schema({len(self)} columns)"]
        for c in self:
            extra = []
            if c.min is not None or c.max is not None:
                extra.append(f"range [{c.min}, {c.max}]")
            if c.categories is not None:
                shown = ", ".join(map(str, c.categories[:5])) + (" …" if len(c.categories) > 5 else "")
                extra.append(f"{len(c.categories)} categories: {shown}")
            if not c.nullable:
                extra.append("not null")
            if c.unique:
                extra.append("unique")
            lines.append(f"  {c.name}: {c.dtype} ({c.role})" + (" " + "; ".join(extra) if extra else ""))
        return "\n".join(lines)

    @property
    def names(self) -> list[str]:
        return list(self._cols)

    def update(self, name: str, **changes: Any) -> "Schema":
        """Change attributes of column ``name`` (checked); returns self for chaining."""
        spec = self[name]
        known = {f.name for f in fields(ColumnSpec)} - {"name"}
        bad = set(changes) - known
        if bad:
            raise SchemaError(f"Unknown column attributes {sorted(bad)}; expected some of {sorted(known)}")
        for k, v in changes.items():
            setattr(spec, k, v)
        spec.check()
        return self

    def drop(self, *names: str) -> "Schema":
        for n in names:
            self[n]
            del self._cols[n]
        return self

    def with_role(self, role: str) -> list[str]:
        """Names of the columns with ``role``."""
        return [c.name for c in self if c.role == role]

    def to_arrow(self) -> pa.Schema:
        """The Arrow schema the repaired data has."""
        return pa.schema([pa.field(c.name, c.type, nullable=c.nullable) for c in self])

    def to_dict(self) -> dict:
        return {"format": _FORMAT, "version": _FORMAT_VERSION, "columns": [c.to_dict() for c in self]}

    def to_json(self, path: str | None = None, *, indent: int = 2) -> str:
        """The schema as JSON text; also written to ``path`` when given."""
        text = json.dumps(self.to_dict(), indent=indent, allow_nan=False)
        if path is not None:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        return text

    @classmethod
    def from_dict(cls, d: dict) -> "Schema":
        if not isinstance(d, dict) or d.get("format") != _FORMAT:
            raise ArtifactError(f"Not an mlcore schema: expected format {_FORMAT!r}, got {d.get('format') if isinstance(d, dict) else type(d).__name__!r}")
        if d.get("version") != _FORMAT_VERSION:
            raise ArtifactError(f"Unsupported schema version {d.get('version')!r}; this mlcore reads version {_FORMAT_VERSION}")
        cols = d.get("columns")
        if not isinstance(cols, list):
            raise ArtifactError("The schema's `columns` must be a list")
        return cls([ColumnSpec.from_dict(c) for c in cols])

    @classmethod
    def from_json(cls, text_or_path: str) -> "Schema":
        """Load a schema from JSON text or from a path to a JSON file."""
        text = text_or_path
        if not text_or_path.lstrip().startswith("{"):
            with open(text_or_path, encoding="utf-8") as f:
                text = f.read()
        try:
            d = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ArtifactError(f"The schema is not valid JSON: {exc}") from None
        return cls.from_dict(d)


_ID_NAME = re.compile(r"(^|_)(id|key|uuid)$", re.IGNORECASE)


def _scalar_py(s: pa.Scalar) -> Any:
    v = s.as_py()
    return v


def infer_schema(
    data: Any,
    *,
    target: str | None = None,
    id: str | list[str] | None = None,
    weight: str | None = None,
    max_categories: int = 1000,
    text_min_tokens: float = 3.0,
) -> Schema:
    """Infer a :class:`Schema` from data: types, roles, observed ranges and categories.

    Rules: integers and floats are ``numeric`` with the observed finite min/max as the range;
    temporal columns are ``timestamp``; booleans are ``categorical``; strings are ``categorical``
    (with their sorted distinct values when there are at most ``max_categories``) unless they look
    like free text (mostly distinct, with ``text_min_tokens`` or more words on average), then
    ``text``. A column named like an identifier (``id``, ``*_id``, ``key``) whose values are all
    distinct becomes ``id`` and ``unique``. ``nullable`` is True where nulls occur. The columns
    named by ``target``, ``id`` and ``weight`` get those roles.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from mlcore.data import infer_schema
    >>> s = infer_schema(pa.table({"delay": [3.0, None, -2.0], "carrier": ["UA", "AA", "UA"]}))
    >>> (s["delay"].role, s["delay"].min, s["delay"].max, s["delay"].nullable)
    ('numeric', -2.0, 3.0, True)
    >>> s["carrier"].categories
    ['AA', 'UA']
    """
    table = _arrow.as_table(data)
    ids = [id] if isinstance(id, str) else list(id or [])
    for name in [target, weight, *ids]:
        if name is not None:
            _arrow.get_column(table, name)
    if len(set(table.column_names)) != len(table.column_names):
        dup = sorted({n for n in table.column_names if table.column_names.count(n) > 1})
        raise SchemaError(f"Column names must be unique to infer a schema; repeated: {dup}")
    specs = []
    n_rows = table.num_rows
    for name, col in zip(table.column_names, table.columns):
        t = col.type
        vt = t.value_type if pat.is_dictionary(t) else t
        spec = ColumnSpec(name=name, dtype=str(t), nullable=col.null_count > 0)
        if pat.is_integer(vt) or pat.is_floating(vt):
            spec.role = "numeric"
            mm = pc.min_max(col) if len(col) else None
            if pat.is_floating(vt) and len(col):
                finite = pc.filter(col, pc.is_finite(col)) if not pat.is_dictionary(t) else col
                mm = pc.min_max(finite)
            if mm is not None and mm["min"].is_valid:
                spec.min, spec.max = _scalar_py(mm["min"]), _scalar_py(mm["max"])
            if pat.is_floating(vt) and len(col):
                spec.allow_nan = False
        elif pat.is_temporal(vt):
            spec.role = "timestamp"
            if len(col):
                mm = pc.min_max(col)
                if mm["min"].is_valid:
                    spec.min, spec.max = _json_value(mm["min"].as_py()), _json_value(mm["max"].as_py())
        elif pat.is_boolean(vt):
            spec.role = "categorical"
            spec.categories = [False, True]
        elif pat.is_string(vt) or pat.is_large_string(vt):
            distinct = pc.unique(col.combine_chunks() if not pat.is_dictionary(t) else col.combine_chunks().dictionary_decode())
            distinct = distinct.drop_null() if hasattr(distinct, "drop_null") else distinct
            n_distinct = len(distinct)
            n_valid = n_rows - col.null_count
            looks_text = False
            if n_valid and n_distinct > 0.5 * n_valid and n_distinct > max_categories // 10:
                words = pc.utf8_split_whitespace(col.combine_chunks().cast(vt) if pat.is_dictionary(t) else col)
                mean_words = pc.mean(pc.list_value_length(words)).as_py() or 0.0
                looks_text = mean_words >= text_min_tokens
            if looks_text:
                spec.role = "text"
            else:
                spec.role = "categorical"
                if n_distinct <= max_categories:
                    spec.categories = sorted(distinct.to_pylist())
        else:
            raise SchemaError(
                f"Cannot infer a role for type `{t}` at column `{name}`; expected a number, bool, string, "
                "dictionary or temporal type"
            )
        if (name in ids) or (
            not ids and _ID_NAME.search(name) and (pat.is_integer(vt) or pat.is_string(vt))
            and n_rows > 0 and col.null_count == 0 and pc.count_distinct(col).as_py() == n_rows
        ):
            spec.role = "id"
            spec.unique = True
            spec.categories = None
            spec.min = spec.max = None
        if name == target:
            spec.role = "target"
        if name == weight:
            spec.role = "weight"
        spec.check()
        specs.append(spec)
    return Schema(specs)
