"""Two-sample drift statistics from sorted samples: one fused merge walk per feature.

Buffer contract: the samples of all features are concatenated in one flat float64 array per side;
feature ``f`` of the reference is ``ref[ref_start[f]:ref_start[f] + ref_n[f]]``, sorted ascending
with no NaN (NaN sort last and are left out by ``ref_n``). The same holds for ``cur``. Outputs are
allocated by the caller: ``out_f[f, :]`` (float64, ``N_FLOAT`` slots) and ``out_u[f, :]`` (uint64,
``N_UINT`` slots: the Cramér-von Mises rank sums as 128-bit hi/lo pairs).
"""

from __future__ import annotations

import numpy as np
from numba import prange

from ._jit import kernel

# out_f slots
# KS: the (i, j) counts where i/n1 - j/n2 is largest (PLUS) and smallest (MINUS), found with exact
# integer numerators i*n2 - j*n1. The caller divides in Python: fast-math's reciprocal flag may
# turn i/n1 into i*(1/n1) here, and scipy's D is the correctly rounded i/n1 - j/n2.
KS_IP = 0
KS_JP = 1
KS_IM = 2
KS_JM = 7
KS_NP = 8         # how many group ends reach the largest numerator (ties: see ks_ties)
KS_NM = 9
AD_REF = 3        # sum over distinct values of the midrank term of sample 1 (before / n1)
AD_CUR = 4        # same for sample 2
W1 = 5            # integral |F1 - F2| dx
N_DISTINCT = 6    # number of distinct values in the pooled sample
N_FLOAT = 10

# out_c[f]: up to N_TIES (i, j) pairs reaching each KS extreme: plus i's, plus j's, minus i's, minus j's
N_TIES = 32

# out_u slots: CvM sums of (2 r - 2 i)^2 over each sample, r the pooled midrank, i the in-sample rank
CVM_REF_LO = 0
CVM_REF_HI = 1
CVM_CUR_LO = 2
CVM_CUR_HI = 3
N_UINT = 4


@kernel
def _walk_one(a, b, full, out_f, out_u, out_c):
    n1 = a.size
    n2 = b.size
    big_n = n1 + n2
    fn = np.float64(big_n)
    i = 0
    j = 0
    best_p = np.int64(0)
    best_m = np.int64(0)
    ip = n1
    jp = n2
    im = n1
    jm = n2
    cnt_p = 0
    cnt_m = 0
    n1_64 = np.int64(n1)
    n2_64 = np.int64(n2)
    ad1 = 0.0
    ad2 = 0.0
    w1 = 0.0
    prev_v = 0.0
    prev_diff = 0.0
    n_groups = 0
    r_lo = np.uint64(0)
    r_hi = np.uint64(0)
    c_lo = np.uint64(0)
    c_hi = np.uint64(0)
    while i < n1 or j < n2:
        if j >= n2 or (i < n1 and a[i] <= b[j]):
            v = a[i]
        else:
            v = b[j]
        i0 = i
        j0 = j
        while i < n1 and a[i] == v:
            i += 1
        while j < n2 and b[j] == v:
            j += 1
        ca = i - i0
        cb = j - j0
        n_groups += 1
        # KS: scipy evaluates cdf1 - cdf2 at every pooled value; only a group's end can be extreme.
        num = np.int64(i) * n2_64 - np.int64(j) * n1_64
        if num >= best_p:
            if num > best_p:
                best_p = num
                ip = i
                jp = j
                cnt_p = 0
            if cnt_p < N_TIES:
                out_c[cnt_p] = i
                out_c[N_TIES + cnt_p] = j
            cnt_p += 1
        if num <= best_m:
            if num < best_m:
                best_m = num
                im = i
                jm = j
                cnt_m = 0
            if cnt_m < N_TIES:
                out_c[2 * N_TIES + cnt_m] = i
                out_c[3 * N_TIES + cnt_m] = j
            cnt_m += 1
        if full == 0:
            continue
        # W1: the step between the previous group and this one, at the previous ECDF difference.
        if n_groups > 1 and prev_diff != 0.0:
            w1 += abs(prev_diff) * (v - prev_v)
        # ECDF difference after this group (the KS extremes above use exact integers instead)
        diff = i / n1 - j / n2
        prev_diff = diff
        prev_v = v
        # CvM: twice the pooled midrank, 2p + lj + 1, minus twice the in-sample rank; integers.
        lj = ca + cb
        two_r = 2 * (i0 + j0) + lj + 1
        for t in range(1, ca + 1):
            dd = np.int64(two_r - 2 * (i0 + t))
            sq = np.uint64(dd * dd)
            nl = r_lo + sq
            if nl < r_lo:
                r_hi += np.uint64(1)
            r_lo = nl
        for t in range(1, cb + 1):
            dd = np.int64(two_r - 2 * (j0 + t))
            sq = np.uint64(dd * dd)
            nl = c_lo + sq
            if nl < c_lo:
                c_hi += np.uint64(1)
            c_lo = nl
        if full < 2:  # mode 1: KS, CvM and W1 only (the AD terms' divisions cost a third of the walk)
            continue
        # AD midrank (Scholz & Stephens 1987, eq. 7), in scipy's order of operations.
        flj = np.float64(lj)
        bj = (i0 + j0) + flj / 2.0
        den = bj * (fn - bj) - fn * flj / 4.0
        if den != 0.0:
            m1 = i - ca / 2.0
            m2 = j - cb / 2.0
            ad1 += flj / fn * (fn * m1 - bj * n1) ** 2 / den
            ad2 += flj / fn * (fn * m2 - bj * n2) ** 2 / den
    out_f[KS_IP] = ip
    out_f[KS_JP] = jp
    out_f[KS_IM] = im
    out_f[KS_JM] = jm
    out_f[KS_NP] = cnt_p
    out_f[KS_NM] = cnt_m
    out_f[AD_REF] = ad1
    out_f[AD_CUR] = ad2
    out_f[W1] = w1
    out_f[N_DISTINCT] = n_groups
    out_u[CVM_REF_LO] = r_lo
    out_u[CVM_REF_HI] = r_hi
    out_u[CVM_CUR_LO] = c_lo
    out_u[CVM_CUR_HI] = c_hi


