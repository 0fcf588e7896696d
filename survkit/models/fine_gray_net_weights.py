"""Fine-Gray risk-set weights for the elastic-net path (``FineGrayNet``).

The path's outer steps need, besides the scan's denominators and the hazard
each row was exposed to (``FineGrayExtension``), the Hessian diagonal in the
linear predictor. A competing-failure row j stays in the subdistribution risk
set after its failure time T_j with weight v_j(t) = G(t-)/G(T_j-), so its
diagonal term is r_j c_j - r_j^2 sum_g v_j(t_g)^2 dw_g / S0_g^2: the squared
weights factorise as the weights do, G(t-)^2 / G(T_j-)^2, and the sum is again
one suffix sum over the distinct times.

Two conventions for the censoring Kaplan-Meier G where an event and a
censoring share a time: ``"crr"`` (``cmprsk::crr`` and survkit's ``FineGray``:
the failures are still in the censoring risk set) and ``"finegray"``
(``survival::finegray``: failures leave first, as if censorings happened just
after them). They differ only on data with such ties.
"""

from __future__ import annotations

import numpy as np

from ..engine.risk_set import RiskSetProblem
from .fine_gray_weights import CensoringWeights, FineGrayExtension, censoring_weights, sum_later

__all__ = ["CENSORING_TIES", "FineGrayPathExtension", "path_censoring_weights"]

CENSORING_TIES = ("crr", "finegray")


class FineGrayPathExtension(FineGrayExtension):
    """``FineGrayExtension`` plus the squared-weight exposure of the Hessian diagonal."""

    def extra_square_exposure(self, problem: RiskSetProblem, h2: np.ndarray) -> np.ndarray:
        """sum over later times of h2_g G(t_g-)^2, / G(T_j-)^2, per competing row j."""
        w = self.weights
        later = sum_later(h2[:, None] * w.at_group**2)
        rows = np.flatnonzero(self.competing)
        extra = np.zeros(problem.stop.shape[0])
        extra[rows] = later[problem.grp_of_row[rows], w.cengroup[rows]] / w.at_row[rows] ** 2
        return extra


def path_censoring_weights(
    problem: RiskSetProblem,
    censored: np.ndarray,
    cengroup: np.ndarray,
    n_groups: int,
    ties: str,
) -> CensoringWeights:
    """G(t-) at the problem's group times and at each row's own time, per censoring
    group, with crr's or survival::finegray's ``ties`` convention."""
    return censoring_weights(problem, censored, cengroup, n_groups, failures_first=ties != "crr")
