"""The two extra pieces of the Fine-Gray sandwich, as running sums over time.

Groups of the engine's problem are distinct times in *descending* order, so a
sum over later times is a prefix (cumsum) over groups and a sum over earlier
times a suffix. Everything is per censoring group k (crr's ``cengroup``) and
O(n p) in total; crr computes the same quantities with O(n^2) loops.

Notation (Fine & Gray 1999; crr's Fortran): W_k(t) = G_k(t-), dLambda(t) the
subdistribution hazard jump, xbar(t) the risk-set mean, r_i = exp(x_i'b).
"""

from __future__ import annotations

import numpy as np

from ..engine.risk_set import Evaluation, RiskSetProblem
from .fine_gray_weights import FineGrayExtension, sum_earlier, sum_later

__all__ = ["censoring_term", "competing_score_term"]


def _shifted_hazard(problem: RiskSetProblem, ev: Evaluation) -> np.ndarray:
    """Hazard jumps on the scale of ``ev.risk`` (the scan's shifted risk scores)."""
    return ev.scan_hazard


def _per_group(problem: RiskSetProblem, rows: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Sum ``values`` (n,) or (n, p) of the selected rows within each time group."""
    m = problem.grp_time.shape[0]
    g = problem.grp_of_row[rows]
    if values.ndim == 1:
        return np.bincount(g, weights=values[rows], minlength=m)
    return np.column_stack(
        [np.bincount(g, weights=values[rows, j], minlength=m) for j in range(values.shape[1])]
    )


def competing_score_term(
    problem: RiskSetProblem, ev: Evaluation, extension: FineGrayExtension
) -> np.ndarray:
    """The part of eta_i a competing-failure row accrues after its failure time.

    -(r_i / W_k(T_i)) sum_{t > T_i} W_k(t) (x_i - xbar(t)) dLambda(t)
    """
    h = _shifted_hazard(problem, ev)
    weights = extension.weights
    abar = ev.terms[0]
    out = np.zeros_like(problem.X)
    rows = np.flatnonzero(extension.competing)
    if rows.size == 0:
        return out
    for k in range(weights.n_groups):
        sel = rows[weights.cengroup[rows] == k]
        if sel.size == 0:
            continue
        hw = h * weights.at_group[:, k]
        B0 = sum_later(hw)
        B1 = sum_later(hw[:, None] * abar)
        g = problem.grp_of_row[sel]
        scale = ev.risk[sel] / weights.at_row[sel]
        out[sel] = -scale[:, None] * (problem.X[sel] * B0[g][:, None] - B1[g])
    return out


def censoring_term(
    problem: RiskSetProblem,
    ev: Evaluation,
    extension: FineGrayExtension,
    censored: np.ndarray,
) -> np.ndarray:
    """psi_i: the influence of row i through the estimated censoring distribution.

    With, per censoring group k and time u,
      q_k(u) = sum_{failures j1 of group k, T_j1 >= u} (1/S0(T_j1))
               sum_{competing j2 of group k, T_j2 < u} r_j2 W_k(T_j1)/W_k(T_j2) (x_j2 - xbar(T_j1))
    (which factorises into F1 E0 - F0 E1 below) and Y_k(u) the group's number
    at risk, psi_i = q(T_i)/Y(T_i) [if censored] - sum_{censorings u <= T_i} q(u)/Y(u)^2.
    Like crr, the failures in q are those of the row's own censoring group.
    """
    m = problem.grp_time.shape[0]
    n, p = problem.X.shape
    weights = extension.weights
    h = _shifted_hazard(problem, ev)
    abar = ev.terms[0]
    dead = problem.dead.astype(bool)
    d_all = np.bincount(problem.grp_of_row[dead], minlength=m).astype(float)
    s0_inv = np.divide(h, d_all, out=np.zeros(m), where=d_all > 0)
    psi = np.zeros((n, p))
    comp = extension.competing.astype(bool)
    r_over_w = np.zeros(n)
    r_over_w[comp] = ev.risk[comp] / weights.at_row[comp]
    for k in range(weights.n_groups):
        in_k = weights.cengroup == k
        rows_k = np.flatnonzero(in_k)
        d_k = _per_group(problem, np.flatnonzero(in_k & dead), np.ones(n))
        a = d_k * weights.at_group[:, k] * s0_inv
        # failures at or after u: a prefix in the descending order
        E0 = np.cumsum(a)
        E1 = np.cumsum(a[:, None] * abar, axis=0)
        comp_k = np.flatnonzero(in_k & comp)
        F0 = sum_earlier(_per_group(problem, comp_k, r_over_w))
        F1 = sum_earlier(_per_group(problem, comp_k, r_over_w[:, None] * problem.X))
        q = F1 * E0[:, None] - F0[:, None] * E1
        Y = np.cumsum(_per_group(problem, rows_k, np.ones(n)))
        c = _per_group(problem, np.flatnonzero(in_k & censored), np.ones(n))
        with np.errstate(divide="ignore", invalid="ignore"):
            jump = np.where(c[:, None] > 0, c[:, None] * q / (Y**2)[:, None], 0.0)
            own = np.where(Y[:, None] > 0, q / Y[:, None], 0.0)
        # censorings at or before T_i: a suffix (inclusive) in the descending order
        H = np.cumsum(jump[::-1], axis=0)[::-1]
        g = problem.grp_of_row[rows_k]
        psi[rows_k] = -H[g]
        cens_k = np.flatnonzero(in_k & censored)
        psi[cens_k] += own[problem.grp_of_row[cens_k]]
    return psi
