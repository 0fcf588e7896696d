"""Per-event-time risk-set moments of a fitted Cox model, recovered from one engine pass.

Residuals and the ``cox.zph`` score test need, at every event time t, pieces of
the information matrix weighted by a function of t (sum_t q_t I_t), the
Schoenfeld centre and the hazard increments. The engine's ``evaluate`` (with
``want_terms``) returns per group the Efron-averaged mean ``abar``, the hazard
``h``, the Efron share ``e`` and the hazard-weighted means ``ha``/``ea``; this
module turns those into everything else in O(n p + m p^2) (m = event times),
never forming a risk set:

* the information at an event time splits as I_t = sum_{i in R(t)} w r x x' *
  (h_t - [i dies at t] e_t) - A2_t, with A2_t = sum_k wbar m_k m_k' over Efron
  steps. The first part summed over t with weights q_t is a weighted Gram
  product sum_i w_i r_i c_i^q x_i x_i', where c^q is the q-weighted hazard the
  row was exposed to (prefix sums over event times);
* A2_t = ha_t R1_t' + (ha_t - ea_t) D1_t', where D1 is the deaths' sum of
  w r x (summed directly) and R1 = S1 - D1 the survivors' sum, recovered from
  abar: abar * dw = R1 h + D1 (h - e) (Efron steps and Breslow alike).

Everything stays on the engine's centred X and its per-stratum shifted risk
scale; every quantity returned here is invariant to both.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .risk_set import Evaluation, RiskSetProblem, evaluate

__all__ = ["RiskSetMoments", "event_order", "risk_set_moments"]

_CHUNK = 4096  # rows per BLAS call: small blocks stay in cache (measured fastest)


@dataclass
class RiskSetMoments:
    """Group-level quantities of one fit (groups = distinct (stratum, time), sorted)."""

    problem: RiskSetProblem
    evaluation: Evaluation
    event_groups: np.ndarray  # indices of the groups holding at least one death
    hazard: np.ndarray  # h per group, on the shifted risk scale (0 without deaths)
    efron_share: np.ndarray  # e per group (0 without deaths)
    abar: np.ndarray  # (n_event_groups, p) Schoenfeld centre
    ha: np.ndarray  # (n_event_groups, p)
    ea: np.ndarray  # (n_event_groups, p)
    survivors_x: np.ndarray  # (n_event_groups, p) R1 = risk-set sum of w r x minus deaths'
    deaths_x: np.ndarray  # (n_event_groups, p) D1 = deaths' sum of w r x

    @property
    def dead(self) -> np.ndarray:
        return self.problem.dead.astype(bool)

    def exposure(self, q: np.ndarray | None = None) -> np.ndarray:
        """c_i^q = sum over the event times t row i was at risk at of q_t h_t, less
        q_t e_t at its own death time (Efron). ``q`` is per group; None means 1."""
        p = self.problem
        v = self.hazard if q is None else self.hazard * q
        share = self.efron_share if q is None else self.efron_share * q
        m = v.shape[0]
        # groups run in descending time within each stratum, so "at or below
        # group g's time" is a reverse cumulative sum restarted per stratum
        rc = np.zeros(m + 1)
        rc[:m] = np.cumsum(v[::-1])[::-1]
        stratum_end = p.strat_gptr[p.grp_stratum + 1]
        tail = np.zeros(m + 1)
        tail[:m] = rc[:m] - rc[stratum_end]
        g = p.grp_of_row
        c = tail[g] - tail[p.entry_grp]
        dead = self.dead
        c[dead] -= share[g[dead]]
        return c

    def information(self, q: np.ndarray | None = None) -> np.ndarray:
        """sum over event times t of q_t I_t (q per group; None gives the Cox information)."""
        p = self.problem
        c = self.exposure(q)
        v = p.weights * self.evaluation.risk * c
        X = p.X
        gram = np.zeros((X.shape[1], X.shape[1]))
        for lo in range(0, X.shape[0], _CHUNK):
            block = X[lo : lo + _CHUNK]
            gram += (block * v[lo : lo + _CHUNK, None]).T @ block
        qe = np.ones(self.event_groups.shape[0]) if q is None else q[self.event_groups]
        a2 = (self.ha * qe[:, None]).T @ self.survivors_x + (
            (self.ha - self.ea) * qe[:, None]
        ).T @ self.deaths_x
        info = gram - a2
        return (info + info.T) / 2

    def schoenfeld(self, rows: np.ndarray | None = None) -> np.ndarray:
        """x_i - abar(t_i) for the deaths ``rows`` (sorted-row indices; default every
        death, in the engine's sorted order)."""
        if rows is None:
            rows = np.flatnonzero(self.dead)
        pos = np.searchsorted(self.event_groups, self.problem.grp_of_row[rows])
        return np.take(self.problem.X, rows, axis=0) - np.take(self.abar, pos, axis=0)


def event_order(problem: RiskSetProblem, rows: np.ndarray, ties_descending: bool) -> np.ndarray:
    """Permutation putting the sorted rows ``rows`` in R's per-event order: stratum,
    then time ascending, then the caller's row (descending with ``ties_descending``).

    Groups run time-descending within a stratum, so reversing the group index
    inside its stratum's block gives (stratum, time ascending) as one integer;
    with the caller's row it makes a unique int64 key: one argsort, no lexsort.
    """
    g = problem.grp_of_row[rows]
    s = problem.grp_stratum[g]
    key = (problem.strat_gptr[s] + problem.strat_gptr[s + 1] - 1 - g).astype(np.int64)
    n = problem.order.shape[0]
    row = problem.order[rows].astype(np.int64)
    return np.argsort(key * n + ((n - 1 - row) if ties_descending else row))


def risk_set_moments(problem: RiskSetProblem, beta: np.ndarray, efron: bool) -> RiskSetMoments:
    """One engine pass at ``beta`` and the group quantities derived from it."""
    ev = evaluate(problem, np.asarray(beta, dtype=float), efron, want_terms=True)
    abar, ha, ea = ev.terms
    dead = problem.dead.astype(bool)
    g_dead = problem.grp_of_row[dead]
    event_groups = np.unique(g_dead)
    m = problem.grp_time.shape[0]
    # back from "hazard at centred x = 0" to the engine's shifted risk scale
    hazard = ev.scan_hazard
    share = np.asarray(ev.efron_share, dtype=float)
    hazard = np.where(np.isin(np.arange(m), event_groups), hazard, 0.0)
    wr = problem.weights * ev.risk
    # deaths are contiguous runs inside sorted groups: sum them per group
    rows = np.flatnonzero(dead)
    starts = np.flatnonzero(np.r_[True, g_dead[1:] != g_dead[:-1]])
    deaths_x = np.add.reduceat(problem.X[rows] * wr[rows, None], starts, axis=0)
    dw = np.add.reduceat(problem.weights[rows], starts)
    h = hazard[event_groups]
    e = share[event_groups]
    ab = abar[event_groups]
    survivors_x = (ab * dw[:, None] - deaths_x * (h - e)[:, None]) / h[:, None]
    return RiskSetMoments(
        problem=problem,
        evaluation=ev,
        event_groups=event_groups,
        hazard=hazard,
        efron_share=np.where(hazard > 0, share, 0.0),
        abar=ab,
        ha=ha[event_groups],
        ea=ea[event_groups],
        survivors_x=survivors_x,
        deaths_x=deaths_x,
    )
