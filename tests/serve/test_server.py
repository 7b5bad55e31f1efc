"""A real HTTP server on loopback: bounded load with a hot swap in the middle, graceful shutdown."""

from __future__ import annotations

import http.client
import json
import threading
import time

import numpy as np
import pytest

pytest.importorskip("uvicorn")

from mlcore.serve.app import InferenceApp  # noqa: E402
from mlcore.serve.server import ServerThread  # noqa: E402
from serve_helpers import affine_model  # noqa: E402


def _body(x):
    return json.dumps({"inputs": [
        {"name": "x", "shape": [1], "datatype": "FP64", "data": [x]},
        {"name": "y", "shape": [1], "datatype": "FP64", "data": [0.0]}]})


def _client_loop(port, n, out, start_idx):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for i in range(n):
        conn.request("POST", "/v2/models/affine/infer", body=_body(float(start_idx + i)),
                     headers={"content-type": "application/json"})
        r = conn.getresponse()
        out.append((r.status, r.read()))
    conn.close()


def test_bounded_load_with_hot_swap_has_zero_failures():
    app = InferenceApp([affine_model(version="1", shift=1.0)])
    with ServerThread(app) as srv:
        results: list = []
        threads = [threading.Thread(target=_client_loop, args=(srv.port, 150, results, k * 1000)) for k in range(8)]
        for t in threads:
            t.start()
        while len(results) < 400:
            time.sleep(0.005)
        app.swap(affine_model(version="2", shift=100.0))
        for t in threads:
            t.join(timeout=120)
    assert len(results) == 8 * 150
    assert all(status == 200 for status, _ in results), {s for s, _ in results}
    versions = [json.loads(b)["model_version"] for _, b in results]
    assert {"1", "2"} <= set(versions)


def test_graceful_shutdown_drains_in_flight_requests():
    slow = affine_model()
    base = slow.infer

    def infer(t):
        time.sleep(0.3)
        return base(t)

    slow.infer = infer
    app = InferenceApp([slow], batching=False)
    srv = ServerThread(app).start()
    results: list = []
    threads = [threading.Thread(target=_client_loop, args=(srv.port, 1, results, k)) for k in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.1)  # the requests are in flight
    srv.stop()
    for t in threads:
        t.join(timeout=30)
    assert [s for s, _ in results] == [200] * 4
    assert not srv.thread.is_alive()
    out = np.array([json.loads(b)["outputs"][0]["data"][0] for _, b in results])
    assert sorted(out) == sorted(2.0 * np.arange(4) + 1.0)
