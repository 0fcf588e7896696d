"""Time-varying coefficients as step functions (episode splitting), and double agents.

A data transformation in front of the one Cox engine, as in R (the smooth
form beta0 + beta1 g(t) is in ``smooth_effect.py``):

* step: ``split_episodes`` at the cut times, then x_k = x [period k] replaces
  x (R: ``survSplit`` + ``x:strata(tgroup)``). Each period's hazard ratio gets
  a Wald CI; "no change" is the Wald test that all period coefficients are
  equal (df = periods - 1); a **double agent** is flagged when the HR is
  significantly below 1 in one period and significantly above 1 in a later
  one (both CIs at ``conf_level`` exclude 1 on opposite sides).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests

from ..data.episodes import (
    period_columns,
    period_labels,
    split_episodes,
)
from ..data.validation import (
    as_column_list,
    check_columns,
    check_dataframe,
    encode_events,
)
from ..models.coxph import CoxPH
from ..models.summary_table import TestResult
from .formula_terms import check_not_in_formula, drop_from_formula, extend_formula, free_name

__all__ = [
    "DoubleAgentScan",
    "TimeVaryingEffect",
    "detect_double_agents",
    "time_varying_effect",
]


@dataclass
class TimeVaryingEffect:
    """A covariate's step-function effect: one coefficient per period.

    ``periods``: period, start, end, coef, se, hr, lower, upper, z, p, events.
    ``equal_test``: Wald test that every period has the same coefficient.
    ``double_agent``: HR significantly < 1 in a period and > 1 in a later one;
    ``sign_change``: significant on opposite sides of 1 in either order.
    """

    covariate: str
    cuts: np.ndarray
    periods: pd.DataFrame
    equal_test: TestResult
    double_agent: bool
    sign_change: bool
    pattern: str
    conf_level: float
    model: CoxPH
    coef_names: list[str]


def time_varying_effect(
    df: pd.DataFrame,
    covariate: str,
    cuts,
    duration_col: str,
    event_col: str,
    formula: str | list[str] | None = None,
    entry_col: str | None = None,
    strata: str | list[str] | None = None,
    weights_col: str | None = None,
    cause: object = None,
    censor_value: object = 0,
    ties: str = "efron",
    conf_level: float = 0.95,
    robust: bool = False,
    tol: float = 1e-9,
    max_iter: int = 20,
) -> TimeVaryingEffect:
    """Fit a step-function coefficient for ``covariate`` (one per period between ``cuts``).

    ``formula`` gives the other covariates (formula string or list of
    columns; it must not contain ``covariate``). ``cause``/``censor_value`` fit
    the cause-specific hazard of one organ (competing events censored).
    """
    check_dataframe(df)
    check_columns(df, {"covariate": [covariate]})
    if not 0 < conf_level < 1:
        raise ValueError(f"conf_level={conf_level!r} must be between 0 and 1.")
    check_not_in_formula(covariate, formula)
    if cause is not None and censor_value is None:
        raise ValueError(
            "episode splitting needs a censoring code for the early pieces; pass censor_value."
        )
    episode_col = free_name(df, "episode")
    entry = entry_col if entry_col is not None else free_name(df, "tstart")
    split = split_episodes(
        df,
        cuts,
        duration_col,
        event_col,
        entry_col=entry_col,
        episode_col=episode_col,
        censor_value=censor_value if cause is not None else 0,
        start_col=entry,
    )
    cut_arr = np.asarray(cuts, dtype=float)
    n_periods = cut_arr.size + 1
    split, names = period_columns(split, covariate, n_periods, episode_col)
    model = CoxPH(ties=ties, conf_level=conf_level, tol=tol, max_iter=max_iter).fit(
        split,
        duration_col=duration_col,
        event_col=event_col,
        formula=extend_formula(formula, names),
        entry_col=entry,
        strata=strata,
        weights_col=weights_col,
        cause=cause,
        censor_value=censor_value,
        robust=robust,
    )
    b = model.params_[names].to_numpy()
    V = model.variance_.loc[names, names].to_numpy()
    se = np.sqrt(np.diag(V))
    zc = stats.norm.ppf((1 + conf_level) / 2)
    status = encode_events(split[event_col], event_col, cause, censor_value).status
    events = np.bincount(
        split[episode_col].to_numpy()[status.astype(bool)] - 1, minlength=n_periods
    )
    periods = pd.DataFrame(
        {
            "period": period_labels(cut_arr),
            "start": np.r_[0.0, cut_arr],
            "end": np.r_[cut_arr, np.inf],
            "coef": b,
            "se": se,
            "hr": np.exp(b),
            "lower": np.exp(b - zc * se),
            "upper": np.exp(b + zc * se),
            "z": b / se,
            "p": 2 * stats.norm.sf(np.abs(b / se)),
            "events": events[:n_periods],
        },
        index=pd.Index(names, name="coefficient"),
    )
    L = np.eye(n_periods)[:-1] - np.eye(n_periods, k=1)[:-1]
    diff = L @ b
    chisq = float(diff @ np.linalg.solve(L @ V @ L.T, diff))
    below = periods["upper"].to_numpy() < 1
    above = periods["lower"].to_numpy() > 1
    up = _later(below, above)
    down = _later(above, below)
    pattern = "protective then promoting" if up else ("promoting then protective" if down else "")
    return TimeVaryingEffect(
        covariate=covariate,
        cuts=cut_arr,
        periods=periods,
        equal_test=TestResult.chi2(chisq, n_periods - 1),
        double_agent=up,
        sign_change=up or down,
        pattern=pattern,
        conf_level=conf_level,
        model=model,
        coef_names=names,
    )


@dataclass
class DoubleAgentScan:
    """``table``: one row per (site, covariate) with the equal-periods Wald test
    (chisq, df, p, p_adj by Benjamini-Hochberg over the rows), ``double_agent``,
    ``sign_change``, ``pattern`` and the first/last period HRs; ``effects`` holds
    each ``TimeVaryingEffect`` by (site, covariate)."""

    table: pd.DataFrame
    effects: dict


def detect_double_agents(
    df: pd.DataFrame,
    covariates: str | Sequence[str],
    cuts,
    duration_col: str,
    event_col: str,
    formula: str | list[str] | None = None,
    sites: Sequence[object] | None = None,
    censor_value: object = 0,
    **kwargs,
) -> DoubleAgentScan:
    """Scan covariates (and organs) for effects that change sign over time.

    With ``sites`` (event codes), each covariate is tested in the cause-specific
    model of each site; without, ``event_col`` is a 0/1 indicator. ``formula``
    holds adjustment covariates; each scanned covariate is removed from it when
    present. Other keyword arguments go to ``time_varying_effect``.
    """
    covariates = as_column_list(covariates)
    rows, effects = [], {}
    for site in [None] if sites is None else list(sites):
        for cov in covariates:
            others = drop_from_formula(formula, cov)
            eff = time_varying_effect(
                df,
                cov,
                cuts,
                duration_col,
                event_col,
                formula=others,
                cause=site,
                censor_value=censor_value,
                **kwargs,
            )
            effects[(site, cov)] = eff
            per = eff.periods
            rows.append(
                {
                    "site": site,
                    "covariate": cov,
                    "chisq": eff.equal_test.statistic,
                    "df": eff.equal_test.df,
                    "p": eff.equal_test.p_value,
                    "double_agent": eff.double_agent,
                    "sign_change": eff.sign_change,
                    "pattern": eff.pattern,
                    "hr_first": per["hr"].iloc[0],
                    "hr_last": per["hr"].iloc[-1],
                }
            )
    table = pd.DataFrame(rows)
    table.insert(5, "p_adj", multipletests(table["p"], method="fdr_bh")[1])
    return DoubleAgentScan(table=table, effects=effects)


# ----------------------------------------------------------------- helpers
def _later(first: np.ndarray, second: np.ndarray) -> bool:
    """Is there j < k with first[j] and second[k]?"""
    idx_first = np.flatnonzero(first)
    idx_second = np.flatnonzero(second)
    return bool(idx_first.size and idx_second.size and idx_first[0] < idx_second[-1])
