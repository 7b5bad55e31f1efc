"""The bundle: the unit of deployment.

A bundle holds the input columns, the compiled model, and optionally the fitted feature plan, the
data schema, the goal, the reference profile of the training data, evaluation metrics and lineage
(data hash, mlcore version, time). It is saved with :mod:`mlcore.deploy.artifact`: a JSON manifest
plus ``.npy`` arrays, a SHA-256 per array and a content hash over the manifest.

Loading never unpickles and never imports a name written in the file. Each part is rebuilt by a
decoder chosen from the closed table ``_DECODERS`` below, and models by
:func:`mlcore.train.load_model`, which itself only knows a closed list of model kinds. A changed
byte is an :class:`~mlcore.errors.ArtifactError` naming the file; a newer major format is refused.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import importlib
import os
import re
import tempfile
from typing import Any

import numpy as np
import pyarrow as pa

from .._version import __version__
from ..errors import ArtifactError, SchemaError
from .artifact import Component, read_artifact, write_artifact

__all__ = ["Bundle", "data_hash"]


def data_hash(table: pa.Table) -> str:
    """A SHA-256 over a table's schema and column buffers, for lineage (cheap, streaming)."""
    h = hashlib.sha256(table.schema.to_string().encode())
    for col in table.columns:
        for chunk in col.chunks:
            for buf in chunk.buffers():
                if buf is not None:
                    h.update(memoryview(buf))
    return "sha256:" + h.hexdigest()


def _encode_model(model) -> Component:
    manifest, arrays = model.to_arrays()
    return Component("model", {"manifest": manifest}, dict(arrays))


def _decode_model(comp: Component):
    from ..train import load_model  # the closed list of model kinds lives there

    return load_model(comp.params["manifest"], dict(comp.arrays))


def _encode_object(obj) -> Component:
    """Schemas and goals (``to_dict``) as JSON; feature plans and profiles (``save(folder)``) as the
    exact bytes of the files their own ``save`` writes, rebuilt by their own no-pickle ``load``."""
    if hasattr(obj, "to_dict") and hasattr(type(obj), "from_dict"):
        return Component("json", {"value": obj.to_dict()}, {})
    if hasattr(obj, "save") and hasattr(type(obj), "load"):
        with tempfile.TemporaryDirectory(prefix="mlcore-part-") as tmp:
            obj.save(tmp)
            texts, arrays, names = {}, {}, {}
            for i, name in enumerate(sorted(os.listdir(tmp))):
                full = os.path.join(tmp, name)
                if not os.path.isfile(full):
                    raise ArtifactError(f"{type(obj).__name__}.save wrote a folder `{name}`; bundles store flat files")
                if name.endswith(".json"):
                    with open(full, encoding="utf-8") as f:
                        texts[name] = f.read()
                else:
                    with open(full, "rb") as f:
                        arrays[f"file{i}"] = np.frombuffer(f.read(), dtype=np.uint8)
                    names[f"file{i}"] = name
        return Component("files", {"texts": texts, "binary_names": names}, arrays)
    if isinstance(obj, (dict, list, str, int, float, bool)) or obj is None:
        return Component("json", {"value": obj}, {})
    raise ArtifactError(f"cannot store a {type(obj).__name__} in a bundle: it has neither to_dict nor save/load")


# part name -> (module, class) that rebuilds it. The ONLY code a bundle can reach besides models.
_DECODERS: dict[str, tuple[str, str]] = {
    "plan": ("mlcore.features", "FeaturePlan"),
    "schema": ("mlcore.data", "Schema"),
    "goal": ("mlcore.goals", "Goal"),
    "reference": ("mlcore.monitor", "Profile"),
}
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


def _decode_object(part: str, comp: Component):
    if part not in _DECODERS:
        raise ArtifactError(f"manifest.json: unknown bundle part `{part}`")
    module, cls_name = _DECODERS[part]
    try:
        cls = getattr(importlib.import_module(module), cls_name)
    except (ImportError, AttributeError) as exc:
        raise ArtifactError(f"bundle part `{part}` needs {module}.{cls_name}, which this mlcore lacks") from exc
    if comp.kind == "json":
        return cls.from_dict(comp.params.get("value"))
    if comp.kind == "files":
        texts = comp.params.get("texts") or {}
        names = comp.params.get("binary_names") or {}
        with tempfile.TemporaryDirectory(prefix="mlcore-part-") as tmp:
            for name, text in texts.items():
                if not _NAME.match(name) or not isinstance(text, str):
                    raise ArtifactError(f"manifest.json: bad file entry `{name}` in bundle part `{part}`")
                with open(os.path.join(tmp, name), "w", encoding="utf-8") as f:
                    f.write(text)
            for key, arr in comp.arrays.items():
                name = names.get(key)
                if name is None or not _NAME.match(name) or arr.dtype != np.uint8:
                    raise ArtifactError(f"manifest.json: bad file entry `{key}` in bundle part `{part}`")
                with open(os.path.join(tmp, name), "wb") as f:
                    f.write(arr.tobytes())
            return cls.load(tmp)
    raise ArtifactError(f"manifest.json: bundle part `{part}` has unknown kind `{comp.kind}`")


