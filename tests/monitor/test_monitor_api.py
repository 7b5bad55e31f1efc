"""The public surface of mlcore.monitor is deliberate; kernels stay private; no pickle on load."""

from __future__ import annotations

import pathlib

import mlcore.monitor as monitor

EXPECTED = {
    "TestResult", "ks_test", "cvm_test", "ad_test", "wasserstein_distance", "psi", "jensen_shannon",
    "hellinger", "kl_divergence", "numeric_tests", "chi2_test", "g_test", "fisher_test", "total_variation",
    "linf_distance", "categorical_psi", "categorical_jensen_shannon", "adjust_pvalues", "DriftMonitor",
    "DriftReport", "FeatureDrift", "SegmentedDriftMonitor", "Profile", "ColumnProfile", "profile", "profile_drift", "ADWIN", "PageHinkley", "CUSUM",
    "DDM", "EDDM", "HDDMA", "HDDMW", "KSWIN", "load_detector", "domain_classifier_test", "mmd_test", "pca_reconstruction_test",
    "Window", "row_windows", "time_windows", "check_windows", "Event", "Rule", "AlertManager",
    "events_from_report", "log_action", "webhook_action", "MonitorStore", "html_report",
    "join_late_labels", "estimate_binary_performance",
    "concept_drift", "ConceptDriftReport", "prediction_drift", "error_drift", "profile_ray",
}


def test_all_is_deliberate():
    assert set(monitor.__all__) == EXPECTED
    for name in monitor.__all__:
        assert getattr(monitor, name) is not None


def test_no_pickle_and_no_cli_import_in_the_stage():
    root = pathlib.Path(monitor.__file__).parent
    kernels = pathlib.Path(monitor.__file__).parents[2] / "kernels"
    for path in list(root.glob("*.py")) + list(kernels.glob("drift_*.py")) + list(kernels.glob("detect_*.py")) \
            + list(kernels.glob("profile_*.py")):
        text = path.read_text()
        assert "import pickle" not in text and "joblib" not in text and "allow_pickle=True" not in text, path
        if path.name != "cli.py" and path.parent == root:
            assert "mlcore.cli" not in text and "from .cli" not in text, path
