"""Streaming drift detectors with batch update over Arrow arrays, and state that saves.

``ADWIN``, ``PageHinkley``, ``CUSUM``, ``DDM``, ``EDDM``, ``HDDMA``, ``HDDMW``, ``KSWIN``. Each
``update(batch)`` feeds a whole column (Arrow Array/ChunkedArray, NumPy, pandas, a list) through
one compiled kernel per chunk and returns ``self``; ``detections`` holds the positions (counted
over every value fed since creation, nulls skipped) of the drifts found in that batch, and
``drift_detected`` whether there was one. Like River, a detector resets itself at the value after
a drift, so the detection points are River's (tests replay River on seeded streams). Binary
detectors (DDM, EDDM, HDDM) expect 0/1 values (errors); ``warning_detected`` is the warning
flag after the last value.

``get_state()`` returns a JSON-ready dict (parameters and state arrays); ``from_state`` and
:func:`load_detector` rebuild the detector from it, with a closed list of kinds and no pickle.

NaN values raise :class:`ValueError` (a NaN would silently disable a mean-based detector);
nulls are skipped.
"""

from __future__ import annotations

import json
import os
import random
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa

from .. import _arrow
from .._kernels import detect_adwin as _adwin
from .._kernels import detect_kswin as _kswin
from .._kernels import detect_stream as _ds
from .._kernels import drift_walk as _walk
from ..errors import ArtifactError

__all__ = ["ADWIN", "PageHinkley", "CUSUM", "DDM", "EDDM", "HDDMA", "HDDMW", "KSWIN", "load_detector"]


def _chunks(values: Any):
    """Contiguous float64-readable arrays of the valid values, chunk by chunk, without copying
    where the chunk has no null."""
    if isinstance(values, (list, tuple)):
        values = np.asarray(values, dtype=np.float64)
    if isinstance(values, np.ndarray) and values.dtype == np.bool_:
        values = values.astype(np.float64)  # errors given as booleans: one small copy
    col = _arrow.as_chunked(values)
    if pa.types.is_boolean(col.type):
        values = col.cast(pa.float64())
    for v in _arrow.numeric_views(values):
        if v.length == 0 or v.null_count == v.length:
            continue
        if v.has_nulls:
            buf = np.empty(v.length - v.null_count)
            _walk.compact_valid(v.length, v.offset, v.validity, v.values, buf, 0)
            yield buf
        else:
            yield v.values[v.offset:v.offset + v.length]


class _Detector:
    kind: ClassVar[str] = ""
    _params: ClassVar[tuple[str, ...]] = ()

    def __init__(self):
        self.n_seen = 0
        self.n_detections = 0
        self.detections = np.zeros(0, dtype=np.int64)
        self.warning_detected = False

    @property
    def drift_detected(self) -> bool:
        """Whether the last ``update`` found a drift."""
        return self.detections.size > 0

    def update(self, values: Any) -> "_Detector":
        """Feed a batch of values; see the module docstring."""
        found = []
        for arr in _chunks(values):
            if arr.dtype.kind == "f" and np.isnan(arr).any():
                bad = int(np.flatnonzero(np.isnan(arr))[0])
                raise ValueError(f"{type(self).__name__}.update got NaN at position {self.n_seen + bad} of the "
                                 "stream; drop or impute NaN before feeding a detector")
            out = np.empty(arr.size, dtype=np.int64)
            nd = self._run(arr, out)
            found.append(out[:nd] + self.n_seen)
            self.n_seen += arr.size
        self.detections = np.concatenate(found) if found else np.zeros(0, dtype=np.int64)
        self.n_detections += int(self.detections.size)
        return self

    # ---- state ---------------------------------------------------------------------------------

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"state": self._state}

    def get_state(self) -> dict:
        """Parameters and state as a JSON-ready dict."""
        return {"kind": self.kind, "params": {p: getattr(self, p) for p in self._params},
                "n_seen": self.n_seen, "n_detections": self.n_detections,
                "warning_detected": bool(self.warning_detected),
                "arrays": {k: {"dtype": str(a.dtype), "shape": list(a.shape), "data": a.ravel().tolist()}
                           for k, a in self._arrays().items()}}

    @classmethod
    def from_state(cls, state: dict) -> "_Detector":
        """Rebuild a detector from :meth:`get_state`'s dict."""
        if state.get("kind") != cls.kind:
            raise ArtifactError(f"Expected a `{cls.kind}` detector state, got kind `{state.get('kind')}`")
        det = cls(**state["params"])
        det.n_seen = int(state["n_seen"])
        det.n_detections = int(state["n_detections"])
        det.warning_detected = bool(state["warning_detected"])
        mine = det._arrays()
        for k, spec in state["arrays"].items():
            if k not in mine:
                raise ArtifactError(f"Unknown state array `{k}` for a `{cls.kind}` detector")
            target = mine[k]
            if spec["dtype"] != str(target.dtype) or tuple(spec["shape"]) != target.shape:
                raise ArtifactError(f"State array `{k}` has {spec['dtype']} {spec['shape']}, expected "
                                    f"{target.dtype} {list(target.shape)}")
            target[...] = np.asarray(spec["data"], dtype=target.dtype).reshape(target.shape)
        det._restored()
        return det

    def _restored(self):
        pass

    def save(self, path: str | os.PathLike) -> None:
        """Write :meth:`get_state` as JSON."""
        with open(path, "w") as fh:
            json.dump(self.get_state(), fh)


