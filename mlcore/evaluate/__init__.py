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

from .._lazy import lazy_exports

# name -> submodule; loaded on first use so that `mlcore evaluate --help` (which imports
# mlcore.evaluate.cli, hence this package) does not pay for numba and the kernels
_EXPORTS = {
    "bootstrap": ["METRICS", "Interval", "bootstrap_metric", "bootstrap_samples", "compute_metric", "metric_spec"],
    "domain": ["compare_domains", "feature_drift", "importance_weighted_metric", "set_drift_function"],
    "fairness": ["demographic_parity_difference", "equalized_odds_difference", "fairness_metrics", "group_rates"],
    "gate": ["GateResult", "GoalResult", "MetricResult", "Predictions", "gate", "gate_goal"],
    "report": ["to_html", "write_html", "write_json"],
    "slices": ["slice_metrics"],
    "speed": ["LatencyResult", "measure_latency"],
}
__all__, __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
