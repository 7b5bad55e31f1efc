"""The ``mlcore`` command line. Later stages add subcommands (run, evaluate, serve, score, …)."""

from __future__ import annotations

import os
import sys
import tempfile
import time

import click

from ._version import __version__


def _format_table(table) -> str:
    """A plain fixed-width rendering of a small Arrow table."""
    cols = table.column_names
    cells = [[_fmt(v) for v in table.column(c).to_pylist()] for c in cols]
    widths = [max([len(c)] + [len(x) for x in col]) for c, col in zip(cols, cells)]
    lines = ["  ".join(c.rjust(w) for c, w in zip(cols, widths))]
    lines.append("  ".join("-" * w for w in widths))
    for i in range(table.num_rows):
        lines.append("  ".join(col[i].rjust(w) for col, w in zip(cells, widths)))
    return "\n".join(lines)


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def _read_any(path: str):
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    lower = path.lower()
    if lower.endswith((".parquet", ".pq")) or os.path.isdir(path):
        return pq.read_table(path)
    if lower.endswith((".csv", ".csv.gz")):
        return pacsv.read_csv(path)
    if lower.endswith((".arrow", ".feather", ".ipc")):
        import pyarrow.feather as feather

        return feather.read_table(path)
    raise click.BadParameter(
        f"cannot tell the format of {path!r}; expected .parquet, .csv, .arrow/.feather/.ipc or a Parquet folder",
        param_hint="PATH",
    )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="mlcore")
def main() -> None:
    """mlcore: the machine-learning life cycle on one compiled core."""


@main.command()
def info() -> None:
    """Print versions, the kernel cache directory and the threading layer."""
    from . import show_config

    for k, v in show_config().items():
        click.echo(f"{k:>18}: {v}")


@main.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=True))
def describe(path: str) -> None:
    """Summarise every column of a Parquet, CSV or Arrow IPC file in one compiled pass."""
    from .compute import describe as _describe

    table = _read_any(path)
    click.echo(f"{path}: {table.num_rows:,} rows x {table.num_columns} columns")
    click.echo(_format_table(_describe(table)))


@main.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Folder for the demo's Parquet file (default: a temporary folder).")
def demo(out_dir: str | None) -> None:
    """End-to-end run on nycflights13: CSV to Parquet, Parquet through the kernels, a summary."""
    import pyarrow.parquet as pq

    from . import compute
    from .datasets import nycflights13

    t0 = time.perf_counter()
    flights = nycflights13("flights")
    out_dir = out_dir or tempfile.mkdtemp(prefix="mlcore-demo-")
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "flights.parquet")
    pq.write_table(flights, path, row_group_size=65_536)
    click.echo(f"wrote {flights.num_rows:,} flights to {path}")

    table = pq.read_table(path)  # several chunks: one per row group
    click.echo(f"read it back: {table.num_rows:,} rows, {table.column('dep_delay').num_chunks} chunks per column\n")
    click.echo(_format_table(compute.describe(table.select(
        ["dep_delay", "arr_delay", "air_time", "distance", "hour", "carrier"]))))

    mean = compute.mean(table, "arr_delay")
    mm = compute.min_max(table, "arr_delay")
    lo, hi = mm["min"], mm["max"]
    scaled = compute.affine(table, "arr_delay", scale=1.0 / (hi - lo), shift=-lo / (hi - lo))
    import pyarrow.compute as pc

    late = pc.sum(pc.greater(table.column("arr_delay"), 15)).as_py()
    click.echo(
        f"\narr_delay: mean {mean:.2f} min over {table.num_rows - table.column('arr_delay').null_count:,} "
        f"flights with a recorded arrival; min-max scaled to [{round(compute.min_max(scaled)['min'], 6) + 0.0:.1f}, "
        f"{round(compute.min_max(scaled)['max'], 6) + 0.0:.1f}] keeping {scaled.null_count:,} nulls"
    )
    click.echo(f"flights arriving more than 15 minutes late: {late:,}")
    click.echo(f"done in {time.perf_counter() - t0:.2f} s")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
