"""Nelson-Aalen cumulative hazard as R's ``survfit(..., stype = 2, ctype = 1 or 2)``.

ctype = 1: H(t) = sum d/n, variance sum d/n^2 (R's ``std.chaz``).
ctype = 2 (Fleming-Harrington tie correction): m tied event rows with total
weight d add sum_{k<m} (d/m)/(n - k d/m), variance sum (d/m)/(n - k d/m)^2,
R's mean-weight rule. With non-integer case weights R uses the robust
(infinitesimal-jackknife) variance; that is implemented for ctype = 1.

The survival column is exp(-H) (R's ``stype = 2``) with limits from the
standard error of H, which is the standard error of log S. (For robust fits
with ctype = 1, R's ``survfit`` flags that standard error as one of S and
divides it by S before forming the limits; survkit does not copy that.)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .kaplan_meier import (
    at_times,
    check_conf,
    check_eval_times,
    finish_before_first,
    survival_confint,
    tidy_frame,
)
from .survival_table import GroupTable, jackknife_variance, read_survival_table

__all__ = ["nelson_aalen"]


def _increments(gt: GroupTable, ctype: int) -> tuple[np.ndarray, np.ndarray]:
    n, d = gt.n_risk, gt.n_event
    if ctype == 1:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(d > 0, d / n, 0.0), np.where(d > 0, d / n**2, 0.0)
    # number of event rows per distinct time (unweighted), for the mean weight
    m = np.rint(gt.n_event_rows).astype(np.int64)
    inc = np.zeros_like(n)
    var = np.zeros_like(n)
    for j in np.flatnonzero(m > 0):
        mean_w = d[j] / m[j]
        denom = n[j] - np.arange(m[j]) * mean_w
        inc[j] = np.sum(mean_w / denom)
        var[j] = np.sum(mean_w / denom**2)
    return inc, var


def nelson_aalen(
    df: pd.DataFrame,
    duration_col: str,
    event_col: str,
    group_col: str | None = None,
    entry_col: str | None = None,
    weights_col: str | None = None,
    ctype: int = 1,
    conf_type: str = "log",
    conf_level: float = 0.95,
    censor_value: object = 0,
    times=None,
) -> pd.DataFrame:
    """Nelson-Aalen cumulative hazard per group, as a tidy DataFrame.

    Columns: ``group`` (with ``group_col``), ``time``, ``n_risk``, ``n_event``,
    ``n_censor``, ``cumhaz``, ``std_err`` (of the cumulative hazard, R's
    ``std.chaz``), ``survival`` = exp(-cumhaz), ``lower``, ``upper`` (limits of
    that survival). Arguments as ``kaplan_meier``; ``ctype`` 1 or 2 as R.
    """
    check_conf(conf_level, conf_type)
    if ctype not in (1, 2):
        raise ValueError(f"ctype={ctype!r}; use 1 (Nelson-Aalen) or 2 (Fleming-Harrington).")
    table = read_survival_table(
        df, duration_col, event_col, group_col, entry_col, weights_col, censor_value
    )
    robust = not table.integer_weights
    if robust and ctype == 2:
        raise ValueError(
            "ctype=2 with non-integer case weights needs R's robust variance for the "
            "Fleming-Harrington estimate, which survkit does not implement; use ctype=1 "
            "or integer weights."
        )
    eval_times = None if times is None else check_eval_times(times)

    pieces = []
    for gt in table.groups:
        inc, var_inc = _increments(gt, ctype)
        cumhaz = np.cumsum(inc)
        if robust:
            with np.errstate(divide="ignore", invalid="ignore"):
                event_term = np.where(gt.n_event > 0, 1.0 / gt.n_risk, 0.0)
            var = jackknife_variance(gt, var_inc, event_term)
        else:
            var = np.cumsum(var_inc)
        cols = {
            "time": gt.time,
            "n_risk": gt.n_risk,
            "n_event": gt.n_event,
            "n_censor": gt.n_censor,
            "cumhaz": cumhaz,
            "std_err": np.sqrt(np.maximum(var, 0.0)),
            "survival": np.exp(-cumhaz),
        }
        if eval_times is not None:
            cols = at_times(gt, cols, eval_times, {"cumhaz": 0.0, "std_err": 0.0, "survival": 1.0})
        pieces.append(cols)
    out = tidy_frame(pieces, table)
    # the standard error of H is that of log S: R's "logse" limits
    s = out["survival"].to_numpy()
    lower, upper = survival_confint(s, out["std_err"].to_numpy() * s, conf_level, conf_type)
    out["lower"] = lower
    out["upper"] = upper
    return finish_before_first(out)
