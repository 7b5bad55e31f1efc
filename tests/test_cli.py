from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pyarrow as pa
import pyarrow.parquet as pq
from click.testing import CliRunner

import mlcore
from mlcore.cli import main


def test_version_and_help():
    r = CliRunner().invoke(main, ["--version"])
    assert r.exit_code == 0 and mlcore.__version__ in r.output
    r = CliRunner().invoke(main, ["--help"])
    assert r.exit_code == 0 and "demo" in r.output and "describe" in r.output


def test_describe_parquet(tmp_path):
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"x": [1.0, None, 3.0], "s": ["a", "b", None]}), path)
    r = CliRunner().invoke(main, ["describe", str(path)])
    assert r.exit_code == 0, r.output
    assert "3 rows x 2 columns" in r.output
    line = next(ln for ln in r.output.splitlines() if ln.strip().startswith("x "))
    assert line.split()[:8] == ["x", "double", "3", "1", "0", "0", "2", "1.41421"]


def test_describe_unknown_format(tmp_path):
    p = tmp_path / "data.bin"
    p.write_bytes(b"x")
    r = CliRunner().invoke(main, ["describe", str(p)])
    assert r.exit_code == 2 and "cannot tell the format" in r.output


def test_info():
    r = CliRunner().invoke(main, ["info"])
    assert r.exit_code == 0 and "threading_layer" in r.output


def test_demo_console_script_help():
    # the demo itself runs end to end in tests/demo/test_demo_end_to_end.py
    exe = shutil.which("mlcore", path=os.path.dirname(sys.executable)) or shutil.which("mlcore")
    assert exe, "console script `mlcore` is not installed"
    proc = subprocess.run([exe, "demo", "--help"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    for opt in ("--out", "--months", "--sample", "--quick", "--seed"):
        assert opt in proc.stdout, opt
