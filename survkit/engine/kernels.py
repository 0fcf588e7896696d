"""Compiled risk-set scans: the inner loop of every Cox-type model in survkit.

Rows arrive sorted by stratum, then by stop time *descending*, and grouped by
distinct (stratum, stop). One backward pass adds each group's rows to running
sums S0 = sum w*r and S1 = sum w*r*x, removes rows whose entry time is at or
after the current time (counting-process data), and handles the deaths of the
group with Breslow or Efron weights. The scan is O(n p); the p x p part of
the information is not accumulated row by row here -- it is sum_i w_i r_i c_i
x_i x_i' with c_i the hazard the row was exposed to, a single weighted Gram
product done by BLAS afterwards (see ``risk_set.py``). So no n x p x p array
is ever formed.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True)
def linear_predictor(X, beta, offset, row_stratum, n_strata):
    """eta = x'b + offset per row, and the maximum of eta within each stratum."""
    n, p = X.shape
    eta = np.empty(n)
    peak = np.full(n_strata, -np.inf)
    for i in range(n):
        v = offset[i]
        for j in range(p):
            v += X[i, j] * beta[j]
        eta[i] = v
        s = row_stratum[i]
        if v > peak[s]:
            peak[s] = v
    return eta, peak


def risk_scores(eta, peak, row_stratum, out=None):
    """exp(eta - peak of the row's stratum): the risk scores ``risk_set_scan`` reads,
    written into ``out`` when given (a loop that calls this many times reuses one
    array: a fresh one of a few hundred kB is page-faulted in on every call)."""
    if out is None:
        out = np.empty_like(eta)
    if peak.shape[0] == 1:  # one stratum: no gather
        np.subtract(eta, peak[0], out=out)
    else:
        np.subtract(eta, peak[row_stratum], out=out)
    return np.exp(out, out=out)


@njit(inline="always")
def _row_sums(i, w, risk, dead, eta, shift, S0, nd, dw, D0, loglik):
    """Row i's terms added to a group's scalar sums; returns (w r, and the sums).

    The deaths are added without a branch on the 0/1 status (mispredicted half
    the time on real data, which cost more than the rest of the scan):
    censored rows add exact zeros, so every sum is the one the branch gives."""
    ri = w[i] * risk[i]
    di = dead[i]
    wd = w[i] * di
    return ri, S0 + ri, nd + di, dw + wd, D0 + ri * di, loglik + wd * (eta[i] - shift)


