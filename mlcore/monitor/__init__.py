"""Stage 7, monitoring: profiles, drift statistics, multiple-testing control, streaming detectors.

- :mod:`~mlcore.monitor.univariate`: numeric two-sample tests and distances (KS, Cramér-von Mises,
  Anderson-Darling, Wasserstein, PSI, Jensen-Shannon, Hellinger, KL) from one compiled merge walk;
- :mod:`~mlcore.monitor.categorical`: chi-square, G-test, Fisher, total variation, L∞, PSI, JS;
- :mod:`~mlcore.monitor.multiple`: Bonferroni, Holm, Benjamini-Hochberg;
- :mod:`~mlcore.monitor.drift`: :class:`DriftMonitor`, the dataset-level check and verdict;
- :mod:`~mlcore.monitor.profile`: mergeable, savable batch profiles;
- detectors: ADWIN, Page-Hinkley, CUSUM, DDM, EDDM, HDDM-A, HDDM-W, KSWIN.
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
from .detectors import ADWIN, CUSUM, DDM, EDDM, HDDMA, HDDMW, KSWIN, PageHinkley, load_detector
from .drift import DriftMonitor, DriftReport, FeatureDrift
from .multiple import adjust_pvalues
from .profile import ColumnProfile, Profile, profile
from .result import TestResult
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
    "DriftReport",
    "FeatureDrift",
    "Profile",
    "ColumnProfile",
    "profile",
    "ADWIN",
    "PageHinkley",
    "CUSUM",
    "DDM",
    "EDDM",
    "HDDMA",
    "HDDMW",
    "KSWIN",
    "load_detector",
]
