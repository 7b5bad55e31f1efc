"""libmlcore: mlcore embedded in C and C++ programs (cffi's embedding API).

This module owns both halves of the C library:

* :func:`build` compiles ``bindings/mlcore_capi.c`` with cffi into ``libmlcore.so`` (linked
  against the shared libpython) and copies ``bindings/mlcore.h`` next to it. The command line
  is ``mlcore capi build`` (the :data:`capi` click group) or ``python -m mlcore.capi build``.
* :class:`_Runtime` is the Python side inside the C program: it loads bundles (hash-verified
  through :meth:`mlcore.deploy.Bundle.load`), runs batch predictions on row-major matrices and
  on Arrow C Data Interface structs, and describes each model's compiled single-row function
  to C as a *row ABI descriptor* (:class:`RowABI`) so that ``mlcore_predict_row_fast`` calls it
  directly, with neither Python nor the GIL.

Row ABI kinds (a model family adds one by returning a :class:`RowABI`):

``LINEAR`` (1)
    ``double f(const double *packed, int64 p, int64 k, const double *x, int64 op, double *out,
    double *scratch)`` (``mlcore._kernels.linear_cfunc``); C passes a per-thread scratch of
    ``scratch`` doubles; NaN return = a non-finite score (bad input).
``TABLE`` (2)
    ``int64 f(const double *x, int64 *table, double *out)``: ``table`` is an int64 template of
    model sizes and array addresses; the words listed in ``workspaces`` are replaced, per C
    thread, by the addresses of private buffers of the given byte sizes. Returns 0, or 1 + the
    index of an input whose value the model refuses.

Notes (ENGINEERING_NOTES.md §5): the embedded interpreter does not see a virtual environment
by itself, so the site-packages directories of the building interpreter are baked into the
library (and ``MLCORE_CAPI_SITEDIRS`` adds more at run time); a failed start must not look like
success, so Python callbacks return a magic value for success; ``mlcore_init`` promotes
libpython to ``RTLD_GLOBAL`` in case the host opened the library with ``RTLD_LOCAL``.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path
import click

__all__ = ["build", "RowABI", "row_abi", "default_bindings_dir", "capi", "LIBRARY_NAME"]

LIBRARY_NAME = "libmlcore.so"

#: Returned by every Python callback on success; 0 (what cffi returns when Python could not
#: run the callback) and the MLCORE_E_* codes mean failure.
_PY_OK = 0x4D4C4F4B

# Status codes, as in bindings/mlcore.h.
E_INIT_FAILED = 2
E_SHAPE = 5
E_LOAD = 6
E_INPUT = 7
E_PREDICT = 8

ROW_NONE, ROW_LINEAR, ROW_TABLE = 0, 1, 2
POST_NONE, POST_SIGMOID2, POST_SOFTMAX, POST_SIGMOID, POST_EXP, POST_DIVIDE, POST_DIVIDE2, POST_OVA = range(8)
_TABLE_WORDS = 64
_MAX_WS = 8

_MODULE = "_mlcore_capi"

_CDEF = """
typedef struct {
  int64_t n_inputs;
  int64_t width;
  int64_t row_kind;
  int64_t fn;
  int64_t lin[4];
  int64_t scratch;
  int64_t table_words;
  int64_t table[64];
  int64_t n_ws;
  int64_t ws_word[8];
  int64_t ws_bytes[8];
  int64_t check;
  int64_t post;
  int64_t raw_width;
  double post_param;
  char method[32];
  char no_fast_reason[256];
} mlc_desc;

extern "Python" int _mlcore_py_load(const char *, int64_t, mlc_desc *, char *, int64_t);
extern "Python" int _mlcore_py_names(int64_t, char *, int64_t, int64_t *, char *, int64_t);
extern "Python" int _mlcore_py_predict(int64_t, const double *, int64_t, int64_t, double *, char *, int64_t);
extern "Python" int _mlcore_py_predict_arrow(int64_t, void *, void *, double *, int64_t, int64_t *, char *,
                                             int64_t);
