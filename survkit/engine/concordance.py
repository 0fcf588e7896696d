"""Harrell's concordance of a risk score with survival, as R's ``concordance()``.

A pair is comparable when one member has an event at time t and the other is
still at risk at t (its stop time is later, or equal but censored; with
(entry, stop] rows, its interval covers t). The pair is concordant when the
member with the event has the higher risk score. Pairs of events at the same
time are tied in time and do not count; pairs tied in the score count one half:
C = (concordant + tied_x / 2) / (concordant + discordant + tied_x).
Pairs are weighted by w_i w_j and never cross strata.

The risk set is built exactly as in the Cox scan (stop descending, entries
removed when the time passes their entry) and kept in a Fenwick tree over the
ranks of the score, so the whole count is O(n log n).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from .risk_set import RiskSetProblem

__all__ = ["ConcordanceCounts", "concordance_counts", "concordance_index"]


@dataclass(frozen=True)
class ConcordanceCounts:
    concordant: float
    discordant: float
    tied_x: float
    tied_y: float
    tied_xy: float

    @property
    def concordance(self) -> float:
        comparable = self.concordant + self.discordant + self.tied_x
        return (self.concordant + self.tied_x / 2) / comparable if comparable else float("nan")


@njit(cache=True)
def fenwick_add(tree, pos, value):
    k = pos + 1
    n = tree.shape[0] - 1
    while k <= n:
        tree[k] += value
        k += k & (-k)


@njit(inline="always")
def tie_group_start(order, time, hi):
    """The first position of the run of equal times that ends at ``hi - 1`` (``order``
    sorts by time ascending)."""
    lo = hi - 1
    while lo > 0 and time[order[lo - 1]] == time[order[hi - 1]]:
        lo -= 1
    return lo


@njit(inline="always")
def tie_group_end(order, time, lo):
    """One past the last position of the run of equal times that starts at ``lo``."""
    hi = lo + 1
    while hi < order.shape[0] and time[order[hi]] == time[order[lo]]:
        hi += 1
    return hi


@njit(inline="always")  # called once per tied-time group: a call each cost a fifth
def add_group(tree, at, total, order, lo, hi, member, rank, weight):
    """Add the rows ``order[lo:hi]`` marked in ``member`` to the rank sums: each
    one's ``weight`` to the Fenwick tree (sums below a rank), to ``at`` (sums at
    its rank) and to ``total``; returns the new total. The concordance scans
    add each tied-time group this way, one kind of row at a time."""
    for p in range(lo, hi):
        i = order[p]
        if member[i]:
            fenwick_add(tree, rank[i], weight[i])
            at[rank[i]] += weight[i]
            total += weight[i]
    return total


@njit(cache=True)
def fenwick_prefix(tree, pos):
    """Sum of entries with rank < pos."""
    total = 0.0
    k = pos
    while k > 0:
        total += tree[k]
        k -= k & (-k)
    return total


@njit(cache=True)
def _count_pairs(
    rank, n_ranks, w, dead, grp_ptr, grp_time, strat_gptr, strat_rptr, start, entry_order, counting
):
    tree = np.zeros(n_ranks + 1)
    at_rank = np.zeros(n_ranks)  # weight at each exact rank, for ties in the score
    death_at_rank = np.zeros(n_ranks)
    conc = 0.0
    disc = 0.0
    tied_x = 0.0
    tied_y = 0.0
    tied_xy = 0.0
    in_tree = np.zeros(rank.shape[0], dtype=np.uint8)
    for s in range(strat_gptr.shape[0] - 1):
        total = 0.0
        eptr = strat_rptr[s]
        eend = strat_rptr[s + 1]
        for g in range(strat_gptr[s], strat_gptr[s + 1]):
            t = grp_time[g]
            g0 = grp_ptr[g]
            g1 = grp_ptr[g + 1]
            # rows censored at t are still at risk at t: comparable with its deaths
            for i in range(g0, g1):
                if not dead[i]:
                    fenwick_add(tree, rank[i], w[i])
                    at_rank[rank[i]] += w[i]
                    total += w[i]
                    in_tree[i] = 1
            if counting:
                while eptr < eend:
                    i = entry_order[eptr]
                    if start[i] < t:
                        break
                    if in_tree[i]:
                        fenwick_add(tree, rank[i], -w[i])
                        at_rank[rank[i]] -= w[i]
                        total -= w[i]
                        in_tree[i] = 2
                    else:
                        in_tree[i] = 3  # leaves before it enters: never add it
                    eptr += 1
            dsum = 0.0
            dsq = 0.0
            for i in range(g0, g1):
                if dead[i]:
                    below = fenwick_prefix(tree, rank[i])
                    same = at_rank[rank[i]]
                    conc += w[i] * below
                    tied_x += w[i] * same
                    disc += w[i] * (total - below - same)
                    dsum += w[i]
                    dsq += w[i] * w[i]
            tied_y += (dsum * dsum - dsq) / 2
            # pairs of deaths at t with equal scores, via weight per rank (O(d))
            for i in range(g0, g1):
                if dead[i]:
                    tied_xy += w[i] * death_at_rank[rank[i]]
                    death_at_rank[rank[i]] += w[i]
            for i in range(g0, g1):
                if dead[i]:
                    death_at_rank[rank[i]] = 0.0
            for i in range(g0, g1):
                if dead[i] and in_tree[i] == 0:
                    fenwick_add(tree, rank[i], w[i])
                    at_rank[rank[i]] += w[i]
                    total += w[i]
                    in_tree[i] = 1
        # empty the tree before the next stratum
        for i in range(strat_rptr[s], strat_rptr[s + 1]):
            if in_tree[i] == 1:
                fenwick_add(tree, rank[i], -w[i])
                at_rank[rank[i]] -= w[i]
    return conc, disc, tied_x, tied_y - tied_xy, tied_xy


def concordance_counts(problem: RiskSetProblem, score: np.ndarray) -> ConcordanceCounts:
    """Weighted pair counts for a risk score given in the problem's sorted order."""
    _, rank = np.unique(score, return_inverse=True)
    conc, disc, tx, ty, txy = _count_pairs(
        rank.astype(np.int64),
        int(rank.max()) + 1,
        problem.weights,
        problem.dead,
        *problem.scan_structure,
    )
    return ConcordanceCounts(conc, disc, tx, ty, txy)


def concordance_index(problem: RiskSetProblem, score: np.ndarray) -> float:
    return concordance_counts(problem, score).concordance
