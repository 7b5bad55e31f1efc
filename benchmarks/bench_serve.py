"""On-demand serving over loopback HTTP: mlcore's OIP server against a raw ASGI constant endpoint.

Each server runs in its own uvicorn subprocess (one worker, uvloop + httptools) on 127.0.0.1; the
load comes from `hey` (Debian package), bounded by request count. Single-row JSON requests of the
LogisticRegression model (a) of the compiled-models issue (100 features). Reported: requests/s,
p50 and p99 latency at 1 and 32 connections. Run:

    python -m pytest -c benchmarks/pytest.ini benchmarks/bench_serve.py --benchmark-json=.benchmarks/serve.json
    python benchmarks/report_serve.py .benchmarks/serve.json
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

import numpy as np
import pytest

HEY = shutil.which("hey")
pytestmark = pytest.mark.skipif(HEY is None, reason="needs `hey` (apt-get install hey)")
N_FEATURES = 100
HERE = os.path.dirname(__file__)


@pytest.fixture(scope="module")
def bundle_dir():
    from sklearn.linear_model import LogisticRegression

    from mlcore.deploy.bundle import Bundle
    from mlcore.train import compile_model

    rng = np.random.default_rng(0)
    X = rng.normal(size=(5000, N_FEATURES))
    y = (X @ rng.normal(size=N_FEATURES) > 0).astype(int)
    model = compile_model(LogisticRegression(max_iter=500).fit(X, y))
    d = tempfile.mkdtemp(prefix="mlcore-bench-serve-")
    Bundle(model, input_columns=[f"x{j}" for j in range(N_FEATURES)]).save(os.path.join(d, "bundle"))
    yield os.path.join(d, "bundle")
    shutil.rmtree(d, ignore_errors=True)


def _free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(factory, env, server="uvicorn"):
    port = _free_port()
    if server == "uvicorn":
        cmd = [sys.executable, "-m", "uvicorn", f"serve_apps:{factory}", "--factory", "--app-dir", HERE,
               "--host", "127.0.0.1", "--port", str(port), "--loop", "uvloop", "--http", "httptools",
               "--log-level", "warning", "--no-access-log"]
    else:
        cmd = [os.path.join(os.path.dirname(sys.executable), "granian"), "--interface", "asgi", "--factory",
               "--working-dir", HERE, "--host", "127.0.0.1", "--port", str(port), "--loop", "uvloop",
               "--workers", "1", "--no-ws", "--log-level", "warning", f"serve_apps:{factory}"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            with urllib.request.urlopen(url + "/v2/health/ready", timeout=1):
                return proc, url
        except Exception:  # noqa: BLE001
            if proc.poll() is not None:
                raise RuntimeError(proc.stderr.read().decode()[-2000:])
            time.sleep(0.1)
    proc.kill()
    raise TimeoutError(f"{factory} did not start")


def _hey(url, body_path, n, c):
    out = subprocess.run([HEY, "-n", str(n), "-c", str(c), "-m", "POST", "-T", "application/json",
                          "-D", body_path, "-t", "10", url], capture_output=True, text=True, timeout=300).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = float(re.search(r"50%+ in ([\d.]+) secs", out).group(1))
    p99 = float(re.search(r"99%+ in ([\d.]+) secs", out).group(1))
    codes = dict(re.findall(r"\[(\d+)\]\s+(\d+) responses", out))
    return {"rps": rps, "p50_ms": p50 * 1e3, "p99_ms": p99 * 1e3, "codes": codes}


@pytest.mark.parametrize("conns", [1, 32])
@pytest.mark.parametrize("server", ["uvicorn", "granian"])
@pytest.mark.parametrize("impl", ["raw", "mlcore_unbatched", "mlcore_batched"])
def bench_serve(benchmark, bundle_dir, impl, server, conns):
    if server == "granian" and not shutil.which("granian", path=os.path.dirname(sys.executable)):
        pytest.skip("granian is not installed")
    benchmark.group = f"serve/{conns}conn"
    env = dict(os.environ, MLCORE_BENCH_BUNDLE=bundle_dir)
    proc, url = _start(impl, env, server)
    row = np.random.default_rng(1).normal(size=N_FEATURES).tolist()
    body = json.dumps({"inputs": [{"name": "input", "shape": [1, N_FEATURES], "datatype": "FP64", "data": row}]})
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        f.write(body)
    target = url + ("/v2/models/m/infer")
    try:
        _hey(target, f.name, 500, conns)  # warm-up
        n = 4000 if conns == 1 else 12000
        result = benchmark.pedantic(_hey, args=(target, f.name, n, conns), rounds=1, iterations=1)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        proc.stderr.close()
        os.unlink(f.name)
    assert set(result["codes"]) == {"200"}, result["codes"]
    benchmark.extra_info.update(result)