@njit(cache=True)
def risk_set_scan(
    X,
    eta,
    peak,
    risk,
    w,
    dead,
    grp_ptr,
    grp_time,
    strat_gptr,
    strat_rptr,
    start,
    entry_order,
    counting,
    efron,
    want_terms,
    ext0,
    ext1,
):
    """One pass over the sorted rows at a given linear predictor.

    Risk scores ``risk`` are exp(eta - peak of the stratum), computed by the
    caller (``risk_scores``: numpy's vectorised exp is several times faster
    than the scalar one a compiled loop calls): the likelihood and its
    derivatives do not change when eta moves by a constant within a stratum,
    and this way no exp() overflows. Returns
    (loglik, U, A2, h, e, abar, ha, ea):
    loglik, the score U and A2 = sum over deaths of wbar * a a' (the part of the
    information made of risk-set means); h[g] = sum_k wbar/den_k, the hazard
    increment of group g for a row at risk (on the shifted scale); e[g] =
    sum_k wbar (k/d)/den_k, the Efron share a row dying in group g does *not*
    carry. With ``want_terms`` also, per group:
    abar (the mean over Efron steps of the risk-set mean a_k: the Schoenfeld
    centre), ha = sum_k wbar a_k/den_k and ea = sum_k wbar (k/d) a_k/den_k (for
    score residuals); otherwise those are empty.

    Efron's k-th step is written with the survivors' sums R = S - D and
    g = 1 - k/d: den_k = R0 + g D0, a_k den_k = R1 + g D1. Then every sum over
    the d steps is a combination of three scalars per group, so a tied group
    costs O(d + p^2) instead of O(d p^2), with no cancellation when R -> 0.

    ``ext0``/``ext1`` (length m, or empty) are added to S0/S1 at each group's
    deaths: risk-set members the backward scan cannot see, such as the
    Fine-Gray subjects who failed from a competing cause earlier and stay in
    the subdistribution risk set with a censoring weight.
    """
    p = X.shape[1]
    m = grp_ptr.shape[0] - 1
    loglik = 0.0
    U = np.zeros(p)
    A2 = np.zeros((p, p))
    h = np.zeros(m)
    e = np.zeros(m)
    mt = m if want_terms else 0
    abar = np.zeros((mt, p))
    ha = np.zeros((mt, p))
    ea = np.zeros((mt, p))
    S1 = np.zeros(p)
    D1 = np.zeros(p)
    R1 = np.zeros(p)
    use_ext = ext0.shape[0] > 0
    n_strata = strat_gptr.shape[0] - 1
    for s in range(n_strata):
        S0 = 0.0
        for j in range(p):
            S1[j] = 0.0
        nrisk = 0
        eptr = strat_rptr[s]
        eend = strat_rptr[s + 1]
        shift = peak[s]
        for g in range(strat_gptr[s], strat_gptr[s + 1]):
            t = grp_time[g]
            g0 = grp_ptr[g]
            g1 = grp_ptr[g + 1]
            nd = 0
            dw = 0.0
            D0 = 0.0
            for j in range(p):
                D1[j] = 0.0
            nrisk += g1 - g0
            if p == 0:
                # no covariate columns (CoxNet's scans): a loop with only the
                # scalar sums runs a fifth faster than the general one
                for i in range(g0, g1):
                    ri, S0, nd, dw, D0, loglik = _row_sums(
                        i, w, risk, dead, eta, shift, S0, nd, dw, D0, loglik
                    )
            else:
                for i in range(g0, g1):
                    ri, S0, nd, dw, D0, loglik = _row_sums(
                        i, w, risk, dead, eta, shift, S0, nd, dw, D0, loglik
                    )
                    for j in range(p):
                        S1[j] += ri * X[i, j]
                    if dead[i]:
                        for j in range(p):
                            D1[j] += ri * X[i, j]
                            U[j] += w[i] * X[i, j]
            if counting:
                while eptr < eend:
                    i = entry_order[eptr]
                    if start[i] < t:
                        break
                    ri = w[i] * risk[i]
                    S0 -= ri
                    nrisk -= 1
                    for j in range(p):
                        S1[j] -= ri * X[i, j]
                    eptr += 1
                if nrisk == 0:
                    # an empty risk set: restart the sums exactly, so rounding
                    # from earlier additions and removals cannot accumulate
                    S0 = 0.0
                    for j in range(p):
                        S1[j] = 0.0
            if nd == 0:
                continue
            R0 = S0 - D0
            for j in range(p):
                R1[j] = S1[j] - D1[j]
            if use_ext:
                R0 += ext0[g]
                for j in range(p):
                    R1[j] += ext1[g, j]
            # scalars over the Efron steps (Breslow: one step with g = 1, weight dw)
            c_inv = 0.0  # sum wbar / den
            c_g = 0.0  # sum wbar g / den
            c_inv2 = 0.0  # sum wbar / den^2
            c_g2 = 0.0  # sum wbar g / den^2
            c_gg2 = 0.0  # sum wbar g^2 / den^2
            m_inv = 0.0  # sum (1/d) / den, for the Schoenfeld centre
            m_g = 0.0  # sum (1/d) g / den
            if efron and nd > 1:
                wbar = dw / nd
                for k in range(nd):
                    gk = 1.0 - k / nd
                    den = R0 + gk * D0
                    loglik -= wbar * math.log(den)
                    inv = 1.0 / den
                    c_inv += wbar * inv
                    c_g += wbar * gk * inv
                    c_inv2 += wbar * inv * inv
                    c_g2 += wbar * gk * inv * inv
                    c_gg2 += wbar * gk * gk * inv * inv
                    m_inv += inv / nd
                    m_g += gk * inv / nd
            else:
                den = R0 + D0
                loglik -= dw * math.log(den)
                inv = 1.0 / den
                c_inv = dw * inv
                c_g = c_inv
                c_inv2 = dw * inv * inv
                c_g2 = c_inv2
                c_gg2 = c_inv2
                m_inv = inv
                m_g = inv
            h[g] = c_inv
            e[g] = c_inv - c_g
            for j in range(p):
                U[j] -= R1[j] * c_inv + D1[j] * c_g
            for j in range(p):
                rj = R1[j]
                dj = D1[j]
                for l in range(j + 1):
                    A2[j, l] += (
                        c_inv2 * rj * R1[l] + c_g2 * (rj * D1[l] + dj * R1[l]) + c_gg2 * dj * D1[l]
                    )
            if want_terms:
                for j in range(p):
                    abar[g, j] = R1[j] * m_inv + D1[j] * m_g
                    ha[g, j] = R1[j] * c_inv2 + D1[j] * c_g2
                    ea[g, j] = ha[g, j] - (R1[j] * c_g2 + D1[j] * c_gg2)
    for j in range(p):
        for l in range(j):
            A2[l, j] = A2[j, l]
    return loglik, U, A2, h, e, abar, ha, ea


