"""Streaming drift detectors over a batch: Page-Hinkley, CUSUM, DDM, EDDM, HDDM-A, HDDM-W.

Each ``*_update(x, state, <parameters>, out, warn)`` feeds x[0..n) through the detector, writes the
positions of detected drifts into ``out`` and returns their number; ``state`` (float64, caller
owned) carries everything across batches, including the flag that makes the detector reset at
the update *after* a drift, as River does. ``warn[0]`` is set to the warning flag after the last
value (binary detectors). Operations follow River's order, so detection points match it.
"""

from __future__ import annotations

import math

import numpy as np

from ._jit import kernel

# ---- Page-Hinkley --------------------------------------------------------------------------
# state: n, mean, sum_increase, sum_decrease, min_increase, max_decrease, pending
PH_N_STATE = 7


@kernel
def ph_reset(state):
    state[0] = 0.0
    state[1] = 0.0
    state[2] = 0.0
    state[3] = 0.0
    state[4] = np.inf
    state[5] = -1.0
    state[6] = 0.0


@kernel
def ph_update(x, state, min_instances, delta, threshold, alpha, mode, out):
    """mode: 0 both, 1 up, 2 down."""
    # state lives in locals during the loop: stores into an array that may alias x would
    # otherwise be reloaded on every value
    n, mean, s_inc, s_dec, min_inc, max_dec, pending = (state[0], state[1], state[2], state[3],
                                                        state[4], state[5], state[6])
    nd = 0
    for i in range(x.size):
        if pending != 0.0:
            n, mean, s_inc, s_dec, min_inc, max_dec, pending = 0.0, 0.0, 0.0, 0.0, np.inf, -1.0, 0.0
        xi = np.float64(x[i])
        n += 1.0
        mean += 1.0 / n * (xi - mean)
        dev = xi - mean
        s_inc = alpha * s_inc + dev - delta
        s_dec = alpha * s_dec + dev + delta
        if s_inc < min_inc:
            min_inc = s_inc
        if s_dec > max_dec:
            max_dec = s_dec
        if n >= min_instances:
            up = s_inc - min_inc > threshold
            down = max_dec - s_dec > threshold
            hit = (up or down) if mode == 0 else (up if mode == 1 else down)
            if hit:
                out[nd] = i
                nd += 1
                pending = 1.0
    state[0], state[1], state[2], state[3], state[4], state[5], state[6] = (n, mean, s_inc, s_dec, min_inc,
                                                                            max_dec, pending)
    return nd


# ---- CUSUM (Page 1954, two-sided, tabular) ----------------------------------------------------
# state: n, mean of the first min_instances values (the target), g_plus, g_minus, pending
CUSUM_N_STATE = 5


@kernel
def cusum_reset(state):
    for k in range(CUSUM_N_STATE):
        state[k] = 0.0


@kernel
def cusum_update(x, state, min_instances, target, has_target, k_slack, h, out):
    """g+ = max(0, g+ + x - mu0 - k), g- = max(0, g- + mu0 - x - k); drift when either > h. mu0 is
    ``target`` when ``has_target``, else the running mean of the first ``min_instances`` values
    after each reset (no test runs while it is being learnt)."""
    n, mean, gp, gm, pending = state[0], state[1], state[2], state[3], state[4]
    nd = 0
    for i in range(x.size):
        if pending != 0.0:
            n, mean, gp, gm, pending = 0.0, 0.0, 0.0, 0.0, 0.0
        xi = np.float64(x[i])
        n += 1.0
        if not has_target and n <= min_instances:
            mean += 1.0 / n * (xi - mean)
            continue
        mu0 = target if has_target else mean
        gp = max(0.0, gp + xi - mu0 - k_slack)
        gm = max(0.0, gm + mu0 - xi - k_slack)
        if gp > h or gm > h:
            out[nd] = i
            nd += 1
            pending = 1.0
    state[0], state[1], state[2], state[3], state[4] = n, mean, gp, gm, pending
    return nd


# ---- DDM (Gama et al. 2004) ---------------------------------------------------------------------
# state: n, p, p_min, s_min, ps_min, warning, pending
DDM_N_STATE = 7


@kernel
def ddm_reset(state):
    state[0] = 0.0
    state[1] = 0.0
    state[2] = np.nan
    state[3] = np.nan
    state[4] = np.inf
    state[5] = 0.0
    state[6] = 0.0


