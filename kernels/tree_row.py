"""Single-row tree-ensemble prediction as a C callback (``@cfunc``), for microsecond latency.

Called through cffi with three pointers (returns 0, or 1 + the index of a feature whose value
the model refuses): the row (float64, NaN = missing), a table of int64 words
(sizes, then model array addresses, then per-thread workspace addresses) and the output. No
Python object is touched, so the call needs neither the GIL nor Numba's dispatcher; the same
address can be called from C. Importing this module compiles (or loads from cache) the callback:
import it lazily.

Table layout (int64 words)::

    0 n_trees   1 n_vcols   2 n_val   3 n_out   4 max_steps (phase 1)
    5 child_base (u32)   6 vcol (u32)   7 thr (f64)   8 val (f64)   9 vsrc (i32)   10 vmode (i8)
    11 root (u32, trees sorted by depth, deepest first)   12 order (i32: tree -> sorted position)
    13 active (i32, per step: how many sorted trees still walk)   14 tree_out (i32, by tree)
    15 base (f64)   16 nodes workspace (u32, by tree)   17 vbuf workspace (f64)
    18 pending workspace (i32, by tree)   19 checks: bit 0 refuse NaN, bit 1 refuse +-inf

Trees advance together, step by step: at step s only the ``active[s]`` trees whose p70 step count
exceeds s move (the notes' p70 rule); the trees not at a leaf then continue over a list compacted
after every step. Leaf values are added in the original tree order, as the frameworks do.
"""

from __future__ import annotations

import numpy as np
from numba import carray, cfunc, types

from ._jit import CACHE_DIR, FASTMATH
from ._ptr import typed_ptr
from .tree_predict import _remap

TABLE_SIZE = 20


_SIG = types.int64(types.CPointer(types.float64), types.CPointer(types.int64), types.CPointer(types.float64))


def _predict_row(x, table, out):
    n_trees = table[0]
    n_vcols = table[1]
    n_val = table[2]
    n_out = table[3]
    max_depth = table[4]
    child_base = carray(typed_ptr(table[5], np.uint32), (1,))
    vcol = carray(typed_ptr(table[6], np.uint32), (1,))
    thr = carray(typed_ptr(table[7], np.float64), (1,))
    val = carray(typed_ptr(table[8], np.float64), (1,))
    vsrc = carray(typed_ptr(table[9], np.int32), (1,))
    vmode = carray(typed_ptr(table[10], np.int8), (1,))
    root = carray(typed_ptr(table[11], np.uint32), (1,))
    order = carray(typed_ptr(table[12], np.int32), (1,))
    active = carray(typed_ptr(table[13], np.int32), (1,))
    tree_out = carray(typed_ptr(table[14], np.int32), (1,))
    base = carray(typed_ptr(table[15], np.float64), (1,))
    nodes = carray(typed_ptr(table[16], np.uint32), (1,))
    vbuf = carray(typed_ptr(table[17], np.float64), (1,))
    pending = carray(typed_ptr(table[18], np.int32), (1,))
    checks = table[19]
    for v in range(n_vcols):
        xv = x[vsrc[v]]
        if checks != 0:
            # Values the source model refuses: return 1 + the feature index, predict nothing.
            if (checks & 1) != 0 and xv != xv:
                return 1 + np.int64(vsrc[v])
            if (checks & 2) != 0 and (xv == np.inf or xv == -np.inf):
                return 1 + np.int64(vsrc[v])
        vbuf[v] = _remap(xv, vmode[v])
    for j in range(n_trees):
        nodes[j] = root[j]
    # Phase 1: lock-step, tree j walks its p70 step count (trees sorted by it, most steps first).
    for s in range(max_depth):
        for j in range(active[s]):
            n = nodes[j]
            nodes[j] = child_base[n] + np.uint32(vbuf[vcol[n]] > thr[n])
    # Phase 2: the trees not at a leaf yet, compacted (branch-free) after every step.
    m = 0
    for j in range(n_trees):
        n = nodes[j]
        pending[m] = j
        m += np.int64(child_base[n] != n)
    while m > 0:
        k = 0
        for i in range(m):
            j = pending[i]
            n = nodes[j]
            n2 = child_base[n] + np.uint32(vbuf[vcol[n]] > thr[n])
            nodes[j] = n2
            pending[k] = j
            k += np.int64(child_base[n2] != n2)
        m = k
    for k in range(n_out):
        out[k] = base[k]
    # Sum in the original tree order (order[t]: where tree t sits in the sorted walk).
    for t in range(n_trees):
        j = order[t]
        nv = nodes[j] * np.uint32(n_val)
        o = tree_out[t]
        for k in range(n_val):
            out[o + k] += val[nv + k]
    return 0


# carray with shape (1,) plus boundscheck off: indexing is unchecked, as in C.
def _compile(cache):
    return cfunc(_SIG, nopython=True, cache=cache, fastmath=set(FASTMATH), error_model="numpy",
                 boundscheck=False)(_predict_row)


try:
    predict_row_cfunc = _compile(CACHE_DIR is not None)
except RuntimeError:  # no usable cache locator (read-only install and no cache dir): compile uncached
    predict_row_cfunc = _compile(False)


def build_row_model(root, steps):
    """Arrays the callback needs besides the model's own: trees sorted by step count, most first."""
    depth = steps
    perm = np.argsort(-depth.astype(np.int64), kind="stable")  # sorted position -> tree
    pos = np.empty_like(perm)
    pos[perm] = np.arange(perm.size)  # tree -> sorted position
    sorted_root = np.ascontiguousarray(root[perm], dtype=np.uint32)
    max_depth = int(depth.max()) if depth.size else 0
    d_sorted = depth[perm]
    active = np.array([int((d_sorted > s).sum()) for s in range(max_depth)] or [0], dtype=np.int32)
    return {
        "sorted_root": sorted_root,
        "order": pos.astype(np.int32),
        "active": active,
        "max_depth": max_depth,
    }
