"""Lazy public names for a stage package: ``from mlcore.monitor import DriftMonitor`` loads only the
submodule that defines it, so that ``mlcore <stage> --help`` (which imports the stage's ``cli``
submodule, hence its package) does not pay for Numba, SciPy and the kernels.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any, Callable


class _LazyPackage(types.ModuleType):
    """Keeps a public name bound to its function when a submodule of the same name is imported
    (``mlcore.monitor.profile`` the function vs the submodule ``profile``): the import machinery
    would otherwise rebind the package attribute to the module (which stays in sys.modules)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self.__dict__.get("_LAZY_WHERE", ()) and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


def lazy_exports(package: str, exports: dict[str, list[str]]) -> tuple[list[str], Callable, Callable]:
    """``(__all__, __getattr__, __dir__)`` for ``package`` whose public names are
    ``{submodule: [names]}``; call at the end of the package's ``__init__``."""
    where = {name: mod for mod, names in exports.items() for name in names}
    public = list(where)
    namespace = sys.modules[package].__dict__

    def __getattr__(name: str) -> Any:
        mod = where.get(name)
        if mod is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f".{mod}", package), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(public))

    namespace["_LAZY_WHERE"] = where
    sys.modules[package].__class__ = _LazyPackage
    return public, __getattr__, __dir__
