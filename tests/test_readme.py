"""The README's two commands exist, and .ci/run runs the test command exactly."""

from __future__ import annotations

import os
import re

import mlcore

REPO = os.path.dirname(os.path.dirname(os.path.abspath(mlcore.__file__)))


def _readme_commands():
    with open(os.path.join(REPO, "README.md"), encoding="utf-8") as f:
        text = f.read()
    section = text.split("## On a fresh machine", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```(?:sh|bash)\n(.*?)\n```", section, flags=re.S)


def test_readme_has_exactly_two_commands():
    cmds = _readme_commands()
    assert len(cmds) == 2, cmds
    assert "mlcore demo" in cmds[0]
    assert "pytest" in cmds[1]


def test_ci_runs_the_readme_test_command():
    with open(os.path.join(REPO, ".ci", "run"), encoding="utf-8") as f:
        ci = f.read()
    assert _readme_commands()[1].strip() in ci.splitlines()
