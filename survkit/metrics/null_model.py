"""The null model of the scaled Brier score: the marginal absolute risk.

Kaplan-Meier (single event) or Aalen-Johansen (competing risks) risk of the
event of interest by each time, estimated on the evaluation data itself, as
riskRegression's "Null model" (``prodlim(Hist(time, event) ~ 1)``).
"""

from __future__ import annotations

import numpy as np

from .inputs import EventData

__all__ = ["marginal_risk"]


def marginal_risk(y: EventData, times: np.ndarray) -> np.ndarray:
    """F(t) = sum_{u <= t} S(u-) dN_cause(u) / Y(u) at each time (1 - KM for one event)."""
    grid, inverse = np.unique(y.time, return_inverse=True)
    count = np.bincount(inverse, minlength=grid.size)
    events = np.bincount(inverse, weights=(y.cause_index != 0).astype(float), minlength=grid.size)
    cause = np.bincount(
        inverse, weights=(y.cause_index == y.cause).astype(float), minlength=grid.size
    )
    at_risk = y.n - np.concatenate(([0], np.cumsum(count)[:-1]))
    surv = np.cumprod(1.0 - events / at_risk)
    surv_before = np.concatenate(([1.0], surv[:-1]))
    cif = np.cumsum(surv_before * cause / at_risk)
    pos = np.searchsorted(grid, times, side="right") - 1
    return np.where(pos >= 0, cif[np.maximum(pos, 0)], 0.0)
