"""In-process serving: a thread-safe predictor from a bundle, and the adapter the HTTP server uses."""

from __future__ import annotations

import os
import threading
from typing import Any

import numpy as np
import pyarrow as pa

from ..deploy.bundle import Bundle
from ..errors import SchemaError
from .app import ServedModel

__all__ = ["Predictor", "served_model"]


class Predictor:
    """A thread-safe predictor over a bundle: batch (any tabular input) and single row (a dict).

    The compiled kernels release the GIL, so threads predicting at once run in parallel.
    ``swap(bundle)`` replaces the bundle atomically; calls in flight finish on the old one.

    Examples
    --------
    >>> p = Predictor(bundle_path)        # doctest: +SKIP
    >>> p.predict_one({"dep_delay": 12.0, "distance": 1000.0})  # doctest: +SKIP
    """

    def __init__(self, bundle: Bundle | str | os.PathLike, *, expected_hash: str | None = None):
        self._bundle = bundle if isinstance(bundle, Bundle) else Bundle.load(bundle, expected_hash=expected_hash)
        self._lock = threading.Lock()

    @property
    def bundle(self) -> Bundle:
        return self._bundle

    def swap(self, bundle: Bundle) -> None:
        with self._lock:
            self._bundle = bundle

    def predict(self, data) -> np.ndarray:
        return self._bundle.predict(data)

    def predict_proba(self, data) -> np.ndarray:
        return self._bundle.predict_proba(data)

    def predict_one(self, row: dict[str, Any]):
        b = self._bundle
        missing = [c for c in b.input_columns if c not in row]
        if missing:
            raise SchemaError(f"missing input columns {missing}; the bundle expects {b.input_columns}")
        table = pa.table({c: [row[c]] for c in b.input_columns})
        return b.predict(table)[0]


def served_model(bundle: Bundle, *, name: str | None = None, version: str | None = None,
                 input_types: dict[str, str] | None = None) -> ServedModel:
    """The HTTP server's view of a bundle: inputs, outputs (``predict``, plus ``proba`` where the
    model has probabilities) and an ``infer`` over Arrow tables."""
    name = name or bundle.name or "model"
    version = version or (bundle.content_hash or "0")[7:19]
    types = dict(input_types or {})
    inputs = [(c, types.get(c, "FP64")) for c in bundle.input_columns]
    proba = bundle.has_proba

    def infer(table: pa.Table) -> dict[str, np.ndarray]:
        out = {"predict": np.asarray(bundle.predict(table))}
        if proba:
            out["proba"] = np.asarray(bundle.predict_proba(table))
        return out

    infer_matrix = None
    if bundle.plan is None and all(t == "FP64" for _, t in inputs):
        model = bundle.model

        def infer_matrix(matrix: np.ndarray) -> dict[str, np.ndarray]:
            # the compiled models read a C-ordered float64 matrix directly: no Arrow table per request
            if matrix.shape[0] == 1 and hasattr(model, "predict_row"):
                row = matrix[0]
                out = {"predict": np.asarray([model.predict_row(row)])}
                if proba:
                    out["proba"] = np.asarray(model.predict_proba_row(row))[None, :]
                return out
            out = {"predict": np.asarray(model.predict(matrix))}
            if proba:
                out["proba"] = np.asarray(model.predict_proba(matrix))
            return out

    outputs = [("predict", "FP64")] + ([("proba", "FP64")] if proba else [])
    return ServedModel(name=name, version=str(version), infer=infer, inputs=inputs, outputs=outputs,
                       content_hash=bundle.content_hash or "", platform="mlcore", infer_matrix=infer_matrix,
                       extra={"input_columns": bundle.input_columns})
