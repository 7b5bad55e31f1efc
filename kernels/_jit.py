"""The one place that sets Numba's JIT options, cache location and threading layer.

Import this module before any other kernel module: the cache directory must be configured
before a function is decorated, and the threading layer before the first parallel call.

Environment:

``MLCORE_CACHE_DIR``
    Where compiled kernels are cached. Default: ``$XDG_CACHE_HOME/mlcore/numba`` (or
    ``~/.cache/mlcore/numba``), else a per-user folder in the temp directory. A read-only package
    directory and an unwritable home therefore never break the import. ``NUMBA_CACHE_DIR``, when
    set, wins. When no location is writable, kernels compile without a cache.
``MLCORE_THREADING_LAYER``
    ``tbb`` (default where the ``tbb`` package is installed: safe with concurrent threads and
    with ``fork``), ``workqueue`` (always available; mlcore then serialises its parallel kernels
    with a lock, because workqueue aborts on concurrent entry) or ``omp`` (fast, but a child
    forked after a parallel call is killed: not for forking servers).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
import tempfile
import threading
import warnings

import numba
from numba.core import config as _numba_config

__all__ = [
    "CACHE_DIR",
    "THREADING_LAYER",
    "FASTMATH",
    "kernel",
    "parallel_section",
]

# Fast-math flags that keep NaN and Inf semantics (no ``nnan``/``ninf``): ``x != x`` survives.
FASTMATH = frozenset({"nsz", "arcp", "contract", "afn"})


def _is_writable_dir(path: str) -> bool:
    try:
        os.makedirs(path, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".probe-"):
            pass
        return True
    except OSError:
        return False


def _resolve_cache_dir() -> str | None:
    if os.environ.get("NUMBA_CACHE_DIR") and "MLCORE_CACHE_DIR" not in os.environ:
        return os.environ["NUMBA_CACHE_DIR"]
    candidates = []
    if os.environ.get("MLCORE_CACHE_DIR"):
        candidates.append(os.environ["MLCORE_CACHE_DIR"])
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        candidates.append(os.path.join(xdg, "mlcore", "numba"))
    home = os.path.expanduser("~")
    if home and home != "~":
        candidates.append(os.path.join(home, ".cache", "mlcore", "numba"))
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    candidates.append(os.path.join(tempfile.gettempdir(), f"mlcore-{uid}", "numba"))
    for path in candidates:
        if _is_writable_dir(path):
            if os.environ.get("MLCORE_CACHE_DIR") and path != candidates[0]:
                warnings.warn(
                    f"MLCORE_CACHE_DIR={candidates[0]!r} is not writable; caching compiled kernels in {path!r}",
                    RuntimeWarning,
                    stacklevel=2,
                )
            return path
    return None


CACHE_DIR = _resolve_cache_dir()
if CACHE_DIR is not None:
    # Numba reads this when a cached function is decorated, so set it before any kernel exists.
    _numba_config.CACHE_DIR = CACHE_DIR
    os.environ.setdefault("NUMBA_CACHE_DIR", CACHE_DIR)
_CACHE = CACHE_DIR is not None


def _load_tbb() -> bool:
    """Make the pip-installed libtbb visible to Numba (it only searches the system paths)."""
    names = ("libtbb.so.12", "libtbb.so", "libtbb.12.dylib", "libtbb.dylib")
    roots = [os.path.join(sys.prefix, "lib"), os.path.join(sys.base_prefix, "lib")]
    for root in roots:
        for name in names:
            path = os.path.join(root, name)
            if os.path.exists(path):
                try:
                    ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
                except OSError:
                    continue
                break
    try:
        from numba.np.ufunc import tbbpool  # noqa: F401
    except ImportError:
        return False
    return True


def _choose_threading_layer() -> str:
    wanted = os.environ.get("MLCORE_THREADING_LAYER", "").strip().lower()
    if not wanted:
        wanted = os.environ.get("NUMBA_THREADING_LAYER", "").strip().lower()
    if wanted in ("", "default", "tbb", "safe"):
        if _load_tbb():
            return "tbb"
        if wanted in ("tbb", "safe"):
            raise ImportError(
                f"threading layer {wanted!r} needs Intel TBB, which could not be loaded; "
                "install it with: pip install tbb"
            )
        return "workqueue"
    if wanted in ("workqueue", "omp", "threadsafe", "forksafe"):
        return wanted
    raise ValueError(
        f"MLCORE_THREADING_LAYER must be one of 'tbb', 'workqueue', 'omp'; got {wanted!r}"
    )


THREADING_LAYER = _choose_threading_layer()
_numba_config.THREADING_LAYER = THREADING_LAYER
# Numba re-reads its configuration whenever a NUMBA_* variable changes: keep the two in step.
os.environ.setdefault("NUMBA_THREADING_LAYER", THREADING_LAYER)

_PARALLEL_LOCK = threading.Lock()


@contextlib.contextmanager
def parallel_section():
    """Guard a call into a ``parallel=True`` kernel.

    A no-op under TBB and OpenMP; under workqueue, which aborts the process when two threads
    enter a parallel region at once, it serialises the calls.
    """
    if THREADING_LAYER == "workqueue":
        with _PARALLEL_LOCK:
            yield
    else:
        yield


def kernel(fn=None, *, parallel: bool = False, reassoc: bool = False, inline: str = "never"):
    """Compile ``fn`` with mlcore's options: nogil, cached, NaN-safe fast-math, numpy errors.

    ``reassoc=True`` lets LLVM reorder a floating-point reduction (and so vectorise it): sums
    then differ from a strict left-to-right order in the last bits, as NumPy's pairwise sums do.
    """
    flags = set(FASTMATH)
    if reassoc:
        flags.add("reassoc")

    def decorate(f):
        options = dict(nogil=True, fastmath=flags, error_model="numpy", parallel=parallel,
                       boundscheck=False, inline=inline)
        if _CACHE:
            try:
                return numba.njit(f, cache=True, **options)
            except RuntimeError:  # no source file to key a cache on (exec'd or interactive code)
                pass
        return numba.njit(f, cache=False, **options)

    return decorate if fn is None else decorate(fn)
