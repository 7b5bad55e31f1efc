"""Speed as a metric: a predictor's single-row latency percentiles and batch throughput.

Single-row latency calls the predictor on a *different* row each time (thousands of calls, after
a warm-up), timing each call with ``perf_counter_ns``; batch throughput times whole-batch calls
and reports rows per second, with 1..N threads splitting the batch when asked (useful for
predictors that release the GIL). The figures are gated like any other metric under the names
``latency_p50_us``, ``latency_p90_us``, ``latency_p99_us``, ``latency_p999_us``, ``latency_mean_us``
and ``throughput_rows_per_s``.

Examples
--------
>>> import numpy as np
>>> from sklearn.linear_model import LogisticRegression
>>> X = np.random.default_rng(0).normal(size=(200, 3)); y = (X[:, 0] > 0).astype(int)
>>> model = LogisticRegression().fit(X, y)
>>> r = measure_latency(model, X, n_calls=200, warmup=20, batch_rounds=2)
>>> r.p99_us >= r.p50_us > 0 and r.throughput_rows_per_s > 0
True
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from ..errors import ShapeError

__all__ = ["LatencyResult", "measure_latency", "SPEED_METRICS", "predict_fn", "row_slicer"]

#: Gate metric names and the LatencyResult attribute each reads.
SPEED_METRICS = {
    "latency_p50_us": "p50_us",
    "latency_p90_us": "p90_us",
    "latency_p99_us": "p99_us",
    "latency_p999_us": "p999_us",
    "latency_mean_us": "mean_us",
    "throughput_rows_per_s": "throughput_rows_per_s",
}


@dataclass(frozen=True)
class LatencyResult:
    """Latency percentiles (µs) of single-row calls and batch throughput (rows/s)."""

    method: str
    n_calls: int
    p50_us: float
    p90_us: float
    p99_us: float
    p999_us: float
    mean_us: float
    batch_rows: int
    throughput_rows_per_s: float
    threads: dict = field(default_factory=dict)  # threads -> rows/s
    samples_us: np.ndarray | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("samples_us")
        d["threads"] = {str(k): v for k, v in self.threads.items()}
        return d

    def percentile_interval(self, q: float, *, n_boot: int = 200, confidence: float = 0.95, seed: int = 0):
        """Bootstrap interval of the q-th latency percentile (µs) from the recorded samples."""
        if self.samples_us is None or self.samples_us.size == 0:
            return float("nan"), float("nan")
        rng = np.random.default_rng(seed)
        s = self.samples_us
        idx = rng.integers(0, s.size, size=(n_boot, s.size))
        vals = np.percentile(s[idx], q, axis=1)
        a = (1 - confidence) / 2
        lo, hi = np.quantile(vals, [a, 1 - a])
        return float(lo), float(hi)


def predict_fn(predictor: Any, method: str | None = None):
    """The bound method to time: ``method`` if given, else predict_proba, decision_function or predict."""
    names = [method] if method else ["predict_proba", "decision_function", "predict"]
    for name in names:
        fn = getattr(predictor, name, None)
        if callable(fn):
            return name, fn
    if callable(predictor) and not method:
        return "__call__", predictor
    raise TypeError(f"the predictor {type(predictor).__name__} has no {' / '.join(names)} method")


def row_slicer(X: Any):
    """(number of rows, a function i -> one-row input of the same kind, a function (i, j) -> rows i..j)."""
    if isinstance(X, (pa.Table, pa.RecordBatch)):
        return X.num_rows, (lambda i: X.slice(i, 1)), (lambda i, j: X.slice(i, j - i))
    if hasattr(X, "iloc"):
        return len(X), (lambda i: X.iloc[i:i + 1]), (lambda i, j: X.iloc[i:j])
    a = np.asarray(X)
    if a.ndim != 2:
        raise ShapeError(f"measure_latency: X must be 2-D (rows x features), got shape {a.shape}")
    return a.shape[0], (lambda i: a[i:i + 1]), (lambda i, j: a[i:j])


def measure_latency(predictor: Any, X: Any, *, method: str | None = None, n_calls: int = 2000,
                    warmup: int = 100, batch_rows: int | None = None, batch_rounds: int = 5,
                    threads: tuple = (1,)) -> LatencyResult:
    """Measure a predictor's single-row latency and batch throughput on the rows of ``X``.

    Parameters
    ----------
    predictor
        Any object with ``predict_proba``, ``decision_function`` or ``predict`` (or ``method``).
    X
        Rows to score: a 2-D NumPy array, a pandas DataFrame or an Arrow table, in the form the
        predictor takes. Single-row calls cycle through its rows.
    n_calls, warmup
        Timed single-row calls, and untimed calls before them.
    batch_rows, batch_rounds
        Rows per batch call (default: all of X) and how many batch calls to time (median taken).
    threads
        Thread counts for the batch throughput (the batch split evenly between threads).

    Examples
    --------
    >>> import numpy as np
    >>> class Double:
    ...     def predict(self, X):
    ...         return X[:, 0] * 2
    >>> r = measure_latency(Double(), np.ones((50, 2)), n_calls=100, warmup=5, threads=(1, 2))
    >>> r.method, sorted(r.threads)
    ('predict', [1, 2])
    """
    if n_calls < 1 or warmup < 0 or batch_rounds < 1:
        raise ValueError(f"measure_latency: n_calls={n_calls}, warmup={warmup}, batch_rounds={batch_rounds}; "
                         "expected n_calls >= 1, warmup >= 0, batch_rounds >= 1")
    name, fn = predict_fn(predictor, method)
    n, one, many = row_slicer(X)
    if n == 0:
        raise ShapeError("measure_latency: X has no rows")
    rows = [one(i % n) for i in range(min(n, n_calls + warmup))]
    for i in range(warmup):
        fn(rows[i % len(rows)])
    samples = np.empty(n_calls, dtype=np.float64)
    clock = time.perf_counter_ns
    for i in range(n_calls):
        r = rows[(warmup + i) % len(rows)]
        t0 = clock()
        fn(r)
        samples[i] = (clock() - t0) / 1e3
    nb = n if batch_rows is None else max(1, min(int(batch_rows), n))
    batch = many(0, nb)
    fn(batch)
    per_threads = {}
    for k in threads:
        k = int(k)
        if k < 1:
            raise ValueError(f"measure_latency: threads must be >= 1, got {k}")
        bounds = np.linspace(0, nb, k + 1).astype(int)
        parts = [many(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]
        times = []
        if k == 1:
            for _ in range(batch_rounds):
                t0 = time.perf_counter()
                fn(batch)
                times.append(time.perf_counter() - t0)
        else:
            with ThreadPoolExecutor(max_workers=k) as ex:
                for _ in range(batch_rounds):
                    t0 = time.perf_counter()
                    list(ex.map(fn, parts))
                    times.append(time.perf_counter() - t0)
        per_threads[k] = nb / max(float(np.median(times)), 1e-12)
    q = np.percentile(samples, [50, 90, 99, 99.9])
    return LatencyResult(name, n_calls, float(q[0]), float(q[1]), float(q[2]), float(q[3]), float(samples.mean()),
                         nb, per_threads[int(threads[0])], per_threads, samples)
