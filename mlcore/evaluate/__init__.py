"""Stage 4, evaluation: metrics against the goal, slices, risk, training vs production data.

- :mod:`~mlcore.evaluate.metrics`: metrics on compiled kernels, matching ``sklearn.metrics``;
- :mod:`~mlcore.evaluate.bootstrap`: Poisson-bootstrap intervals, the registry of metric names;
- :mod:`~mlcore.evaluate.gate`: a predictor against a goal: each metric with its interval and
  pass/fail, and the verdict "may go to production" only when every range holds;
- :mod:`~mlcore.evaluate.slices`, :mod:`~mlcore.evaluate.fairness`, :mod:`~mlcore.evaluate.domain`,
  :mod:`~mlcore.evaluate.speed`: segments worst first, fairness per group, training vs production,
  latency and throughput as metrics;
- :mod:`~mlcore.evaluate.report`: JSON and a self-contained HTML report.

Examples
--------
>>> import numpy as np
>>> from mlcore.evaluate import bootstrap_metric
>>> ci = bootstrap_metric("accuracy", [0, 1] * 100, [0, 1] * 99 + [1, 1], n_boot=50)
>>> ci.value
0.995
"""

from .bootstrap import METRICS, Interval, bootstrap_metric, bootstrap_samples, compute_metric, metric_spec
from .domain import compare_domains, feature_drift, importance_weighted_metric, set_drift_function
from .fairness import demographic_parity_difference, equalized_odds_difference, fairness_metrics, group_rates
from .gate import GateResult, GoalResult, MetricResult, Predictions, gate, gate_goal
from .report import to_html, write_html, write_json
from .slices import slice_metrics
from .speed import LatencyResult, measure_latency

__all__ = [
    "METRICS", "Interval", "bootstrap_metric", "bootstrap_samples", "compute_metric", "metric_spec",
    "compare_domains", "feature_drift", "importance_weighted_metric", "set_drift_function",
    "demographic_parity_difference", "equalized_odds_difference", "fairness_metrics", "group_rates",
    "GateResult", "GoalResult", "MetricResult", "Predictions", "gate", "gate_goal",
    "to_html", "write_html", "write_json", "slice_metrics", "LatencyResult", "measure_latency",
]
