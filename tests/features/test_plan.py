"""FeaturePlan: ColumnTransformer parity, save/load round trip on nycflights13, description,
zero-copy output, bad input and tampered artifacts."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest
from sklearn import compose, preprocessing as skp
from sklearn.feature_extraction import text as sk

import mlcore.features as mf
from mlcore.datasets import nycflights13
from mlcore.errors import ArtifactError, ColumnNotFoundError, NotFittedError, SchemaError


@pytest.fixture(scope="module")
def flights():
    return nycflights13("flights")


def _flight_plan():
    return mf.FeaturePlan([
        mf.StandardScaler(["dep_delay", "distance"]),
        mf.RobustScaler(["air_time"]),
        mf.PowerTransformer(["distance"]),
        mf.KBinsDiscretizer(["sched_dep_time"], n_bins=6),
        mf.OneHotEncoder(["carrier"], handle_unknown="infrequent", min_frequency=2000),
        mf.OrdinalEncoder(["origin"], handle_unknown="ignore"),
        mf.FrequencyEncoder(["tailnum"]),
        mf.TargetEncoder(["dest"]),
        mf.MissingIndicator(["dep_delay", "arr_delay", "tailnum"]),
        mf.DateTimeParts(["time_hour"]),
        mf.Combine(pairs=[("distance", "air_time")], op="ratio"),
        mf.VarianceThreshold(["month", "day", "year"]),
        mf.CategoryCross(pairs=[("origin", "carrier")], handle_unknown="infrequent", min_frequency=500),
    ], verbose_feature_names=True)


def test_flights_plan_round_trip(flights, tmp_path):
    y = flights["arr_delay"].fill_null(0).to_numpy().astype(float)
    plan = _flight_plan()
    train = plan.fit_transform(flights, y)
    first = plan.transform(flights)
    plan.save(tmp_path / "plan")
    loaded = mf.FeaturePlan.load(tmp_path / "plan")
    again = loaded.transform(flights)
    assert loaded.feature_names_out_ == plan.feature_names_out_ == first.column_names
    np.testing.assert_array_equal(mf.as_matrix(again), mf.as_matrix(first))  # NaN positions included
    assert loaded.describe() == plan.describe()
    # cross-fitting changes only the target-encoded column
    diff = [n for n in first.column_names if not np.array_equal(first[n].to_numpy(), train[n].to_numpy(), equal_nan=True)]
    assert diff == ["8_target__dest"]
    assert "12_variance_threshold__month" in first.column_names
    assert "12_variance_threshold__year" not in first.column_names  # constant in 2013: dropped by the variance threshold
    # another slice and chunk layout of the same rows gives the same features
    chunked = pa.concat_tables([flights.slice(0, 1001), flights.slice(1001, 50_000)])
    np.testing.assert_array_equal(mf.as_matrix(loaded.transform(chunked)), mf.as_matrix(first)[:51_001])
    sliced = flights.slice(5, 20_003)
    np.testing.assert_array_equal(mf.as_matrix(loaded.transform(sliced)), mf.as_matrix(first)[5:20_008])


def test_duplicate_output_names_are_an_error(flights):
    plan = mf.FeaturePlan([mf.StandardScaler(["distance"]), mf.PowerTransformer(["distance"])])
    with pytest.raises(ValueError, match=r"\['distance'\].*verbose_feature_names=True"):
        plan.fit(flights.slice(0, 1000))


def test_saved_files_are_data_only(flights, tmp_path):
    plan = mf.FeaturePlan([mf.OneHotEncoder(["origin"]), mf.StandardScaler(["distance"])]).fit(flights)
    plan.save(tmp_path)
    manifest = json.loads((tmp_path / "plan.json").read_text())
    assert manifest["format"] == "mlcore.feature_plan" and [s["kind"] for s in manifest["steps"]] == ["one_hot", "standard_scaler"]
    with np.load(tmp_path / "arrays.npz", allow_pickle=False) as z:
        assert all(z[k].dtype.kind in "iuf" for k in z.files)
    raw = bytearray((tmp_path / "arrays.npz").read_bytes())
    raw[-30] ^= 1
    (tmp_path / "arrays.npz").write_bytes(bytes(raw))
    with pytest.raises(ArtifactError, match="SHA-256"):
        mf.FeaturePlan.load(tmp_path)
    plan.save(tmp_path)
    manifest = json.loads((tmp_path / "plan.json").read_text())
    manifest["steps"][0]["kind"] = "os.system"
    (tmp_path / "plan.json").write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match="unknown kind 'os.system'"):
        mf.FeaturePlan.load(tmp_path)
    manifest["version"] = 99
    (tmp_path / "plan.json").write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match="version"):
        mf.FeaturePlan.load(tmp_path)


@pytest.mark.parametrize("sparse_output", [False, True])
def test_plan_matches_column_transformer(sparse_output):
    rng = np.random.default_rng(0)
    n = 3000
    num = {f"x{j}": rng.normal(j, 1 + j, n) for j in range(4)}
    cat = rng.choice(["u", "v", "w", "zz"], n)
    docs = [" ".join(rng.choice(["red", "green", "blue", "Sky", "sea", "a"], int(rng.integers(0, 6)))) for _ in range(n)]
    t = pa.table({**num, "cat": cat, "doc": docs})
    import pandas as pd
    df = pd.DataFrame({**num, "cat": cat, "doc": docs})
    plan = mf.FeaturePlan([mf.StandardScaler(list(num)), mf.OneHotEncoder(["cat"], handle_unknown="ignore", sparse_output=sparse_output),
                           mf.HashingVectorizer(["doc"], n_features=2**8)])
    ct = compose.ColumnTransformer([("num", skp.StandardScaler(), list(num)),
                                    ("cat", skp.OneHotEncoder(handle_unknown="ignore"), ["cat"]),
                                    ("doc", sk.HashingVectorizer(n_features=2**8), "doc")], sparse_threshold=1.0)
    got = plan.fit_transform(t).to_scipy()
    want = ct.fit_transform(df)
    np.testing.assert_allclose(got.toarray(), want.toarray(), rtol=1e-9, atol=1e-12)
    assert len(plan.feature_names_out_) == got.shape[1]
    assert plan.feature_names_out_[4:8] == ["cat_u", "cat_v", "cat_w", "cat_zz"]
    dense_part, sparse_parts = plan.transform_parts(t)
    assert dense_part.num_columns == (4 if sparse_output else 8) and sparse_parts[-1].shape == (n, 2**8)


def test_dense_output_is_one_zero_copy_column_major_buffer():
    t = pa.table({"a": np.arange(10.0), "b": np.arange(10.0) * 2, "c": ["x", "y"] * 5})
    out = mf.FeaturePlan([mf.MinMaxScaler(["a", "b"]), mf.OneHotEncoder(["c"])]).fit_transform(t)
    m = mf.as_matrix(out)
    assert m.shape == (10, 4) and m.flags.f_contiguous
    for j in range(4):
        col = out.column(j).chunks[0].to_numpy(zero_copy_only=True)
        assert np.shares_memory(m[:, j], col)
        np.testing.assert_array_equal(m[:, j], col)
    with pytest.warns(mf.plan.CopyWarning):
        mf.as_matrix(pa.table({"a": [1.0], "b": [2.0]}))


def test_plan_bad_input():
    t = pa.table({"x": [1.0, 2.0, 3.0], "c": ["a", "b", "a"]})
    plan = mf.FeaturePlan([mf.StandardScaler(["x"]), mf.OneHotEncoder(["c"], handle_unknown="ignore")])
    with pytest.raises(NotFittedError):
        plan.transform(t)
    plan.fit(t)
    with pytest.raises(ColumnNotFoundError, match="`c`"):
        plan.transform(t.drop_columns(["c"]))
    with pytest.raises(SchemaError, match="`c`"):
        plan.transform(pa.table({"x": [1.0], "c": [1.5]}))
    empty = plan.transform(t.slice(0, 0))
    assert empty.num_rows == 0 and empty.column_names == plan.feature_names_out_
    assert mf.as_matrix(empty).shape == (0, 3)
    # pandas and dict input are converted once at the edge
    np.testing.assert_array_equal(mf.as_matrix(plan.transform(t.to_pandas())), mf.as_matrix(plan.transform(t)))
    np.testing.assert_array_equal(mf.as_matrix(plan.transform({"x": np.array([2.0]), "c": pa.array(["b"])})),
                                  [[0.0, 0.0, 1.0]])
    out = plan.transform(pa.table({"x": pa.array([None, np.inf], pa.float64()), "c": pa.array([None, "zz"], pa.string())}))
    assert np.isnan(out["x"][0].as_py()) and out["x"][1].as_py() == np.inf
    assert out["c_a"].to_pylist() == [0.0, 0.0]
    with pytest.raises(ValueError, match="at least one step"):
        mf.FeaturePlan([])
    with pytest.raises(TypeError, match="steps"):
        mf.FeaturePlan(["nope"])


def test_describe_is_readable():
    t = pa.table({"x": [1.0, 2.0, 3.0], "c": ["a", "b", "a"], "d": ["the cat", "a dog", "cats"]})
    plan = mf.FeaturePlan([(mf.StandardScaler(["unused"]), ["x"]), mf.OneHotEncoder(["c"]), mf.CountVectorizer(["d"])])
    assert "not fitted" in plan.describe()
    plan.fit(t)
    text = plan.describe()
    assert "StandardScaler(x" in text and "mean_=[2.]" in text and "c: 2 categories ['a', 'b']" in text
    assert "output: 7 features (3 dense, 4 sparse)" in text and "vocabulary of 4 terms" in text
    assert plan.feature_names_out_ == ["x", "c_a", "c_b", "d_cat", "d_cats", "d_dog", "d_the"]


def test_flights_joined_with_hourly_weather(flights, tmp_path):
    weather = nycflights13("weather").select(["origin", "time_hour", "temp", "humid", "wind_speed", "precip", "visib"])
    joined = flights.select(["origin", "dest", "carrier", "time_hour", "dep_delay", "distance"]).join(
        weather, keys=["origin", "time_hour"], join_type="left outer")
    assert joined.num_rows >= flights.num_rows and joined["temp"].null_count > 0  # hours without weather
    plan = mf.FeaturePlan([
        mf.StandardScaler(["temp", "humid", "distance"]),
        mf.RobustScaler(["wind_speed"]),
        mf.MissingIndicator(["temp", "wind_speed", "dep_delay"]),
        mf.KBinsDiscretizer(["visib", "precip"], n_bins=4, strategy="uniform"),
        mf.OneHotEncoder(["origin", "carrier"], handle_unknown="infrequent", max_categories=8),
        mf.TargetEncoder(["dest"]),
        mf.DateTimeParts(["time_hour"], parts=["hour", "dayofweek", "month"]),
    ])
    y = joined["dep_delay"].fill_null(0).to_numpy().astype(float)
    plan.fit(joined, y)
    before = plan.transform(joined)
    plan.save(tmp_path / "p")
    after = mf.FeaturePlan.load(tmp_path / "p").transform(joined)
    np.testing.assert_array_equal(mf.as_matrix(after), mf.as_matrix(before))
    m = mf.as_matrix(before)
    assert m.shape == (joined.num_rows, len(plan.feature_names_out_))
    temp = before.column("temp").to_numpy()
    assert np.isnan(temp).sum() == joined["temp"].null_count  # nulls stay visible as NaN
