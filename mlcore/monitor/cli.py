"""``mlcore monitor``: fit a reference, check current data, write JSON/HTML and the store.

Register on the main CLI with ``main.add_command(monitor)`` (``from mlcore.monitor.cli import
monitor``). Data files: Parquet, Arrow IPC (``.arrow``/``.feather``) or CSV.
"""

from __future__ import annotations

import json
import sys

import click

__all__ = ["monitor"]


def _read(path: str):
    low = path.lower()
    if low.endswith(".parquet"):
        import pyarrow.parquet as pq

        return pq.read_table(path)
    if low.endswith((".arrow", ".feather", ".ipc")):
        import pyarrow.feather as feather

        return feather.read_table(path)
    if low.endswith(".csv"):
        import pyarrow.csv as pcsv

        return pcsv.read_csv(path)
    raise click.BadParameter(f"expected a .parquet, .arrow/.feather/.ipc or .csv file, got {path!r}")


@click.group(name="monitor")
def monitor() -> None:
    """Drift monitoring: fit a reference, check current data against it."""


@monitor.command("fit")
@click.argument("reference", type=click.Path(exists=True, dir_okay=False))
@click.option("--out", "out", required=True, type=click.Path(file_okay=False), help="folder to save the monitor in")
@click.option("--columns", default=None, help="comma-separated columns (default: all numeric/categorical)")
@click.option("--alpha", default=0.05, show_default=True, type=float)
@click.option("--correction", default="holm", show_default=True, type=click.Choice(["holm", "bonferroni", "bh", "none"]))
@click.option("--effect-floor", default=0.01, show_default=True, type=float)
def fit_cmd(reference, out, columns, alpha, correction, effect_floor):
    """Fit a DriftMonitor on REFERENCE and save it to --out."""
    from .drift import DriftMonitor

    cols = columns.split(",") if columns else None
    m = DriftMonitor(columns=cols, alpha=alpha, correction=correction, effect_floor=effect_floor)
    m.fit(_read(reference)).save(out)
    click.echo(f"saved a monitor of {len(m.columns_)} columns to {out}")


@monitor.command("check")
@click.argument("monitor_dir", type=click.Path(exists=True, file_okay=False))
@click.argument("current", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "json_out", type=click.Path(dir_okay=False), help="write the full report as JSON")
@click.option("--html", "html_out", type=click.Path(dir_okay=False), help="write a self-contained HTML report")
@click.option("--store", type=click.Path(dir_okay=False), help="append results and events to this DuckDB file or postgresql:// URI (ADBC)")
@click.option("--window", default="", help="label of this window in the store")
def check_cmd(monitor_dir, current, json_out, html_out, store, window):
    """Check CURRENT against the monitor saved in MONITOR_DIR; exit status 1 on dataset drift."""
    from .drift import DriftMonitor
    from .events import events_from_report
    from .report import html_report

    m = DriftMonitor.load(monitor_dir)
    rep = m.check(_read(current))
    for f in rep.features:
        mark = "DRIFT" if f.drifted else ("sig<floor" if f.significant else "ok")
        p = "-" if f.adjusted_p_value is None else f"{f.adjusted_p_value:.3g}"
        click.echo(f"{f.column:24s} {f.test:8s} adj_p={p:>9s} effect={f.effect_size:.4g} (floor {f.effect_floor}) {mark}")
    click.echo(f"dataset drift: {rep.drifted} ({rep.n_drifted} feature(s))")
    if json_out:
        with open(json_out, "w") as fh:
            json.dump(rep.to_dict(), fh, default=str)
    if html_out:
        with open(html_out, "w") as fh:
            fh.write(html_report([(window or "current", rep)]))
    if store:
        from .store import MonitorStore

        with MonitorStore(store) as s:
            s.add_report(rep, window=window)
            s.add_events(events_from_report(rep, where=window))
    sys.exit(1 if rep.drifted else 0)
