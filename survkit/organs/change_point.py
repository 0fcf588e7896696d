"""Where does an effect change? Profile likelihood over candidate change points.

For a covariate whose effect is a step function with one change point tau,
the Cox partial likelihood is profiled over tau. The profile is a step
function of tau: it changes only where tau crosses an event time of the cause
(between two event times the risk sets and the split are the same). So it is
computed exactly, not interpolated: first on a coarse grid (the quantiles of
the event times, so every period keeps events); then, with ``refine=True``,
every distinct event time in the region the coarse profile cannot rule out
(between the coarse points just outside the cut-off) is scored by a fast
profile (the other covariates' coefficients held at the best coarse fit; see
``change_point_bootstrap``) and the ``max_refined`` best are fitted exactly.
The estimate is the candidate with the largest exact log-likelihood. With
``interval="profile"`` the interval is the span of the candidates whose
profile log-likelihood is within the chi-square(1) cut-off of it; with
``interval="bootstrap"`` (the default) a percentile bootstrap. A change
point is not a regular parameter, so either interval is approximate; the
per-period hazard ratios at the estimate are exact Cox estimates given the
cut.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..data.design import build_design
from ..data.validation import check_choice, check_columns, encode_events
from .change_point_bootstrap import bootstrap_change_point, default_beta, fast_profile
from .time_varying import TimeVaryingEffect, time_varying_effect

__all__ = ["ChangePoint", "estimate_change_point"]


@dataclass
class ChangePoint:
    """``profile``: candidate, loglik; ``estimate`` with ``lower``/``upper`` at
    ``conf_level`` (``interval`` says how: percentile bootstrap or profile
    likelihood); ``effect``: the step fit at the estimate."""

    covariate: str
    estimate: float
    lower: float
    upper: float
    conf_level: float
    profile: pd.DataFrame
    effect: TimeVaryingEffect
    interval: str = "profile"  # how lower/upper were found: "bootstrap" or "profile"


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
    refine: bool = True,
    max_refined: int = 5,
    interval: str = "bootstrap",
    bootstrap_replicates: int = 200,
    seed: int = 1,
    **kwargs,
) -> ChangePoint:
    """Profile-likelihood change point of ``covariate``'s effect (one change).

    ``candidates`` default to ``n_candidates`` quantiles (10 % to 90 %) of the
    event times of ``cause`` (of all events when ``cause`` is None).
    ``refine``: then profile at every event time the coarse grid cannot rule
    out (see the module docstring). Other keyword arguments go to
    ``time_varying_effect``. ``interval``: "bootstrap" (percentile bootstrap
    of the change point, ``bootstrap_replicates`` resamples, ``seed``; see
    ``change_point_bootstrap``) or "profile" (the event times within the
    chi-square cut-off of the maximum).
    """
    check_choice(interval, ("bootstrap", "profile"), "interval")
    check_columns(df, {"duration_col": [duration_col], "event_col": [event_col]})
    status = encode_events(df[event_col], event_col, cause, censor_value).status
    event_times = df[duration_col].to_numpy(dtype=float)[status.astype(bool)]
    if candidates is None:
        if event_times.size < 10:
            raise ValueError(
                f"only {event_times.size} event(s) of cause {cause!r}; a change point needs "
                "at least 10 to place candidates. Pass candidates= explicitly."
            )
        candidates = np.unique(np.quantile(event_times, np.linspace(0.1, 0.9, n_candidates)))
    candidates = np.asarray(candidates, dtype=float)
    if candidates.size == 0:
        raise ValueError("candidates is empty; pass at least one change point.")
    if int(max_refined) != max_refined or max_refined < 1:
        raise ValueError(f"max_refined={max_refined!r} must be a positive integer.")

    def profile_at(taus) -> dict:
        return {
            float(tau): time_varying_effect(
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
            for tau in taus
        }

    fits = profile_at(candidates)
    cutoff = stats.chi2.ppf(conf_level, 1) / 2
    if refine and len(candidates) > 1:
        coarse = np.array(sorted(fits))
        ll = np.array([fits[t].model.log_likelihood_ for t in coarse])
        keep = np.flatnonzero(ll >= ll.max() - cutoff)
        # the region between the coarse points just outside the cut-off
        lo = coarse[max(keep.min() - 1, 0)]
        hi = coarse[min(keep.max() + 1, len(coarse) - 1)]
        region = np.unique(event_times[(event_times >= lo) & (event_times <= hi)])
        region = region[(region > event_times.min()) & (region < event_times.max())]
        if region.size:
            # every event time of the region by the fast profile (other coefficients held
            # at the best coarse fit), then exact fits at its best max_refined times
            best_coarse = fits[float(coarse[int(np.argmax(ll))])]
            x = df[covariate].to_numpy(float)
            fast = fast_profile(
                df[duration_col].to_numpy(float),
                status,
                x,
                _offset(df, best_coarse, formula),
                region,
                default_beta(x),
            )
            top = region[np.argsort(-fast, kind="stable")[:max_refined]]
            fits.update(profile_at([t for t in top if float(t) not in fits]))
    candidates = np.array(sorted(fits))
    loglik = np.array([fits[t].model.log_likelihood_ for t in candidates])
    best = int(np.argmax(loglik))
    inside = candidates[loglik >= loglik[best] - cutoff]
    lower, upper = float(inside.min()), float(inside.max())
    effect = fits[float(candidates[best])]
    if interval == "bootstrap":
        lower, upper, _ = bootstrap_change_point(
            df[duration_col].to_numpy(float),
            status,
            df[covariate].to_numpy(float),
            _offset(df, effect, formula),
            (float(candidates.min()), float(candidates.max())),
            replicates=bootstrap_replicates,
            seed=seed,
            conf_level=conf_level,
            beta=_local_beta(effect),
        )
    profile = pd.DataFrame({"candidate": candidates, "loglik": loglik})
    return ChangePoint(
        covariate=covariate,
        estimate=float(candidates[best]),
        lower=lower,
        upper=upper,
        conf_level=conf_level,
        profile=profile,
        effect=effect,
        interval=interval,
    )


def _local_beta(effect: TimeVaryingEffect, width: float = 6.0, size: int = 41) -> np.ndarray:
    """Grid of period coefficients around the fitted ones (+- ``width`` SEs): resamples'
    coefficients lie there, and a local grid is finer and cheaper than a global one."""
    per = effect.periods
    se = float(np.nanmax(per["se"].to_numpy())) if np.isfinite(per["se"]).any() else 1.0
    lo = float(per["coef"].min()) - width * se
    hi = float(per["coef"].max()) + width * se
    return np.linspace(lo, hi, size)


def _offset(df: pd.DataFrame, effect: TimeVaryingEffect, formula) -> np.ndarray:
    """The other covariates' linear predictor at the fitted split (zero without others)."""
    if formula is None or (not isinstance(formula, str) and not list(formula)):
        return np.zeros(len(df))
    design, X = build_design(df, formula, "formula")
    return X @ effect.model.params_[design.names].to_numpy()
