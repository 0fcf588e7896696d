"""Gray's K-sample test of equal cumulative incidence: ``gray_test``.

For each cause c the score compares each group's observed cause-c events with
those expected under a common subdistribution hazard, summed over the
distinct times (Gray 1988, rho = 0 weights by default). Its covariance is
cmprsk's (``crstm``): influence terms for the cause-c events and for the
competing events, each involving the running matrix C(u) and its final value
C(inf). Expanding the products lets one forward pass accumulate everything,
so the test is O(m G^3) per cause after the sort (m distinct event times,
G groups): linear in n for a fixed number of groups. A grouping column with
hundreds of levels is almost always a continuous column passed by mistake (at
n = 4000 it ran for hours), so more than ``max_groups`` levels are refused.
Strata add stratum-wise scores and covariances, as ``cuminc(strata=)`` does.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from numba import njit
from scipy import stats

from ..data.competing_data import read_competing_data

__all__ = ["MAX_GROUPS", "gray_test"]

MAX_GROUPS = 50


@njit(cache=True)
def _gray_stratum(time, cause_index, group, cause, n_groups, rho, score, V):
    """Add one stratum's score and covariance (rows sorted by time) into score, V."""
    n = time.shape[0]
    G = n_groups
    Y = np.zeros(G)
    for i in range(n):
        Y[group[i]] += 1.0
    S = np.ones(G)
    F = np.zeros(G)
    F_pool = 0.0
    C = np.zeros((G, G))
    A = np.zeros((G, G))
    V0 = np.zeros((G, G))
    P = np.zeros((G, G))  # column k: P_k
    Q = np.zeros(G)
    d1 = np.zeros(G)
    d2 = np.zeros(G)
    nc = np.zeros(G)
    R = np.zeros(G)
    S_minus = np.zeros(G)
    F_minus = np.zeros(G)
    active = np.zeros(G, dtype=np.bool_)
    vec = np.zeros(G)
    i = 0
    while i < n:
        t = time[i]
        for g in range(G):
            d1[g] = 0.0
            d2[g] = 0.0
            nc[g] = 0.0
        while i < n and time[i] == t:
            c = cause_index[i]
            g = group[i]
            if c == 0:
                nc[g] += 1.0
            elif c == cause:
                d1[g] += 1.0
            else:
                d2[g] += 1.0
            i += 1
        D1 = 0.0
        D2 = 0.0
        for g in range(G):
            D1 += d1[g]
            D2 += d2[g]
        if D1 + D2 == 0:
            for g in range(G):
                Y[g] -= nc[g]
            continue
        T_R = 0.0
        T_Q = 0.0
        for g in range(G):
            active[g] = Y[g] > 0
            S_minus[g] = S[g]
            F_minus[g] = F[g]
            if active[g]:
                R[g] = Y[g] / S[g]
                T_R += R[g]
                T_Q += Y[g] * (1.0 - F[g]) / S[g]
            else:
                R[g] = 0.0
        F_pool_minus = F_pool
        F_pool = F_pool_minus + D1 / T_R
        omega = (1.0 - F_pool_minus) ** rho
        for g in range(G - 1):
            if active[g]:
                score[g] += omega * (d1[g] - D1 * Y[g] * (1.0 - F_minus[g]) / (S_minus[g] * T_Q))
        for g in range(G):
            for h in range(G):
                if active[g] and active[h]:
                    A[g, h] = omega * ((R[g] if g == h else 0.0) - R[g] * R[h] / T_R)
                else:
                    A[g, h] = 0.0
        if D1 > 0:
            scale = D1 / (T_R * (1.0 - F_pool_minus))
            for g in range(G):
                for h in range(G):
                    C[g, h] += A[g, h] * scale
        for g in range(G):
            if active[g]:
                S[g] = S_minus[g] * (Y[g] - d1[g] - d2[g]) / Y[g]
                F[g] = F_minus[g] + S_minus[g] * d1[g] / Y[g]
        for k in range(G):
            if not active[k]:
                continue
            if D1 > 0:
                tau = 1.0 - (1.0 - F_pool) / S[k] if S[k] > 0 else 1.0
                kappa = 1.0
                if D1 > 1:
                    kappa = 1.0 - (D1 - 1.0) / (T_R * S_minus[k] - 1.0)
                alpha = kappa * S_minus[k] * D1 / (T_R * Y[k])
                for a in range(G):
                    vec[a] = A[a, k] - tau * C[a, k]
                for a in range(G):
                    P[a, k] += alpha * tau * vec[a]
                    for b in range(G):
                        V0[a, b] += alpha * vec[a] * vec[b]
                Q[k] += alpha * tau * tau
            if d2[k] > 0 and S[k] > 0:
                tau2 = (1.0 - F_pool) / S[k]
                kappa = 1.0
                if d2[k] > 1:
                    kappa = 1.0 - (d2[k] - 1.0) / (Y[k] - 1.0)
                beta = kappa * S_minus[k] * S_minus[k] * d2[k] / (Y[k] * Y[k])
                w = beta * tau2 * tau2
                for a in range(G):
                    P[a, k] -= w * C[a, k]
                    for b in range(G):
                        V0[a, b] += w * C[a, k] * C[b, k]
                Q[k] += w
        for g in range(G):
            Y[g] -= d1[g] + d2[g] + nc[g]
    for a in range(G):
        for b in range(G):
            acc = V0[a, b]
            for k in range(G):
                acc += Q[k] * C[a, k] * C[b, k] + C[a, k] * P[b, k] + P[a, k] * C[b, k]
            V[a, b] += acc


