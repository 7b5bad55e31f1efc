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

from .._lazy import lazy_exports

# name -> submodule, loaded on first use: `mlcore monitor --help` imports mlcore.monitor.cli, hence
# this package, and must not pay for SciPy, Numba and the kernels
_EXPORTS = {
    "result": ["TestResult"],
    "univariate": ["ks_test", "cvm_test", "ad_test", "wasserstein_distance", "psi", "jensen_shannon", "hellinger",
                   "kl_divergence", "numeric_tests"],
    "categorical": ["chi2_test", "g_test", "fisher_test", "total_variation", "linf_distance", "categorical_psi",
                    "categorical_jensen_shannon"],
    "multiple": ["adjust_pvalues"],
    "drift": ["DriftMonitor", "DriftReport", "FeatureDrift", "SegmentedDriftMonitor"],
    "concept": ["concept_drift", "ConceptDriftReport", "prediction_drift", "error_drift"],
    "profile": ["Profile", "ColumnProfile", "profile", "profile_drift"],
    "profile_ray": ["profile_ray"],
    "detectors": ["ADWIN", "PageHinkley", "CUSUM", "DDM", "EDDM", "HDDMA", "HDDMW", "KSWIN", "load_detector"],
    "multivariate": ["domain_classifier_test", "mmd_test", "pca_reconstruction_test"],
    "windows": ["Window", "row_windows", "time_windows", "check_windows"],
    "events": ["Event", "Rule", "AlertManager", "events_from_report", "log_action", "webhook_action"],
    "store": ["MonitorStore"],
    "report": ["html_report"],
    "performance": ["join_late_labels", "estimate_binary_performance"],
}
__all__, __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
