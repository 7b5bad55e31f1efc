"""The wheel holds mlcore/_kernels and no top-level kernels; the editable install leaks nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile

import pytest

import mlcore

REPO = os.path.dirname(os.path.dirname(os.path.abspath(mlcore.__file__)))


def test_wheel_layout(tmp_path):
    pytest.importorskip("setuptools")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), REPO],
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    wheels = list(tmp_path.glob("mlcore-*.whl"))
    assert len(wheels) == 1
    names = zipfile.ZipFile(wheels[0]).namelist()
    assert "mlcore/_kernels/_jit.py" in names
    assert "mlcore/_kernels/reduce.py" in names
    assert "mlcore/__init__.py" in names and "mlcore/errors.py" in names
    assert not [n for n in names if n.startswith("kernels/")]
    top = {n.split("/")[0] for n in names}
    assert top <= {"mlcore", next(n.split("/")[0] for n in names if ".dist-info/" in n)}
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "mlcore = mlcore.cli:main" in zipfile.ZipFile(wheels[0]).read(entry).decode()


def test_no_top_level_kernels_module(tmp_path):
    code = "import importlib.util, mlcore._kernels as k; print(importlib.util.find_spec('kernels'), k.__name__)"
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["None", "mlcore._kernels"]
