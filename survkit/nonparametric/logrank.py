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
from scipy import stats

from ..data.survival_data import strata_codes
from ..data.validation import (
    as_column_list,
    check_columns,
    check_dataframe,
    check_finite_numeric,
    check_times,
)
from .survival_table import event_indicator, group_slots
from .time_counts import count_by_time

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


def _survdiff_sums(time, event, group, offset, stratum, n_groups, n_strata, rho):
    """O, E per (group, stratum) and V, from counts per (stratum, distinct time, group).

    The times are hashed, never sorted row by row: one pass of ``count_by_time``
    without strata; with strata ``pd.factorize`` of (stratum, time) and
    ``bincount``. Only the distinct times (or pairs) are sorted.
    """
    G = n_groups
    if n_strata == 1:  # one hashing pass (time_counts)
        _, rows, dead, _, _ = count_by_time(time, group, offset, G, event)
        exits = rows.T.astype(np.float64)
        deaths = dead.T
        pair_stratum = np.zeros(exits.shape[0], dtype=np.int64)
    else:
        codes, uniques = pd.factorize(time, sort=False)
        rank = np.empty(uniques.shape[0], dtype=np.int64)
        rank[np.argsort(uniques)] = np.arange(uniques.shape[0])
        U = uniques.shape[0]
        key = stratum * U + rank[codes]
        kc, ku = pd.factorize(key, sort=False)
        order = np.argsort(ku)
        pos = np.empty(ku.shape[0], dtype=np.int64)
        pos[order] = np.arange(ku.shape[0])
        pair, n_pairs = pos[kc], ku.shape[0]
        pair_stratum = ku[order] // U
        cell = pair * G + (group - offset)
        exits = np.bincount(cell, minlength=n_pairs * G).reshape(n_pairs, G).astype(np.float64)
        deaths = np.bincount(cell, weights=event, minlength=n_pairs * G).reshape(n_pairs, G)
    bounds = np.searchsorted(pair_stratum, np.arange(n_strata + 1))
    obs = np.zeros((G, n_strata))
    exp_ = np.zeros((G, n_strata))
    var = np.zeros((G, G))
    for s in range(n_strata):
        lo, hi = bounds[s], bounds[s + 1]
        if lo == hi:
            continue
        risk = np.cumsum(exits[lo:hi][::-1], axis=0)[::-1]  # n_g(t): rows with time >= t
        d_g = deaths[lo:hi]
        d = d_g.sum(axis=1)
        n = risk.sum(axis=1)
        if rho != 0:
            km = np.cumprod((n - d) / n)
            wt = np.concatenate(([1.0], km[:-1])) ** rho  # S(t-)^rho
        else:
            wt = np.ones_like(n)
        obs[:, s] = wt @ d_g
        exp_[:, s] = (wt * d / n) @ risk
        with np.errstate(divide="ignore", invalid="ignore"):
            kt = np.where(n > 1, wt * wt * d * (n - d) / (n * (n - 1.0)), 0.0)
        var += np.diag(kt @ risk) - np.einsum("t,tg,th->gh", kt / n, risk, risk)
    return obs, exp_, var, exits.sum(axis=0)


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
    event = event_indicator(df[event_col], event_col, censor_value)
    group, offset, n_slots, slot_labels = group_slots(df, group_col)
    if strata_cols:
        stratum, strata_labels = strata_codes(df, strata_cols)
    else:
        stratum, strata_labels = np.zeros(len(df), dtype=np.int64), ["all"]
    obs, exp_, var, n_per_slot = _survdiff_sums(
        time, event, group, offset, stratum, n_slots, len(strata_labels), rho
    )
    # integer groups are counted in slots of their value range; keep the levels present
    present = np.flatnonzero(n_per_slot > 0)
    labels = [slot_labels[k] for k in present]
    obs, exp_, n_per_group = obs[present], exp_[present], n_per_slot[present]
    var = var[np.ix_(present, present)]
    if len(labels) < 2:
        raise ValueError(
            f"group_col {group_col!r} has 1 level ({labels[0]!r}); a log-rank test needs "
            "at least 2 groups."
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
                "n": n_per_group.astype(np.int64),
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
