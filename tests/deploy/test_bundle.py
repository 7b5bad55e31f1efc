"""Bundles: round trip with identical predictions, tampering refused, packaging as a wheel, the
live loader following a registry alias, and `mlcore serve` on a bundle."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request

import numpy as np
import pyarrow as pa
import pytest
from sklearn.linear_model import LogisticRegression, Ridge

from mlcore.deploy.bundle import Bundle, data_hash
from mlcore.deploy.loader import LiveModel
from mlcore.deploy.registry import Registry
from mlcore.errors import ArtifactError, SchemaError
from mlcore.train import compile_model

COLS = ["a", "b", "c"]


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(400, 3))
    y = (X @ [1.0, -2.0, 0.5] + rng.normal(scale=0.3, size=400) > 0).astype(int)
    return X, y, pa.table({c: X[:, j] for j, c in enumerate(COLS)})


@pytest.fixture(scope="module")
def estimator(data):
    X, y, _ = data
    return LogisticRegression().fit(X, y)


def _bundle(est, data, **kw):
    return Bundle(compile_model(est), input_columns=COLS, metrics={"roc_auc": 0.91},
                  lineage={"data_hash": data_hash(data[2])}, name="clicks", **kw)


def test_round_trip_predicts_identically(tmp_path, data, estimator):
    b = _bundle(estimator, data)
    digest = b.save(tmp_path / "b")
    loaded = Bundle.load(tmp_path / "b", expected_hash=digest)
    assert loaded.content_hash == digest and loaded.name == "clicks"
    assert loaded.metrics == {"roc_auc": 0.91}
    assert loaded.lineage["data_hash"].startswith("sha256:") and "mlcore_version" in loaded.lineage
    np.testing.assert_array_equal(loaded.predict(data[2]), estimator.predict(data[0]))
    np.testing.assert_allclose(loaded.predict_proba(data[2]), estimator.predict_proba(data[0]), rtol=0, atol=1e-12)
    # columns in another order, and extra columns, are fine; a missing one is a clear error
    shuffled = data[2].select(["c", "a", "b"]).append_column("extra", pa.array(np.zeros(400)))
    np.testing.assert_array_equal(loaded.predict(shuffled), estimator.predict(data[0]))
    with pytest.raises(SchemaError, match=r"missing input columns \['b'\]"):
        loaded.predict(data[2].select(["a", "c"]))


@pytest.mark.parametrize("victim", ["manifest.json", "CONTENT_HASH", "arrays/model.coef.npy"])
def test_any_changed_byte_is_refused(tmp_path, data, estimator, victim):
    _bundle(estimator, data).save(tmp_path / "b")
    p = tmp_path / "b" / victim
    raw = bytearray(p.read_bytes())
    raw[len(raw) // 2] ^= 0x20
    p.write_bytes(bytes(raw))
    with pytest.raises(ArtifactError, match=victim.split("/")[-1].replace(".", r"\.") + "|manifest.json"):
        Bundle.load(tmp_path / "b")


def test_unknown_model_kind_and_part_are_refused(tmp_path, data, estimator):
    from mlcore.deploy.artifact import content_hash_of

    _bundle(estimator, data).save(tmp_path / "b")
    m = json.loads((tmp_path / "b" / "manifest.json").read_bytes())
    m["components"]["model"]["params"]["manifest"]["kind"] = "os.system"
    raw = json.dumps(m, sort_keys=True, separators=(",", ":")).encode()
    (tmp_path / "b" / "manifest.json").write_bytes(raw)
    (tmp_path / "b" / "CONTENT_HASH").write_text(content_hash_of(raw))
    with pytest.raises(ArtifactError, match="os.system"):
        Bundle.load(tmp_path / "b")


def test_regressor_bundle_has_no_proba(tmp_path, data):
    X, _, t = data
    est = Ridge().fit(X, X[:, 0] * 2)
    b = Bundle(compile_model(est), input_columns=COLS)
    b.save(tmp_path / "r")
    loaded = Bundle.load(tmp_path / "r")
    assert not loaded.has_proba
    np.testing.assert_allclose(loaded.predict(t), est.predict(X), rtol=1e-12)


def test_live_model_follows_alias_and_keeps_old_on_bad_version(tmp_path, data, estimator):
    X, y, t = data
    reg = Registry(tmp_path / "reg")
    _bundle(estimator, data).save(tmp_path / "v1")
    flipped = LogisticRegression().fit(X, 1 - y)
    _bundle(flipped, data).save(tmp_path / "v2")
    reg.publish("clicks", tmp_path / "v1")
    reg.publish("clicks", tmp_path / "v2")
    reg.set_alias("clicks", "production", 1)
    swaps = []
    live = LiveModel(reg, "clicks", on_swap=lambda new, old: swaps.append((new, old)))
    assert live.version == 1
    np.testing.assert_array_equal(live.predict(t), estimator.predict(X))
    assert not live.refresh()
    reg.set_alias("clicks", "production", 2)
    assert live.refresh() and live.version == 2 and swaps[-1] == (2, 1)
    np.testing.assert_array_equal(live.predict(t), flipped.predict(X))
    # a tampered version 3 is refused and version 2 keeps serving
    _bundle(LogisticRegression(C=0.01).fit(X, y), data).save(tmp_path / "v3")
    v3 = reg.publish("clicks", tmp_path / "v3")
    f = os.path.join(v3.path, "arrays", "model.coef.npy")
    os.chmod(f, 0o644)
    with open(f, "r+b") as fh:
        fh.seek(-1, 2)
        last = fh.read(1)
        fh.seek(-1, 2)
        fh.write(bytes([last[0] ^ 1]))
    reg.set_alias("clicks", "production", 3)
    assert not live.refresh()
    assert live.version == 2 and "model.coef.npy" in live.last_error


def test_package_wheel_installs_and_predicts(tmp_path, data, estimator):
    from mlcore.deploy.package import build_wheel

    _bundle(estimator, data).save(tmp_path / "b")
    wheel = build_wheel(str(tmp_path / "b"), str(tmp_path / "dist"), name="clicks_model", version="1.2.0")
    assert os.path.basename(wheel).startswith("clicks_model-1.2.0-")
    target = tmp_path / "site"
    r = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), wheel],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    code = ("import numpy as np, pyarrow as pa, clicks_model, json, sys\n"
            "X = np.load(sys.argv[1])\n"
            "t = pa.table({c: X[:, j] for j, c in enumerate(['a', 'b', 'c'])})\n"
            "print(json.dumps({'file': clicks_model.__file__, 'hash': clicks_model.CONTENT_HASH,"
            " 'pred': clicks_model.predict(t).tolist()}))")
    np.save(tmp_path / "X.npy", data[0])
    env = dict(os.environ, PYTHONPATH=str(target))
    r = subprocess.run([sys.executable, "-c", code, str(tmp_path / "X.npy")], capture_output=True, text=True,
                       timeout=300, env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["file"].startswith(str(target))
    assert out["pred"] == estimator.predict(data[0]).tolist()


@pytest.mark.slow
def test_package_wheel_in_a_fresh_venv(tmp_path, data, estimator):
    """The wheel and mlcore's own wheel installed into a brand-new virtual environment."""
    from mlcore.deploy.package import build_wheel

    repo = os.path.dirname(os.path.dirname(os.path.abspath(__import__("mlcore").__file__)))
    _bundle(estimator, data).save(tmp_path / "b")
    wheel = build_wheel(str(tmp_path / "b"), str(tmp_path / "dist"), name="clicks_model")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    py = str(venv / "bin" / "python")
    r = subprocess.run([py, "-m", "pip", "install", "-q", repo, wheel], capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    np.save(tmp_path / "X.npy", data[0])
    code = ("import numpy as np, pyarrow as pa, clicks_model\n"
            "X = np.load('X.npy'); t = pa.table({c: X[:, j] for j, c in enumerate(['a','b','c'])})\n"
            "print(clicks_model.predict(t).tolist())")
    r = subprocess.run([py, "-c", code], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == estimator.predict(data[0]).tolist()


@pytest.mark.parametrize("server", ["uvicorn", "granian"])
def test_cli_serve_bundle_over_http(tmp_path, data, estimator, server):
    from mlcore.serve.server import free_port

    if server == "granian":
        pytest.importorskip("granian")
    _bundle(estimator, data).save(tmp_path / "b")
    port = free_port()
    exe = os.path.join(os.path.dirname(sys.executable), "mlcore")
    errlog = open(tmp_path / "serve.log", "wb")
    proc = subprocess.Popen([exe, "serve", str(tmp_path / "b"), "--port", str(port), "--log", str(tmp_path / "log.duckdb"),
                             "--server", server], stdout=subprocess.DEVNULL, stderr=errlog)
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                with urllib.request.urlopen(url + "/v2/health/ready", timeout=1) as r:
                    if r.status == 200:
                        break
            except Exception:  # noqa: BLE001
                assert proc.poll() is None, (tmp_path / "serve.log").read_text()
                time.sleep(0.1)
        X = data[0][:5]
        body = json.dumps({"inputs": [{"name": "input", "shape": [5, 3], "datatype": "FP64", "data": X.tolist()}]}).encode()
        req = urllib.request.Request(url + "/v2/models/clicks/infer", data=body, headers={"content-type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            out = json.loads(r.read())
        by = {o["name"]: o for o in out["outputs"]}
        assert by["predict"]["data"] == estimator.predict(X).tolist()
        np.testing.assert_allclose(np.array(by["proba"]["data"]).reshape(5, 2), estimator.predict_proba(X), atol=1e-12)
        with urllib.request.urlopen(url + "/v2/models/clicks", timeout=10) as r:
            meta = json.loads(r.read())
        assert [i["name"] for i in meta["inputs"]] == COLS
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        errlog.close()
    duckdb = pytest.importorskip("duckdb")
    con = duckdb.connect(str(tmp_path / "log.duckdb"), read_only=True)
    assert con.execute("select count(*) from predictions_clicks").fetchone()[0] == 5
    con.close()


def test_live_model_follows_a_path(tmp_path, data, estimator):
    X, y, t = data
    _bundle(estimator, data).save(tmp_path / "live")
    live = LiveModel.from_path(str(tmp_path / "live"))
    np.testing.assert_array_equal(live.predict(t), estimator.predict(X))
    flipped = LogisticRegression().fit(X, 1 - y)
    _bundle(flipped, data).save(tmp_path / "next")
    os.rename(tmp_path / "live", tmp_path / "old")
    os.rename(tmp_path / "next", tmp_path / "live")
    assert live.refresh()
    np.testing.assert_array_equal(live.predict(t), flipped.predict(X))
    assert not live.refresh()


def test_cli_serve_refuses_a_tampered_bundle(tmp_path, data, estimator):
    _bundle(estimator, data).save(tmp_path / "b")
    p = tmp_path / "b" / "arrays" / "model.coef.npy"
    raw = bytearray(p.read_bytes())
    raw[-3] ^= 0x10
    p.write_bytes(bytes(raw))
    exe = os.path.join(os.path.dirname(sys.executable), "mlcore")
    r = subprocess.run([exe, "serve", str(tmp_path / "b"), "--port", "1"], capture_output=True, text=True, timeout=120)
    assert r.returncode != 0
    assert "model.coef.npy" in r.stderr and "SHA-256" in r.stderr


def test_tree_bundle_round_trip_and_bench_against_lightgbm(tmp_path):
    lgb = pytest.importorskip("lightgbm")
    from click.testing import CliRunner

    from mlcore.cli import main

    rng = np.random.default_rng(5)
    X = rng.normal(size=(2000, 6))
    X[rng.random(X.shape) < 0.05] = np.nan
    y = (np.nan_to_num(X[:, 0]) + np.nan_to_num(X[:, 1]) > 0).astype(int)
    booster = lgb.train({"objective": "binary", "num_leaves": 15, "verbose": -1, "num_threads": 1},
                        lgb.Dataset(X, y), num_boost_round=40)
    cols = [f"f{j}" for j in range(6)]
    b = Bundle(compile_model(booster), input_columns=cols)
    b.save(tmp_path / "trees")
    loaded = Bundle.load(tmp_path / "trees")
    t = pa.table({c: X[:, j] for j, c in enumerate(cols)})
    np.testing.assert_allclose(np.asarray(loaded.predict_proba(t))[:, -1] if np.asarray(loaded.predict_proba(t)).ndim == 2
                               else loaded.predict_proba(t), booster.predict(X), rtol=0, atol=1e-9)
    booster.save_model(str(tmp_path / "model.txt"))
    r = CliRunner().invoke(main, ["bench", str(tmp_path / "trees"), "--rows", "500", "--calls", "200", "--threads", "1",
                                  "--against", str(tmp_path / "model.txt")])
    assert r.exit_code == 0, r.output
    assert "original (lightgbm)" in r.output and "mlcore (row path)" in r.output


def test_served_tree_bundle_single_rows_and_batches(tmp_path):
    lgb = pytest.importorskip("lightgbm")
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "serve"))
    from serve_helpers import AsgiClient

    from mlcore.serve.app import InferenceApp
    from mlcore.serve.predictor import served_model

    rng = np.random.default_rng(8)
    X = rng.normal(size=(1500, 5))
    y = (X[:, 0] - X[:, 2] > 0).astype(int)
    booster = lgb.train({"objective": "binary", "num_leaves": 7, "verbose": -1, "num_threads": 1},
                        lgb.Dataset(X, y), num_boost_round=25)
    Bundle(compile_model(booster), input_columns=[f"f{j}" for j in range(5)]).save(tmp_path / "t")
    c = AsgiClient(InferenceApp([served_model(Bundle.load(tmp_path / "t"), name="t", version="1")])).start()
    try:
        for rows in (X[:1], X[1:2], X[:7]):
            body = json.dumps({"inputs": [{"name": "input", "shape": list(rows.shape), "datatype": "FP64",
                                           "data": rows.tolist()}]}).encode()
            r = c.request("POST", "/v2/models/t/infer", body)
            assert r["status"] == 200, r["body"]
            out = {o["name"]: o for o in json.loads(r["body"])["outputs"]}
            p = np.array(out["proba"]["data"]).reshape(len(rows), 2)[:, 1]
            np.testing.assert_allclose(p, booster.predict(rows), rtol=0, atol=1e-9)
            assert out["predict"]["data"] == (booster.predict(rows) > 0.5).astype(int).tolist()
    finally:
        c.stop()