class ADWIN(_Detector):
    """ADaptive WINdowing (Bifet & Gavaldà 2007), River's bucket variant and defaults.

    Examples
    --------
    >>> import numpy as np
    >>> from mlcore.monitor import ADWIN
    >>> rng = np.random.default_rng(0)
    >>> x = np.concatenate([rng.normal(0, 1, 5000), rng.normal(2, 1, 5000)])
    >>> ADWIN().update(x).detections.tolist()
    [5023]
    """

    kind = "adwin"
    _params = ("delta", "clock", "max_buckets", "min_window_length", "grace_period")

    def __init__(self, delta: float = 0.002, clock: int = 32, max_buckets: int = 5,
                 min_window_length: int = 5, grace_period: int = 10):
        super().__init__()
        if not 0 < delta < 1:
            raise ValueError(f"delta must lie in (0, 1), got {delta!r}")
        if clock < 1 or max_buckets < 1 or min_window_length < 1 or grace_period < 0:
            raise ValueError("clock, max_buckets and min_window_length must be >= 1, grace_period >= 0")
        self.delta, self.clock, self.max_buckets = float(delta), int(clock), int(max_buckets)
        self.min_window_length, self.grace_period = int(min_window_length), int(grace_period)
        self._totals = np.zeros((_adwin.MAX_ROWS, self.max_buckets + 1))
        self._variances = np.zeros_like(self._totals)
        self._counts = np.zeros(_adwin.MAX_ROWS, dtype=np.int64)
        self._scal = np.zeros(_adwin.N_SCAL)
        _adwin.reset(self._totals, self._variances, self._counts, self._scal)

    def _arrays(self):
        return {"totals": self._totals, "variances": self._variances, "counts": self._counts, "scal": self._scal}

    def _run(self, arr, out):
        return _adwin.adwin_update(arr, self._totals, self._variances, self._counts, self._scal, self.delta,
                                   self.clock, self.max_buckets, self.min_window_length, self.grace_period, out)

    @property
    def width(self) -> int:
        """Current window length."""
        return int(self._scal[_adwin.WIDTH])

    @property
    def estimation(self) -> float:
        """Mean of the values in the window."""
        w = self._scal[_adwin.WIDTH]
        return float(self._scal[_adwin.TOTAL] / w) if w else 0.0


