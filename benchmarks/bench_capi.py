"""libmlcore from C: fast-path overhead over the compiled kernel, single-row latency, start time.

Everything is timed inside one C program per model (``benchmarks/capi_bench.c``), in the same
run: the model's row function called directly through its descriptor (the floor) against
``mlcore_predict_row_fast``, plus ``mlcore_predict`` with one row (the Python path) for scale,
and ``mlcore_init``/``mlcore_load``/first-call times. Models: (a) LogisticRegression on 100
features (probabilities), and (c) LightGBM 500 trees x 31 leaves on 50 features (raw score)
where the compiled tree models are present. Targets (issue 9): overhead <= 100 ns per call;
fast-path p50 within 1.2x of the kernel's. One thread. Run:

    python -m pytest -c benchmarks/pytest.ini benchmarks/bench_capi.py --benchmark-json=.benchmarks/capi.json
    python benchmarks/bench_capi.py .benchmarks/capi.json     # the Markdown table
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
N_ROWS = 1000  # distinct rows, cycled
LOOP_CALLS = 200_000
REPS = 15
SAMPLES = 20_000

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")


@pytest.fixture(scope="module")
def workdir():
    d = Path(tempfile.mkdtemp(prefix="mlcore-bench-capi-"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def bench_prog(workdir) -> Path:
    from mlcore import capi

    lib = capi.build(workdir / "lib")
    prog = workdir / "capi_bench"
    subprocess.run(["gcc", "-O2", "-std=c11", str(HERE / "capi_bench.c"), f"-I{capi.default_bindings_dir()}",
                    f"-I{lib.parent}", f"-L{lib.parent}", "-lmlcore", f"-Wl,-rpath,{lib.parent}", "-lm", "-o",
                    str(prog)], check=True, timeout=300)
    return prog


def _linear_bundle(workdir: Path) -> tuple[str, np.ndarray]:
    from sklearn.linear_model import LogisticRegression

    from mlcore.deploy.bundle import Bundle
    from mlcore.train import compile_model

    rng = np.random.default_rng(0)
    X = rng.normal(size=(5000, 100))
    y = (X @ rng.normal(size=100) > 0).astype(int)
    path = workdir / "linear"
    Bundle(compile_model(LogisticRegression(max_iter=500).fit(X, y)),
           input_columns=[f"x{j}" for j in range(100)]).save(path)
    return str(path), rng.normal(size=(N_ROWS, 100))


def _lightgbm_bundle(workdir: Path) -> tuple[str, np.ndarray]:
    lgb = pytest.importorskip("lightgbm")
    trees = pytest.importorskip("mlcore.train.trees")
    if not hasattr(trees, "load_tree_model"):
        pytest.skip("tree bundles do not load yet (mlcore.train.compile.load_model needs trees.load_tree_model)")
    from mlcore.deploy.bundle import Bundle
    from mlcore.train import compile_model

    rng = np.random.default_rng(0)
    X = rng.normal(size=(20_000, 50))
    y = X[:, :10] @ rng.normal(size=10) + np.sin(X[:, 10]) + 0.1 * rng.normal(size=len(X))
    est = lgb.LGBMRegressor(n_estimators=500, num_leaves=31, learning_rate=0.05, min_child_samples=5,
                            verbose=-1, n_jobs=1).fit(X, y)
    try:
        model = compile_model(est)
    except Exception as exc:  # noqa: BLE001  (tree models not merged into this checkout)
        pytest.skip(f"compiled tree models unavailable: {exc}")
    path = workdir / "lightgbm"
    Bundle(model, input_columns=[f"x{j}" for j in range(50)]).save(path)
    return str(path), rng.normal(size=(N_ROWS, 50))


def _run(prog: Path, bundle: str, rows: np.ndarray, workdir: Path) -> dict:
    rows_file = workdir / (Path(bundle).name + ".rows")
    np.ascontiguousarray(rows, dtype=np.float64).tofile(rows_file)
    res = subprocess.run([str(prog), bundle, str(rows_file), str(len(rows)), str(LOOP_CALLS), str(REPS),
                          str(SAMPLES)], capture_output=True, text=True, timeout=600)
    if res.returncode != 0:
        raise RuntimeError(res.stderr[-3000:])
    return json.loads(res.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("model", ["a_logistic_100", "c_lightgbm_500x31"])
def bench_capi_row(benchmark, bench_prog, workdir, model):
    bundle, rows = (_linear_bundle if model.startswith("a_") else _lightgbm_bundle)(workdir)
    result = benchmark.pedantic(_run, args=(bench_prog, bundle, rows, workdir), rounds=1, iterations=1)
    result["fast_over_kernel_p50"] = result["fast_p50_ns"] / result["kernel_p50_ns"]
    benchmark.extra_info.update(result)


def report(json_path: str) -> str:
    with open(json_path) as f:
        data = json.load(f)
    head = ["model", "kernel loop ns/call", "fast loop ns/call", "overhead ns", "kernel p50 / p99 ns",
            "fast p50 / p99 ns", "fast / kernel p50", "Python path (1 row) p50 µs", "mlcore_init s",
            "mlcore_load ms", "first fast call µs"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for b in data["benchmarks"]:
        r = b["extra_info"]
        name = b["name"].split("[", 1)[1].rstrip("]")
        lines.append("| " + " | ".join([
            name, f"{r['kernel_loop_ns']:.1f}", f"{r['fast_loop_ns']:.1f}", f"{r['overhead_loop_ns']:.1f}",
            f"{r['kernel_p50_ns']:.0f} / {r['kernel_p99_ns']:.0f}", f"{r['fast_p50_ns']:.0f} / {r['fast_p99_ns']:.0f}",
            f"{r['fast_over_kernel_p50']:.2f}×", f"{r['python_row_p50_ns'] / 1e3:.1f}", f"{r['init_s']:.2f}",
            f"{r['load_s'] * 1e3:.1f}", f"{r['first_fast_call_us']:.1f}"]) + " |")
    machine = data.get("machine_info", {})
    lines.append("")
    lines.append(f"{machine.get('cpu', {}).get('brand_raw', '?')}, python {machine.get('python_version', '?')}, "
                 f"{data.get('datetime', '')[:10]}; loops: median of {REPS} x {LOOP_CALLS} calls; "
                 f"latency: {SAMPLES} timed calls each")
    text = "\n".join(lines)
    print(text)
    return text


if __name__ == "__main__":
    report(sys.argv[1] if len(sys.argv) > 1 else os.path.join(".benchmarks", "capi.json"))
