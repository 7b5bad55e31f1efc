"""Stage 1, data collection and preparation: read, join, check, repair, cast and split.

Arrow in, Arrow out: every function accepts what :func:`mlcore._arrow.as_table` accepts.

- :func:`read`, :func:`read_batches`: Parquet, CSV, Arrow IPC/Feather, SQL on DuckDB or
  PostgreSQL (ADBC), whole or as a stream of record batches.
- :func:`join`, :func:`join_asof`: key joins and as-of (nearest earlier) joins.
- :class:`Schema`, :func:`infer_schema`: types, roles, ranges, categories; JSON round trip.
- :func:`validate`: one compiled pass per column; a :class:`ValidationReport`.
- :func:`repair`: impute, clip, cast, normalise categories, de-duplicate; bad rows quarantined.
- :func:`split`: random, stratified, grouped and time-based splits.
"""

from .io import FORMATS, read, read_batches
from .join import join, join_asof
from .repair import IMPUTE_STRATEGIES, RepairReport, RepairResult, repair
from .schema import ROLES, ColumnSpec, Schema, infer_schema
from .split import SPLIT_METHODS, split, split_indices
from .validate import PROBLEMS, ValidationReport, validate

__all__ = [
    "FORMATS",
    "read",
    "read_batches",
    "join",
    "join_asof",
    "ROLES",
    "PROBLEMS",
    "ColumnSpec",
    "Schema",
    "infer_schema",
    "ValidationReport",
    "validate",
    "IMPUTE_STRATEGIES",
    "RepairReport",
    "RepairResult",
    "repair",
    "SPLIT_METHODS",
    "split",
    "split_indices",
]