class PageHinkley(_Detector):
    """Page-Hinkley test for a change of the mean (River's parameters and defaults).

    Examples
    --------
    >>> import numpy as np
    >>> from mlcore.monitor import PageHinkley
    >>> rng = np.random.default_rng(0)
    >>> x = np.concatenate([rng.normal(0, 1, 2000), rng.normal(3, 1, 2000)])
    >>> PageHinkley(threshold=100).update(x).detections.tolist()
    [2027]
    """

    kind = "page_hinkley"
    _params = ("min_instances", "delta", "threshold", "alpha", "mode")
    _MODES = {"both": 0, "up": 1, "down": 2}

    def __init__(self, min_instances: int = 30, delta: float = 0.005, threshold: float = 50.0,
                 alpha: float = 1 - 0.0001, mode: str = "both"):
        super().__init__()
        if mode not in self._MODES:
            raise ValueError(f"mode must be one of {list(self._MODES)}, got {mode!r}")
        self.min_instances, self.delta, self.threshold = int(min_instances), float(delta), float(threshold)
        self.alpha, self.mode = float(alpha), mode
        self._state = np.zeros(_ds.PH_N_STATE)
        _ds.ph_reset(self._state)

    def _run(self, arr, out):
        return _ds.ph_update(arr, self._state, self.min_instances, self.delta, self.threshold, self.alpha,
                             self._MODES[self.mode], out)


class CUSUM(_Detector):
    """Two-sided tabular CUSUM (Page 1954) for a change of the mean.

    g⁺ = max(0, g⁺ + x − μ₀ − k) and g⁻ = max(0, g⁻ + μ₀ − x − k); drift when either exceeds
    ``threshold`` (h). μ₀ is ``target`` if given, else the mean of the first ``min_instances``
    values after each reset. With x in units of the in-control standard deviation, k = 0.5 and
    h = 5 give an in-control average run length of about 465 values (Montgomery, table 9.2).

    Examples
    --------
    >>> import numpy as np
    >>> from mlcore.monitor import CUSUM
    >>> rng = np.random.default_rng(0)
    >>> x = np.concatenate([rng.normal(0, 1, 300), rng.normal(2, 1, 300)])
    >>> CUSUM(target=0.0, slack=0.5, threshold=10.0).update(x).detections[:3].tolist()
    [307, 314, 323]
    """

    kind = "cusum"
    _params = ("target", "slack", "threshold", "min_instances")

    def __init__(self, target: float | None = None, slack: float = 0.5, threshold: float = 5.0,
                 min_instances: int = 30):
        super().__init__()
        if slack < 0 or threshold <= 0:
            raise ValueError("slack must be >= 0 and threshold > 0")
        self.target = None if target is None else float(target)
        self.slack, self.threshold, self.min_instances = float(slack), float(threshold), int(min_instances)
        self._state = np.zeros(_ds.CUSUM_N_STATE)

    def _run(self, arr, out):
        return _ds.cusum_update(arr, self._state, self.min_instances,
                                0.0 if self.target is None else self.target, self.target is not None,
                                self.slack, self.threshold, out)


class _Binary(_Detector):
    def _run(self, arr, out):
        warn = np.zeros(1)
        nd = self._kernel(arr, out, warn)
        self.warning_detected = bool(warn[0])
        return nd


class DDM(_Binary):
    """Drift Detection Method (Gama et al. 2004) on a stream of 0/1 errors.

    Examples
    --------
    >>> import numpy as np
    >>> from mlcore.monitor import DDM
    >>> rng = np.random.default_rng(0)
    >>> x = np.concatenate([rng.random(2000) < 0.1, rng.random(2000) < 0.4]).astype(float)
    >>> DDM().update(x).drift_detected
    True
    """

    kind = "ddm"
    _params = ("warm_start", "warning_threshold", "drift_threshold")

    def __init__(self, warm_start: int = 30, warning_threshold: float = 2.0, drift_threshold: float = 3.0):
        super().__init__()
        self.warm_start, self.warning_threshold = int(warm_start), float(warning_threshold)
        self.drift_threshold = float(drift_threshold)
        self._state = np.zeros(_ds.DDM_N_STATE)
        _ds.ddm_reset(self._state)

    def _kernel(self, arr, out, warn):
        return _ds.ddm_update(arr, self._state, self.warm_start, self.warning_threshold, self.drift_threshold,
                              out, warn)