extern "Python" int _mlcore_py_free(int64_t, char *, int64_t);
"""

_EMBEDDING_API = "int _mlcore_py_boot(char *err, int64_t errlen);"

# Runs inside the C program on the first call (mlcore_init). The callbacks are defined before
# anything that can fail, so a failed import is reported through them, not as a silent 0.
_INIT_CODE = r'''
import sys
from _mlcore_capi import ffi

_OK = 0x4D4C4F4B
_SITEDIRS = __SITEDIRS__
_PREFIX = __PREFIX__
_rt = None
_boot_error = "mlcore was not imported"


def _put(buf, n, msg):
    data = str(msg).encode("utf-8", "replace")[: max(int(n) - 1, 0)]
    if n > 0 and buf != ffi.NULL:
        ffi.memmove(buf, data + b"\0", len(data) + 1)


@ffi.def_extern()
def _mlcore_py_boot(err, errlen):
    if _rt is None:
        _put(err, errlen, _boot_error)
        return 2
    return _OK


@ffi.def_extern()
def _mlcore_py_load(path, slot, desc, err, errlen):
    return _rt.call(_rt.load, err, errlen, 6, path, slot, desc)


@ffi.def_extern()
def _mlcore_py_names(slot, buf, buflen, needed, err, errlen):
    return _rt.call(_rt.names, err, errlen, 6, slot, buf, buflen, needed)


@ffi.def_extern()
def _mlcore_py_predict(slot, rows, n_rows, n_cols, out, err, errlen):
    return _rt.call(_rt.predict, err, errlen, 8, slot, rows, n_rows, n_cols, out)


@ffi.def_extern()
def _mlcore_py_predict_arrow(slot, array, schema, out, out_len, n_rows, err, errlen):
    return _rt.call(_rt.predict_arrow, err, errlen, 8, slot, array, schema, out, out_len, n_rows)


@ffi.def_extern()
def _mlcore_py_free(slot, err, errlen):
    return _rt.call(_rt.free, err, errlen, 8, slot)


try:
    import os
    import site

    if not getattr(sys, "argv", None):
        sys.argv = ["libmlcore"]
    extra = [d for d in os.environ.get("MLCORE_CAPI_SITEDIRS", "").split(os.pathsep) if d]
    if _PREFIX and os.path.isdir(_PREFIX) and _PREFIX != sys.prefix:
        # A venv's interpreter has sys.prefix = the venv (libraries such as pip's libtbb are
        # looked up under sys.prefix/lib); the embedded one starts with the base Python's.
        sys.prefix = sys.exec_prefix = _PREFIX
    if _SITEDIRS:
        # Like the virtual environment's own interpreter: not the base Python's site-packages.
        base = set(site.getsitepackages()) - set(_SITEDIRS) - set(extra)
        sys.path[:] = [p for p in sys.path if p not in base]
    before = list(sys.path)
    for d in extra + list(_SITEDIRS):
        if os.path.isdir(d):
            site.addsitedir(d)
    # The venv's directories go first, as in the venv's own interpreter.
    sys.path[:] = [p for p in sys.path if p not in before] + before
    from mlcore import capi as _capi

    _rt = _capi._Runtime(ffi)
except BaseException as _exc:  # noqa: BLE001  (reported by mlcore_init)
    import traceback

    traceback.print_exc()
    _boot_error = f"{type(_exc).__name__}: {_exc} (sys.path: {sys.path})"
'''


# ---------------------------------------------------------------------------------------------
# Row ABI descriptors
# ---------------------------------------------------------------------------------------------


@dataclass
class RowABI:
    """How C calls a model's compiled single-row function (see the module docstring).

    Attributes
    ----------
    kind : int
        ``ROW_LINEAR`` or ``ROW_TABLE``.
    fn : int
        The function's address.
    width : int
        Doubles in the final output; ``raw_width`` doubles come out of the kernel, then ``post``
        (``POST_*``) maps them to ``width``.
    linear : tuple of int
        LINEAR: ``(packed address, p, k, op)``; ``scratch`` doubles of per-thread scratch.
    table : list of int
        TABLE: the int64 template; ``workspaces``: ``(word, n_bytes)`` per per-thread buffer.
    check : int
        Bit 0: C refuses NaN inputs; bit 1: C refuses infinite inputs.
    keep : list
        Objects whose memory the addresses point into: kept alive as long as the handle.
    """

    kind: int
    fn: int
    width: int
    raw_width: int
    linear: tuple = (0, 0, 0, 0)
    scratch: int = 0
    table: list = field(default_factory=list)
    workspaces: list = field(default_factory=list)
    check: int = 0
    post: int = POST_NONE
    post_param: float = 0.0
    keep: list = field(default_factory=list)


def row_abi(model, method: str, width: int) -> RowABI | str:
    """The row ABI descriptor of ``model.<method>`` with ``width`` outputs, or why there is none.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> from mlcore.train import compile_model
    >>> m = compile_model(Ridge().fit(np.eye(3), [1.0, 2.0, 3.0]))
    >>> abi = row_abi(m, "predict", 1)
    >>> abi.kind == ROW_LINEAR, abi.width
    (True, 1)
    """
    if hasattr(model, "row_cfunc"):
        try:
            addr, packed, op, w = model.row_cfunc(method)
        except ValueError as exc:
            return str(exc)
        if w != width:
            return f"the compiled row function writes {w} values, the batch path {width}"
        return RowABI(kind=ROW_LINEAR, fn=int(addr), width=int(w), raw_width=int(w),
                      linear=(int(packed.ctypes.data), int(model.n_features_in_), int(model.n_outputs_), int(op)),
                      scratch=int(model.n_outputs_), keep=[packed])
    if hasattr(model, "_row_state") and hasattr(model, "_arrays"):
        return _tree_row_abi(model, method, width)
    return f"{type(model).__name__} has no compiled row function"


def _tree_row_abi(model, method: str, width: int) -> RowABI | str:
    """Tree ensembles (``mlcore.train.trees``): the 19-word table of ``kernels/tree_row.py``.

    Words 16, 17 and 18 are per-call workspaces (node per tree, remapped values, pending trees):
    C gives each thread its own. The callback returns 1 + the index of a refused input, or 0. The raw sums become outputs as ``TreeEnsemble`` does it
    (``_transform`` and ``_proba``), in C (``post``).
    """
    try:
        from ._kernels import tree_row
    except ImportError:
        return "this mlcore has no compiled tree row function"
    st = model._row_state()  # the table and row model, built the way the trees module builds them
    table = [int(v) for v in st.table]
    if len(table) != tree_row.TABLE_SIZE or len(table) > _TABLE_WORDS:
        return f"unexpected tree row table of {len(table)} words"
    ws = [(16, st.nodes), (17, st.vbuf), (18, st.pending)]
    if any(table[w] != a.ctypes.data for w, a in ws):
        return "unexpected tree row table layout (workspace words moved)"
    raw_width = int(st.out.size)
    post, task = model.post, model.task
    params = getattr(model, "post_params", {}) or {}
    scale = float(params.get("scale", 1.0))
    if task == "anomaly":
        return "IsolationForest scores are computed in Python"
    if method == "decision_function":
        how = (POST_NONE, 0.0) if post != "average" else None
    elif method == "predict" and task == "regression":
        how = {"identity": (POST_NONE, 0.0), "exp": (POST_EXP, 0.0)}.get(post)
        if post == "average":
            how = (POST_DIVIDE, float(params["divisor"]))
    elif method == "predict_proba" and task in ("binary", "multiclass"):
        expand = task == "binary" and raw_width == 1
        how = {"sigmoid": (POST_SIGMOID2 if expand else POST_SIGMOID, scale),
               "softmax": (None if expand else POST_SOFTMAX, 0.0),
               "ova_sigmoid": (None if expand else POST_OVA, scale),
               "identity": (None if expand else POST_NONE, 0.0)}.get(post)
        if post == "average":
            how = (POST_DIVIDE2 if expand else POST_DIVIDE, float(params["divisor"]))
        if how is not None and how[0] is None:
            how = None
    else:
        how = None
    if how is None:
        return f"no C output transform for {method} of a {task} tree model with post {post!r}"
    out_width = 2 if how[0] in (POST_SIGMOID2, POST_DIVIDE2) else raw_width
    if out_width != width:
        return f"the tree row function gives {out_width} values, the batch path {width}"
    check = (0 if model.allow_nan else 1) | (0 if model.allow_inf else 2)
    if len(table) > 19:
        check = 0  # word 19: the callback checks refused values itself and says which input
    return RowABI(kind=ROW_TABLE, fn=int(tree_row.predict_row_cfunc.address), width=width, raw_width=raw_width,
                  table=table, workspaces=[(w, int(a.nbytes)) for w, a in ws], check=check, post=how[0],
                  post_param=how[1], keep=[st])


# ---------------------------------------------------------------------------------------------
# The Python side inside the C program
# ---------------------------------------------------------------------------------------------


class _Loaded:
    def __init__(self, bundle, method: str, width: int, abi):
        self.bundle = bundle
        self.method = method
        self.width = width
        self.abi = abi
        self.direct = False  # the model reads a row-major matrix in input-column order


def _output_methods(bundle) -> list[str]:
    """The output methods to try, best first: probabilities, else values, else scores."""
    model = bundle.model
    task = getattr(model, "task", None)
    is_classifier = getattr(model, "classes_", None) is not None or task in ("binary", "multiclass")
    methods = []
    if bundle.has_proba and task not in ("regression", "anomaly"):
        methods.append("predict_proba")
    if not is_classifier and task != "anomaly":
        methods.append("predict")
    methods.append("decision_function")
    return methods


def _status_of(exc: BaseException, default: int) -> int:
    from .errors import ArtifactError, SchemaError, ShapeError

    if default == E_LOAD:
        return E_LOAD
    if isinstance(exc, ShapeError):
        return E_SHAPE
    if isinstance(exc, (SchemaError, ArtifactError)):
        return E_INPUT
    return default


class _Runtime:
    """Loaded bundles by C slot, and the callbacks' bodies. Lives only inside libmlcore."""

    def __init__(self, ffi):
        import numpy as np
        import pyarrow as pa

        from ._kernels import linear_cfunc  # noqa: F401  (compile/load the row function now, not per request)
        from .deploy.bundle import Bundle

        self.ffi = ffi
        self.np = np
        self.pa = pa
        self.Bundle = Bundle
        self.slots: dict[int, _Loaded] = {}

    def call(self, fn, err, errlen, default, *args) -> int:
        try:
            fn(*args)
            return _PY_OK
        except BaseException as exc:  # noqa: BLE001  (every failure becomes a status + message)
            msg = f"{type(exc).__name__}: {exc}" if not str(exc) else str(exc)
            data = msg.encode("utf-8", "replace")[: max(int(errlen) - 1, 0)]
            if errlen > 0:
                self.ffi.memmove(err, data + b"\0", len(data) + 1)
            return _status_of(exc, default)

    # -- load ----------------------------------------------------------------------------------

    def load(self, path, slot, desc) -> None:
        p = self.ffi.string(path).decode("utf-8", "surrogateescape")
        bundle = self.Bundle.load(p)
        entry = _Loaded(bundle, "", 0, None)
        errors = []
        for method in _output_methods(bundle):
            entry.method = method
            try:
                entry.width = self._probe_width(entry)
                break
            except AttributeError as exc:  # the model has no such output (e.g. a regressor's proba)
                errors.append(f"{method}: {exc}")
        else:
            raise ValueError(f"the bundle's model has no usable output: {'; '.join(errors)}")
        method = entry.method
        entry.direct = bundle.plan is None and self._check_columns(bundle) is None
        abi = row_abi(bundle.model, method, entry.width) if bundle.plan is None else \
            "the bundle has a feature plan, which runs in Python"
        if isinstance(abi, RowABI):
            abi = self._check_columns(bundle) or abi
        desc.n_inputs = len(bundle.input_columns)
        desc.width = entry.width
        m = method.encode()
        self.ffi.memmove(desc.method, m + b"\0", len(m) + 1)
        if isinstance(abi, RowABI):
            self._fill(desc, abi)
        else:
            desc.row_kind = ROW_NONE
            r = str(abi).encode("utf-8", "replace")[:255]
            self.ffi.memmove(desc.no_fast_reason, r + b"\0", len(r) + 1)
        entry.abi = abi
        self.slots[int(slot)] = entry

    def _check_columns(self, bundle) -> str | None:
        """The fast path takes the row in input-column order: it must be the model's order."""
        model = bundle.model
        names = getattr(model, "feature_names_in_", None)
        if int(model.n_features_in_) != len(bundle.input_columns):
            return f"the model has {model.n_features_in_} features, the bundle {len(bundle.input_columns)} inputs"
        if names is not None and [str(n) for n in names] != list(bundle.input_columns):
            return "the bundle's input columns are not in the model's feature order"
        return None

    def _fill(self, desc, abi: RowABI) -> None:
        desc.row_kind = abi.kind
        desc.fn = abi.fn
        desc.raw_width = abi.raw_width
        desc.check = abi.check
        desc.post = abi.post
        desc.post_param = float(abi.post_param)
        for i, v in enumerate(abi.linear):
            desc.lin[i] = int(v)
        desc.scratch = abi.scratch
        if len(abi.table) > _TABLE_WORDS or len(abi.workspaces) > _MAX_WS:
            raise ValueError("row ABI table too large")
        desc.table_words = len(abi.table)
        for i, v in enumerate(abi.table):
            desc.table[i] = int(v)
        desc.n_ws = len(abi.workspaces)
        for i, (word, nbytes) in enumerate(abi.workspaces):
            if not 0 <= word < len(abi.table):
                raise ValueError(f"workspace word {word} outside the {len(abi.table)}-word table")
            desc.ws_word[i] = int(word)
            desc.ws_bytes[i] = int(nbytes)

    def names(self, slot, buf, buflen, needed) -> None:
        blob = b"".join(str(c).encode("utf-8") + b"\0" for c in self.slots[int(slot)].bundle.input_columns)
        needed[0] = len(blob)
        if buf != self.ffi.NULL:
            if buflen < len(blob):
                raise ValueError(f"name buffer of {buflen} bytes; {len(blob)} needed")
            self.ffi.memmove(buf, blob, len(blob))

    def free(self, slot) -> None:
        self.slots.pop(int(slot), None)

    # -- predict -------------------------------------------------------------------------------

    def _call(self, entry: _Loaded, X):
        """The output method on model input ``X`` (features already resolved)."""
        m = entry.bundle.model
        if entry.method == "predict_proba":
            res = m.predict_proba(X)
        elif entry.method == "predict":
            res = m.predict(X)
        else:
            res = m.decision_function(X)
        return self.np.asarray(res, dtype=self.np.float64)

    def _run(self, entry: _Loaded, table):
        """A table (or record batch) with the input columns by name (extra columns ignored)."""
        b = entry.bundle
        if b.plan is not None:
            return self._call(entry, b._features(table))
        # Bundle._features without its per-column scan of table.column_names (quadratic in width).
        have = set(table.schema.names)
        missing = [c for c in b.input_columns if c not in have]
        if missing:
            from .errors import SchemaError

            raise SchemaError(f"missing input columns {missing}; the bundle expects {b.input_columns}")
        if table.schema.names != b.input_columns:
            table = table.select(b.input_columns)
        return self._call(entry, table)

    def _probe_width(self, entry: _Loaded) -> int:
        pa = self.pa
        empty = pa.table({c: pa.array([], pa.float64()) for c in entry.bundle.input_columns})
        res = self._run(entry, empty)
        return 1 if res.ndim == 1 else int(res.shape[1])

    def _write(self, entry: _Loaded, res, n_rows: int, out) -> None:
        np = self.np
        w = entry.width
        if res.size != n_rows * w:
            raise ValueError(f"the model returned {res.shape} for {n_rows} rows x {w} outputs")
        dst = np.frombuffer(self.ffi.buffer(out, n_rows * w * 8), dtype=np.float64)
        dst[:] = res.reshape(-1)

    def predict(self, slot, rows, n_rows, n_cols, out) -> None:
        np, pa = self.np, self.pa
        entry = self.slots[int(slot)]
        X = np.frombuffer(self.ffi.buffer(rows, n_rows * n_cols * 8), dtype=np.float64).reshape(n_rows, n_cols)
        if entry.direct:
            # The model reads the caller's row-major matrix in place (its input order is checked at load).
            from .errors import SchemaError

            try:
                res = self._call(entry, X)
            except SchemaError:
                res = None  # the table path below raises the same error, naming the column
            if res is not None:
                self._write(entry, res, n_rows, out)
                return
        # One contiguous column per input (the C matrix is row-major; Arrow columns are not).
        F = np.asfortranarray(X)
        table = pa.table({c: F[:, j] for j, c in enumerate(entry.bundle.input_columns)})
        self._write(entry, self._run(entry, table), n_rows, out)

    def predict_arrow(self, slot, array, schema, out, out_len, n_rows) -> None:
        pa = self.pa
        entry = self.slots[int(slot)]
        a = int(self.ffi.cast("uintptr_t", array))
        s = int(self.ffi.cast("uintptr_t", schema))
        batch = pa.RecordBatch._import_from_c(a, s)  # moves the structs: zero-copy, Arrow releases
        n = batch.num_rows
        n_rows[0] = n
        if n * entry.width > out_len:
            raise ValueError(f"out_len is {out_len}; {n} rows x {entry.width} outputs need {n * entry.width}")
        if n:
            self._write(entry, self._run(entry, batch), n, out)


