"""Inverse probability of censoring weights and the weighted two-sample AUC.

The Kaplan-Meier estimate of the censoring distribution G(t) = P(C > t) is
the reverse Kaplan-Meier: censorings are its events, and subjects whose event
(of any cause) is tied with a censoring time are no longer at risk of being
censored at that time (events come first), as ``prodlim(..., reverse = TRUE)``
which ``riskRegression::Score(cens.model = "km")`` uses.

These kernels sit in the engine because the models' ``score`` (layer 2) and
``survkit.metrics`` (layer 3) both use them; the metrics add standard errors.
Everything is one sort plus prefix sums: O(n log n).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "AUCWeights",
    "CensoringKM",
    "auc_row_sums",
    "auc_weights",
    "censoring_influence",
    "ipcw_auc",
    "weighted_auc",
]


@dataclass(frozen=True)
class CensoringKM:
    """Reverse Kaplan-Meier of the censoring times on the distinct observed times.

    ``grid`` are the distinct times, ``at_risk`` Y(u) = #{T >= u} (used by the
    influence functions, as riskRegression's), ``n_censored`` the censorings at u
    and ``surv`` G(u) (right-continuous).
    """

    grid: np.ndarray
    at_risk: np.ndarray
    n_censored: np.ndarray
    surv: np.ndarray
    n: int
    own: np.ndarray  # grid position of each subject's own time (fit order)

    @classmethod
    def fit(cls, time: np.ndarray, censored: np.ndarray) -> CensoringKM:
        grid, inverse = np.unique(time, return_inverse=True)
        count = np.bincount(inverse, minlength=grid.size)
        n_cens = np.bincount(inverse, weights=censored.astype(float), minlength=grid.size)
        at_risk = time.shape[0] - np.concatenate(([0], np.cumsum(count)[:-1]))
        # events tied with a censoring time leave first: the censoring risk set
        # at u is {T > u} plus those censored at u (prodlim's reverse Kaplan-Meier)
        cens_risk = at_risk - (count - n_cens)
        factor = np.where(n_cens > 0, 1.0 - n_cens / np.maximum(cens_risk, 1), 1.0)
        return cls(
            grid, at_risk.astype(float), n_cens, np.cumprod(factor), int(time.shape[0]), inverse
        )

    def position(self, t: np.ndarray, strict: bool = False) -> np.ndarray:
        """Index of the last grid time <= t (< t when ``strict``); -1 when none."""
        side = "left" if strict else "right"
        return np.searchsorted(self.grid, np.asarray(t, dtype=float), side=side) - 1

    def own_position(self, strict: bool = False) -> np.ndarray:
        """``position`` of the subjects' own times, without searching (the fit's order)."""
        return self.own - 1 if strict else self.own

    def own_at(self, strict: bool = False) -> np.ndarray:
        """G(T_i), or G(T_i-) with ``strict=True``, for the subjects of the fit."""
        pos = self.own_position(strict)
        return np.where(pos >= 0, self.surv[np.maximum(pos, 0)], 1.0)

    def at_horizon(self, horizon: float) -> float:
        """G(horizon): the weight of every subject still event-free there."""
        return float(self.at(np.array([horizon]))[0])

    def at(self, t, strict: bool = False) -> np.ndarray:
        """G(t), or G(t-) with ``strict=True``."""
        pos = self.position(t, strict)
        return np.where(pos >= 0, self.surv[np.maximum(pos, 0)], 1.0)


def censoring_influence(
    km: CensoringKM,
    censored: np.ndarray,
    values: np.ndarray,
    positions: np.ndarray,
) -> np.ndarray:
    """For each subject k: (1/n) sum_i values_i f_k(s_i), the part of the influence
    function of (1/n) sum_i values_i (values_i already divided by G(s_i)) that
    comes from estimating G by Kaplan-Meier.

    ``positions`` are grid positions of the s_i (-1: before the first time, so
    G(s_i) = 1 and there is no term). With Lambda*(v) = sum_{u <= v} n dN^C(u)/Y(u)^2,
    f_k(s) = (1 - d_k) 1{T_k <= s} n / Y(T_k) - Lambda*(min(T_k, s)) is the
    influence function of -log G(s) by subject k.
    """
    n = km.n
    m = km.grid.size
    lam = np.cumsum(n * km.n_censored / km.at_risk**2)
    keep = positions >= 0
    pos = positions[keep]
    val = values[keep]
    by_pos = np.bincount(pos, weights=val, minlength=m)  # sum of values at each position
    lam_by_pos = np.bincount(pos, weights=val * lam[pos], minlength=m)
    suffix = np.cumsum(by_pos[::-1])[::-1]  # sum over positions >= q
    prefix_lam = np.concatenate(([0.0], np.cumsum(lam_by_pos)))  # sum over positions < q
    q = km.own
    jump = np.where(censored, n / km.at_risk[q], 0.0)
    return (jump * suffix[q] - prefix_lam[q] - lam[q] * suffix[q]) / n


def weighted_auc(risk: np.ndarray, w_case: np.ndarray, w_control: np.ndarray) -> float:
    """sum_ij w_case_i w_control_j (1{r_i > r_j} + 1{r_i = r_j} / 2) / (sum w_case sum w_control).

    The trapezoidal area under the weighted ROC curve (ties in the score give
    the diagonal step, as ``riskRegression``'s AUC).
    """
    num_case, _ = auc_row_sums(risk, w_case, w_control)
    denom = w_case.sum() * w_control.sum()
    return float((w_case * num_case).sum() / denom) if denom > 0 else float("nan")


def auc_row_sums(
    risk: np.ndarray, w_case: np.ndarray, w_control: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per subject: control weight below its score (+ half the ties), and case
    weight above its score (+ half the ties); the pieces of the AUC's U-statistic."""
    values, rank = np.unique(risk, return_inverse=True)
    k = values.size
    case_at = np.bincount(rank, weights=w_case, minlength=k)
    control_at = np.bincount(rank, weights=w_control, minlength=k)
    control_below = np.cumsum(control_at) - control_at
    case_above = case_at.sum() - np.cumsum(case_at)
    below = control_below[rank] + control_at[rank] / 2
    above = case_above[rank] + case_at[rank] / 2
    return below, above


@dataclass(frozen=True)
class AUCWeights:
    """Cases, controls and their inverse probability of censoring weights at one horizon."""

    w_case: np.ndarray
    w_control: np.ndarray
    position: np.ndarray  # grid position where each subject's weight was evaluated
    g_horizon: float | np.ndarray


def auc_weights(
    km: CensoringKM, time: np.ndarray, cause_index: np.ndarray, cause: int, horizon: float
) -> AUCWeights:
    """``km``: ``CensoringKM`` or any object with ``own_at``, ``at_horizon``,
    ``position`` and ``own_position`` (the metrics' Cox censoring model).

    Cases: event of ``cause`` by the horizon, weight 1/G(T_i-). Controls: still
    event-free at the horizon, weight 1/G(horizon), or a competing event by the
    horizon, weight 1/G(T_i-) (Blanche et al. 2013, definition 2). Censored
    before the horizon: weight 0."""
    early = time <= horizon
    g_before = km.own_at(strict=True)
    g_h = km.at_horizon(horizon)  # a number (Kaplan-Meier) or one per subject (a model)
    case = early & (cause_index == cause)
    competing = early & (cause_index != cause) & (cause_index != 0)
    late = ~early
    w_case = np.where(case, 1.0 / g_before, 0.0)
    w_control = np.where(competing, 1.0 / g_before, 0.0) + np.where(late, 1.0 / g_h, 0.0)
    position = np.where(late, km.position(np.array([horizon]))[0], km.own_position(strict=True))
    position = np.where(case | competing | late, position, -1)
    return AUCWeights(w_case, w_control, position, g_h)


def ipcw_auc(
    time: np.ndarray, cause_index: np.ndarray, risk: np.ndarray, horizon: float, cause: int = 1
) -> float:
    """Time-dependent AUC at ``horizon`` with Kaplan-Meier censoring weights
    (``cause_index``: 0 censored, k the k-th event type)."""
    km = CensoringKM.fit(time, cause_index == 0)
    w = auc_weights(km, time, cause_index, cause, horizon)
    return weighted_auc(risk, w.w_case, w.w_control)
