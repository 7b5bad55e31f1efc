"""As-of matching for mlcore.data.join_asof.

The right table's rows are pre-sorted by (group, time) outside the kernel (NumPy's sort is far
faster than Numba's); ``starts[g]:ends[g]`` is group ``g``'s run in that order, ``rtime`` the
sorted times and ``order`` the original row of each sorted position.
"""

from __future__ import annotations

from ._jit import kernel


@kernel
def asof_match(lgroup, ltime, lvalid, starts, ends, rtime, order, forward, allow_exact, has_tol, tol, out):
    """out[i] = the right row of group lgroup[i] whose time is the last <= ltime[i] (backward) or
    the first >= ltime[i] (forward), strictly so when not ``allow_exact``, within ``tol`` when
    ``has_tol``; -1 when there is none or lvalid[i] is 0 (a null time or key)."""
    n_groups = starts.size
    for i in range(ltime.size):
        out[i] = -1
        g = lgroup[i]
        if not lvalid[i] or g < 0 or g >= n_groups:
            continue
        t = ltime[i]
        lo = starts[g]
        hi = ends[g]
        if not forward:
            # first position in [lo, hi) with rtime > t (or >= t when exact matches are excluded)
            a, b = lo, hi
            while a < b:
                m = (a + b) >> 1
                if rtime[m] < t or (allow_exact and rtime[m] == t):
                    a = m + 1
                else:
                    b = m
            k = a - 1
            if k >= lo and (not has_tol or t - rtime[k] <= tol):
                out[i] = order[k]
        else:
            # first position with rtime >= t (or > t)
            a, b = lo, hi
            while a < b:
                m = (a + b) >> 1
                if rtime[m] < t or (not allow_exact and rtime[m] == t):
                    a = m + 1
                else:
                    b = m
            if a < hi and (not has_tol or rtime[a] - t <= tol):
                out[i] = order[a]
