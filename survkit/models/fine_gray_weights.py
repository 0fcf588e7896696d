"""Censoring weights and the extra risk-set members of Fine-Gray regression.

In the subdistribution risk set at a time t, a subject who failed from a
competing cause at T_j < t stays in with weight G(t-)/G(T_j-), where G is
the Kaplan-Meier estimate of the censoring distribution (per censoring group,
as ``cmprsk::crr``'s ``cengroup``; left limits, so a censoring at t does not
act at t; G = 0 after the group's last observed time). The weight factorises,
so the weighted sum of those subjects' risk scores at t is
sum_k G_k(t-) * F_k(t), with F_k(t) a running sum over competing failures of
group k strictly before t: one ascending pass per Newton iteration instead of
the O(n^2) double sum of crr.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from ..data.survival_data import SurvivalData, group_codes, read_survival_data
from ..data.validation import check_columns
from ..engine.risk_set import RiskSetProblem

__all__ = [
    "CensoringWeights",
    "FineGrayExtension",
    "censoring_weights",
    "sum_earlier",
    "sum_later",
]


@dataclass
class CensoringWeights:
    """G_k(t-) at the problem's group times and at each competing row's own time."""

    at_group: np.ndarray  # (m groups in the problem's order, K censoring groups)
    at_row: np.ndarray  # (n,) G_{k_i}(T_i-) for every row (used for competing rows)
    cengroup: np.ndarray  # (n,) censoring-group code of each sorted row
    n_groups: int


def _km_censoring(time: np.ndarray, censored: np.ndarray, failures_first: bool = False):
    """Distinct times u (ascending), the censoring KM G(u) just after each, and the last time.

    By default (crr) a row failing at u is still at risk of censoring at u;
    ``failures_first`` (``survival::finegray``, which moves failures just before
    tied censorings) takes them out of that risk set first."""
    order = np.argsort(time, kind="stable")
    t = time[order]
    cens = censored[order].astype(float)
    first = np.flatnonzero(np.concatenate([[True], t[1:] != t[:-1]]))
    n_cens = np.add.reduceat(cens, first)
    at_risk = t.shape[0] - first  # rows with time >= u
    if not failures_first:
        return t[first], np.cumprod(1.0 - n_cens / at_risk), t[-1]
    at_risk = at_risk - np.add.reduceat(1.0 - cens, first)
    with np.errstate(divide="ignore", invalid="ignore"):
        step = np.where(n_cens > 0, 1.0 - n_cens / np.maximum(at_risk, 1.0), 1.0)
    return t[first], np.cumprod(step), t[-1]


def _left_limit(u: np.ndarray, G: np.ndarray, last: float, at: np.ndarray) -> np.ndarray:
    """G(t-): the product over distinct times strictly before t; 0 after ``last`` (as crr)."""
    idx = np.searchsorted(u, at, side="left")  # number of distinct times < t
    out = np.where(idx > 0, G[np.maximum(idx - 1, 0)], 1.0)
    return np.where(at > last, 0.0, out)


def censoring_weights(
    problem: RiskSetProblem,
    censored: np.ndarray,
    cengroup: np.ndarray,
    n_groups: int,
    failures_first: bool = False,
) -> CensoringWeights:
    """G(t-) at the problem's group times and at each row's own time, per censoring
    group; ``failures_first`` as in ``_km_censoring`` (survival::finegray's ties)."""
    stop = problem.stop
    at_group = np.empty((problem.grp_time.shape[0], n_groups))
    at_row = np.empty(stop.shape[0])
    for k in range(n_groups):
        rows = cengroup == k
        u, G, last = _km_censoring(stop[rows], censored[rows], failures_first)
        at_group[:, k] = _left_limit(u, G, last, problem.grp_time)
        at_row[rows] = _left_limit(u, G, last, stop[rows])
    return CensoringWeights(at_group, at_row, cengroup, n_groups)


def sum_later(a: np.ndarray) -> np.ndarray:
    """Per group, the sum over groups strictly later in time (earlier in the descending order)."""
    out = np.zeros_like(a)
    out[1:] = np.cumsum(a, axis=0)[:-1]
    return out


def sum_earlier(a: np.ndarray) -> np.ndarray:
    """Per group, the sum over groups strictly earlier in time."""
    out = np.zeros_like(a)
    out[:-1] = np.cumsum(a[::-1], axis=0)[::-1][1:]
    return out


@njit(cache=True)
def _competing_sums(X, risk, competing, w_row, cengroup, w_group, grp_ptr, n_groups):
    """ext0[g] = sum_k W_k(t_g) F0_k(t_g), ext1[g] likewise with x; F over competing
    failures strictly before t_g (groups are in descending time, so walk backwards)."""
    m = grp_ptr.shape[0] - 1
    p = X.shape[1]
    F0 = np.zeros(n_groups)
    F1 = np.zeros((n_groups, p))
    ext0 = np.zeros(m)
    ext1 = np.zeros((m, p))
    for g in range(m - 1, -1, -1):
        for k in range(n_groups):
            wk = w_group[g, k]
            if wk > 0:
                ext0[g] += wk * F0[k]
                for j in range(p):
                    ext1[g, j] += wk * F1[k, j]
        for i in range(grp_ptr[g], grp_ptr[g + 1]):
            if competing[i]:
                k = cengroup[i]
                r = risk[i] / w_row[i]
                F0[k] += r
                for j in range(p):
                    F1[k, j] += r * X[i, j]
    return ext0, ext1


class FineGrayExtension:
    """Adds the weighted competing-failure subjects to the engine's risk sets."""

    def __init__(self, weights: CensoringWeights, competing: np.ndarray):
        self.weights = weights
        self.competing = competing.astype(np.uint8)

    def additions(self, problem: RiskSetProblem, risk: np.ndarray):
        w = self.weights
        return _competing_sums(
            problem.X,
            risk,
            self.competing,
            w.at_row,
            w.cengroup,
            w.at_group,
            problem.grp_ptr,
            w.n_groups,
        )

    def extra_exposure(self, problem: RiskSetProblem, h: np.ndarray) -> np.ndarray:
        """Hazard a competing row keeps accruing after its failure, / G(T_j-)."""
        later = sum_later(h[:, None] * self.weights.at_group)
        w = self.weights
        rows = np.flatnonzero(self.competing)
        extra = np.zeros(problem.stop.shape[0])
        extra[rows] = later[problem.grp_of_row[rows], w.cengroup[rows]] / w.at_row[rows]
        return extra


@dataclass
class FineGrayInputs:
    """A Fine-Gray fit's data in risk-set order: ``cengroup`` codes (``cengroup_labels``),
    rows censored, and rows failing from a competing cause."""

    data: SurvivalData
    cengroup: np.ndarray
    cengroup_labels: list
    censored: np.ndarray
    competing: np.ndarray


def read_fine_gray_data(
    df,
    duration_col,
    event_col,
    formula,
    cause,
    censor_value,
    cengroup_col,
    columns_first: bool = False,
    covariate_values=None,
) -> FineGrayInputs:
    """Read a Fine-Gray fit's DataFrame form (``FineGray`` and ``FineGrayNet``;
    ``columns_first`` and ``covariate_values`` as ``read_survival_data``'s)."""
    if cengroup_col is not None:
        check_columns(df, {"cengroup_col": [cengroup_col]})
    data = read_survival_data(
        df,
        duration_col=duration_col,
        event_col=event_col,
        formula=formula,
        cause=cause,
        censor_value=censor_value,
        sort_rows=True,
        columns_first=columns_first,
        covariate_values=covariate_values,
    )
    codes, labels = group_codes(df, cengroup_col, "cengroup")
    censored = data.events.censored
    competing = ~censored & (data.status == 0)
    return FineGrayInputs(data, codes[data.order], labels, censored, competing)