@kernel
def ddm_update(x, state, warm_start, warning_threshold, drift_threshold, out, warn):
    n, p, p_min, s_min, ps_min, warning, pending = (state[0], state[1], state[2], state[3], state[4],
                                                    state[5], state[6])
    nd = 0
    for i in range(x.size):
        if pending != 0.0:
            n, p, p_min, s_min, ps_min, warning, pending = 0.0, 0.0, np.nan, np.nan, np.inf, 0.0, 0.0
        xi = np.float64(x[i])
        n += 1.0
        p += 1.0 / n * (xi - p)
        s = math.sqrt(p * (1 - p) / n)
        if n > warm_start:
            if p + s <= ps_min:
                p_min = p
                s_min = s
                ps_min = p_min + s_min
            warning = 1.0 if p + s > p_min + warning_threshold * s_min else 0.0
            if p + s > p_min + drift_threshold * s_min:
                warning = 0.0
                out[nd] = i
                nd += 1
                pending = 1.0
    state[0], state[1], state[2], state[3], state[4], state[5], state[6] = (n, p, p_min, s_min, ps_min,
                                                                            warning, pending)
    warn[0] = warning
    return nd


# ---- EDDM (Baena-García et al. 2006) -----------------------------------------------------------
# state: n, last_error, n_errors, p2s_max, var_n, var_mean, var_S, warning, pending
EDDM_N_STATE = 9


@kernel
def eddm_reset(state):
    for k in range(EDDM_N_STATE):
        state[k] = 0.0
    state[3] = -1.0


@kernel
def eddm_update(x, state, warm_start, alpha, beta, out, warn):
    nd = 0
    for i in range(x.size):
        if state[8] != 0.0:
            eddm_reset(state)
        state[0] += 1.0
        if np.float64(x[i]) == 1.0:
            state[2] += 1.0
            d = state[0] - state[1]
            mean_old = state[5]
            state[4] += 1.0
            state[5] += 1.0 / state[4] * (d - state[5])
            state[6] += 1.0 * (d - mean_old) * (d - state[5])
            if state[0] > warm_start:
                pi = state[5]
                var = state[6] / (state[4] - 1) if state[4] > 1 else 0.0
                si = var ** 0.5
                p2s = pi + 2 * si
                if p2s > state[3]:
                    state[3] = p2s
                elif state[2] > warm_start:
                    level = p2s / state[3]
                    if level < beta:
                        out[nd] = i
                        nd += 1
                        state[8] = 1.0
                    elif level < alpha:
                        state[7] = 1.0
                    else:
                        state[7] = 0.0
            state[1] = state[0]
    warn[0] = state[7]
    return nd


# ---- HDDM-A (Frías-Blanco et al. 2015, averages, Hoeffding bounds) ----------------------------
# state: z_n, z_mean, min_n, min_mean, max_n, max_mean, warning, pending
HDDMA_N_STATE = 8


@kernel
def hddm_a_reset(state):
    for k in range(HDDMA_N_STATE):
        state[k] = 0.0


@kernel(inline="always")
def _hoeffding(n, confidence):
    return math.sqrt(1.0 / (2 * n) * math.log(1.0 / confidence))


@kernel(inline="always")
def _mean_change(z_n, z_mean, o_n, o_mean, confidence, increase):
    if o_n == z_n:
        return False
    m = (z_n - o_n) / o_n * (1.0 / z_n)
    eps = math.sqrt(m / 2 * math.log(2.0 / confidence))
    if increase:
        return z_mean - o_mean >= eps
    return o_mean - z_mean >= eps


