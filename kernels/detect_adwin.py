"""ADWIN (Bifet & Gavaldà 2007, the ADWIN2 bucket variant River implements) over a batch.

State (caller-owned, updated in place): ``totals``/``variances`` float64[MAX_ROWS, max_buckets+1]
(row r holds buckets of 2**r values, oldest first), ``counts`` int64[MAX_ROWS] (buckets per row),
``scal`` float64[N_SCAL]. Detection indices (positions in ``x``) go to ``out``; returns how many.
River resets the whole detector at the update *after* a drift (trap 1): ``scal[PENDING]`` keeps
that across batches. Floating-point operations follow River's order.
"""

from __future__ import annotations

import math

import numpy as np

from ._jit import kernel

MAX_ROWS = 64
WIDTH = 0
TOTAL = 1
VARIANCE = 2
TICK = 3
N_ROWS = 4
N_DETECTIONS = 5
PENDING = 6
N_SCAL = 7


@kernel
def reset(totals, variances, counts, scal):
    """Empty window (River's ``_reset``), keeping the number of detections."""
    totals[:, :] = 0.0
    variances[:, :] = 0.0
    counts[:] = 0
    nd = scal[N_DETECTIONS]
    scal[:] = 0.0
    scal[N_ROWS] = 1.0
    scal[N_DETECTIONS] = nd


@kernel(inline="always")
def _compress_row(totals, variances, counts, row, n):
    # drop the n oldest buckets of a row, shifting the rest left
    cap = totals.shape[1]
    for i in range(n, cap):
        totals[row, i - n] = totals[row, i]
        variances[row, i - n] = variances[row, i]
    for i in range(cap - n, cap):
        totals[row, i] = 0.0
        variances[row, i] = 0.0
    counts[row] -= n


@kernel(inline="always")
def _insert(totals, variances, counts, scal, value, max_buckets):
    totals[0, counts[0]] = value
    variances[0, counts[0]] = 0.0
    counts[0] += 1
    scal[WIDTH] += 1.0
    width = scal[WIDTH]
    inc = 0.0
    if width > 1.0:
        inc = ((width - 1.0) * (value - scal[TOTAL] / (width - 1.0))
               * (value - scal[TOTAL] / (width - 1.0)) / width)
    scal[VARIANCE] += inc
    scal[TOTAL] += value
    # compress: a row holding max_buckets + 1 buckets merges its two oldest into the next row
    row = 0
    n_rows = int(scal[N_ROWS])
    while row < n_rows:
        if counts[row] == max_buckets + 1:
            if row + 1 >= n_rows:
                n_rows += 1
                scal[N_ROWS] = n_rows
            n1 = np.float64(np.int64(1) << row)
            n2 = n1
            mu1 = totals[row, 0] / n1
            mu2 = totals[row, 1] / n2
            temp = n1 * n2 * (mu1 - mu2) * (mu1 - mu2) / (n1 + n2)
            total12 = totals[row, 0] + totals[row, 1]
            v12 = variances[row, 0] + variances[row, 1] + temp
            nxt = row + 1
            totals[nxt, counts[nxt]] = total12
            variances[nxt, counts[nxt]] = v12
            counts[nxt] += 1
            _compress_row(totals, variances, counts, row, 2)
            if counts[nxt] <= max_buckets:
                break
        else:
            break
        row += 1


@kernel(inline="always")
def _delete_oldest(totals, variances, counts, scal):
    last = int(scal[N_ROWS]) - 1
    n = np.float64(np.int64(1) << last)
    u = totals[last, 0]
    mu = u / n
    v = variances[last, 0]
    scal[WIDTH] -= n
    scal[TOTAL] -= u
    mu_window = scal[TOTAL] / scal[WIDTH]
    inc = v + n * scal[WIDTH] * (mu - mu_window) * (mu - mu_window) / (n + scal[WIDTH])
    scal[VARIANCE] -= inc
    _compress_row(totals, variances, counts, last, 1)
    if counts[last] == 0:
        scal[N_ROWS] = last
    return n


@kernel(inline="always")
def _detect(totals, variances, counts, scal, delta, clock, min_window, grace):
    change = False
    scal[TICK] += 1.0
    if int(scal[TICK]) % clock == 0 and scal[WIDTH] > grace:
        reduce_width = True
        while reduce_width:
            reduce_width = False
            exit_flag = False
            width = scal[WIDTH]
            var = scal[VARIANCE]
            # the same for every cut of this scan (the window changes only after a detection)
            delta_prime = math.log(2.0 * math.log(width) / delta)
            vterm = var / width * delta_prime
            n0 = 0.0
            n1 = width
            u0 = 0.0
            u1 = scal[TOTAL]
            row = int(scal[N_ROWS]) - 1
            while row >= 0:
                if exit_flag:
                    break
                size = np.float64(np.int64(1) << row)
                for k in range(counts[row]):
                    n0 += size
                    n1 -= size
                    u0 += totals[row, k]
                    u1 -= totals[row, k]
                    if row == 0 and k == counts[row] - 1:
                        exit_flag = True  # W1 would be empty
                        break
                    if n1 >= min_window and n0 >= min_window:
                        # Division-free screen: |dm| > eps needs dm^2 > 2 m_recip var/width dp, i.e.
                        # (u0 n1 - u1 n0)^2 a b > 2 (a + b) vterm (n0 n1)^2 with a, b the shrunk
                        # lengths. The 0.9 margin dwarfs rounding, so no cut River takes is skipped;
                        # River's own expression then decides, bit for bit.
                        ca = n0 - min_window + 1
                        cb = n1 - min_window + 1
                        num = u0 * n1 - u1 * n0
                        nn = n0 * n1
                        if num * num * ca * cb < 1.8 * (ca + cb) * vterm * nn * nn:
                            continue
                        delta_mean = (u0 / n0) - (u1 / n1)
                        m_recip = (1.0 / (n0 - min_window + 1)) + (1.0 / (n1 - min_window + 1))
                        epsilon = (math.sqrt(2.0 * m_recip * var / width * delta_prime)
                                   + 2.0 / 3.0 * delta_prime * m_recip)
                        if abs(delta_mean) > epsilon:
                            reduce_width = True
                            change = True
                            if scal[WIDTH] > 0:
                                n0 -= _delete_oldest(totals, variances, counts, scal)
                                exit_flag = True
                                break
                row -= 1
    if change:
        scal[N_DETECTIONS] += 1.0
    return change


@kernel
def adwin_update(x, totals, variances, counts, scal, delta, clock, max_buckets, min_window, grace, out):
    """Feed x[0..n) to ADWIN; write detection positions to out; returns their number."""
    nd = 0
    for i in range(x.size):
        if scal[PENDING] != 0.0:
            reset(totals, variances, counts, scal)
        _insert(totals, variances, counts, scal, np.float64(x[i]), max_buckets)
        if _detect(totals, variances, counts, scal, delta, clock, min_window, grace):
            out[nd] = i
            nd += 1
            scal[PENDING] = 1.0
    return nd
