"""A model registry in a folder: immutable content-addressed blobs, numbered versions, aliases.

Layout::

    ROOT/blobs/<sha256 hex>/        verified artifacts, read-only once written
    ROOT/models/<name>/versions/<n>.json
    ROOT/models/<name>/aliases.json {alias: {"version": n, "history": [...]}}
    ROOT/models/<name>/.lock        flock'd while versions or aliases change
    ROOT/audit.jsonl                append-only: one JSON object per event

Every write goes to a temporary name and is renamed into place, so readers never see half of
anything; version numbers and aliases change under an exclusive lock, so several writer processes
can publish at once without losing a version. Aliases move by compare-and-swap: pass
``expected=`` and the move fails with :class:`AliasConflict` when someone else moved it first.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import fcntl
import json
import os
import re
import shutil
import stat
import tempfile
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from ..errors import MlcoreError
from .artifact import read_artifact

__all__ = ["Registry", "ModelVersion", "AliasConflict", "PromotionRefused", "goal_gate"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
_UNSET: Any = object()


class AliasConflict(MlcoreError, RuntimeError):
    """An alias was moved by someone else since the caller read it (compare-and-swap failed)."""


class PromotionRefused(MlcoreError, RuntimeError):
    """The gate refused a promotion; ``evidence`` holds what it saw."""

    def __init__(self, message: str, evidence: Any = None):
        super().__init__(message)
        self.evidence = evidence


@dataclass(frozen=True)
class ModelVersion:
    name: str
    version: int
    content_hash: str
    path: str
    created: str
    info: dict


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="microseconds")


def _check(what: str, name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"{what} {name!r} is not a valid name: letters, digits, '_', '.', '-' (at most 128)")
    return name


def _atomic_write_json(path: str, obj: Any) -> None:
    d = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=d)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(obj, f, sort_keys=True, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _make_read_only(path: str) -> None:
    for root, dirs, files in os.walk(path):
        for name in files:
            p = os.path.join(root, name)
            os.chmod(p, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)


class Registry:
    """A registry rooted at a folder (created when missing).

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from mlcore.deploy.artifact import Component, write_artifact
    >>> root = tempfile.mkdtemp()
    >>> _ = write_artifact(root + "/a", {"model": Component("demo", {}, {"w": np.ones(3)})})
    >>> reg = Registry(root + "/registry")
    >>> v = reg.publish("flights", root + "/a")
    >>> reg.set_alias("flights", "production", v.version).version
    1
    """

    def __init__(self, root: str | os.PathLike):
        self.root = os.path.abspath(os.fspath(root))
        for sub in ("blobs", "models"):
            os.makedirs(os.path.join(self.root, sub), exist_ok=True)

    # -- internals --------------------------------------------------------------------------
    def _model_dir(self, name: str) -> str:
        d = os.path.join(self.root, "models", _check("model name", name))
        os.makedirs(os.path.join(d, "versions"), exist_ok=True)
        return d

    @contextlib.contextmanager
    def _locked(self, name: str) -> Iterator[str]:
        d = self._model_dir(name)
        with open(os.path.join(d, ".lock"), "a+") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            try:
                yield d
            finally:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)

    def _audit(self, event: str, **fields: Any) -> None:
        record = {"time": _now(), "event": event, "pid": os.getpid(), **fields}
        line = (json.dumps(record, sort_keys=True) + "\n").encode()
        fd = os.open(os.path.join(self.root, "audit.jsonl"), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.write(fd, line)
            os.fsync(fd)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _put_blob(self, artifact_path: str) -> tuple[str, str]:
        manifest, _ = read_artifact(artifact_path)
        with open(os.path.join(artifact_path, "CONTENT_HASH")) as f:
            digest = f.read().strip()
        hexd = digest.split(":", 1)[1]
        final = os.path.join(self.root, "blobs", hexd)
        if os.path.isdir(final):
            read_artifact(final, expected_hash=digest)  # same content already stored
            return digest, final
        tmp = tempfile.mkdtemp(prefix=".tmp-blob-", dir=os.path.join(self.root, "blobs"))
        try:
            dst = os.path.join(tmp, "a")
            shutil.copytree(artifact_path, dst)
            read_artifact(dst, expected_hash=digest)
            _make_read_only(dst)
            try:
                os.rename(dst, final)
            except OSError:
                if not os.path.isdir(final):  # another process won the race with the same bytes
                    raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return digest, final

    def _read_version(self, name: str, version: int) -> ModelVersion:
        p = os.path.join(self.root, "models", name, "versions", f"{version}.json")
        try:
            with open(p) as f:
                rec = json.load(f)
        except FileNotFoundError:
            raise KeyError(f"model `{name}` has no version {version}") from None
        return ModelVersion(name, rec["version"], rec["content_hash"],
                            os.path.join(self.root, "blobs", rec["content_hash"].split(":", 1)[1]),
                            rec["created"], rec.get("info", {}))

    def _aliases(self, d: str) -> dict:
        try:
            with open(os.path.join(d, "aliases.json")) as f:
                return json.load(f)
        except FileNotFoundError:
            return {}

    # -- public -----------------------------------------------------------------------------
    def models(self) -> list[str]:
        return sorted(n for n in os.listdir(os.path.join(self.root, "models")) if _NAME.match(n))

    def publish(self, name: str, artifact_path: str | os.PathLike, *, info: dict | None = None) -> ModelVersion:
        """Store a verified artifact and register it as the next version of ``name``."""
        digest, _ = self._put_blob(os.fspath(artifact_path))
        with self._locked(name) as d:
            existing = [int(f[:-5]) for f in os.listdir(os.path.join(d, "versions")) if f.endswith(".json") and f[:-5].isdigit()]
            version = max(existing, default=0) + 1
            rec = {"version": version, "content_hash": digest, "created": _now(), "info": info or {}}
            _atomic_write_json(os.path.join(d, "versions", f"{version}.json"), rec)
        self._audit("publish", model=name, version=version, content_hash=digest)
        return self._read_version(name, version)

    def versions(self, name: str) -> list[ModelVersion]:
        d = os.path.join(self.root, "models", _check("model name", name), "versions")
        if not os.path.isdir(d):
            return []
        nums = sorted(int(f[:-5]) for f in os.listdir(d) if f.endswith(".json") and f[:-5].isdigit())
        return [self._read_version(name, n) for n in nums]

    def get(self, name: str, ref: int | str = "latest") -> ModelVersion:
        """A version by number, by alias, or ``"latest"``."""
        _check("model name", name)
        if isinstance(ref, int):
            return self._read_version(name, ref)
        if ref == "latest":
            vs = self.versions(name)
            if not vs:
                raise KeyError(f"model `{name}` has no versions")
            return vs[-1]
        v = self.alias(name, ref)
        if v is None:
            raise KeyError(f"model `{name}` has no alias `{ref}`")
        return self._read_version(name, v)

    def verify(self, name: str, ref: int | str = "latest") -> ModelVersion:
        """Check a version's blob byte by byte against its recorded content hash."""
        mv = self.get(name, ref)
        read_artifact(mv.path, expected_hash=mv.content_hash)
        return mv

    def alias(self, name: str, alias: str) -> int | None:
        d = os.path.join(self.root, "models", _check("model name", name))
        entry = self._aliases(d).get(_check("alias", alias))
        return None if entry is None else entry["version"]

    def aliases(self, name: str) -> dict[str, int]:
        d = os.path.join(self.root, "models", _check("model name", name))
        return {k: v["version"] for k, v in self._aliases(d).items()}

    def set_alias(self, name: str, alias: str, version: int, *, expected: int | None = _UNSET,
                  reason: str | None = None) -> ModelVersion:
        """Point ``alias`` at ``version``; with ``expected=``, only if it still points there (None: unset)."""
        _check("alias", alias)
        with self._locked(name) as d:
            self._read_version(name, version)  # must exist
            table = self._aliases(d)
            current = table.get(alias, {}).get("version")
            if expected is not _UNSET and current != expected:
                raise AliasConflict(
                    f"alias `{alias}` of model `{name}` points to version {current}, not the expected {expected}"
                )
            history = table.get(alias, {}).get("history", [])
            table[alias] = {"version": version, "history": history + [version], "updated": _now()}
            _atomic_write_json(os.path.join(d, "aliases.json"), table)
        self._audit("alias", model=name, alias=alias, version=version, previous=current, reason=reason)
        return self._read_version(name, version)

    def promote(self, name: str, version: int, *, alias: str = "production",
                gate: Callable[[ModelVersion], tuple[bool, Any]] | None = None) -> ModelVersion:
        """Move ``alias`` to ``version`` if ``gate(version)`` returns ``(True, evidence)``.

        A refusal raises :class:`PromotionRefused` and is recorded in the audit log with its evidence.
        """
        mv = self.verify(name, version)
        evidence = None
        if gate is not None:
            ok, evidence = gate(mv)
            if not ok:
                self._audit("promotion_refused", model=name, alias=alias, version=version, evidence=evidence)
                raise PromotionRefused(f"promotion of `{name}` v{version} to `{alias}` refused by the gate", evidence)
        current = self.alias(name, alias)
        out = self.set_alias(name, alias, version, expected=current, reason="promote")
        self._audit("promote", model=name, alias=alias, version=version, previous=current, evidence=evidence)
        return out

    def rollback(self, name: str, alias: str = "production") -> ModelVersion:
        """Move ``alias`` back to the version it pointed to before its last move."""
        with self._locked(name) as d:
            table = self._aliases(d)
            entry = table.get(_check("alias", alias))
            if not entry or len(entry["history"]) < 2:
                raise KeyError(f"alias `{alias}` of model `{name}` has no earlier version to roll back to")
            history = entry["history"][:-1]
            current = entry["version"]
            table[alias] = {"version": history[-1], "history": history, "updated": _now()}
            _atomic_write_json(os.path.join(d, "aliases.json"), table)
        self._audit("rollback", model=name, alias=alias, version=history[-1], previous=current)
        return self._read_version(name, history[-1])

    def audit_log(self) -> list[dict]:
        p = os.path.join(self.root, "audit.jsonl")
        if not os.path.exists(p):
            return []
        with open(p) as f:
            return [json.loads(line) for line in f if line.strip()]



def goal_gate(goal, model: str | None = None, *, metrics_key: str = "metrics"):
    """A promotion gate from a goal: the version's recorded metrics (``info[metrics_key]``, as
    published) must satisfy every range of the goal's objective for ``model``.

    The evidence is ``{metric: {"value", "passed", "shortfall", "bound"}}`` for the audit log.

    Examples
    --------
    >>> from mlcore.goals import Goal
    >>> gate = goal_gate(Goal.single("g", ["roc_auc >= 0.8"]))
    >>> # registry.promote("flights", 3, gate=gate)
    """
    objective = goal.objective(model)
    names = {m.name for m in objective.metrics} | {m.metric for m in objective.metrics}

    def gate(mv: ModelVersion):
        recorded = dict((mv.info or {}).get(metrics_key) or {})
        checks = objective.check({k: v for k, v in recorded.items() if k in names})
        evidence = {k: {"value": recorded.get(k), "passed": c.passed, "shortfall": c.shortfall, "bound": c.bound}
                    for k, c in checks.items()}
        return all(c.passed for c in checks.values()), evidence

    return gate
