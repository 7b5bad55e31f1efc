"""A bundle with every part: feature plan, data schema and goal (and the model they feed) survive
the round trip, and the plan + model predict the same after loading."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from sklearn.linear_model import LogisticRegression

from mlcore.data import infer_schema
from mlcore.datasets import nycflights13
from mlcore.deploy.bundle import Bundle
from mlcore.features import FeaturePlan, OneHotEncoder, StandardScaler
from mlcore.goals import Goal
from mlcore.train import compile_model


@pytest.fixture(scope="module")
def flights():
    t = nycflights13("flights").select(["dep_delay", "distance", "hour", "carrier", "origin", "arr_delay"])
    ok = pc.and_(pc.is_valid(t.column("arr_delay")), pc.is_valid(t.column("dep_delay")))
    t = t.filter(ok).slice(0, 20_000)
    return t


def test_bundle_with_plan_schema_goal(tmp_path, flights):
    X = flights.drop_columns(["arr_delay"])
    y = (flights.column("arr_delay").to_numpy() > 15).astype(int)
    plan = FeaturePlan([StandardScaler(["dep_delay", "distance", "hour"]),
                        OneHotEncoder(["carrier", "origin"], handle_unknown="ignore")]).fit(X)
    feats = plan.transform(X)
    est = LogisticRegression(max_iter=1000).fit(np.column_stack([c.to_numpy() for c in feats.columns]), y)
    model = compile_model(est)
    goal = Goal.from_toml('name = "on-time"\n[models.late]\ntask = "binary"\n'
                          '[[models.late.metrics]]\nmetric = "roc_auc"\nmin = 0.7\n')
    schema = infer_schema(X)
    b = Bundle(model, plan=plan, schema=schema, goal=goal, name="late")
    assert b.input_columns == X.column_names
    digest = b.save(tmp_path / "b")
    loaded = Bundle.load(tmp_path / "b", expected_hash=digest)
    assert loaded.schema.to_dict() == schema.to_dict()
    assert loaded.goal == goal
    assert loaded.plan.feature_names_out_ == plan.feature_names_out_
    want = est.predict_proba(np.column_stack([c.to_numpy() for c in feats.columns]))
    np.testing.assert_allclose(loaded.predict_proba(X), want, rtol=0, atol=1e-12)
    # unseen carrier at prediction time: ignored as chosen at fit
    odd = X.slice(0, 3).set_column(X.column_names.index("carrier"), "carrier", pa.array(["ZZ", "ZZ", "ZZ"]))
    assert loaded.predict(odd).shape == (3,)
