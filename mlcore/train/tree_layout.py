"""From framework trees to mlcore's flat tree arrays (sibling order, absorbing leaves).

Converters describe each tree as a :class:`SourceTree` in one canonical convention: a split sends a
row right when its *virtual column value* is greater than ``thr`` (thresholds already snapped to
the framework's float rounding), a virtual column being a (feature, missing/categorical mode)
pair. :func:`build_arrays` lays the trees out for the kernels in ``kernels/tree_predict.py``.

Categorical splits become small balanced trees of numeric splits on the category code (integer
codes, thresholds at ``k - 0.5``), so the traversal keeps one branch-free step; where such a
subtree must reach an original child from a pair that is not that child's sibling pair it goes
through a *forward* node (``thr = +inf``, ``child_base`` = the target), which costs one step.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np

# Virtual column modes: see kernels/tree_predict.py.
MISSING_LEFT = 0
MISSING_RIGHT = 1
MISSING_AS_ZERO = 2
ZERO_LEFT = 3
ZERO_RIGHT = 4
CAT_TRUNC = 5
CAT_NEG_MISSING = 6
N_MODES = 7
_DBL_MAX = float(np.finfo(np.float64).max)


@dataclass
class SourceTree:
    """One tree in canonical form; node 0 is the root.

    ``left``/``right``: child ids, -1 at leaves. ``feature``: source feature index. ``mode``:
    virtual column mode. ``thr``: numeric threshold (go right iff value > thr). ``cats``: for a
    categorical split, the sorted category codes that go LEFT (code -1 = missing/invalid), else
    None. ``value``: (n_nodes, n_val) leaf values. ``weight``: training count or cover per node
    (for the step statistics), or None.
    """

    left: np.ndarray
    right: np.ndarray
    feature: np.ndarray
    mode: np.ndarray
    thr: np.ndarray
    value: np.ndarray
    cats: list = field(default_factory=list)
    weight: np.ndarray | None = None
    out: int = 0


def _runs(cats):
    """Runs of constant side along the value axis: [(thr, side)], side 0 = left, 1 = right; a run
    holds the values above its ``thr`` (None for the first run, from -inf) up to the next run.

    ``cats`` is either a list of integer category codes that go left (every other code goes
    right; -1 is the lowest code a kernel writes; thresholds at ``code - 0.5``), or a
    :class:`PointSplit` of exact values.
    """
    if isinstance(cats, PointSplit):
        return cats.runs()
    codes = sorted({int(c) for c in cats if int(c) >= -1})
    blocks: list[list[int]] = []
    for c in codes:
        if blocks and c == blocks[-1][1] + 1:
            blocks[-1][1] = c
        else:
            blocks.append([c, c])
    runs = [(None, 1)]
    for a, b in blocks:
        if a <= -1:
            runs = [(None, 0)]
        else:
            runs.append((a - 0.5, 0))
        runs.append((b + 0.5, 1))
    return runs


@dataclass
class PointSplit:
    """A categorical split on exact values: ``points[i]`` goes to ``sides[i]``, any other value
    (and the virtual column's missing value, which must map to -inf) goes to ``other``."""

    points: np.ndarray
    sides: np.ndarray
    other: int

    def runs(self):
        order = np.argsort(self.points, kind="stable")
        runs = [(None, int(self.other))]
        for i in order:
            c = float(self.points[i])
            runs.append((float(np.nextafter(c, -np.inf)), int(self.sides[i])))  # x >= c
            runs.append((c, int(self.other)))                                   # x > c
        merged = [runs[0]]
        for thr, side in runs[1:]:
            if side == merged[-1][1]:
                continue
            merged.append((thr, side))
        return merged


class _Expanded:
    """A tree after expanding categorical splits: node kinds leaf / split / forward."""

    def __init__(self):
        self.kind = []      # 0 leaf, 1 split, 2 forward
        self.vcol = []
        self.thr = []
        self.pair = []      # split: (left id, right id)
        self.target = []    # forward: node id
        self.src = []       # original node id for leaves (values), else -1
        self.weight = []

    def add(self, kind, vcol=0, thr=np.inf, pair=None, target=-1, src=-1, weight=0.0):
        self.kind.append(kind)
        self.vcol.append(vcol)
        self.thr.append(thr)
        self.pair.append(pair)
        self.target.append(target)
        self.src.append(src)
        self.weight.append(weight)
        return len(self.kind) - 1


def _expand(tree: SourceTree, vcol_of) -> _Expanded:
    ex = _Expanded()
    n = tree.left.size
    weights = tree.weight if tree.weight is not None else np.ones(n)
    ids = [-1] * n
    # Create expanded ids for every original node first, so children can be referenced.
    for i in range(n):
        if tree.left[i] < 0:
            ids[i] = ex.add(0, src=i, weight=float(weights[i]))
        else:
            ids[i] = ex.add(1, weight=float(weights[i]))
    for i in range(n):
        if tree.left[i] < 0:
            continue
        me = ids[i]
        L, R = ids[tree.left[i]], ids[tree.right[i]]
        v = vcol_of(int(tree.feature[i]), int(tree.mode[i]))
        cats = tree.cats[i] if tree.cats else None
        if cats is None:
            t = float(tree.thr[i])
            if math.isnan(t) or t == -math.inf:
                raise ValueError(f"split threshold {t} is not supported (tree node {i})")
            ex.vcol[me] = v
            # "x <= +inf": every present value goes left; the kernels read a real +inf as DBL_MAX.
            ex.thr[me] = min(t, _DBL_MAX)
            ex.pair[me] = (L, R)
            continue
        runs = _runs(cats)
        target = {0: L, 1: R}

        def build(lo, hi, node=None):
            # Returns ('t', side) for a single run, else a split node id over runs[lo:hi].
            if hi - lo == 1:
                return ("t", runs[lo][1])
            mid = (lo + hi) // 2
            if node is None:
                node = ex.add(1, weight=0.0)
            ex.vcol[node] = v
            ex.thr[node] = float(runs[mid][0])
            a = build(lo, mid)
            b = build(mid, hi)
            if a == ("t", 0) and b == ("t", 1):
                ex.pair[node] = (L, R)
            else:
                def leg(x):
                    if x[0] == "t":
                        return ex.add(2, target=target[x[1]])
                    return x[1]
                ex.pair[node] = (leg(a), leg(b))
            return ("n", node)

        if len(runs) == 1:
            ex.kind[me] = 2
            ex.target[me] = target[runs[0][1]]
        else:
            build(0, len(runs), node=me)
    return ex


def _layout(ex: _Expanded, base: int):
    """Breadth-first sibling layout from expanded node 0; returns positions and node order."""
    pos = {}
    order = []

    def place(nodes):
        for nd in nodes:
            pos[nd] = base + len(order)
            order.append(nd)

    place([0])
    queue = deque([0])
    while queue:
        nd = queue.popleft()
        k = ex.kind[nd]
        if k == 1:
            a, b = ex.pair[nd]
            if a not in pos:
                if b in pos:
                    raise AssertionError("sibling pair split across the layout")
                place([a, b])
                queue.extend([a, b])
        elif k == 2:
            t = ex.target[nd]
            if t not in pos:
                # Forward targets are original children: place them with their sibling pair.
                partner = ex._partner.get(t)
                if partner is None:
                    place([t])
                    queue.append(t)
                else:
                    place(list(partner))
                    queue.extend(partner)
    return pos, order


def build_arrays(trees: list[SourceTree], n_val: int, *, quantile: float = 0.7) -> dict:
    """Lay ``trees`` out for the kernels; returns the model arrays (see ``kernels/tree_predict``)."""
    vkeys: dict[tuple[int, int], int] = {}

    def vcol_of(f, m):
        key = (f, m)
        if key not in vkeys:
            vkeys[key] = len(vkeys)
        return vkeys[key]

    child_base, vcol, thr, vals = [], [], [], []
    roots, steps, tails, depths, outs = [], [], [], [], []
    total = 0
    for tree in trees:
        ex = _expand(tree, vcol_of)
        # Sibling pairs of original nodes, so a forward to one child places both.
        ex._partner = {}
        for nd, k in enumerate(ex.kind):
            if k == 1 and ex.pair[nd] is not None:
                a, b = ex.pair[nd]
                ex._partner[a] = (a, b)
                ex._partner[b] = (a, b)
        pos, order = _layout(ex, total)
        nval = np.zeros((len(order), n_val))
        for i, nd in enumerate(order):
            p = total + i
            k = ex.kind[nd]
            if k == 0:
                child_base.append(p)
                vcol.append(0)
                thr.append(np.inf)
                nval[i] = tree.value[ex.src[nd]]
            elif k == 1:
                child_base.append(pos[ex.pair[nd][0]])
                vcol.append(ex.vcol[nd])
                thr.append(ex.thr[nd])
            else:
                child_base.append(pos[ex.target[nd]])
                vcol.append(0)
                thr.append(np.inf)
        vals.append(nval)
        # Depth statistics: longest path to each leaf (the expanded graph may share nodes).
        depth = {0: 0}
        for nd in order:  # BFS order: parents before children except shared targets
            d = depth[nd]
            k = ex.kind[nd]
            kids = ex.pair[nd] if k == 1 else ((ex.target[nd],) if k == 2 else ())
            for c in kids:
                if depth.get(c, -1) < d + 1:
                    depth[c] = d + 1
        # Shared targets may be reached later by longer paths: relax until stable.
        changed = True
        while changed:
            changed = False
            for nd in order:
                k = ex.kind[nd]
                kids = ex.pair[nd] if k == 1 else ((ex.target[nd],) if k == 2 else ())
                for c in kids:
                    if depth[c] < depth[nd] + 1:
                        depth[c] = depth[nd] + 1
                        changed = True
        leaves = [nd for nd in order if ex.kind[nd] == 0]
        ld = np.array([depth[nd] for nd in leaves], dtype=np.int64)
        w = np.array([max(ex.weight[nd], 0.0) for nd in leaves], dtype=np.float64)
        dmax = int(ld.max()) if ld.size else 0
        if w.sum() <= 0:
            w = np.ones_like(w)
        srt = np.argsort(ld, kind="stable")
        cw = np.cumsum(w[srt]) / w.sum()
        d_q = int(ld[srt][min(np.searchsorted(cw, quantile), ld.size - 1)])
        roots.append(total)
        steps.append(d_q)
        tails.append(dmax - d_q)
        depths.append(dmax)
        outs.append(tree.out)
        total += len(order)
    if total >= 2**32 - 1:
        raise ValueError(f"the model has {total} nodes; at most 2**32 - 2 are supported")
    vsrc = np.zeros(len(vkeys), dtype=np.int32)
    vmode = np.zeros(len(vkeys), dtype=np.int8)
    for (f, m), v in vkeys.items():
        vsrc[v] = f
        vmode[v] = m
    return {
        "child_base": np.asarray(child_base, dtype=np.uint32),
        "vcol": np.asarray(vcol, dtype=np.uint32),
        "thr": np.asarray(thr, dtype=np.float64),
        "val": (np.concatenate(vals, axis=0) if vals else np.zeros((0, n_val))).ravel().astype(np.float64),
        "vsrc": vsrc,
        "vmode": vmode,
        "root": np.asarray(roots, dtype=np.uint32),
        "steps": np.asarray(steps, dtype=np.int32),
        "tail": np.asarray(tails, dtype=np.int32),
        "depth": np.asarray(depths, dtype=np.int32),
        "tree_out": np.asarray(outs, dtype=np.int32),
    }


# --- threshold snapping -------------------------------------------------------------------------

_F32_ZERO = float(np.float32(1e-35))


def snap_lightgbm(t: np.ndarray) -> np.ndarray:
    """LightGBM's predictor reads |x| <= 1e-35f as 0: fold that flush into the thresholds so that
    ``x > snapped`` equals ``flush(x) > t`` for every double x."""
    t = np.asarray(t, dtype=np.float64).copy()
    lo = (t >= -_F32_ZERO) & (t < 0)
    hi = (t >= 0) & (t < _F32_ZERO)
    t[lo] = np.nextafter(-_F32_ZERO, -np.inf)
    t[hi] = _F32_ZERO
    return t


def _largest_double_rounding_below(t32: np.ndarray) -> np.ndarray:
    """For float32 values t: the largest double d with float32(d) < t (so x > d iff f32(x) >= t)."""
    t32 = np.asarray(t32, dtype=np.float32)
    # Past the largest float32 the rounding boundary sits where the next power (2**128) would be.
    with np.errstate(over="ignore"):
        prev = np.nextafter(t32, np.float32(-np.inf)).astype(np.float64)
    prev[np.isneginf(prev) & ~np.isneginf(t32)] = -(2.0**128)
    t64 = t32.astype(np.float64)
    t64[np.isposinf(t64)] = 2.0**128
    mid = (prev + t64) / 2.0  # exact in double
    d = mid.copy()
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(3):
            bad = d.astype(np.float32) >= t32
            d[bad] = np.nextafter(d[bad], -np.inf)
            nxt = np.nextafter(d, np.inf)
            good = nxt.astype(np.float32) < t32
            d[good] = nxt[good]
    return d


def snap_f32_ge(t32: np.ndarray) -> np.ndarray:
    """XGBoost: right iff float32(x) >= t (t float32). Returns d with: x > d iff that holds."""
    return _largest_double_rounding_below(np.asarray(t32, dtype=np.float32))


def snap_f32_gt(t: np.ndarray) -> np.ndarray:
    """scikit-learn trees: right iff float32(x) > t (t float64). Returns d with: x > d iff that holds."""
    t = np.asarray(t, dtype=np.float64)
    with np.errstate(over="ignore"):
        u = t.astype(np.float32)
    # u: the largest float32 <= t.
    over = u.astype(np.float64) > t
    u[over] = np.nextafter(u[over], np.float32(-np.inf))
    # f32(x) > t  iff  f32(x) > u  iff  f32(x) >= next32(u)
    with np.errstate(over="ignore"):
        nxt = np.nextafter(u, np.float32(np.inf))
    return _largest_double_rounding_below(nxt)
