"""Static deployment: an installable wheel that contains a bundle.

Upgrading the model means upgrading the package. The generated package exposes ``load()``
(verifying the bundle against the content hash written into its code at build time), ``predict``
and ``predict_proba``, and depends on this version of mlcore.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile

from .._version import __version__
from .artifact import read_artifact

__all__ = ["build_wheel"]

_INIT = '''"""{name}: a model packaged by mlcore {mlcore_version}.

Bundle content hash: {digest}
"""

import os as _os

CONTENT_HASH = "{digest}"
__version__ = "{version}"
_BUNDLE = None


def bundle_path():
    return _os.path.join(_os.path.dirname(__file__), "bundle")


def load():
    """The packaged bundle, verified against the content hash recorded at build time."""
    global _BUNDLE
    if _BUNDLE is None:
        from mlcore.deploy.bundle import Bundle

        _BUNDLE = Bundle.load(bundle_path(), expected_hash=CONTENT_HASH)
    return _BUNDLE


def predict(data):
    return load().predict(data)


def predict_proba(data):
    return load().predict_proba(data)
'''

_PYPROJECT = '''[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "{dist}"
version = "{version}"
description = "Model bundle {digest} packaged by mlcore"
requires-python = ">=3.10"
dependencies = ["mlcore=={mlcore_version}"]

[tool.setuptools]
packages = ["{name}"]

[tool.setuptools.package-data]
"{name}" = ["bundle/*", "bundle/arrays/*"]
'''


def build_wheel(bundle_path: str, out_dir: str, *, name: str, version: str = "1.0.0") -> str:
    """Build ``<name>-<version>-py3-none-any.whl`` into ``out_dir``; returns the wheel's path.

    ``name`` must be a valid Python package name (it is the import name and the distribution name).
    """
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise ValueError(f"package name {name!r} must be a Python identifier (letters, digits, '_')")
    if not re.fullmatch(r"\d+(\.\d+)*([ab]|rc)?\d*", version):
        raise ValueError(f"version {version!r} is not a PEP 440 release version like 1.0.0")
    read_artifact(bundle_path)  # refuse to package a tampered bundle
    with open(os.path.join(bundle_path, "CONTENT_HASH")) as f:
        digest = f.read().strip()
    os.makedirs(out_dir, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mlcore-package-") as tmp:
        pkg = os.path.join(tmp, name)
        shutil.copytree(bundle_path, os.path.join(pkg, "bundle"))
        fields = dict(name=name, dist=name.replace("_", "-"), version=version, digest=digest, mlcore_version=__version__)
        with open(os.path.join(pkg, "__init__.py"), "w") as f:
            f.write(_INIT.format(**fields))
        with open(os.path.join(tmp, "pyproject.toml"), "w") as f:
            f.write(_PYPROJECT.format(**fields))
        proc = subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", out_dir, tmp],
            capture_output=True, text=True,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"building the wheel failed:\n{proc.stderr[-4000:]}")
    wheels = [w for w in os.listdir(out_dir) if w.startswith(f"{name}-{version}-") and w.endswith(".whl")]
    if not wheels:
        raise RuntimeError(f"pip reported success but no wheel for {name} {version} is in {out_dir}")
    return os.path.join(out_dir, sorted(wheels)[-1])
