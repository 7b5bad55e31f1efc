"""mlcore: the whole machine-learning life cycle on one compiled core.

Stages are subpackages, imported on first use so that ``import mlcore`` stays cheap:
``mlcore.goals``, ``mlcore.data``, ``mlcore.features``, ``mlcore.train``, ``mlcore.evaluate``,
``mlcore.deploy``, ``mlcore.serve``, ``mlcore.monitor``, ``mlcore.maintain``; column operations
live in ``mlcore.compute`` and every exception in ``mlcore.errors``.
"""

from __future__ import annotations

import importlib
from typing import Any

from ._version import __version__
from .errors import (
    ArtifactError,
    CopyWarning,
    MlcoreError,
    NotFittedError,
    SchemaError,
    ShapeError,
)

__all__ = [
    "__version__",
    "show_config",
    "MlcoreError",
    "SchemaError",
    "ShapeError",
    "NotFittedError",
    "ArtifactError",
    "CopyWarning",
    "compute",
    "errors",
    "goals",
    "data",
    "features",
    "train",
    "evaluate",
    "deploy",
    "serve",
    "monitor",
    "maintain",
]

_LAZY = {"compute", "errors", "goals", "data", "features", "train", "evaluate", "deploy", "serve", "monitor", "maintain"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module = importlib.import_module(f".{name}", __name__)
        globals()[name] = module
        return module
    raise AttributeError(f"module 'mlcore' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _LAZY)


def show_config() -> dict:
    """Versions, the kernel cache directory and the threading layer in use, as a dict."""
    import numba
    import numpy
    import pyarrow

    from ._kernels import _jit

    return {
        "mlcore": __version__,
        "numba": numba.__version__,
        "numpy": numpy.__version__,
        "pyarrow": pyarrow.__version__,
        "kernel_cache_dir": _jit.CACHE_DIR,
        "threading_layer": _jit.THREADING_LAYER,
        "num_threads": numba.get_num_threads(),
    }