@njit(cache=True)
def exposure(h, e, grp_of_row, entry_grp, dead, strat_gptr):
    """Hazard each row was exposed to: c_i = sum of h over the groups in (entry, stop].

    ``tail[g]`` is the sum of h over groups of the same stratum at or below
    group g's time (groups are in descending time), so a row's exposure is
    tail[its stop group] - tail[first group at or below its entry], minus the
    Efron share e[g] a dying row does not carry at its own death time.
    """
    m = h.shape[0]
    tail = np.zeros(m + 1)
    for s in range(strat_gptr.shape[0] - 1):
        acc = 0.0
        for g in range(strat_gptr[s + 1] - 1, strat_gptr[s] - 1, -1):
            acc += h[g]
            tail[g] = acc
    n = grp_of_row.shape[0]
    c = np.empty(n)
    for i in range(n):
        g = grp_of_row[i]
        # no branch on the 0/1 status (see risk_set_scan): e[g] * 0 is exact
        c[i] = tail[g] - tail[entry_grp[i]] - e[g] * dead[i]
    return c


@njit(cache=True)
def tail_sums(values, strat_gptr):
    """Per stratum, sum of ``values`` rows over groups at or below each group's time.

    Returns an (m + 1, k) array whose last row is zero (the 'no group' sentinel).
    """
    m, k = values.shape
    tail = np.zeros((m + 1, k))
    for s in range(strat_gptr.shape[0] - 1):
        for g in range(strat_gptr[s + 1] - 1, strat_gptr[s] - 1, -1):
            for j in range(k):
                tail[g, j] = values[g, j] + (tail[g + 1, j] if g + 1 < strat_gptr[s + 1] else 0.0)
    return tail


@njit(cache=True)
def locate_entries(start, row_stratum, grp_time, strat_gptr, sentinel):
    """For each row, the first group of its stratum whose time is <= its entry time.

    Groups within a stratum are in descending time, so this is a binary search
    for the boundary; rows with no such group get ``sentinel``.
    """
    n = start.shape[0]
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        s = row_stratum[i]
        lo = strat_gptr[s]
        hi = strat_gptr[s + 1]
        x = start[i]
        # first index in [lo, hi) with grp_time <= x (grp_time descending)
        while lo < hi:
            mid = (lo + hi) >> 1
            if grp_time[mid] <= x:
                hi = mid
            else:
                lo = mid + 1
        out[i] = lo if lo < strat_gptr[s + 1] else sentinel
    return out
