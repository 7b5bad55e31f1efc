"""Tree-ensemble traversal with the model passed as data (see TREE_INFERENCE_NOTES.md).

Model layout (one global node numbering, sibling order, uint32 ids):

- ``child_base[n]``: the left child of a split (the right one is ``child_base[n] + 1``), the target
  of a forward node, or ``n`` itself for an absorbing leaf;
- ``featoff[n]``: virtual column of the node times ``B`` (offset of its block in the scratch);
- ``thr[n]``: the step is ``n = child_base[n] + (v > thr[n])``; leaves and forwards hold ``+inf``;
- ``val[n * n_val + k]``: leaf values.

Per tree: ``root``, ``steps`` (lock-step count for the whole block, the p70 leaf depth),
``tail`` (extra steps for the rows not at a leaf yet, over a compacted row list) and ``out``
(the first output column the tree adds to).

Input columns (per source slot ``s``): an address ``col_ptr[s]``, an element stride, a dtype code
(0 float64, 1 float32) and an optional validity bitmap (address, 0 when none, and bit offset).
Virtual columns ``v`` read slot ``vsrc[v]`` and remap missing values by ``vmode[v]`` so that the
traversal never sees NaN:

==== ==========================================================================================
mode meaning
==== ==========================================================================================
0    NaN/null -> -inf (missing goes left); in modes 0-4 a real +-inf reads as +-DBL_MAX
1    NaN/null -> +inf (missing goes right)
2    NaN/null -> 0.0 (LightGBM missing type None)
3    NaN/null or abs(x) <= 1e-35f -> -inf (LightGBM missing type Zero, default left)
4    same -> +inf (default right)
5    categorical code, C truncation: NaN/null, x <= -1 or x >= 2**31 -> -1, else trunc(x)
6    categorical code, negatives missing: NaN/null or x < 0 -> -1; x >= 256 -> 256; else trunc(x)
==== ==========================================================================================
"""

from __future__ import annotations

import numba
import numpy as np

from ._jit import kernel
from ._ptr import typed_ptr

#: Rows per block: a compile-time constant (a runtime block size puts an imul in the hot loop).
B = 128

_ZERO_THRESHOLD = float(np.float32(1e-35))
_INT_LIMIT = 2147483648.0
_DBL_MAX = float(np.finfo(np.float64).max)


@kernel(inline="always")
def _read(ptr, stride, dtype, valid, voff, row):
    """x = column[row] as float64, NaN where the validity bit is clear."""
    i = row * stride
    if dtype == 0:
        x = typed_ptr(ptr, np.float64)[i]
    else:
        x = np.float64(typed_ptr(ptr, np.float32)[i])
    if valid != 0:
        j = voff + row
        if ((typed_ptr(valid, np.uint8)[j >> 3] >> (j & 7)) & 1) == 0:
            x = np.nan
    return x


@kernel(inline="always")
def _remap(x, mode):
    # Real infinities become +-DBL_MAX so that the missing value (+-inf) lies strictly beyond every
    # real value: a split "x <= +inf" (all present values left) then stays exact.
    if mode <= 4:
        if x == np.inf:
            return _DBL_MAX
        if x == -np.inf:
            return -_DBL_MAX
    if mode == 0:
        return -np.inf if x != x else x
    if mode == 1:
        return np.inf if x != x else x
    if mode == 2:
        return 0.0 if x != x else x
    if mode == 3:
        return -np.inf if (x != x or abs(x) <= _ZERO_THRESHOLD) else x
    if mode == 4:
        return np.inf if (x != x or abs(x) <= _ZERO_THRESHOLD) else x
    if mode == 5:
        if x != x or x <= -1.0 or x >= _INT_LIMIT:
            return -1.0
        return np.trunc(x)
    # mode 6
    if x != x or x < 0.0:
        return -1.0
    if x >= 256.0:
        return 256.0
    return np.trunc(x)


@kernel(inline="always")
def _fill_block(start, nb, col_ptr, col_stride, col_dtype, col_valid, col_voff, vsrc, vmode, scratch):
    for v in range(vsrc.size):
        s = vsrc[v]
        ptr = col_ptr[s]
        stride = col_stride[s]
        dt = col_dtype[s]
        valid = col_valid[s]
        voff = col_voff[s]
        mode = vmode[v]
        base = v * B
        for r in range(nb):
            scratch[base + r] = _remap(_read(ptr, stride, dt, valid, voff, start + r), mode)
        for r in range(nb, B):
            scratch[base + r] = 0.0


@kernel(inline="always")
def _walk_block(nb, scratch, child_base, featoff, thr, val, n_val, root, steps, tail, tree_out,
                n_out, nodes, rows, acc):
    for t in range(root.size):
        rt = root[t]
        for r in range(B):
            nodes[r] = rt
        # Lock-step walk: absorbing leaves make surplus steps harmless, so no per-row exit test.
        for _ in range(steps[t]):
            for r in range(B):
                n = nodes[r]
                nodes[r] = child_base[n] + np.uint32(scratch[featoff[n] + np.uint32(r)] > thr[n])
        extra = tail[t]
        if extra > 0:
            m = 0
            for r in range(nb):
                n = nodes[r]
                rows[m] = np.uint32(r)
                m += np.int64(child_base[n] != n)
            step = 0
            while m > 0 and step < extra:
                for j in range(m):
                    r = rows[j]
                    n = nodes[r]
                    nodes[r] = child_base[n] + np.uint32(scratch[featoff[n] + np.uint32(r)] > thr[n])
                step += 1
        o = tree_out[t]
        if n_val == 1:
            for r in range(nb):
                acc[r * n_out + o] += val[nodes[r]]
        else:
            for r in range(nb):
                nv = nodes[r] * n_val
                for k in range(n_val):
                    acc[r * n_out + o + k] += val[nv + k]


def _make_predict(parallel):
    prange = numba.prange if parallel else range

    def predict(n_rows, col_ptr, col_stride, col_dtype, col_valid, col_voff, vsrc, vmode,
                child_base, featoff, thr, val, n_val, root, steps, tail, tree_out, base, out):
        """out[i, k] = base[k] + leaf values of row i, added in tree order (``out`` is row-major n_rows x n_out)."""
        n_out = base.size
        n_blocks = (n_rows + B - 1) // B
        n_vcols = vsrc.size
        for b in prange(n_blocks):
            start = b * B
            nb = min(B, n_rows - start)
            scratch = np.empty(n_vcols * B + 1, dtype=np.float64)
            nodes = np.empty(B, dtype=np.uint32)
            rows = np.empty(B, dtype=np.uint32)  # unsigned: no wraparound code on nodes[r]
            # Start from the base score: the frameworks add each tree to it in tree order.
            acc = np.empty(B * n_out, dtype=np.float64)
            for r in range(B):
                for k in range(n_out):
                    acc[r * n_out + k] = base[k]
            _fill_block(start, nb, col_ptr, col_stride, col_dtype, col_valid, col_voff, vsrc, vmode,
                        scratch)
            _walk_block(nb, scratch, child_base, featoff, thr, val, n_val, root, steps, tail,
                        tree_out, n_out, nodes, rows, acc)
            for r in range(nb):
                for k in range(n_out):
                    out[(start + r) * n_out + k] = acc[r * n_out + k]

    return predict


predict_serial = kernel(_make_predict(False))
predict_parallel = kernel(_make_predict(True), parallel=True)
