"""Time-varying coefficients: step functions (episode splitting) and smooth beta0 + beta1 g(t).

Both are data transformations in front of the one Cox engine, as in R:

* step: ``split_episodes`` at the cut times, then x_k = x [period k] replaces
  x (R: ``survSplit`` + ``x:strata(tgroup)``). Each period's hazard ratio gets
  a Wald CI; "no change" is the Wald test that all period coefficients are
  equal (df = periods - 1); a **double agent** is flagged when the HR is
  significantly below 1 in one period and significantly above 1 in a later
  one (both CIs at ``conf_level`` exclude 1 on opposite sides).
* smooth: beta(t) = beta0 + beta1 g(t) (R's ``tt(x) = x * g(t)``). This is exact:
  every row is split at each event time inside its follow-up, and the piece
  ending at time s carries x g(s), the value R's ``tt`` gives the risk set at
  event time s. It costs as much as R's ``tt``: about n x (event times) rows.
"""

from __future__ import annotations

import keyword
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests

from ..data.episodes import (
    censor_early_pieces,
    period_columns,
    period_labels,
    split_at,
    split_episodes,
)
from ..data.validation import (
    as_column_list,
    check_columns,
    check_dataframe,
    check_finite_numeric,
    encode_events,
)
from ..models.coxph import CoxPH
from ..models.summary_table import TestResult

