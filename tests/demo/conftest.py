"""One reduced run of ``mlcore demo`` per test session, through the installed console script,
shared by the end-to-end test and the browser test."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory):
    exe = shutil.which("mlcore", path=os.path.dirname(sys.executable)) or shutil.which("mlcore")
    assert exe, "console script `mlcore` is not installed"
    out = tmp_path_factory.mktemp("demo") / "out"
    proc = subprocess.run([exe, "demo", "--quick", "--out", str(out)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    with open(out / "story.json", encoding="utf-8") as f:
        story = json.load(f)
    return {"out": out, "stdout": proc.stdout, "stderr": proc.stderr, "story": story}
