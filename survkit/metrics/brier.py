"""Brier score with inverse probability of censoring weights, its integral and the IPA.

At horizon t the residual of subject i is (1 - F_i(t))^2 / G(T_i-) after an
event of interest by t, F_i(t)^2 / G(T_i-) after a competing event by t,
F_i(t)^2 / G(t) when event-free at t, and 0 when censored before t; the Brier
score is their mean (``riskRegression::Score(..., metrics = "brier",
cens.model = "km")``). The index of prediction accuracy (IPA, the scaled
Brier score) is 1 - Brier / Brier(null), the null model being the marginal
Kaplan-Meier / Aalen-Johansen risk. Standard errors: the residual's influence
function plus, unless ``conservative``, the Kaplan-Meier term for G.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm

from ..engine.ipcw import CensoringKM
from .censoring import censoring_model, censoring_term
from .inputs import EventData, read_inputs, read_risk, read_times
from .null_model import marginal_risk

__all__ = ["brier_influence", "brier_score", "integrated_brier_score"]


def brier_score(
    y,
    risk,
    times,
    cause: object = None,
    censor_value: object = 0,
    conservative: bool = False,
    conf_level: float = 0.95,
    censoring_covariates=None,
) -> pd.DataFrame:
    """Brier score of predicted absolute risks at each time, with the null model and IPA.

    ``risk`` is the predicted risk of the event of interest by each time (an
    (n, len(times)) array or the DataFrame a model's ``predict_*`` returns).
    Returns a DataFrame indexed by time: brier, se, lower, upper, brier_null,
    se_null, ipa. ``censoring_covariates``: as in ``time_dependent_auc`` (the
    null model stays the marginal Kaplan-Meier / Aalen-Johansen risk, as Score).
    """
    out = read_inputs(y, cause, censor_value)
    t = read_times(times, out)
    R = read_risk(risk, out.n, t)
    km = censoring_model(out, censoring_covariates, conservative)
    null = marginal_risk(out, t)
    z = norm.ppf(0.5 + conf_level / 2)
    rows = []
    for j, h in enumerate(t):
        b, inf = brier_influence(out, km, R[:, j], h, conservative)
        b0, inf0 = brier_influence(out, km, np.full(out.n, null[j]), h, conservative)
        se = float(np.std(inf, ddof=1) / np.sqrt(out.n))
        se0 = float(np.std(inf0, ddof=1) / np.sqrt(out.n))
        ipa = 1.0 - b / b0 if b0 > 0 else float("nan")
        rows.append((h, b, se, max(0.0, b - z * se), min(1.0, b + z * se), b0, se0, ipa))
    cols = ["time", "brier", "se", "lower", "upper", "brier_null", "se_null", "ipa"]
    return pd.DataFrame(rows, columns=cols).set_index("time")


def brier_influence(
    out: EventData, km: CensoringKM, risk: np.ndarray, horizon: float, conservative: bool
) -> tuple[float, np.ndarray]:
    """Brier score at one horizon and each subject's influence function value."""
    early = out.time <= horizon
    observed = early & (out.cause_index != 0)
    case = early & (out.cause_index == out.cause)
    late = ~early
    g_before = km.own_at(strict=True)
    g_h = np.broadcast_to(km.at_horizon(horizon), (out.n,))
    residual = np.zeros(out.n)
    residual[observed] = (case[observed] - risk[observed]) ** 2 / g_before[observed]
    residual[late] = risk[late] ** 2 / g_h[late]
    brier = float(residual.mean())
    influence = residual - brier
    if not conservative:
        position = np.where(late, km.position(np.array([horizon]))[0], km.own_position(strict=True))
        position = np.where(observed | late, position, -1)
        influence = influence + censoring_term(km, out.censored, residual, position)
    return brier, influence


def integrated_brier_score(y, risk, times, cause: object = None, censor_value: object = 0) -> float:
    """The Brier score integrated over ``times`` by the trapezoidal rule and divided by
    the length of the interval (as ``sksurv.metrics.integrated_brier_score``)."""
    table = brier_score(y, risk, times, cause, censor_value, conservative=True)
    t = table.index.to_numpy()
    if t.size < 2:
        raise ValueError("integrated_brier_score needs at least two times.")
    return float(np.trapezoid(table["brier"].to_numpy(), t) / (t[-1] - t[0]))
