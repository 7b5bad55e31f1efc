"""Stage 7, monitoring: profiles, drift statistics, multiple-testing control, streaming detectors.

- :mod:`~mlcore.monitor.univariate`: numeric two-sample tests and distances (KS, Cramér-von Mises,
  Anderson-Darling, Wasserstein, PSI, Jensen-Shannon, Hellinger, KL) from one compiled merge walk;
- :mod:`~mlcore.monitor.categorical`: chi-square, G-test, Fisher, total variation, L∞, PSI, JS;
- :mod:`~mlcore.monitor.multiple`: Bonferroni, Holm, Benjamini-Hochberg;
- :mod:`~mlcore.monitor.drift`: :class:`DriftMonitor`, the dataset-level check and verdict;
- :mod:`~mlcore.monitor.profile`: mergeable, savable batch profiles;
- :mod:`~mlcore.monitor.detectors`: ADWIN, Page-Hinkley, CUSUM, DDM, EDDM, HDDM-A, HDDM-W, KSWIN;
- :mod:`~mlcore.monitor.multivariate`: domain classifier (AUC with a DeLong interval), MMD;
- :mod:`~mlcore.monitor.concept`: concept drift P(Y|X), P(X, Ŷ), P(Ŷ) and the model's error;
- :mod:`~mlcore.monitor.profile_ray`: profiles of a Ray Dataset, merged exactly;
- :mod:`~mlcore.monitor.windows`, :mod:`~mlcore.monitor.events`, :mod:`~mlcore.monitor.store`,
  :mod:`~mlcore.monitor.report`: windows, events/rules/alerts, the store (DuckDB or
  PostgreSQL through ADBC), the HTML report.

The command line lives in :mod:`mlcore.monitor.cli` (a click group, not imported here).
"""

from .categorical import (
    categorical_jensen_shannon,
    categorical_psi,
    chi2_test,
    fisher_test,
    g_test,
    linf_distance,
    total_variation,
)
from .concept import ConceptDriftReport, concept_drift, error_drift, prediction_drift
from .detectors import ADWIN, CUSUM, DDM, EDDM, HDDMA, HDDMW, KSWIN, PageHinkley, load_detector
from .drift import DriftMonitor, DriftReport, FeatureDrift, SegmentedDriftMonitor
from .events import AlertManager, Event, Rule, events_from_report, log_action, webhook_action
from .multiple import adjust_pvalues
from .multivariate import domain_classifier_test, mmd_test, pca_reconstruction_test
from .performance import estimate_binary_performance, join_late_labels
from .profile import ColumnProfile, Profile, profile, profile_drift
from .profile_ray import profile_ray
from .report import html_report
from .result import TestResult
from .store import MonitorStore
from .univariate import (
    ad_test,
    cvm_test,
    hellinger,
    jensen_shannon,
    kl_divergence,
    ks_test,
    numeric_tests,
    psi,
    wasserstein_distance,
)
from .windows import Window, check_windows, row_windows, time_windows

__all__ = [
    "TestResult",
    "ks_test",
    "cvm_test",
    "ad_test",
    "wasserstein_distance",
    "psi",
    "jensen_shannon",
    "hellinger",
    "kl_divergence",
    "numeric_tests",
    "chi2_test",
    "g_test",
    "fisher_test",
    "total_variation",
    "linf_distance",
    "categorical_psi",
    "categorical_jensen_shannon",
    "adjust_pvalues",
    "DriftMonitor",
    "concept_drift",
    "ConceptDriftReport",
    "prediction_drift",
    "error_drift",
    "DriftReport",
    "FeatureDrift",
    "SegmentedDriftMonitor",
    "Profile",
    "ColumnProfile",
    "profile",
    "profile_drift",
    "profile_ray",
    "ADWIN",
    "PageHinkley",
    "CUSUM",
    "DDM",
    "EDDM",
    "HDDMA",
    "HDDMW",
    "KSWIN",
    "load_detector",
    "domain_classifier_test",
    "mmd_test",
    "pca_reconstruction_test",
    "Window",
    "row_windows",
    "time_windows",
    "check_windows",
    "Event",
    "Rule",
    "AlertManager",
    "events_from_report",
    "log_action",
    "webhook_action",
    "MonitorStore",
    "html_report",
    "join_late_labels",
    "estimate_binary_performance",
]
