"""Wolbers' concordance for competing risks at a horizon: the pair sums.

A pair (i, j) is comparable when i had the event of interest by the horizon
and either j outlived i (type A, weight 1/(G(T_i-) G(T_i))) or j had a
competing event first (type B, weight 1/(G(T_i-) G(T_j-))); it is concordant
when i has the higher score (ties 1/2). ``survkit.metrics.competing_risks_concordance``
documents the estimator and adds its standard error (with the partner sums
below, which the influence function needs); the sums sit here, in the engine,
because ``FineGrayNet``'s cross-validation by concordance (models,
layer 2) computes the same index on each held-out fold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from .concordance import add_group, fenwick_prefix, tie_group_end, tie_group_start
from .ipcw import CensoringKM

__all__ = ["WolbersPairs", "WolbersSetup", "wolbers_partner_sums", "wolbers_sums"]


@njit(cache=True)
def wolbers_sums(order, time, kind, rank, n_ranks, w_b):
    """Per case: (concordant + tied/2, comparable) pair sums of type A (unweighted)
    and type B (weighted by w_b of the competing member). kind: 0 censored,
    1 case, 2 competing event, 3 a case after the horizon (a partner only)."""
    n = order.shape[0]
    a_num = np.zeros(n)
    a_den = np.zeros(n)
    b_num = np.zeros(n)
    b_den = np.zeros(n)
    tree = np.zeros(n_ranks + 1)
    at = np.zeros(n_ranks)
    total = 0.0
    ones = np.ones(n)
    censored = kind == 0
    uncensored = kind != 0
    competing = kind == 2
    hi = n
    while hi > 0:  # time descending: the tree holds j with T_j > T_i (or censored at T_i)
        lo = tie_group_start(order, time, hi)
        total = add_group(tree, at, total, order, lo, hi, censored, rank, ones)
        for p in range(lo, hi):
            i = order[p]
            if kind[i] == 1:
                a_num[i] = fenwick_prefix(tree, rank[i]) + at[rank[i]] / 2
                a_den[i] = total
        total = add_group(tree, at, total, order, lo, hi, uncensored, rank, ones)
        hi = lo
    tree[:] = 0.0
    at[:] = 0.0
    total = 0.0
    lo = 0
    while lo < n:  # time ascending: the tree holds competing events with T_j <= T_i
        hi = tie_group_end(order, time, lo)
        total = add_group(tree, at, total, order, lo, hi, competing, rank, w_b)
        for p in range(lo, hi):
            i = order[p]
            if kind[i] == 1:
                b_num[i] = fenwick_prefix(tree, rank[i]) + at[rank[i]] / 2
                b_den[i] = total
        lo = hi
    return a_num, a_den, b_num, b_den


@njit(cache=True)
def wolbers_partner_sums(order, time, kind, rank, n_ranks, w_a, w_b):
    """Per partner j: (concordant + tied/2, comparable) sums over its cases i, of
    type A (w_a[i]: cases before T_j, or at T_j when j is censored) and of type B
    (w_b[i]: cases at or after T_j, for a competing event j; not yet times w_b[j])."""
    n = order.shape[0]
    a_num = np.zeros(n)
    a_den = np.zeros(n)
    b_num = np.zeros(n)
    b_den = np.zeros(n)
    tree = np.zeros(n_ranks + 1)
    at = np.zeros(n_ranks)
    total = 0.0
    case = kind == 1
    lo = 0
    while lo < n:  # time ascending: the tree holds cases before T_j (then at T_j)
        hi = tie_group_end(order, time, lo)
        for stage in range(2):  # uncensored partners, then the cases at u, then censored
            if stage == 1:
                total = add_group(tree, at, total, order, lo, hi, case, rank, w_a)
            for p in range(lo, hi):
                j = order[p]
                if (stage == 1) == (kind[j] == 0):
                    below = fenwick_prefix(tree, rank[j])
                    a_num[j] = total - below - at[rank[j]] / 2
                    a_den[j] = total
        lo = hi
    tree[:] = 0.0
    at[:] = 0.0
    total = 0.0
    hi = n
    while hi > 0:  # time descending: the tree holds cases at or after T_j
        lo = tie_group_start(order, time, hi)
        total = add_group(tree, at, total, order, lo, hi, case, rank, w_b)
        for p in range(lo, hi):
            j = order[p]
            if kind[j] == 2:
                below = fenwick_prefix(tree, rank[j])
                b_num[j] = total - below - at[rank[j]] / 2
                b_den[j] = total
        hi = lo
    return a_num, a_den, b_num, b_den


@dataclass(frozen=True)
class WolbersPairs:
    """The weighted pair sums at one horizon for one score."""

    kind: np.ndarray  # 0 censored, 1 case by the horizon, 2 competing, 3 case after it
    rank: np.ndarray
    n_ranks: int
    wi: np.ndarray  # type A weight of each case
    wi_b: np.ndarray  # type B weight of each case (times w_b of the partner)
    a_num: np.ndarray
    a_den: np.ndarray
    b_num: np.ndarray
    b_den: np.ndarray

    @property
    def numerator(self) -> float:
        return float((self.wi * self.a_num + self.wi_b * self.b_num).sum())

    @property
    def denominator(self) -> float:
        return float((self.wi * self.a_den + self.wi_b * self.b_den).sum())

    @property
    def concordance(self) -> float:
        den = self.denominator
        return self.numerator / den if den > 0 else float("nan")


@dataclass(frozen=True)
class WolbersSetup:
    """What does not depend on the horizon or the score: the censoring
    Kaplan-Meier and its weights, the time order, the competing events."""

    time: np.ndarray
    is_case: np.ndarray  # the event of interest, at any time
    competing: np.ndarray
    km: CensoringKM
    g_before: np.ndarray
    g_at: np.ndarray
    order: np.ndarray
    w_b: np.ndarray

    @classmethod
    def fit(cls, time, is_case, competing, censored) -> WolbersSetup:
        km = CensoringKM.fit(time, censored)
        g_before = km.own_at(strict=True)
        return cls(
            time=time,
            is_case=is_case,
            competing=competing,
            km=km,
            g_before=g_before,
            g_at=km.own_at(),
            order=np.argsort(time, kind="stable"),
            w_b=np.where(competing, 1.0 / g_before, 0.0),
        )

    def at(self, horizon: float, score: np.ndarray) -> WolbersPairs:
        kind = np.where(self.competing, 2, 0).astype(np.int64)
        case = self.is_case & (self.time <= horizon)
        kind[case] = 1
        # cases after the horizon are still partners (they outlive earlier cases)
        kind[self.is_case & ~case] = 3
        _, rank = np.unique(score, return_inverse=True)
        rank = rank.astype(np.int64)
        n_ranks = int(rank.max()) + 1
        a_num, a_den, b_num, b_den = wolbers_sums(
            self.order, self.time, kind, rank, n_ranks, self.w_b
        )
        wi = np.where(case, 1.0 / (self.g_before * np.where(case, self.g_at, 1.0)), 0.0)
        wi_b = np.where(case, 1.0 / self.g_before, 0.0)
        return WolbersPairs(kind, rank, n_ranks, wi, wi_b, a_num, a_den, b_num, b_den)
