"""Late labels and label-free performance estimation."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest
import scipy.stats as ss

from mlcore.errors import SchemaError
from mlcore.monitor import estimate_binary_performance, join_late_labels


def test_join_late_labels_delay_window_first_arrival_and_order():
    t0 = dt.datetime(2026, 1, 1)
    preds = pa.table({"prediction_id": [5, 1, 3, 2], "time": [t0] * 4, "score": [0.1, 0.9, 0.2, 0.7]})
    labels = pa.table({"prediction_id": [1, 3, 3, 2, 9],
                       "label_time": [t0 + dt.timedelta(hours=2), t0 + dt.timedelta(days=3),
                                      t0 + dt.timedelta(days=1), t0 + dt.timedelta(days=30), t0],
                       "y": [1, 0, 1, 1, 0]})
    out = join_late_labels(preds, labels, max_delay=dt.timedelta(days=7))
    assert out["prediction_id"].to_pylist() == [5, 1, 3, 2]
    assert out["y"].to_pylist() == [None, 1, 1, None]
    assert out["label_delay"].to_pylist()[1] == dt.timedelta(hours=2)
    with pytest.raises(SchemaError, match="not unique"):
        join_late_labels(pa.concat_tables([preds, preds]), labels)


def test_cbpe_is_unbiased_and_its_band_covers_under_calibration():
    rng = np.random.default_rng(0)
    covered = 0
    errs = []
    for _ in range(200):
        p = rng.beta(2, 2, size=500)
        y = rng.random(500) < p  # calibrated by construction
        est = estimate_binary_performance(p)
        true_acc = np.mean((p >= 0.5) == y)
        lo, hi = est["accuracy_band"]
        covered += lo <= true_acc <= hi
        errs.append(est["accuracy"] - true_acc)
    assert abs(np.mean(errs)) < 0.005
    assert ss.binomtest(covered, 200, 0.95).pvalue > 1e-3
    assert estimate_binary_performance(pa.array([None, 0.7], pa.float64()))["n"] == 1
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        estimate_binary_performance(np.array([1.5]))