class EDDM(_Binary):
    """Early Drift Detection Method (Baena-García et al. 2006) on a stream of 0/1 errors.

    Examples
    --------
    >>> import numpy as np
    >>> from mlcore.monitor import EDDM
    >>> rng = np.random.default_rng(0)
    >>> x = np.concatenate([rng.random(3000) < 0.05, rng.random(3000) < 0.5]).astype(float)
    >>> EDDM().update(x).drift_detected
    True
    """

    kind = "eddm"
    _params = ("warm_start", "alpha", "beta")

    def __init__(self, warm_start: int = 30, alpha: float = 0.95, beta: float = 0.9):
        super().__init__()
        if alpha < beta:
            raise ValueError(f"alpha must be >= beta, got alpha={alpha!r}, beta={beta!r}")
        self.warm_start, self.alpha, self.beta = int(warm_start), float(alpha), float(beta)
        self._state = np.zeros(_ds.EDDM_N_STATE)
        _ds.eddm_reset(self._state)

    def _kernel(self, arr, out, warn):
        return _ds.eddm_update(arr, self._state, self.warm_start, self.alpha, self.beta, out, warn)


class HDDMA(_Binary):
    """HDDM with averages and Hoeffding bounds (Frías-Blanco et al. 2015).

    Examples
    --------
    >>> import numpy as np
    >>> from mlcore.monitor import HDDMA
    >>> rng = np.random.default_rng(0)
    >>> x = np.concatenate([rng.random(2000) < 0.1, rng.random(2000) < 0.5]).astype(float)
    >>> HDDMA().update(x).drift_detected
    True
    """

    kind = "hddm_a"
    _params = ("drift_confidence", "warning_confidence", "two_sided_test")

    def __init__(self, drift_confidence: float = 0.001, warning_confidence: float = 0.005,
                 two_sided_test: bool = False):
        super().__init__()
        self.drift_confidence, self.warning_confidence = float(drift_confidence), float(warning_confidence)
        self.two_sided_test = bool(two_sided_test)
        self._state = np.zeros(_ds.HDDMA_N_STATE)

    def _kernel(self, arr, out, warn):
        return _ds.hddm_a_update(arr, self._state, self.drift_confidence, self.warning_confidence,
                                 self.two_sided_test, out, warn)


class HDDMW(_Binary):
    """HDDM with exponentially weighted averages and McDiarmid bounds (Frías-Blanco et al. 2015).

    Examples
    --------
    >>> import numpy as np
    >>> from mlcore.monitor import HDDMW
    >>> rng = np.random.default_rng(0)
    >>> x = np.concatenate([rng.random(2000) < 0.1, rng.random(2000) < 0.6]).astype(float)
    >>> HDDMW().update(x).drift_detected
    True
    """

    kind = "hddm_w"
    _params = ("drift_confidence", "warning_confidence", "lambda_val", "two_sided_test")

    def __init__(self, drift_confidence: float = 0.001, warning_confidence: float = 0.005,
                 lambda_val: float = 0.05, two_sided_test: bool = False):
        super().__init__()
        self.drift_confidence, self.warning_confidence = float(drift_confidence), float(warning_confidence)
        self.lambda_val, self.two_sided_test = float(lambda_val), bool(two_sided_test)
        self._state = np.zeros(_ds.HDDMW_N_STATE)
        _ds.hddm_w_reset(self._state)

    def _kernel(self, arr, out, warn):
        return _ds.hddm_w_update(arr, self._state, self.drift_confidence, self.warning_confidence,
                                 self.lambda_val, self.two_sided_test, out, warn)


