"""``mlcore run SPEC`` and ``mlcore maintain rollback|decisions``.

Register on the main CLI with::

    from .maintain.cli import maintain as _maintain, run as _run
    main.add_command(_run)
    main.add_command(_maintain)

Importing this module is cheap: the stage code is imported inside the commands.
"""

from __future__ import annotations

import json
import os

import click

__all__ = ["run", "maintain", "example_path", "EXAMPLES"]

#: Example specs shipped with the package (``mlcore run example:flights``).
EXAMPLES = ("flights",)


def example_path(name: str) -> str:
    """The path of a packaged example spec (``flights``)."""
    if name not in EXAMPLES:
        raise click.BadParameter(f"unknown example {name!r}; examples: {list(EXAMPLES)}")
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "examples", f"{name}.toml")


def _echo_error(exc: Exception) -> None:
    raise click.ClickException(f"{type(exc).__name__}: {exc}") from exc


@click.command(name="run")
@click.argument("spec")
@click.option("--workdir", default=None, type=click.Path(file_okay=False),
              help="Artifacts, registry and decision log (default: the spec's pipeline.workdir).")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help="Override a spec key, VALUE in TOML (repeatable): --set split.train_end='\"2013-03-01\"'.")
@click.option("--max-periods", default=None, type=int, help="Operate on at most this many periods.")
@click.option("--until", "until", default="operate",
              type=click.Choice(["data", "validate", "train", "deploy", "operate"]),
              help="Stop after this stage.")
@click.option("--json", "json_out", default=None, type=click.Path(dir_okay=False), help="Write the run summary as JSON.")
def run(spec, workdir, sets, max_periods, until, json_out):
    """Run the life cycle declared in SPEC (a TOML file, or example:flights), resuming finished stages."""
    from ..errors import MlcoreError
    from .runner import STAGES, run_pipeline
    from .spec import load_spec, parse_override

    try:
        overrides = dict(parse_override(s) for s in sets)
        if spec.startswith("example:"):
            path = example_path(spec.split(":", 1)[1])
            ps = load_spec(path, overrides=overrides)
            ps.base_dir = os.getcwd()  # the package folder may be read-only: work here
        else:
            if not os.path.exists(spec):
                raise click.BadParameter(f"no such spec file: {spec}", param_hint="SPEC")
            ps = load_spec(spec, overrides=overrides)
        stages = STAGES[: STAGES.index(until) + 1]
        result = run_pipeline(ps, workdir=workdir, max_periods=max_periods, stages=stages, echo=click.echo)
    except MlcoreError as exc:
        _echo_error(exc)
    click.echo(f"workdir: {result.workdir}")
    click.echo(f"decisions: {result.decisions}")
    if json_out:
        with open(json_out, "w") as f:
            json.dump(result.to_dict(), f, indent=1, default=str)


@click.group(name="maintain")
def maintain() -> None:
    """Maintenance: roll a model back, read the decision log."""


@maintain.command("rollback")
@click.argument("registry", type=click.Path(exists=True, file_okay=False))
@click.argument("name")
@click.option("--alias", default="production", show_default=True)
@click.option("--reason", default="manual rollback", show_default=True)
def rollback_cmd(registry, name, alias, reason):
    """Move ALIAS of model NAME in REGISTRY back to its previous version (recorded in the decision log)."""
    from .maintainer import rollback

    try:
        d = rollback(registry, name, alias=alias, reason=reason)
    except KeyError as exc:
        raise click.ClickException(str(exc.args[0]) if exc.args else str(exc)) from exc
    click.echo(f"{name}: {alias} -> v{d['version']} (was v{d['previous']})")


@maintain.command("decisions")
@click.argument("registry", type=click.Path(exists=True, file_okay=False))
@click.option("--model", default=None, help="Only this model's decisions.")
@click.option("--kind", default=None, help="Only decisions of this kind (promoted, rollback, ...).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line, evidence included.")
def decisions_cmd(registry, model, kind, as_json):
    """List the maintenance decisions recorded next to REGISTRY."""
    from .decisions import DECISION_KINDS, read_decisions

    if kind is not None and kind not in DECISION_KINDS:
        raise click.BadParameter(f"{kind!r} is not one of {list(DECISION_KINDS)}", param_hint="--kind")
    rows = read_decisions(os.path.join(registry, "decisions.jsonl"), model=model, kind=kind)
    if as_json:
        for r in rows:
            click.echo(json.dumps(r, sort_keys=True))
        return
    if not rows:
        click.echo("no decisions recorded")
        return
    for r in rows:
        v = f"v{r['version']}" if r.get("version") is not None else "-"
        at = r.get("at") or r["time"]
        click.echo(f"{r['id']:>4}  {str(at)[:19]:<19}  {r['model']:<12} {r['kind']:<18} {v:<5} {r['reason'][:110]}")
