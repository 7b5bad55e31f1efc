"""The public surface of mlcore.train is deliberate."""

from __future__ import annotations

import mlcore.train as train

EXPECTED = {"fit", "select_model", "SelectionResult", "compile_model", "load_model", "SUPPORTED_ESTIMATORS",
            "CompiledLinear", "CompiledMLP"}


def test_all_is_deliberate():
    assert set(train.__all__) == EXPECTED
    for name in train.__all__:
        assert getattr(train, name) is not None


def test_supported_list_is_closed_and_covers_the_issue():
    names = {n for (_, n) in train.SUPPORTED_ESTIMATORS}
    for n in ("LinearRegression", "Ridge", "Lasso", "ElasticNet", "LogisticRegression", "SGDClassifier",
              "SGDRegressor", "LinearSVC", "LinearSVR", "MLPClassifier", "MLPRegressor"):
        assert n in names


def test_compiled_models_follow_the_protocol():
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    m = train.compile_model(LogisticRegression().fit(np.eye(3), [0, 1, 1]))
    for attr in ("kind", "n_features_in_", "feature_names_in_", "predict", "predict_proba", "decision_function",
                 "to_arrays", "from_arrays", "predict_row", "predict_proba_row", "decision_function_row"):
        assert hasattr(m, attr), attr