# ---------------------------------------------------------------------------------------------
# Building the library
# ---------------------------------------------------------------------------------------------


def default_bindings_dir() -> Path:
    """``bindings/`` of the source tree this module belongs to (an editable install or a checkout)."""
    return Path(__file__).resolve().parent.parent / "bindings"


def _libpython() -> tuple[str, str]:
    """(library directory, link name) of the shared libpython, or an explanation why there is none."""
    if not sysconfig.get_config_var("Py_ENABLE_SHARED"):
        raise RuntimeError(
            "this Python has no shared libpython (Py_ENABLE_SHARED = 0): libmlcore embeds Python and "
            "must link against it. Use a Python built with --enable-shared (e.g. pyenv: "
            "PYTHON_CONFIGURE_OPTS=--enable-shared pyenv install <version>) or the distribution's python3-dev")
    libdir = sysconfig.get_config_var("LIBDIR")
    ldlib = sysconfig.get_config_var("LDLIBRARY") or ""
    name = ldlib[3:].split(".so")[0] if ldlib.startswith("lib") else f"python{sysconfig.get_python_version()}"
    return libdir, name


def build(out_dir: str | os.PathLike = "build/capi", *, bindings_dir: str | os.PathLike | None = None,
          sitedirs: list[str] | None = None, prefix: str | None = None, verbose: bool = False) -> Path:
    """Compile ``libmlcore.so`` into ``out_dir`` and copy ``mlcore.h`` next to it.

    Parameters
    ----------
    out_dir : path
        Where the library and the header go (created).
    bindings_dir : path, optional
        The folder with ``mlcore.h`` and ``mlcore_capi.c``; default: this checkout's ``bindings/``.
    sitedirs : list of str, optional
        Site-packages directories the embedded interpreter adds at start; default: this
        interpreter's (so the library sees the virtual environment it was built from).
    prefix : str, optional
        The ``sys.prefix`` the embedded interpreter takes (default: this interpreter's, i.e. the
        virtual environment's), where libraries installed by pip into ``<prefix>/lib`` are found.

    Returns
    -------
    Path
        The library's path. Link a program with ``-L<out_dir> -lmlcore -Wl,-rpath,<out_dir>``.

    Examples
    --------
    >>> from mlcore.capi import build
    >>> lib = build("/tmp/mlcore-capi-doc")  # doctest: +SKIP
    >>> lib.name  # doctest: +SKIP
    'libmlcore.so'
    """
    import cffi

    src = Path(bindings_dir) if bindings_dir is not None else default_bindings_dir()
    for f in ("mlcore.h", "mlcore_capi.c"):
        if not (src / f).is_file():
            raise FileNotFoundError(f"{src / f} not found: pass bindings_dir (the checkout's bindings/ folder)")
    libdir, pylib = _libpython()
    if sitedirs is None:
        paths = sysconfig.get_paths()
        sitedirs = list(dict.fromkeys([paths["purelib"], paths["platlib"]]))
    import _cffi_backend

    # cffi's start imports _cffi_backend before any init code runs: it must be the building
    # interpreter's (its version must equal the cffi package's), so its folder goes on the
    # start-up PYTHONPATH too (as a plain path: its .pth files are not processed).
    start_path = list(dict.fromkeys([*sitedirs, os.path.dirname(os.path.abspath(_cffi_backend.__file__))]))
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / "build-tmp"
    ffi = cffi.FFI()
    ffi.embedding_api(_EMBEDDING_API)
    ffi.cdef(_CDEF)
    # The site directories, as a C string literal (JSON escaping is valid C for paths).
    define = f"#define MLC_SITEDIRS {json.dumps(os.pathsep.join(start_path))}\n"
    ffi.set_source(_MODULE, define + '#include "mlcore_capi.c"\n', include_dirs=[str(src)], libraries=[pylib, "m", "dl"],
                   library_dirs=[libdir], extra_compile_args=["-O2", "-fvisibility=default"],
                   extra_link_args=[f"-Wl,-rpath,{libdir}", "-pthread"])
    prefix = sys.prefix if prefix is None else prefix
    ffi.embedding_init_code(_INIT_CODE.replace("__SITEDIRS__", repr(list(sitedirs))).replace("__PREFIX__", repr(prefix)))
    built = Path(ffi.compile(tmpdir=str(tmp), target="libmlcore.*", verbose=verbose))
    lib = out / LIBRARY_NAME
    shutil.copyfile(built, lib)
    shutil.copyfile(src / "mlcore.h", out / "mlcore.h")
    shutil.rmtree(tmp, ignore_errors=True)
    return lib


@click.group("capi", context_settings={"help_option_names": ["-h", "--help"]})
def capi() -> None:
    """The C library libmlcore (embedded mlcore for C and C++ programs)."""


@capi.command("build")
@click.option("--out", "out_dir", default="build/capi", show_default=True, type=click.Path(file_okay=False),
              help="Folder for libmlcore.so and mlcore.h.")
@click.option("--bindings", "bindings_dir", default=None, type=click.Path(file_okay=False, exists=True),
              help="The bindings/ folder (default: this checkout's).")
@click.option("-v", "--verbose", is_flag=True, help="Show the compiler commands.")
def build_command(out_dir: str, bindings_dir: str | None, verbose: bool) -> None:
    """Build libmlcore.so and copy mlcore.h into OUT."""
    lib = build(out_dir, bindings_dir=bindings_dir, verbose=verbose)
    click.echo(f"built {lib}")
    click.echo(f"header {lib.parent / 'mlcore.h'}")
    click.echo(f"link with: -I{lib.parent} -L{lib.parent} -lmlcore -Wl,-rpath,{lib.parent}")


if __name__ == "__main__":  # python -m mlcore.capi build --out DIR
    capi(prog_name=f"{Path(sys.executable).name} -m mlcore.capi")
