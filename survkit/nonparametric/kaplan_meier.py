"""Kaplan-Meier survival as R's ``survfit(Surv(...) ~ group)``: ``kaplan_meier``.

S(t) = prod_{u <= t} (1 - d(u)/n(u)) over the distinct stop times, with
weighted counts and (entry, stop] risk sets when entry times are given.

Standard error, as R's survival 3.x chooses it:

- integer (or no) case weights: Greenwood, var log S(t) = sum d/(n(n-d));
- non-integer case weights: R's ``survfit`` switches to the robust
  (infinitesimal-jackknife) variance with each row its own cluster,
  var S(t) = sum_i (w_i dS(t)/dw_i)^2 (see ``survival_table.jackknife_variance``).

``std_err`` is the standard error of S(t) itself (``summary.survfit``'s
``std.err``); ``std_err_log`` is R's ``fit$std.err`` for the Greenwood case,
the standard error of log S(t). Confidence limits follow R's
``survfit_confint``: "log" (R's default), "log-log" and "plain".
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .survival_table import GroupTable, jackknife_variance, read_survival_table

__all__ = ["kaplan_meier", "survival_confint"]

CONF_TYPES = ("log", "log-log", "plain")


def survival_confint(
    surv: np.ndarray, se: np.ndarray, conf_level: float, conf_type: str
) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise limits of a survival curve from the standard error of S (R's rules).

    Where R returns NA (S = 0 for "log"; S in {0, 1} for "log-log") the limits
    are NaN, except that a zero standard error gives limits equal to S.
    """
    z = stats.norm.ppf(1 - (1 - conf_level) / 2)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        se_log = np.where(se == 0, 0.0, se / surv)  # R's logse = FALSE branch
        if conf_type == "plain":
            lower = np.maximum(surv - z * se, 0.0)
            upper = np.minimum(surv + z * se, 1.0)
        elif conf_type == "log":
            xx = np.where(surv == 0, np.nan, surv)
            lower = np.exp(np.log(xx) - z * se_log)
            upper = np.minimum(np.exp(np.log(xx) + z * se_log), 1.0)
        else:
            xx = np.where((surv == 0) | (surv == 1), np.nan, surv)
            se2 = z * se_log / np.log(xx)
            lower = np.exp(-np.exp(np.log(-np.log(xx)) - se2))
            upper = np.exp(-np.exp(np.log(-np.log(xx)) + se2))
    return lower, upper


def check_conf(conf_level: float, conf_type: str) -> None:
    if not 0 < conf_level < 1:
        raise ValueError(f"conf_level={conf_level!r} must be between 0 and 1 (e.g. 0.95).")
    if conf_type not in CONF_TYPES:
        raise ValueError(f"conf_type={conf_type!r}; use one of {', '.join(CONF_TYPES)}.")


def check_eval_times(times) -> np.ndarray:
    times = np.asarray(times, dtype=float).ravel()
    if times.size == 0:
        raise ValueError("times is empty; pass at least one time >= 0.")
    n_bad = int(np.isnan(times).sum() + (times < 0).sum())
    if n_bad:
        raise ValueError(f"times has {n_bad} negative or missing value(s); use times >= 0.")
    return np.unique(times)


def km_curve(gt: GroupTable, robust: bool) -> dict:
    """Survival, standard errors and Nelson-Aalen cumulative hazard at the group's times."""
    n, d = gt.n_risk, gt.n_event
    with np.errstate(divide="ignore", invalid="ignore"):
        surv = np.cumprod(np.where(n > 0, 1.0 - d / n, 1.0))
        # Greenwood terms; where n == d the curve drops to 0 and, as in R, the
        # variance of log S becomes infinite (the standard error of S is then NaN)
        greenwood = np.where(d > 0, d / (n * (n - d)), 0.0)
        if robust:
            greenwood = np.where((n - d) > 0, greenwood, 0.0)
            event_term = np.where((n - d) > 0, 1.0 / (n - d), 0.0)
            var_s = surv**2 * jackknife_variance(gt, greenwood, event_term)
            std_err = np.sqrt(np.maximum(var_s, 0.0))
            std_err_log = np.where(std_err == 0, 0.0, std_err / surv)
        else:
            std_err_log = np.sqrt(np.cumsum(greenwood))
            std_err = std_err_log * surv
    return {"surv": surv, "std_err": std_err, "std_err_log": std_err_log}


