"""Stage 0, goals: metrics with acceptance ranges that gate shipping and flag decay.

A :class:`Goal` (one business objective) holds an :class:`Objective` per model, each a list of
:class:`MetricRange` (metric, acceptance range, parameters). Goals are written in Python or TOML
and round-trip through both; :mod:`mlcore.evaluate` gates on them.

Examples
--------
>>> from mlcore.goals import Goal, Objective, MetricRange
>>> goal = Goal("lending", [
...     Objective("click", ["roc_auc >= 0.8", "latency_p99_us <= 50"], task="binary"),
...     Objective("default", [MetricRange("roc_auc", min=0.75),
...                           MetricRange("psi", max=0.2, max_inclusive=False)], task="binary"),
... ])
>>> goal.models
['click', 'default']
"""

from .goal import TASKS, Check, Goal, GoalError, MetricRange, Objective

__all__ = ["Goal", "Objective", "MetricRange", "Check", "GoalError", "TASKS"]
