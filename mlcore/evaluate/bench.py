"""``mlcore bench``: single-row latency and batch throughput of a bundle, beside the original model.

The tool people use to benchmark a model before they ship it. Paths measured on the same rows:

- ``mlcore (Arrow row)``: ``Bundle.predict`` on a one-row Arrow table, as an API call would;
- ``mlcore (row path)``: the compiled model's single-row entry point on a float64 vector (models
  without a feature plan that have one);
- ``original``: the source framework's model, when a model file is given with ``against=``
  (LightGBM text ``.txt``, XGBoost ``.json``/``.ubj``, ONNX ``.onnx``) and its framework is
  installed. There is no way back to a scikit-learn estimator from a bundle: bundles hold no
  pickles.

Each path: p50/p90/p99 of ``n_calls`` single-row calls (a different row each call) and batch
rows/s on 1..N threads (the batch split between threads). See
:func:`mlcore.evaluate.speed.measure_latency`.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pyarrow as pa

from ..errors import SchemaError, missing_dependency
from .speed import measure_latency

__all__ = ["bench_bundle", "format_bench"]


class _RowPath:
    def __init__(self, model, proba: bool):
        self.model, self.proba = model, proba

    def predict(self, X):
        X = np.asarray(X, dtype=np.float64)
        if X.shape[0] == 1:
            return self.model.predict_proba_row(X[0]) if self.proba else self.model.predict_row(X[0])
        return self.model.predict_proba(X) if self.proba else self.model.predict(X)


def _has_row_path(model, proba: bool) -> bool:
    if proba:
        return hasattr(model, "predict_proba_row")
    # trees' predict_row is the raw score, not the prediction: only linear models and MLPs qualify
    return getattr(model, "kind", "").startswith(("linear", "mlp")) and hasattr(model, "predict_row")


class _Original:
    def __init__(self, path: str):
        self.path = path
        low = path.lower()
        if low.endswith(".onnx"):
            try:
                import onnxruntime as ort
            except ImportError:
                raise missing_dependency("onnxruntime", "test") from None
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = 1
            self.sess = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
            self.name = self.sess.get_inputs()[0].name
            self.kind = "onnx"
        elif low.endswith((".json", ".ubj")):
            try:
                import xgboost as xgb
            except ImportError:
                raise missing_dependency("xgboost", "xgboost") from None
            self.booster = xgb.Booster(model_file=path)
            self.booster.set_param({"nthread": 1})
            self.xgb = xgb
            self.kind = "xgboost"
        else:
            try:
                import lightgbm as lgb
            except ImportError:
                raise missing_dependency("lightgbm", "lightgbm") from None
            self.booster = lgb.Booster(model_file=path)
            self.kind = "lightgbm"

    def predict(self, X):
        X = np.asarray(X, dtype=np.float64)
        if self.kind == "onnx":
            return self.sess.run(None, {self.name: X.astype(np.float32)})[0]
        if self.kind == "xgboost":
            return self.booster.inplace_predict(X)
        return self.booster.predict(X, num_threads=1)


def _rows(bundle, data: Any, n_rows: int, seed: int) -> pa.Table:
    if data is not None:
        from ..data import read

        t = read(data) if isinstance(data, (str, os.PathLike)) else data
        missing = [c for c in bundle.input_columns if c not in t.column_names]
        if missing:
            raise SchemaError(f"the data lacks the bundle's input columns {missing}")
        return t.select(bundle.input_columns).slice(0, n_rows)
    if bundle.plan is not None:
        raise SchemaError("this bundle has a feature plan: give rows to measure on with --data FILE")
    rng = np.random.default_rng(seed)
    return pa.table({c: rng.normal(size=n_rows) for c in bundle.input_columns})


def bench_bundle(bundle, *, data: Any = None, n_rows: int = 10_000, n_calls: int = 2_000,
                 threads: tuple[int, ...] = (1, 2), against: str | None = None, seed: int = 0) -> list[dict]:
    """Measure the bundle's paths (and the original model's) on the same rows; a dict per path."""
    from ..deploy.bundle import Bundle

    if not isinstance(bundle, Bundle):
        bundle = Bundle.load(bundle)
    table = _rows(bundle, data, n_rows, seed)
    proba = bundle.has_proba
    method = "predict_proba" if proba else "predict"
    out = []
    r = measure_latency(bundle, table, method=method, n_calls=n_calls, threads=threads)
    out.append({"path": "mlcore (Arrow row)", **r.to_dict()})
    matrix = None
    if bundle.plan is None and _has_row_path(bundle.model, proba):
        matrix = np.column_stack([np.asarray(c.to_numpy(zero_copy_only=False), dtype=np.float64)
                                  for c in table.columns])
        r = measure_latency(_RowPath(bundle.model, proba), matrix, method="predict", n_calls=n_calls, threads=threads)
        out.append({"path": "mlcore (row path)", **r.to_dict()})
    if against:
        if matrix is None:
            matrix = np.column_stack([np.asarray(c.to_numpy(zero_copy_only=False), dtype=np.float64)
                                      for c in table.columns])
        orig = _Original(against)
        r = measure_latency(orig, matrix, method="predict", n_calls=n_calls, threads=threads)
        out.append({"path": f"original ({orig.kind})", **r.to_dict()})
    return out


def format_bench(rows: list[dict]) -> str:
    threads = sorted({int(t) for r in rows for t in r["threads"]})
    head = ["path", "p50 µs", "p90 µs", "p99 µs"] + [f"rows/s {t}T" for t in threads]
    lines = ["  ".join(f"{h:>14}" if i else f"{h:<20}" for i, h in enumerate(head))]
    for r in rows:
        cells = [r["path"], f"{r['p50_us']:.2f}", f"{r['p90_us']:.2f}", f"{r['p99_us']:.2f}"]
        cells += [f"{r['threads'].get(str(t), float('nan')):,.0f}" for t in threads]
        lines.append("  ".join(f"{c:>14}" if i else f"{c:<20}" for i, c in enumerate(cells)))
    base = rows[0]["p50_us"] if rows else None
    for r in rows[1:]:
        lines.append(f"{r['path']}: p50 {r['p50_us'] / base:.2f}x the Arrow-row path")
    return "\n".join(lines)