class KSWIN(_Detector):
    """Kolmogorov-Smirnov Windowing (Raab et al. 2020), River's parameters and defaults.

    ``sampler="numba"`` (default) draws the comparison sample in the kernel from a generator
    seeded with ``seed`` at every reset; ``sampler="python"`` draws it with Python's
    ``random.Random(seed).sample`` exactly as River does (slow; used to replay River).

    Examples
    --------
    >>> import numpy as np
    >>> from mlcore.monitor import KSWIN
    >>> rng = np.random.default_rng(0)
    >>> x = np.concatenate([rng.normal(0, 1, 500), rng.normal(3, 1, 500)])
    >>> KSWIN(seed=1).update(x).drift_detected
    True
    """

    kind = "kswin"
    _params = ("alpha", "window_size", "stat_size", "seed", "sampler")

    def __init__(self, alpha: float = 0.005, window_size: int = 100, stat_size: int = 30, seed: int = 0,
                 sampler: str = "numba"):
        super().__init__()
        if not 0 <= alpha <= 1:
            raise ValueError(f"alpha must lie in [0, 1], got {alpha!r}")
        if window_size < stat_size or stat_size < 1:
            raise ValueError(f"stat_size must be in [1, window_size], got stat_size={stat_size}, window_size={window_size}")
        if window_size - stat_size < stat_size:
            raise ValueError("window_size - stat_size must be >= stat_size to draw the comparison sample")
        if sampler not in ("numba", "python"):
            raise ValueError(f"sampler must be 'numba' or 'python', got {sampler!r}")
        self.alpha, self.window_size, self.stat_size = float(alpha), int(window_size), int(stat_size)
        self.seed, self.sampler = int(seed), sampler
        self._window = np.zeros(self.window_size)
        self._scal = np.zeros(_kswin.N_SCAL)
        self._rng = np.zeros(1, dtype=np.uint64)
        self._reset_state()

    def _reset_state(self):
        self._window[:] = 0.0
        self._scal[:] = 0.0
        self._rng[0] = np.uint64(self.seed % (1 << 64))
        self._py_rng = random.Random(self.seed)

    def _restored(self):
        if self.sampler == "python":  # replay Python's generator to where the saved detector stood
            self._py_rng = random.Random(self.seed)
            self._indices(int(self._scal[_kswin.STEPS]))

    def _arrays(self):
        return {"window": self._window, "scal": self._scal, "rng": self._rng}

    @property
    def p_value(self) -> float:
        """p-value of the last test."""
        return float(self._scal[_kswin.P_VALUE])

    def _indices(self, n_steps):
        k = self.window_size - self.stat_size
        return np.array([self._py_rng.sample(range(k), self.stat_size) for _ in range(n_steps)],
                        dtype=np.int64).reshape(n_steps, self.stat_size)

    def _run(self, arr, out):
        nd = 0
        start = 0
        one = np.empty(1, dtype=np.int64)
        empty = np.zeros((0, self.stat_size), dtype=np.int64)
        while start < arr.size:
            if self._scal[_kswin.PENDING] != 0.0:
                self._reset_state()
            idx, row0 = empty, 0
            if self.sampler == "python":
                # draw enough rows for every value left, then rewind and redraw only those used
                before = self._py_rng.getstate()
                idx, row0 = self._indices(arr.size - start), int(self._scal[_kswin.STEPS])
            pos, nxt = _kswin.kswin_update(arr, start, self._window, self._scal, self._rng, self.alpha,
                                           self.stat_size, idx, row0, one)
            if self.sampler == "python":
                self._py_rng.setstate(before)
                self._indices(int(self._scal[_kswin.STEPS]) - row0)
            if pos >= 0:
                out[nd] = pos
                nd += 1
            start = nxt
        return nd


_KINDS = {c.kind: c for c in (ADWIN, PageHinkley, CUSUM, DDM, EDDM, HDDMA, HDDMW, KSWIN)}


def load_detector(source: str | os.PathLike | dict) -> _Detector:
    """Rebuild a detector from a JSON file written by ``save`` or from a ``get_state()`` dict.

    Examples
    --------
    >>> from mlcore.monitor import PageHinkley, load_detector
    >>> d = PageHinkley().update([0.0, 1.0, 2.0])
    >>> load_detector(d.get_state()).n_seen
    3
    """
    if isinstance(source, dict):
        state = source
    else:
        try:
            with open(source) as fh:
                state = json.load(fh)
        except (OSError, json.JSONDecodeError) as exc:
            raise ArtifactError(f"Could not read a detector state from `{source}`: {exc}") from exc
    kind = state.get("kind") if isinstance(state, dict) else None
    if kind not in _KINDS:
        raise ArtifactError(f"Unknown detector kind `{kind}`; expected one of {sorted(_KINDS)}")
    return _KINDS[kind].from_state(state)