@kernel
def ks_ties(a, b, target, out_i, out_j):
    """Write the (i, j) counts of every tie-group end where i*n2 - j*n1 == target; returns how
    many. Equal rationals can round to different floats, and scipy takes the largest float."""
    n1 = a.size
    n2 = b.size
    i = 0
    j = 0
    k = 0
    while i < n1 or j < n2:
        if j >= n2 or (i < n1 and a[i] <= b[j]):
            v = a[i]
        else:
            v = b[j]
        while i < n1 and a[i] == v:
            i += 1
        while j < n2 and b[j] == v:
            j += 1
        if np.int64(i) * np.int64(n2) - np.int64(j) * np.int64(n1) == target and k < out_i.size:
            out_i[k] = i
            out_j[k] = j
            k += 1
    return k


@kernel(parallel=True)
def merge_walk(ref, ref_start, ref_n, cur, cur_start, cur_n, full, out_f, out_u, out_c):
    """Per feature f (``full``: 0 the KS numbers only, 1 also CvM and W1, 2 also AD): KS extreme counts, AD midrank sums, W1 area, CvM integer rank sums of the sorted
    non-NaN samples ref[ref_start[f]:+ref_n[f]] and cur[cur_start[f]:+cur_n[f]] (see module doc)."""
    n_features = ref_start.size
    for f in prange(n_features):
        a = ref[ref_start[f]:ref_start[f] + ref_n[f]]
        b = cur[cur_start[f]:cur_start[f] + cur_n[f]]
        if a.size == 0 or b.size == 0:
            for k in range(out_f.shape[1]):
                out_f[f, k] = np.nan
            for k in range(out_u.shape[1]):
                out_u[f, k] = 0
            continue
        _walk_one(a, b, full, out_f[f], out_u[f], out_c[f])


@kernel
def compact_valid(length, offset, validity, values, out, pos):
    """Copy the valid values of one chunk as float64 into out[pos:], nulls dropped; returns the new
    end position. NaN values are kept (they sort last); null slots may hold any bits."""
    if validity.size == 0:
        v = values[offset:offset + length]
        for i in range(length):
            out[pos + i] = np.float64(v[i])
        return pos + length
    k = pos
    for i in range(length):
        jj = offset + i
        if (validity[jj >> 3] >> (jj & 7)) & 1:
            out[k] = np.float64(values[jj])
            k += 1
    return k


@kernel
def ks_exact_square(n, h):
    """Pr(D_{n,n} >= h/n) for two samples of equal size n (scipy's Horner-like alternating sum)."""
    p = 0.0
    k = n // h
    while k >= 0:
        p1 = 1.0
        for j in range(h):
            p1 = (n - k * h - j) * p1 / (n + k * h + j + 1)
            if p1 == 0.0:
                # every further factor keeps it 0: stop (the drifted case underflows quickly)
                break
        p = p1 * (1.0 - p)
        k -= 1
    return 2.0 * p


@kernel
def ks_exact_inside(m, n, g, h):
    """Pr(D_{m,n} >= h/lcm(m, n)) by the lattice-path recursion over the proportion of paths that
    stay strictly inside |x/m - y/n| < h/lcm (O(m n) time, O(n) memory)."""
    if m < n:
        m, n = n, m
    mg = m // g
    ng = n // g
    # u[y] = proportion of the paths to (x, y) that stayed inside, for the current column x.
    u = np.zeros(n + 1)
    # column x = 0: inside while |0 - m*y|/g < h, i.e. mg*y < h
    for y in range(n + 1):
        if mg * y < h:
            u[y] = 1.0
        else:
            break
    for x in range(1, m + 1):
        # y = 0: inside while ng*x < h
        prev = u[0]
        if ng * x < h:
            u[0] = prev  # a single path: proportion stays 1 while inside
        else:
            u[0] = 0.0
        for y in range(1, n + 1):
            lhs = ng * x - mg * y
            if lhs < 0:
                lhs = -lhs
            if lhs < h:
                # proportions: paths from the left (x-1, y) weigh x/(x+y), from below y/(x+y)
                u[y] = (u[y] * x + u[y - 1] * y) / (x + y)
            else:
                u[y] = 0.0
    return 1.0 - u[n]


@kernel
def ad_normaliser_terms(big_n):
    """(h, g) of Scholz & Stephens' variance of the k-sample AD statistic for a pooled size N:
    h = sum_{i<N} 1/i, g = sum_{i<N-1} sum_{j>i} 1/((N-i) j), as scipy accumulates them."""
    # hs_cs[t] = sum_{m=0..t} 1/(N-1-m), t = 0..N-3; g = sum_t hs_cs[t] / (t + 2)
    acc = 0.0
    g = 0.0
    for t in range(big_n - 2):
        acc += 1.0 / (big_n - 1 - t)
        g += acc / (t + 2)
    return acc + 1.0, g


# the single-column walk, for callers that run columns on their own threads (nogil)
walk_one = _walk_one
