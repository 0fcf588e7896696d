"""Log-rank and Fleming-Harrington G^rho tests as R's ``survdiff``: ``logrank_test``.

At each distinct event time u of a stratum, with n(u) at risk (n_g(u) in
group g), d(u) events and weight w(u) = S(u-)^rho (S the pooled Kaplan-Meier
of the stratum, left-continuous):

    O_g += w d_g,  E_g += w d n_g / n,
    V_gh += w^2 d (n - d) / (n (n - 1)) * n_g (1{g = h} - n_h / n).

O, E and V are summed over strata; the statistic is (O - E)' V^- (O - E) over
the groups with E > 0, dropping the first of them (R's choice of generalised
inverse), on that many minus one degrees of freedom. Where that variance is
singular (degenerate data, where R's ``solve`` stops) the Moore-Penrose
inverse is used and the degrees of freedom are its rank. This is not the Cox
score test: with tied event times the Cox score test (Efron or Breslow)
uses a different variance (e.g. 2.186 vs 2.147 on the Rossi data).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numba import njit
from scipy import stats

from ..data.survival_data import group_codes, strata_codes
from ..data.validation import (
    as_column_list,
    check_columns,
    check_dataframe,
    check_finite_numeric,
    check_times,
)
from .survival_table import event_indicator

__all__ = ["LogrankResult", "logrank_test"]


@dataclass
class LogrankResult:
    """``statistic`` (chi-square), ``df``, ``p_value``; ``table`` per group
    (n, observed, expected, (O-E)^2/E, (O-E)^2/V); ``variance`` of O - E;
    ``by_stratum`` observed/expected per group and stratum (with strata)."""

    statistic: float
    df: int
    p_value: float
    rho: float
    table: pd.DataFrame
    variance: pd.DataFrame
    by_stratum: pd.DataFrame | None


@njit(cache=True)
def _survdiff_scan(time, event, group, stratum, n_groups, n_strata, rho):
    obs = np.zeros((n_groups, n_strata))
    exp_ = np.zeros((n_groups, n_strata))
    var = np.zeros((n_groups, n_groups))
    risk = np.zeros(n_groups)
    dg = np.zeros(n_groups)
    n = time.shape[0]
    i = 0
    while i < n:
        s = stratum[i]
        j = i
        for g in range(n_groups):
            risk[g] = 0.0
        while j < n and stratum[j] == s:
            risk[group[j]] += 1.0
            j += 1
        km = 1.0
        while i < j:
            t = time[i]
            for g in range(n_groups):
                dg[g] = 0.0
            ntot = 0.0
            for g in range(n_groups):
                ntot += risk[g]
            k = i
            deaths = 0.0
            while k < j and time[k] == t:
                if event[k] > 0:
                    dg[group[k]] += 1.0
                    deaths += 1.0
                k += 1
            if deaths > 0:
                wt = km**rho if rho != 0 else 1.0
                for g in range(n_groups):
                    obs[g, s] += wt * dg[g]
                    exp_[g, s] += wt * deaths * risk[g] / ntot
                if ntot > 1:
                    kt = wt * wt * deaths * (ntot - deaths) / (ntot * (ntot - 1.0))
                    for g in range(n_groups):
                        tmp = kt * risk[g]
                        var[g, g] += tmp
                        for h in range(n_groups):
                            var[g, h] -= tmp * risk[h] / ntot
                km *= (ntot - deaths) / ntot
            while i < k:
                risk[group[i]] -= 1.0
                i += 1
    return obs, exp_, var


def logrank_test(
    df: pd.DataFrame,
    duration_col: str,
    event_col: str,
    group_col: str,
    strata=None,
    rho: float = 0.0,
    censor_value: object = 0,
) -> LogrankResult:
    """Compare survival between the levels of ``group_col`` (R's ``survdiff``).

    ``strata``: column name(s); the test is stratified (sums over strata of
    each stratum's O - E and variance). ``rho``: Fleming-Harrington weight
    S(t-)^rho (0 = log-rank, 1 = Peto-Peto/Prentice-Wilcoxon flavour). Every
    non-censoring event code is an event.
    """
    check_dataframe(df)
    strata_cols = as_column_list(strata)
    check_columns(
        df,
        {
            "duration_col": [duration_col],
            "event_col": [event_col],
            "group_col": [group_col],
            "strata": strata_cols,
        },
    )
    rho = float(rho)
    if not np.isfinite(rho) or rho < 0:
        raise ValueError(f"rho={rho!r} must be a finite number >= 0 (0 = log-rank).")
    time = check_finite_numeric(df[duration_col], duration_col)
    check_times(time, duration_col)
    event = event_indicator(df[event_col], event_col, censor_value).astype(np.int64)
    group, labels = group_codes(df, group_col, "group")
    if len(labels) < 2:
        raise ValueError(
            f"group_col {group_col!r} has 1 level ({labels[0]!r}); a log-rank test needs "
            "at least 2 groups."
        )
    if strata_cols:
        stratum, strata_labels = strata_codes(df, strata_cols)
    else:
        stratum, strata_labels = np.zeros(len(df), dtype=np.int64), ["all"]
    order = np.argsort(time)
    if len(strata_labels) > 1:
        order = order[np.argsort(stratum[order], kind="stable")]
    obs, exp_, var = _survdiff_scan(
        time[order],
        event[order],
        group[order],
        stratum[order],
        len(labels),
        len(strata_labels),
        rho,
    )
    o, e = obs.sum(axis=1), exp_.sum(axis=1)
    used = np.flatnonzero(e > 0)
    if used.size < 2:
        statistic, dof = 0.0, 0
    else:
        keep = used[1:]
        diff = (o - e)[keep]
        sub = var[np.ix_(keep, keep)]
        scale = float(np.abs(sub).max()) if sub.size else 0.0
        rank = int(np.linalg.matrix_rank(sub, tol=1e-10 * scale)) if scale > 0 else 0
        if rank == keep.size:
            statistic = float(diff @ np.linalg.solve(sub, diff))
        else:
            # degenerate data (e.g. a group whose every death empties the risk
            # set): R's solve() stops; use the generalised inverse on its rank
            statistic = float(diff @ np.linalg.pinv(sub, rcond=1e-10) @ diff) if rank else 0.0
        dof = rank
    p_value = float(stats.chi2.sf(statistic, dof)) if dof > 0 else float("nan")
    index = pd.Index(labels, name="group")
    with np.errstate(divide="ignore", invalid="ignore"):
        table = pd.DataFrame(
            {
                "n": np.bincount(group, minlength=len(labels)),
                "observed": o,
                "expected": e,
                "(O-E)^2/E": (o - e) ** 2 / e,
                "(O-E)^2/V": (o - e) ** 2 / np.diag(var),
            },
            index=index,
        )
    by_stratum = None
    if strata_cols:
        g_idx, s_idx = np.meshgrid(np.arange(len(labels)), np.arange(len(strata_labels)))
        by_stratum = pd.DataFrame(
            {
                "group": [labels[k] for k in g_idx.T.ravel()],
                "stratum": [strata_labels[k] for k in s_idx.T.ravel()],
                "observed": obs.ravel(),
                "expected": exp_.ravel(),
            }
        )
    return LogrankResult(
        statistic=statistic,
        df=dof,
        p_value=p_value,
        rho=rho,
        table=table,
        variance=pd.DataFrame(var, index=index, columns=index),
        by_stratum=by_stratum,
    )
