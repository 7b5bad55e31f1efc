"""Helpers shared by the command-line groups (the main CLI and the stages' own groups)."""

from __future__ import annotations

import click


def read_table(path: str, *, param_hint: str = "PATH"):
    """Read a Parquet file or folder, CSV or Arrow IPC file with :func:`mlcore.data.read`; an
    unknown format is a usage error (exit status 2) that names the path."""
    from .data import read

    try:
        return read(path)
    except ValueError as exc:
        raise click.BadParameter(
            f"cannot tell the format of {path!r}; expected .parquet, .csv, .arrow/.feather/.ipc or a Parquet folder "
            f"({exc})",
            param_hint=param_hint,
        ) from None
