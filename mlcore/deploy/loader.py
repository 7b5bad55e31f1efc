"""Dynamic deployment on the user's device: follow a registry alias (or a bundle path), swap models
without a restart.

``LiveModel`` serves predictions from the bundle an alias points to. ``LiveModel.from_path``
follows a bundle folder instead (replaced by a new bundle moved into place), by its content hash. ``refresh()`` (or a polling
thread from ``start()``) checks the alias; when it moved, the new version is loaded, verified
against its content hash and warmed on a sample *before* it replaces the old one, in one reference
assignment. A version that fails to load or verify is recorded in ``last_error`` and the old one
keeps serving.
"""

from __future__ import annotations

import os
import threading
from typing import Any, Callable

import numpy as np

from .bundle import Bundle
from .registry import Registry

__all__ = ["LiveModel"]


class LiveModel:
    """A model that follows ``registry``'s ``alias`` of ``name``.

    Examples
    --------
    >>> live = LiveModel("registry/", "flights", alias="production")   # doctest: +SKIP
    >>> live.predict(table)                                            # doctest: +SKIP
    >>> live.start(interval_s=30)   # poll in the background           # doctest: +SKIP
    """

    def __init__(self, registry: Registry | str, name: str, *, alias: str = "production",
                 warm: Callable[[Bundle], Any] | None = None, on_swap: Callable[[int, int | None], None] | None = None):
        self.registry = registry if isinstance(registry, Registry) else Registry(registry)
        self.name = name
        self.alias = alias
        self._warm = warm
        self._on_swap = on_swap
        self.version: int | None = None
        self.bundle: Bundle | None = None
        self.last_error: str | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._path = None
        if not self.refresh() and self.bundle is None:
            raise RuntimeError(f"could not load `{name}`@{alias}: {self.last_error}")

    @classmethod
    def from_path(cls, path: str, *, warm: Callable[[Bundle], Any] | None = None,
                  on_swap: Callable[[Any, Any], None] | None = None) -> "LiveModel":
        """Follow the bundle folder at ``path``: a new bundle moved into its place is picked up by
        ``refresh()`` (its content hash changed), verified and warmed first."""
        self = cls.__new__(cls)
        self.registry, self.name, self.alias, self._path = None, os.path.basename(os.path.abspath(path)), None, path
        self._warm, self._on_swap = warm, on_swap
        self.version = self.bundle = self.last_error = None
        self._lock, self._stop, self._thread = threading.Lock(), threading.Event(), None
        if not self.refresh() and self.bundle is None:
            raise RuntimeError(f"could not load the bundle at {path!r}: {self.last_error}")
        return self

    def _current(self):
        """(version, bundle path, expected hash) of what should be served now."""
        if self.registry is None:
            with open(os.path.join(self._path, "CONTENT_HASH")) as f:
                digest = f.read().strip()
            return digest, self._path, digest
        mv = self.registry.get(self.name, self.alias)
        return mv.version, mv.path, mv.content_hash

    def refresh(self) -> bool:
        """Load the alias's (or path's) current version if it changed; True when a swap happened."""
        with self._lock:
            try:
                version, path, digest = self._current()
            except (KeyError, OSError) as exc:
                self.last_error = str(exc)
                return False
            if version == self.version:
                return False
            try:
                bundle = Bundle.load(path, expected_hash=digest)
                if self._warm is not None:
                    self._warm(bundle)
            except Exception as exc:  # noqa: BLE001 - keep serving the old version
                self.last_error = f"version {version}: {exc}"
                return False
            previous = self.version
            self.bundle, self.version = bundle, version
            self.last_error = None
        if self._on_swap is not None:
            self._on_swap(version, previous)
        return True

    def predict(self, data) -> np.ndarray:
        return self.bundle.predict(data)

    def predict_proba(self, data) -> np.ndarray:
        return self.bundle.predict_proba(data)

    def start(self, interval_s: float = 10.0) -> "LiveModel":
        """Poll the registry every ``interval_s`` seconds in a daemon thread."""
        def loop():
            while not self._stop.wait(interval_s):
                self.refresh()

        self._thread = threading.Thread(target=loop, name=f"mlcore-live-{self.name}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
