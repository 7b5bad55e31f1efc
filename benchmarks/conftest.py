"""Shared fixtures of the benchmark suites."""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
import pytest


@pytest.fixture(scope="session")
def cold_start():
    """``run(code, runs=3)``: run ``python -c code`` once to warm the kernel caches, then ``runs``
    times in fresh interpreters; returns the medians of (process wall seconds, *the numbers the code
    prints on its last line)."""

    def run(code: str, runs: int = 3) -> list[float]:
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            r = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
            wall = time.perf_counter() - t0
            times.append([wall, *map(float, r.stdout.strip().splitlines()[-1].split())])
        return [float(v) for v in np.median(np.array(times), axis=0)]

    return run