@kernel
def hddm_a_update(x, state, drift_confidence, warning_confidence, two_sided, out, warn):
    nd = 0
    for i in range(x.size):
        if state[7] != 0.0:
            hddm_a_reset(state)
        xi = np.float64(x[i])
        state[0] += 1.0
        state[1] += 1.0 / state[0] * (xi - state[1])
        if state[2] == 0:
            state[2] = state[0]
            state[3] = state[1]
        if state[4] == 0:
            state[4] = state[0]
            state[5] = state[1]
        eps_z = _hoeffding(state[0], drift_confidence)
        eps_x = _hoeffding(state[2], drift_confidence)
        if state[3] + eps_x >= state[1] + eps_z:
            state[2] = state[0]
            state[3] = state[1]
        eps_x = _hoeffding(state[4], drift_confidence)
        if state[5] - eps_x <= state[1] - eps_z:
            state[4] = state[0]
            state[5] = state[1]
        drift = False
        if _mean_change(state[0], state[1], state[2], state[3], drift_confidence, True):
            state[6] = 0.0
            drift = True
        elif _mean_change(state[0], state[1], state[2], state[3], warning_confidence, True):
            state[6] = 1.0
        else:
            state[6] = 0.0
        if two_sided:
            if _mean_change(state[0], state[1], state[4], state[5], drift_confidence, False):
                drift = True
            elif _mean_change(state[0], state[1], state[4], state[5], warning_confidence, False):
                state[6] = 1.0
        if drift:
            out[nd] = i
            nd += 1
            state[7] = 1.0
    warn[0] = state[6]
    return nd


# ---- HDDM-W (weighted moving averages, McDiarmid bounds) ---------------------------------------
# Each "sample" is (ewma, ewma_initialised, is_init, ibc): total, s1_incr, s2_incr, s1_decr, s2_decr
# at offsets 0, 4, 8, 12, 16; then incr_cutpoint 20, decr_cutpoint 21, warning 22, pending 23.
HDDMW_N_STATE = 24


@kernel(inline="always")
def _sample_reset(state, o):
    state[o] = 0.0
    state[o + 1] = 0.0
    state[o + 2] = 0.0
    state[o + 3] = 1.0


@kernel
def hddm_w_reset(state):
    for o in range(0, 20, 4):
        _sample_reset(state, o)
    state[20] = np.inf
    state[21] = -np.inf
    state[22] = 0.0
    state[23] = 0.0


@kernel(inline="always")
def _sample_update(state, o, xi, lam):
    # exponentially weighted mean: the first value initialises it
    if state[o + 1] == 0.0:
        state[o] = xi
        state[o + 1] = 1.0
    else:
        state[o] = lam * xi + (1.0 - lam) * state[o]
    state[o + 2] = 1.0
    state[o + 3] = lam * lam + (1 - lam) ** 2 * state[o + 3]


@kernel(inline="always")
def _copy_sample(state, src, dst):
    for k in range(4):
        state[dst + k] = state[src + k]


@kernel(inline="always")
def _mcdiarmid(ibc, confidence):
    return math.sqrt(ibc * math.log(1 / confidence) / 2)


@kernel(inline="always")
def _changed(state, o1, o2, confidence):
    if not (state[o1 + 2] != 0.0 and state[o2 + 2] != 0.0):
        return False
    bound = _mcdiarmid(state[o1 + 3] + state[o2 + 3], confidence)
    return state[o2] - state[o1] > bound


@kernel
def hddm_w_update(x, state, drift_confidence, warning_confidence, lam, two_sided, out, warn):
    nd = 0
    for i in range(x.size):
        if state[23] != 0.0:
            hddm_w_reset(state)
        xi = np.float64(x[i])
        _sample_update(state, 0, xi, lam)
        # increase statistics
        eps = _mcdiarmid(state[3], drift_confidence)
        if state[0] + eps < state[20]:
            state[20] = state[0] + eps
            _copy_sample(state, 0, 4)
            _sample_reset(state, 8)
        else:
            _sample_update(state, 8, xi, lam)
        drift = False
        if _changed(state, 4, 8, drift_confidence):
            state[22] = 0.0
            drift = True
        elif _changed(state, 4, 8, warning_confidence):
            state[22] = 1.0
        else:
            state[22] = 0.0
        # decrease statistics
        eps = _mcdiarmid(state[3], drift_confidence)
        if state[0] - eps > state[21]:
            state[21] = state[0] - eps
            _copy_sample(state, 0, 12)
            _sample_reset(state, 16)
        else:
            _sample_update(state, 16, xi, lam)
        if two_sided:
            if _changed(state, 16, 12, drift_confidence):
                drift = True
            elif _changed(state, 16, 12, warning_confidence):
                state[22] = 1.0
        if drift:
            out[nd] = i
            nd += 1
            state[23] = 1.0
    warn[0] = state[22]
    return nd