def gray_test(
    df: pd.DataFrame,
    duration_col: str,
    event_col: str,
    group_col: str,
    censor_value: object = 0,
    strata_col: str | None = None,
    rho: float = 0.0,
    max_groups: int = MAX_GROUPS,
) -> pd.DataFrame:
    """Gray's test that the cumulative incidence of each cause is equal across groups.

    Returns a DataFrame indexed by cause with columns ``statistic``, ``df``,
    ``p_value`` (chi-square on G - 1 df), matching ``cmprsk::cuminc(...)$Tests``.
    ``strata_col`` gives a stratified test; ``rho`` is Gray's weight exponent
    (0, the default, is the log-rank-type test cuminc uses). More than
    ``max_groups`` groups (50) are refused: the cost grows as G^3 and a column
    with that many levels is usually continuous; cut it into groups first.
    """
    if group_col is None:
        raise ValueError("gray_test needs group_col: the column whose groups are compared.")
    data = read_competing_data(
        df,
        duration_col,
        event_col,
        censor_value,
        group_col,
        strata_col,
        group_within_stratum=False,
    )
    G = len(data.group_labels)
    if G > max_groups:
        raise ValueError(
            f"group column {group_col!r} has {G} distinct values; gray_test compares at most "
            f"max_groups={max_groups} groups (its cost grows as the cube of the number of "
            "groups). Is it a continuous column? Cut it into a few groups first, e.g. "
            f"pandas.qcut(df[{group_col!r}], 4), or raise max_groups."
        )
    if G < 2:
        raise ValueError(
            f"group column {group_col!r} has a single level ({data.group_labels[0]!r}); "
            "Gray's test compares at least two groups."
        )
    bounds = np.flatnonzero(np.diff(data.stratum)) + 1
    starts = np.concatenate([[0], bounds])
    ends = np.concatenate([bounds, [data.time.shape[0]]])
    rows = []
    for k, label in enumerate(data.labels, start=1):
        score = np.zeros(G)
        V = np.zeros((G, G))
        for lo, hi in zip(starts, ends, strict=True):
            sl = slice(lo, hi)
            _gray_stratum(
                data.time[sl], data.cause_index[sl], data.group[sl], k, G, float(rho), score, V
            )
        s = score[: G - 1]
        v = V[: G - 1, : G - 1]
        if np.linalg.matrix_rank(v) < G - 1:
            warnings.warn(
                f"Gray's test for cause {label!r}: the covariance is singular (a group has no "
                "information on this cause); the statistic is not defined and is NaN.",
                RuntimeWarning,
                stacklevel=2,
            )
            stat = np.nan
        else:
            stat = float(s @ np.linalg.solve(v, s))
        rows.append(
            {
                "cause": label,
                "statistic": stat,
                "df": G - 1,
                "p_value": float(stats.chi2.sf(stat, G - 1)) if np.isfinite(stat) else np.nan,
            }
        )
    return pd.DataFrame(rows).set_index("cause")
