"""Micro-batching is correct by construction; overload and deadlines answer, never hang;
hot swap under load fails no request; the prediction log writes typed rows to DuckDB."""

from __future__ import annotations

import asyncio
import json
import time

import numpy as np
import pyarrow as pa
import pytest

from mlcore.serve.app import InferenceApp
from mlcore.serve.batching import DeadlineExceeded, MicroBatcher, Overloaded
from serve_helpers import AsgiClient, affine_model


def _body(xs, ys):
    return json.dumps({"inputs": [
        {"name": "x", "shape": [len(xs)], "datatype": "FP64", "data": list(xs)},
        {"name": "y", "shape": [len(ys)], "datatype": "FP64", "data": list(ys)}]}).encode()


def test_each_request_gets_exactly_its_rows():
    sizes = []

    def fn(t):
        sizes.append(t.num_rows)
        time.sleep(0.002)  # let requests pile up behind the running batch
        x = t.column("x").to_numpy()
        return {"echo": x.copy(), "twice": 2 * x}

    async def main():
        b = MicroBatcher(fn, max_batch_rows=64)
        b.start()
        rng = np.random.default_rng(0)
        reqs = []
        for i in range(300):
            n = int(rng.integers(1, 5))
            reqs.append(pa.table({"x": np.arange(n, dtype=np.float64) + 1000 * i}))
        outs = await asyncio.gather(*(b.submit(t) for t in reqs))
        await b.stop()
        return reqs, outs

    reqs, outs = asyncio.run(main())
    for t, o in zip(reqs, outs):
        np.testing.assert_array_equal(o["echo"], t.column("x").to_numpy())
        np.testing.assert_array_equal(o["twice"], 2 * t.column("x").to_numpy())
    assert max(sizes) > 1, "no batch was ever formed"
    assert max(sizes) <= 64 + 4
    assert sum(sizes) == sum(t.num_rows for t in reqs)


def test_failing_request_fails_alone():
    def fn(t):
        x = t.column("x").to_numpy()
        if (x < 0).any():
            raise ValueError("negative x")
        time.sleep(0.001)
        return {"x": x.copy()}

    async def main():
        b = MicroBatcher(fn, max_batch_rows=100)
        results = await asyncio.gather(*(b.submit(pa.table({"x": [float(i if i != 7 else -1)]})) for i in range(20)),
                                       return_exceptions=True)
        await b.stop()
        return results

    res = asyncio.run(main())
    assert isinstance(res[7], ValueError)
    assert all(r["x"][0] == i for i, r in enumerate(res) if i != 7)


def test_overload_and_deadline():
    def slow(t):
        time.sleep(0.3)
        return {"x": t.column("x").to_numpy()}

    async def main():
        b = MicroBatcher(slow, max_batch_rows=1, max_queue_rows=3, deadline_s=0.1, inline_rows=0)
        tasks = [asyncio.ensure_future(b.submit(pa.table({"x": [1.0]}))) for _ in range(5)]
        res = await asyncio.gather(*tasks, return_exceptions=True)
        await b.stop()
        return res

    res = asyncio.run(main())
    kinds = {type(r) for r in res}
    assert Overloaded in kinds and DeadlineExceeded in kinds


def test_hot_swap_under_load_fails_nothing():
    app = InferenceApp([affine_model(version="1", shift=1.0)])
    c = AsgiClient(app).start()

    async def load():
        results = []

        async def one(i):
            r = await c.arequest("POST", "/v2/models/affine/infer", _body([float(i)], [0.0]))
            results.append(r)

        tasks = []
        for i in range(400):
            tasks.append(asyncio.ensure_future(one(i)))
            if i == 200:
                await asyncio.get_running_loop().run_in_executor(None, app.swap, affine_model(version="2", shift=100.0))
            await asyncio.sleep(0)
        await asyncio.gather(*tasks)
        return results

    try:
        results = c.loop.run_until_complete(load())
    finally:
        c.stop()
    assert len(results) == 400
    assert all(r["status"] == 200 for r in results), [r for r in results if r["status"] != 200][:3]
    versions = [json.loads(r["body"])["model_version"] for r in results]
    assert versions.count("2") > 0 and versions.count("1") > 0
    for r in results:
        out = json.loads(r["body"])
        pred = out["outputs"][0]["data"][0]
        # each answer is consistent with exactly one model version
        assert (pred - 1.0) % 2 == 0 or (pred - 100.0) % 2 == 0


def test_failed_swap_keeps_old_model():
    app = InferenceApp([affine_model(version="1")])
    broken = affine_model(version="2")

    def boom(t):
        raise RuntimeError("kernel failed to load")

    broken.infer = boom
    with pytest.raises(RuntimeError, match="failed to load"):
        app.swap(broken)
    assert app.slots["affine"].model.version == "1"


def test_prediction_log_writes_typed_rows(tmp_path):
    duckdb = pytest.importorskip("duckdb")
    from mlcore.serve.predlog import PredictionLog

    path = str(tmp_path / "monitor.duckdb")
    log = PredictionLog(path)
    app = InferenceApp([affine_model()], prediction_log=log)
    c = AsgiClient(app).start()
    ids = []
    for i in range(5):
        r = c.request("POST", "/v2/models/affine/infer", _body([float(i), 1.0], [0.0, 0.0]))
        ids += json.loads(r["body"])["parameters"]["prediction_ids"]
    log.flush()
    c.stop()  # closes the log
    con = duckdb.connect(path, read_only=True)
    rows = con.execute("select prediction_id, in_x, out_predict, out_label, version, bundle_hash "
                       "from predictions_affine order by ts, in_x").fetchall()
    con.close()
    assert len(rows) == 10 and sorted(r[0] for r in rows) == sorted(ids)
    assert {r[1] for r in rows} == {0.0, 1.0, 2.0, 3.0, 4.0}
    assert all(r[2] == 2 * r[1] + 1 for r in rows) and all(r[4] == "1" for r in rows)
    assert log.dropped == 0 and log.errors == 0


def test_prediction_log_never_blocks_when_full(tmp_path):
    pytest.importorskip("duckdb")
    from mlcore.serve.predlog import PredictionLog

    log = PredictionLog(str(tmp_path / "m.duckdb"), max_queue=1, flush_interval_s=0.5)
    t = pa.table({"x": [1.0]})
    start = time.perf_counter()
    for _ in range(200):
        log.log(["id"], "m", "1", "h", 1.0, t, {"p": np.array([1.0])})
    assert time.perf_counter() - start < 1.0
    assert log.dropped > 0
    log.close()
