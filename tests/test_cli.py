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


def test_demo_console_script(tmp_path):
    exe = shutil.which("mlcore", path=os.path.dirname(sys.executable)) or shutil.which("mlcore")
    assert exe, "console script `mlcore` is not installed"
    proc = subprocess.run([exe, "demo", "--out", str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "wrote 336,776 flights" in proc.stdout
    assert "flights arriving more than 15 minutes late: 77,630" in proc.stdout
    t = pq.read_table(tmp_path / "flights.parquet")
    assert t.num_rows == 336_776