def kaplan_meier(
    df: pd.DataFrame,
    duration_col: str,
    event_col: str,
    group_col: str | None = None,
    entry_col: str | None = None,
    weights_col: str | None = None,
    conf_type: str = "log",
    conf_level: float = 0.95,
    censor_value: object = 0,
    times=None,
) -> pd.DataFrame:
    """Kaplan-Meier curves, one per group, as a tidy DataFrame.

    Columns: ``group`` (only with ``group_col``), ``time``, ``n_risk``,
    ``n_event``, ``n_censor``, ``survival``, ``std_err`` (of S), ``std_err_log``
    (of log S), ``lower``, ``upper``. Every non-censoring code of
    ``event_col`` counts as an event (all-cause survival). Rows are the
    distinct stop times of each group, as R's ``survfit``. ``entry_col`` gives
    delayed entry ((entry, stop] rows); ``weights_col`` case weights (counts
    are weighted sums). With ``times`` (ascending), the rows are those times
    per group as ``summary(fit, times=)``: n_risk at the time, events and
    censorings since the previous requested time; after a group's last
    follow-up time the estimate is NaN (R drops those rows).
    """
    check_conf(conf_level, conf_type)
    table = read_survival_table(
        df, duration_col, event_col, group_col, entry_col, weights_col, censor_value
    )
    robust = not table.integer_weights
    eval_times = None if times is None else check_eval_times(times)
    pieces = []
    for gt in table.groups:
        curve = km_curve(gt, robust)
        cols = {
            "time": gt.time,
            "n_risk": gt.n_risk,
            "n_event": gt.n_event,
            "n_censor": gt.n_censor,
            "survival": curve["surv"],
            "std_err": curve["std_err"],
            "std_err_log": curve["std_err_log"],
        }
        if eval_times is not None:
            cols = at_times(
                gt, cols, eval_times, {"survival": 1.0, "std_err": 0.0, "std_err_log": 0.0}
            )
        pieces.append(cols)
    out = tidy_frame(pieces, table)
    lower, upper = survival_confint(
        out["survival"].to_numpy(), out["std_err"].to_numpy(), conf_level, conf_type
    )
    out["lower"] = lower
    out["upper"] = upper
    return finish_before_first(out)


def finish_before_first(out: pd.DataFrame) -> pd.DataFrame:
    """Before a group's first time the curve is 1 with limits 1 (summary.survfit)."""
    if "_before" in out.columns:
        before = out.pop("_before").to_numpy(dtype=bool)
        out.loc[before, ["lower", "upper"]] = 1.0
    return out


def tidy_frame(pieces: list[dict], table) -> pd.DataFrame:
    """One DataFrame from per-group column dicts, with a ``group`` column when grouped."""
    cols = {name: np.concatenate([p[name] for p in pieces]) for name in pieces[0]}
    out = pd.DataFrame(cols)
    if table.has_group:
        sizes = [len(p["time"]) for p in pieces]
        labels = pd.Series([gt.label for gt in table.groups])
        out.insert(0, "group", labels.repeat(sizes).to_numpy())
    return out


def at_times(gt: GroupTable, cols: dict, times: np.ndarray, start_values: dict) -> dict:
    """Values of step curves at ``times`` with counts per interval (summary.survfit).

    ``start_values`` maps each curve column to its value before the first time.
    """
    t = gt.time
    idx = np.searchsorted(t, times, side="right") - 1  # last distinct time <= each time
    nxt = np.searchsorted(t, times, side="left")  # first distinct time >= each time
    beyond = times > t[-1]
    out = {"time": times, "_before": idx < 0}
    # number at risk at the time: that of the next distinct time (0 beyond the end)
    n_risk = np.where(beyond, 0.0, cols["n_risk"][np.clip(nxt, 0, len(t) - 1)])
    if gt.row_entry is not None:
        # with delayed entry, count the risk set at the time itself
        n_risk = _risk_set_at(gt, times)
    out["n_risk"] = n_risk
    for name in ("n_event", "n_censor"):
        cum = np.concatenate(([0.0], np.cumsum(cols[name])))
        upto = cum[idx + 1]
        out[name] = np.diff(np.concatenate(([0.0], upto)))
    for name, first_value in start_values.items():
        v = np.where(idx >= 0, cols[name][np.clip(idx, 0, None)], first_value)
        out[name] = np.where(beyond, np.nan, v)
    return out


def _risk_set_at(gt: GroupTable, times: np.ndarray) -> np.ndarray:
    """Weight of rows with entry < t <= stop."""
    w = gt.row_weight
    cum_stop = np.concatenate(([0.0], np.cumsum(w)))
    still = cum_stop[-1] - cum_stop[np.searchsorted(gt.row_time, times, side="left")]
    eo = np.argsort(gt.row_entry)
    cum_entry = np.concatenate(([0.0], np.cumsum(w[eo])))
    not_yet = cum_entry[-1] - cum_entry[np.searchsorted(gt.row_entry[eo], times, side="left")]
    return still - not_yet
