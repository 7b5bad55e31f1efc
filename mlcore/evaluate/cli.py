"""``mlcore evaluate``: gate precomputed predictions against a goal file from the command line.

Register it on the main group with ``main.add_command(evaluate)`` (mlcore/cli.py). Commands:

- ``mlcore evaluate gate GOAL DATA --target y --score p [...]``: metrics with intervals, the
  verdict, JSON and HTML reports; exit status 0 when the model may go to production, 1 when not;
- ``mlcore evaluate goal GOAL``: check a goal file and print its ranges;
- ``mlcore evaluate metrics``: the metric names a goal may use.

DATA (and ``--reference``/``--production``) are Parquet, CSV or Arrow IPC files. Predictions are
read from columns: ``--score`` (binary score or probability of the positive class), ``--label``
(predicted labels or regression values), or ``--proba`` repeated once per class column.
Latency metrics need a predictor object, so they fail here with a note (``mlcore bench`` will
measure bundles).
"""

from __future__ import annotations

import sys

import click

__all__ = ["evaluate"]


def _read(path: str):
    from .._cli_util import read_table

    return read_table(path, param_hint=path)


def _col(table, name: str, option: str):
    if name not in table.column_names:
        raise click.BadParameter(f"column {name!r} not found; the data has {table.column_names[:30]}",
                                 param_hint=option)
    return table.column(name)


@click.group("evaluate")
def evaluate() -> None:
    """Evaluate predictions against a goal: metrics with intervals, verdict, reports."""


@evaluate.command("metrics")
def list_metrics() -> None:
    """List the metric names a goal may use."""
    from .bootstrap import METRICS
    from .gate import KNOWN_GATE_METRICS

    for name, spec in METRICS.items():
        click.echo(f"{name:30s} {'higher' if spec.greater_is_better else 'lower'} is better  {spec.description}")
    for name in KNOWN_GATE_METRICS:
        click.echo(f"{name:30s} computed by the gate")
    click.echo(f"{'production_<metric>':30s} importance-weighted estimate on production-like data")


@evaluate.command("goal")
@click.argument("goal_path", type=click.Path(exists=True, dir_okay=False))
def show_goal(goal_path: str) -> None:
    """Check a goal file (TOML or JSON) and print its acceptance ranges."""
    from ..goals import Goal, GoalError
    from .gate import check_metric_names

    try:
        goal = Goal.load(goal_path)
        for o in goal.objectives:
            check_metric_names(o)
    except GoalError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"goal {goal.name!r}: {len(goal.objectives)} model(s)")
    for o in goal.objectives:
        click.echo(f"  {o.model} ({o.task})")
        for m in o.metrics:
            click.echo(f"    {m.describe()}")


@evaluate.command("gate")
@click.argument("goal_path", type=click.Path(exists=True, dir_okay=False))
@click.argument("data_path", type=click.Path(exists=True))
@click.option("--target", required=True, help="Column of true labels or targets.")
@click.option("--score", default=None, help="Column of the positive class's score or probability.")
@click.option("--label", default=None, help="Column of predicted labels (or regression predictions).")
@click.option("--proba", multiple=True, help="Probability column, once per class in class order.")
@click.option("--classes", default=None, help="Comma-separated class labels of the --proba columns.")
@click.option("--model", "model_name", default=None, help="Which model of the goal (when it spans several).")
@click.option("--threshold", type=float, default=0.5, show_default=True,
              help="Labels from --score when --label is not given: score >= threshold is positive (1).")
@click.option("--weight", default=None, help="Column of sample weights.")
@click.option("--sensitive", default=None, help="Column of the sensitive attribute (fairness metrics).")
@click.option("--segment", multiple=True, help="Column to slice by (repeatable).")
@click.option("--reference", "reference_path", type=click.Path(exists=True), default=None,
              help="Training data, for drift (psi) metrics.")
@click.option("--production", "production_path", type=click.Path(exists=True), default=None,
              help="A production-like sample, for drift, domain_auc and production_<metric>.")
@click.option("--features", default=None, help="Comma-separated feature columns for drift (default: shared columns).")
@click.option("--n-boot", type=int, default=200, show_default=True, help="Bootstrap resamples per interval.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--json", "json_path", type=click.Path(dir_okay=False), default=None, help="Write the JSON result here.")
@click.option("--html", "html_path", type=click.Path(dir_okay=False), default=None, help="Write the HTML report here.")
def gate_cmd(goal_path, data_path, target, score, label, proba, classes, model_name, threshold, weight, sensitive,
             segment, reference_path, production_path, features, n_boot, seed, json_path, html_path) -> None:
    """Gate the predictions in DATA against the goal in GOAL (exit 0: may go to production)."""
    import numpy as np

    from ..goals import Goal, GoalError
    from .gate import Predictions, gate
    from .report import write_html, write_json

    if score is None and label is None and not proba:
        raise click.UsageError("give the predictions: --score, --label or --proba")
    try:
        goal = Goal.load(goal_path)
    except GoalError as exc:
        raise click.ClickException(str(exc)) from None
    table = _read(data_path)
    y = _col(table, target, "--target")
    pred = Predictions(
        scores=_col(table, score, "--score").to_numpy() if score else None,
        labels=_col(table, label, "--label").to_numpy(zero_copy_only=False) if label else None,
        proba=np.column_stack([_col(table, c, "--proba").to_numpy() for c in proba]) if proba else None,
        classes=[c.strip() for c in classes.split(",")] if classes else None,
    )
    if pred.labels is None and pred.scores is not None:
        pred.labels = (np.asarray(pred.scores) >= threshold).astype(np.int64)
    feats = [f.strip() for f in features.split(",")] if features else None
    ref = _read(reference_path) if reference_path else None
    prod = _read(production_path) if production_path else None
    if feats is None and (ref is not None or prod is not None):
        other = ref if ref is not None else prod
        skip = {target, score, label, weight, sensitive, *proba}
        feats = [c for c in other.column_names if c in table.column_names and c not in skip]
    X = table.select(feats) if feats else None
    try:
        result = gate(pred, goal, X, y.to_numpy(zero_copy_only=False), model=model_name,
                      sample_weight=_col(table, weight, "--weight").to_numpy() if weight else None,
                      sensitive=_col(table, sensitive, "--sensitive").to_numpy(zero_copy_only=False) if sensitive else None,
                      segments={s: _col(table, s, "--segment") for s in segment} or None,
                      reference=ref.select(feats) if ref is not None and feats else ref,
                      production=prod.select(feats) if prod is not None and feats else prod,
                      n_boot=n_boot, seed=seed)
    except GoalError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(result.summary())
    if json_path:
        write_json(result, json_path)
        click.echo(f"wrote {json_path}")
    if html_path:
        write_html(result, html_path)
        click.echo(f"wrote {html_path}")
    sys.exit(0 if result.passed else 1)
