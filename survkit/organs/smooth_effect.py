"""A smooth time-varying coefficient beta(t) = beta0 + beta1 g(t), fitted exactly (R's ``tt``).

Every row is split at each event time inside its follow-up, and the piece
ending at time s carries x g(s), the value R's ``tt`` gives the risk set at
event time s; the one Cox engine then fits the expanded data. It costs as much
as R's ``tt``: about n x (event times) rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..data.episodes import censor_early_pieces, split_at
from ..data.validation import check_columns, check_dataframe, check_finite_numeric, encode_events
from ..models.coxph import CoxPH
from ..models.summary_table import TestResult
from .formula_terms import check_not_in_formula, extend_formula, free_name

__all__ = ["SmoothEffect", "fit_smooth_effect"]


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
    check_not_in_formula(covariate, formula)
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
    entry = free_name(df, "tstart") if entry_col is None else entry_col
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
        formula=extend_formula(formula, [covariate, tt_name]),
        entry_col=entry,
        strata=strata,
        weights_col=weights_col,
        cause=cause,
        censor_value=censor_value,
    )
    return SmoothEffect(covariate=covariate, transform=g, model=model, n_rows=n_rows)


# ----------------------------------------------------------------- helpers
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
