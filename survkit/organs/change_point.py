"""Where does an effect change? Profile likelihood over candidate change points.

For a covariate whose effect is a step function with one change point tau,
the Cox partial likelihood is profiled over tau on a grid of candidates (the
quantiles of the event times, so every period keeps events). The estimate is
the grid point with the largest log-likelihood; the interval collects the
candidates within the chi-square(1) cut-off of it. A change point is not a
regular parameter, so that interval is an approximation (documented as such
in the report); the per-period hazard ratios at the estimate are exact
Cox estimates given the cut.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..data.validation import check_columns, encode_events
from .time_varying import TimeVaryingEffect, time_varying_effect

__all__ = ["ChangePoint", "estimate_change_point"]


@dataclass
class ChangePoint:
    """``profile``: candidate, loglik; ``estimate`` with ``lower``/``upper`` (approximate
    profile-likelihood interval at ``conf_level``); ``effect``: the step fit at the estimate."""

    covariate: str
    estimate: float
    lower: float
    upper: float
    conf_level: float
    profile: pd.DataFrame
    effect: TimeVaryingEffect


def estimate_change_point(
    df: pd.DataFrame,
    covariate: str,
    duration_col: str,
    event_col: str,
    formula=None,
    cause: object = None,
    censor_value: object = 0,
    candidates=None,
    n_candidates: int = 17,
    conf_level: float = 0.95,
    **kwargs,
) -> ChangePoint:
    """Profile-likelihood change point of ``covariate``'s effect (one change).

    ``candidates`` default to ``n_candidates`` quantiles (10 % to 90 %) of the
    event times of ``cause`` (of all events when ``cause`` is None).
    Other keyword arguments go to ``time_varying_effect``.
    """
    check_columns(df, {"duration_col": [duration_col], "event_col": [event_col]})
    if candidates is None:
        status = encode_events(df[event_col], event_col, cause, censor_value).status
        event_times = df[duration_col].to_numpy(dtype=float)[status.astype(bool)]
        if event_times.size < 10:
            raise ValueError(
                f"only {event_times.size} event(s) of cause {cause!r}; a change point needs "
                "at least 10 to place candidates. Pass candidates= explicitly."
            )
        candidates = np.unique(np.quantile(event_times, np.linspace(0.1, 0.9, n_candidates)))
    candidates = np.asarray(candidates, dtype=float)
    if candidates.size == 0:
        raise ValueError("candidates is empty; pass at least one change point.")
    fits = []
    for tau in candidates:
        fit = time_varying_effect(
            df,
            covariate,
            [tau],
            duration_col,
            event_col,
            formula=formula,
            cause=cause,
            censor_value=censor_value,
            conf_level=conf_level,
            **kwargs,
        )
        fits.append(fit)
    loglik = np.array([f.model.log_likelihood_ for f in fits])
    best = int(np.argmax(loglik))
    cutoff = stats.chi2.ppf(conf_level, 1) / 2
    inside = candidates[loglik >= loglik[best] - cutoff]
    profile = pd.DataFrame({"candidate": candidates, "loglik": loglik})
    return ChangePoint(
        covariate=covariate,
        estimate=float(candidates[best]),
        lower=float(inside.min()),
        upper=float(inside.max()),
        conf_level=conf_level,
        profile=profile,
        effect=fits[best],
    )