class Bundle:
    """A deployable model with everything it needs to serve and to be watched.

    Parameters
    ----------
    model : compiled model
        Any mlcore compiled model (``mlcore.train.compile_model(estimator)``).
    input_columns : list of str, optional
        The columns a caller sends. Default: the plan's inputs, else the model's feature names.
    plan, schema, goal, reference : optional
        The fitted feature plan, the data schema, the goal, the reference profile.
    metrics, lineage : dict, optional
        Evaluation results and provenance; ``lineage`` gains the mlcore version and time at save.

    Examples
    --------
    >>> import numpy as np, tempfile
    >>> from sklearn.linear_model import LogisticRegression
    >>> from mlcore.train import compile_model
    >>> X = np.random.default_rng(0).normal(size=(50, 2)); y = (X[:, 0] > 0).astype(int)
    >>> b = Bundle(compile_model(LogisticRegression().fit(X, y)), input_columns=["x0", "x1"])
    >>> path = tempfile.mkdtemp() + "/b"; digest = b.save(path)
    >>> Bundle.load(path).content_hash == digest
    True
    """

    def __init__(self, model, *, input_columns: list[str] | None = None, plan=None, schema=None, goal=None,
                 reference=None, metrics: dict | None = None, lineage: dict | None = None, name: str | None = None):
        self.model = model
        self.plan = plan
        self.schema = schema
        self.goal = goal
        self.reference = reference
        self.metrics = dict(metrics or {})
        self.lineage = dict(lineage or {})
        self.name = name
        if input_columns is None:
            if plan is not None and getattr(plan, "input_schema_", None):
                input_columns = list(plan.input_schema_)
            elif getattr(model, "feature_names_in_", None) is not None:
                input_columns = [str(c) for c in model.feature_names_in_]
            else:
                input_columns = [f"x{j}" for j in range(int(model.n_features_in_))]
        self.input_columns = list(input_columns)
        self.content_hash: str | None = None
        self.path: str | None = None

    # -- prediction ---------------------------------------------------------------------------
    def _features(self, data):
        from .._arrow import as_table

        table = as_table(data)
        present = set(table.column_names)  # one list build, not one per input column
        missing = [c for c in self.input_columns if c not in present]
        if missing:
            raise SchemaError(f"missing input columns {missing}; the bundle expects {self.input_columns}")
        table = table.select(self.input_columns)
        if self.plan is not None:
            return self.plan.transform(table)
        return table

    def predict(self, data) -> np.ndarray:
        return np.asarray(self.model.predict(self._features(data)))

    def predict_proba(self, data) -> np.ndarray:
        if not hasattr(self.model, "predict_proba"):
            raise AttributeError(f"the bundle's model ({self.model.kind}) has no predict_proba")
        return np.asarray(self.model.predict_proba(self._features(data)))

    def predict_with_proba(self, data) -> tuple[np.ndarray, np.ndarray]:
        """``(predict, predict_proba)``; one pass over the model where it can (tree ensembles)."""
        feats = self._features(data)
        both = getattr(self.model, "predict_with_proba", None)
        if both is not None:
            labels, proba = both(feats)
            return np.asarray(labels), np.asarray(proba)
        return np.asarray(self.model.predict(feats)), np.asarray(self.model.predict_proba(feats))

    @property
    def has_proba(self) -> bool:
        try:
            return bool(getattr(self.model, "has_proba", hasattr(self.model, "predict_proba")))
        except Exception:  # noqa: BLE001
            return False

    # -- persistence --------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> str:
        """Write the bundle to the folder ``path`` (must not exist); returns its content hash."""
        parts = {"model": _encode_model(self.model)}
        for part in ("plan", "schema", "goal", "reference"):
            obj = getattr(self, part)
            if obj is not None:
                parts[part] = _encode_object(obj)
        lineage = {**self.lineage, "mlcore_version": __version__,
                   "saved_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
        meta = {"kind": "bundle", "name": self.name, "input_columns": self.input_columns,
                "metrics": _plain(self.metrics), "lineage": _plain(lineage)}
        digest = write_artifact(path, parts, meta=meta)
        self.content_hash, self.path = digest, os.fspath(path)
        return digest

    @classmethod
    def load(cls, path: str | os.PathLike, *, expected_hash: str | None = None) -> "Bundle":
        """Verify and load a bundle. Never unpickles; parts are rebuilt from a closed list."""
        manifest, comps = read_artifact(path, expected_hash=expected_hash)
        meta = manifest.get("meta") or {}
        if meta.get("kind") != "bundle":
            raise ArtifactError(f"manifest.json: not a bundle (meta.kind = {meta.get('kind')!r})")
        if "model" not in comps or comps["model"].kind != "model":
            raise ArtifactError("manifest.json: the bundle has no model part")
        unknown = sorted(set(comps) - {"model"} - set(_DECODERS))
        if unknown:
            raise ArtifactError(f"manifest.json: unknown bundle parts {unknown}")
        model = _decode_model(comps["model"])
        objs = {part: _decode_object(part, comps[part]) for part in _DECODERS if part in comps}
        b = cls(model, input_columns=meta.get("input_columns"), metrics=meta.get("metrics"),
                lineage=meta.get("lineage"), name=meta.get("name"), **objs)
        with open(os.path.join(os.fspath(path), "CONTENT_HASH")) as f:
            b.content_hash = f.read().strip()
        b.path = os.fspath(path)
        return b


def _plain(obj: Any) -> Any:
    """Make metrics/lineage JSON-safe: NumPy scalars to Python, NaN to None."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and obj != obj:
        return None
    return obj
