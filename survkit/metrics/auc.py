"""Time-dependent AUC with inverse probability of censoring weights.

Cumulative cases / dynamic controls at each horizon t: cases had the event of
interest by t, controls are event-free at t or -- for competing risks -- had a
competing event by t (Blanche, Dartigues & Jacqmin-Gadda 2013, definition 2).
Cases and competing-event controls are weighted by 1/G(T_i-), event-free
controls by 1/G(t), subjects censored before t get weight 0; G is the
Kaplan-Meier estimate of the censoring distribution. This is
``riskRegression::Score(..., metrics = "auc", cens.model = "km")``.

Standard errors come from the influence function of the ratio of the two
weighted U-statistics; with ``conservative=False`` (the default, as Score)
it includes the term for estimating G by Kaplan-Meier. Each horizon costs one
sort and prefix sums: O(n log n).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm

from ..engine.ipcw import CensoringKM, auc_row_sums, auc_weights
from .censoring import censoring_model, censoring_term
from .inputs import EventData, read_inputs, read_risk, read_times

__all__ = ["auc_influence", "time_dependent_auc"]


def time_dependent_auc(
    y,
    risk,
    times,
    cause: object = None,
    censor_value: object = 0,
    conservative: bool = False,
    conf_level: float = 0.95,
    censoring_covariates=None,
) -> pd.DataFrame:
    """AUC(t) of ``risk`` (higher = riskier) at each time, with standard errors.

    ``y``: ``survkit.outcome(...)``; ``risk``: one score per subject, an
    (n, len(times)) array, or a DataFrame as ``predict_cumulative_incidence``
    returns it. Returns a DataFrame indexed by time with auc, se, lower, upper
    (Wald limits clipped to [0, 1], as Score), n_cases, n_controls.
    ``censoring_covariates`` (n rows): weights from a Cox model of the censoring
    times on them instead of Kaplan-Meier (``Score(cens.model = "cox")``); the
    standard errors then include that model's influence unless ``conservative``
    (``metrics.censoring``).
    """
    out = read_inputs(y, cause, censor_value)
    t = read_times(times, out)
    R = read_risk(risk, out.n, t)
    km = censoring_model(out, censoring_covariates, conservative)
    rows = []
    z = norm.ppf(0.5 + conf_level / 2)
    for j, h in enumerate(t):
        auc, influence, n_cases, n_controls = auc_influence(out, km, R[:, j], h, conservative)
        se = float(np.std(influence, ddof=1) / np.sqrt(out.n))
        rows.append(
            (h, auc, se, max(0.0, auc - z * se), min(1.0, auc + z * se), n_cases, n_controls)
        )
    return pd.DataFrame(
        rows, columns=["time", "auc", "se", "lower", "upper", "n_cases", "n_controls"]
    ).set_index("time")


def auc_influence(
    out: EventData, km: CensoringKM, risk: np.ndarray, horizon: float, conservative: bool
) -> tuple[float, np.ndarray, int, int]:
    """AUC at one horizon and each subject's influence function value."""
    n = out.n
    w = auc_weights(km, out.time, out.cause_index, out.cause, horizon)
    below, above = auc_row_sums(risk, w.w_case, w.w_control)
    total_case, total_control = w.w_case.sum(), w.w_control.sum()
    nu = (w.w_case * below).sum() / n**2
    mu = total_case * total_control / n**2
    if mu == 0:
        return float("nan"), np.full(n, np.nan), int((w.w_case > 0).sum()), 0
    auc = nu / mu
    # pair sums through each subject (as a case and as a control), divided by n
    nu_i = (w.w_case * below + w.w_control * above) / n
    mu_i = (w.w_case * total_control + w.w_control * total_case) / n
    if_nu = nu_i - 2 * nu
    if_mu = mu_i - 2 * mu
    if not conservative:
        censored = out.censored
        if_nu = if_nu + censoring_term(km, censored, nu_i, w.position)
        if_mu = if_mu + censoring_term(km, censored, mu_i, w.position)
    influence = (if_nu - auc * if_mu) / mu
    return float(auc), influence, int((w.w_case > 0).sum()), int((w.w_control > 0).sum())
