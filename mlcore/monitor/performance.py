"""Performance monitoring: labels that arrive late, and label-free estimates for classifiers.

- :func:`join_late_labels` joins labels to logged predictions by prediction id, keeping a label
  only when it arrived within ``max_delay`` of its prediction (Arrow's hash join, no Python loop).
- :func:`estimate_binary_performance` is confidence-based performance estimation (CBPE, as
  NannyML calls it): if the model's probabilities are calibrated, the expected accuracy is
  mean(max(p, 1 − p)) and the expected confusion counts follow; the band is the sampling error of
  a Poisson-binomial count (the number correct is a sum of independent Bernoulli(c_i)).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy import stats

from .. import _arrow
from ..errors import SchemaError

__all__ = ["join_late_labels", "estimate_binary_performance"]


def join_late_labels(predictions: Any, labels: Any, *, on: str = "prediction_id",
                     prediction_time: str = "time", label_time: str = "label_time",
                     max_delay: Any = None) -> pa.Table:
    """Predictions with their labels (null where none arrived in time).

    Labels arriving after ``prediction_time + max_delay`` (a ``datetime.timedelta``) are dropped;
    when several labels share an id the first one that arrived is kept. The result has the
    prediction columns, the label columns (suffixed ``_label`` on a name clash) and
    ``label_delay``.

    Examples
    --------
    >>> import datetime as dt, pyarrow as pa
    >>> from mlcore.monitor.performance import join_late_labels
    >>> t0 = dt.datetime(2026, 1, 1)
    >>> preds = pa.table({"prediction_id": [1, 2, 3], "time": [t0] * 3, "score": [0.9, 0.2, 0.7]})
    >>> labels = pa.table({"prediction_id": [1, 3], "label_time": [t0 + dt.timedelta(hours=1),
    ...                    t0 + dt.timedelta(days=9)], "y": [1, 0]})
    >>> join_late_labels(preds, labels, max_delay=dt.timedelta(days=7))["y"].to_pylist()
    [1, None, None]
    """
    p = _arrow.as_table(predictions)
    lab = _arrow.as_table(labels)
    for t, cols in ((p, (on, prediction_time)), (lab, (on, label_time))):
        for c in cols:
            _arrow.get_column(t, c)
    if pc.count_distinct(p[on], mode="all").as_py() != p.num_rows:
        raise SchemaError(f"Column `{on}` is not unique in the predictions; expected one row per prediction id")
    # first arrival per id
    lab = lab.sort_by([(on, "ascending"), (label_time, "ascending")])
    ids = lab[on]
    if len(ids) > 1:
        first = pc.not_equal(ids.slice(1), ids.slice(0, len(ids) - 1))
        keep = pa.concat_arrays([pa.array([True])] + [c for c in first.chunks])
        lab = lab.filter(keep)
    joined = p.join(lab, keys=on, join_type="left outer", right_suffix="_label")
    delay = pc.subtract(joined[label_time], joined[prediction_time])
    joined = joined.append_column("label_delay", delay)
    if max_delay is not None:
        late = pc.fill_null(pc.greater(delay, pa.scalar(max_delay, delay.type)), False)
        label_cols = [c for c in lab.column_names if c != on]
        label_cols = [c + "_label" if c in p.column_names else c for c in label_cols] + ["label_delay"]
        for c in label_cols:
            idx = joined.schema.get_field_index(c)
            joined = joined.set_column(idx, c, pc.if_else(late, pa.scalar(None, joined[c].type), joined[c]))
    # restore the prediction order (a hash join does not keep it)
    order = pc.sort_indices(pc.index_in(joined[on], value_set=p[on].combine_chunks()))
    return joined.take(order)


def estimate_binary_performance(probabilities: Any, *, threshold: float = 0.5, alpha: float = 0.05) -> dict:
    """CBPE for a binary classifier from calibrated probabilities of the positive class.

    Returns the expected accuracy with a (1 − alpha) band, and the expected true/false
    positive/negative counts, precision and recall. Nulls and NaN are left out.

    Examples
    --------
    >>> import numpy as np
    >>> from mlcore.monitor.performance import estimate_binary_performance
    >>> round(estimate_binary_performance(np.array([0.9, 0.8, 0.1, 0.3]))["accuracy"], 3)
    0.825
    """
    col = _arrow.as_chunked(probabilities).to_numpy().astype(np.float64) if not isinstance(probabilities, np.ndarray) \
        else np.asarray(probabilities, dtype=np.float64)
    p = col[np.isfinite(col)]
    if np.any((p < 0) | (p > 1)):
        raise ValueError("probabilities must lie in [0, 1]")
    n = p.size
    if n == 0:
        return {"n": 0, "accuracy": math.nan, "accuracy_band": [math.nan, math.nan]}
    pred = p >= threshold
    c = np.where(pred, p, 1.0 - p)  # chance that each prediction is correct
    acc = float(c.mean())
    se = math.sqrt(float(np.sum(c * (1 - c)))) / n
    q = stats.norm.isf(alpha / 2)
    tp = float(p[pred].sum())
    fp = float((1 - p[pred]).sum())
    fn = float(p[~pred].sum())
    tn = float((1 - p[~pred]).sum())
    return {"n": n, "accuracy": acc, "accuracy_band": [acc - q * se, acc + q * se], "accuracy_se": se,
            "tp": tp, "fp": fp, "fn": fn, "tn": tn,
            "precision": tp / (tp + fp) if tp + fp else math.nan,
            "recall": tp / (tp + fn) if tp + fn else math.nan,
            "method": "CBPE: expected counts under calibrated probabilities; band = Poisson-binomial sampling error"}
