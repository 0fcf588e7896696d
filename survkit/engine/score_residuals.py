"""Per-row residuals of a fitted Cox model, from the same group sums as the fit.

Everything here is O(n p): the group quantities come from one extra scan of
the engine at the fitted coefficients, and each row reads them through the
(entry, stop] window of groups it was at risk in.
"""

from __future__ import annotations

import numpy as np

from . import kernels as kern
from .risk_set import Evaluation, RiskSetProblem, evaluate

__all__ = ["exposure", "score_residuals"]


def exposure(problem: RiskSetProblem, ev: Evaluation) -> np.ndarray:
    """Cumulative hazard each sorted row was exposed to, on the shifted scale."""
    h = ev.scan_hazard
    return kern.exposure(
        h, ev.efron_share, problem.grp_of_row, problem.entry_grp, problem.dead, problem.strat_gptr
    )


def score_residuals(
    problem: RiskSetProblem,
    beta: np.ndarray,
    efron: bool,
    extension=None,
    evaluation: Evaluation | None = None,
) -> np.ndarray:
    """Score residuals per sorted row (unweighted), as R's ``residuals(type="score")``.

    L_i = d_i (x_i - abar_g) - r_i (x_i c_i - sum over exposure of a dLambda),
    where under Efron's approximation a row dying in a tied group of d carries
    only (1 - k/d) of the k-th step, and its event term uses the mean of the
    step means a_k. Weighted by the case weights they sum to the total score.
    With a risk-set ``extension`` (Fine-Gray) the means and hazards are those of
    the extended risk sets; the extension's own rows get their extra terms from
    the caller. ``evaluation`` (from ``evaluate(..., want_terms=True)``) saves a scan.
    """
    ev = evaluation or evaluate(problem, beta, efron, want_terms=True, extension=extension)
    abar, ha, ea = ev.terms
    c = exposure(problem, ev)
    tail_ha = kern.tail_sums(ha, problem.strat_gptr)
    g = problem.grp_of_row
    HA = tail_ha[g] - tail_ha[problem.entry_grp]
    dead = problem.dead.astype(bool)
    HA[dead] -= ea[g[dead]]
    X = problem.X
    resid = -(ev.risk[:, None] * (X * c[:, None] - HA))
    resid[dead] += X[dead] - abar[g[dead]]
    return resid