__all__ = [
    "DoubleAgentScan",
    "SmoothEffect",
    "TimeVaryingEffect",
    "detect_double_agents",
    "fit_smooth_effect",
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
    _check_not_in_formula(covariate, formula)
    if cause is not None and censor_value is None:
        raise ValueError(
            "episode splitting needs a censoring code for the early pieces; pass censor_value."
        )
    episode_col = _free_name(df, "episode")
    entry = entry_col if entry_col is not None else _free_name(df, "tstart")
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
        formula=_extend_formula(formula, names),
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
            others = _drop_from_formula(formula, cov)
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


@dataclass
class SmoothEffect:
    """beta(t) = beta0 + beta1 g(t) for one covariate (R's ``tt``); ``model`` is the
    Cox fit on the data split at every event time, with coefficients
    ``covariate`` (beta0) and ``tt(covariate)`` (beta1)."""

    covariate: str
    transform: Callable[[np.ndarray], np.ndarray]
    model: CoxPH
    n_rows: int

    @property
    def slope_test(self) -> TestResult:
        """Wald test of beta1 = 0 (no change of the log-HR with g(t))."""
        name = f"tt({self.covariate})"
        b = self.model.params_[name]
        return TestResult.chi2(float(b**2 / self.model.variance_.loc[name, name]), 1)

    def hazard_ratio(self, times, conf_level: float = 0.95) -> pd.DataFrame:
        """HR of the covariate at ``times`` with Wald CIs from the coefficients' variance."""
        t = np.asarray(times, dtype=float)
        g = self.transform(t)
        names = [self.covariate, f"tt({self.covariate})"]
        b = self.model.params_[names].to_numpy()
        V = self.model.variance_.loc[names, names].to_numpy()
        lp = b[0] + b[1] * g
        se = np.sqrt(V[0, 0] + 2 * g * V[0, 1] + g * g * V[1, 1])
        zc = stats.norm.ppf((1 + conf_level) / 2)
        return pd.DataFrame(
            {
                "log_hr": lp,
                "se": se,
                "hr": np.exp(lp),
                "lower": np.exp(lp - zc * se),
                "upper": np.exp(lp + zc * se),
            },
            index=pd.Index(t, name="time"),
        )


def fit_smooth_effect(
    df: pd.DataFrame,
    covariate: str,
    duration_col: str,
    event_col: str,
    transform: str | Callable[[np.ndarray], np.ndarray] = "log",
    formula: str | list[str] | None = None,
    entry_col: str | None = None,
    strata: str | list[str] | None = None,
    weights_col: str | None = None,
    cause: object = None,
    censor_value: object = 0,
    ties: str = "efron",
    max_rows: int = 20_000_000,
    tol: float = 1e-9,
    max_iter: int = 20,
) -> SmoothEffect:
    """Fit beta(t) = beta0 + beta1 g(t) for ``covariate`` exactly (R's ``tt``).

    ``transform``: "log", "identity" or a function of time (R's
    ``tt = function(x, t, ...) x * log(t + 20)`` is ``lambda t: np.log(t + 20)``).
    Rows are split at every distinct event time of the modelled event inside
    their follow-up, so the expanded data has about n x (event times) rows, as
    in R; more than ``max_rows`` raises ``ValueError`` (use
    ``time_varying_effect`` with a few cuts, or ``cox_zph``, on large data).
    """
    check_dataframe(df)
    check_columns(df, {"covariate": [covariate], "duration_col": [duration_col]})
    _check_not_in_formula(covariate, formula)
    if cause is not None and censor_value is None:
        raise ValueError(
            "the smooth fit needs a censoring code for split pieces; pass censor_value."
        )
    g = _time_function(transform)
    stop = check_finite_numeric(df[duration_col], duration_col)
    start = (
        np.zeros(len(df)) if entry_col is None else check_finite_numeric(df[entry_col], entry_col)
    )
    status = encode_events(df[event_col], event_col, cause, censor_value).status.astype(bool)
    event_times = np.unique(stop[status])
    inside = np.searchsorted(event_times, stop, "left") - np.searchsorted(
        event_times, start, "right"
    )
    n_rows = int(np.maximum(inside, 0).sum() + len(df))
    if n_rows > max_rows:
        raise ValueError(
            f"the exact smooth fit would split {len(df)} rows into {n_rows} pieces (one per "
            f"event time at risk), more than max_rows={max_rows}; raise max_rows, or use "
            "time_varying_effect with a few cut points, or cox_zph."
        )
    rows, piece_start, piece_stop, _, last = split_at(start, stop, event_times)
    entry = _free_name(df, "tstart") if entry_col is None else entry_col
    tt_name = f"tt({covariate})"
    if tt_name in df.columns:
        raise ValueError(f"column {tt_name!r} already exists in the data; rename it first.")
    x = check_finite_numeric(df[covariate], covariate)
    out = df.iloc[rows].reset_index(drop=True)
    out[entry] = piece_start
    out[duration_col] = piece_stop
    out[event_col] = censor_early_pieces(
        out[event_col], last, censor_value if cause is not None else 0, event_col
    )
    out[tt_name] = x[rows] * g(piece_stop)
    model = CoxPH(ties=ties, tol=tol, max_iter=max_iter).fit(
        out,
        duration_col=duration_col,
        event_col=event_col,
        formula=_extend_formula(formula, [covariate, tt_name]),
        entry_col=entry,
        strata=strata,
        weights_col=weights_col,
        cause=cause,
        censor_value=censor_value,
    )
    return SmoothEffect(covariate=covariate, transform=g, model=model, n_rows=n_rows)


# ----------------------------------------------------------------- helpers
def _later(first: np.ndarray, second: np.ndarray) -> bool:
    """Is there j < k with first[j] and second[k]?"""
    idx_first = np.flatnonzero(first)
    idx_second = np.flatnonzero(second)
    return bool(idx_first.size and idx_second.size and idx_first[0] < idx_second[-1])


def _time_function(transform) -> Callable[[np.ndarray], np.ndarray]:
    if callable(transform):
        return lambda t: np.asarray(transform(np.asarray(t, dtype=float)), dtype=float)
    if transform == "log":
        return lambda t: np.log(np.asarray(t, dtype=float))
    if transform == "identity":
        return lambda t: np.asarray(t, dtype=float)
    raise ValueError(
        f"transform={transform!r} is not supported; use 'log', 'identity' or a function of time."
    )


def _quote(name: str) -> str:
    """``name`` as a formula term that formulaic reads as a name, never as code.

    Identifiers stand as they are; other names go in backticks (which formulaic
    treats as one variable name); a name that a backtick could break out of is
    refused, since it would be appended to the user's formula string.
    """
    if name.isidentifier() and not keyword.iskeyword(name):
        return name
    if "`" in name or "\n" in name:
        raise ValueError(
            f"column name {name!r} contains a backtick or a line break, so it cannot be "
            "added to the formula string safely; rename the column, or pass formula as a "
            "list of column names."
        )
    return f"`{name}`"


def _extend_formula(formula, names: list[str]):
    if formula is None:
        return list(names)
    if isinstance(formula, str):
        rhs = formula.split("~", 1)[1] if "~" in formula else formula
        return " + ".join([rhs.strip(), *(_quote(n) for n in names)])
    return [*formula, *names]


def _formula_variables(formula) -> set[str]:
    if formula is None:
        return set()
    if isinstance(formula, str):
        from formulaic import Formula

        from ..data.design import required_columns

        rhs = formula.split("~", 1)[1] if "~" in formula else formula
        return set(required_columns(Formula(rhs), rhs))
    return set(formula)


def _check_not_in_formula(covariate: str, formula) -> None:
    if covariate in _formula_variables(formula):
        raise ValueError(
            f"covariate {covariate!r} is also in formula {formula!r}; its time-varying columns "
            "replace it, so remove it from the formula."
        )


def _drop_from_formula(formula, covariate: str):
    """The formula without ``covariate`` (a term list or a '+'-separated string)."""
    if formula is None:
        return None
    if isinstance(formula, str):
        rhs = formula.split("~", 1)[1] if "~" in formula else formula
        kept = [t.strip() for t in rhs.split("+") if t.strip() != covariate]
        return " + ".join(kept) if kept else None
    kept = [c for c in formula if c != covariate]
    return kept or None


def _free_name(df: pd.DataFrame, base: str) -> str:
    name = base
    while name in df.columns:
        name = f"{name}_"
    return name
