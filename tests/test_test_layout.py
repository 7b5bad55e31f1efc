"""Test folders have no __init__.py, so two test files with the same name would shadow each other
at collection: keep every test module's base name unique."""

from __future__ import annotations

import collections
import os


def test_test_module_names_are_unique():
    here = os.path.dirname(os.path.abspath(__file__))
    seen = collections.defaultdict(list)
    for root, _, files in os.walk(here):
        for f in files:
            if f.startswith("test_") and f.endswith(".py"):
                seen[f].append(os.path.relpath(os.path.join(root, f), here))
    dups = {k: v for k, v in seen.items() if len(v) > 1}
    assert not dups, f"test modules with the same name: {dups}"
