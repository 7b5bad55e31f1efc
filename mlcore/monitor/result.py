"""The result of one drift test or distance on one column."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["TestResult"]


@dataclass(frozen=True)
class TestResult:
    """One test or distance on one column, with everything needed to judge it.

    Attributes
    ----------
    column : str or None
        The column tested.
    test : str
        ``"ks"``, ``"cvm"``, ``"ad"``, ``"wasserstein"``, ``"psi"``, ``"jensen_shannon"``,
        ``"hellinger"``, ``"kl"``, ``"chi2"``, ``"g_test"``, ``"fisher"``, ``"total_variation"``,
        ``"linf"``.
    statistic : float
        The test statistic or distance, as the peer library (scipy) defines it.
    p_value : float or None
        The p-value where one is defined (for distances: from the stated null approximation).
    effect_size : float
        A sample-size-free measure of how large the change is, named by ``effect_size_name``.
    threshold : float or None
        The threshold the statistic was compared with (for distances: the null quantile at the
        level asked for; for tests: the level itself, on the p-value).
    threshold_kind : str
        How the threshold was obtained.
    n_ref, n_cur : int
        Values used from each sample (non-null, non-NaN).
    method : str
        The p-value method (``"exact"``, ``"asymp"``, ``"chi2-approx"``, …).
    log_base : float or None
        Base of the logarithms in the statistic, where it has logarithms.
    binning : str or None
        How values were binned, for histogram-based statistics.
    details : dict
        Extra numbers (bin counts, D+, D−, bounds of a capped p-value, …).
    """

    __test__ = False  # not a pytest test class, whatever its name

    column: str | None
    test: str
    statistic: float
    p_value: float | None
    effect_size: float
    effect_size_name: str
    threshold: float | None
    threshold_kind: str
    n_ref: int
    n_cur: int
    method: str
    log_base: float | None = None
    binning: str | None = None
    details: dict = field(default_factory=dict)

    @property
    def exceeds(self) -> bool | None:
        """Whether the result crosses its threshold (p ≤ level, or statistic ≥ null quantile);
        None when it has no threshold or no finite statistic."""
        if self.threshold is None or self.statistic is None or not math.isfinite(self.statistic):
            return None
        if self.p_value is not None and self.threshold_kind == "alpha":
            return self.p_value <= self.threshold
        return self.statistic >= self.threshold

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field."""
        return asdict(self)
