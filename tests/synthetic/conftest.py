"""Small, independent estimators used to check the generator's truth.

They are deliberately plain (no survkit, no tricks) so that a failing test
points at the generator, and each is itself checked against lifelines in
``test_estimator_helpers.py``. Exposed as fixtures so that test modules do not
import from one another.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest


def aalen_johansen(time, event, causes, times, censored="censored"):
    """Aalen–Johansen cumulative incidence of each cause at ``times``, with the
    delta-method (martingale) standard error.

    ``event`` holds a cause label, or ``censored``; every label other than
    ``censored`` is an event of some cause (only ``causes`` are reported). With S(u-)
    the all-cause Kaplan–Meier just before u, Y the number at risk, d_k and
    d the cause-k and all-cause event counts at each event time t_j <= t:

        F_k(t)   = Σ S(t_j-) d_kj / Y_j
        Var F_k  = Σ S(t_j-)² d_kj / Y_j²
                 + Σ (F_k(t) - F_k(t_j))² d_j / Y_j²
                 - 2 Σ S(t_j-) (F_k(t) - F_k(t_j)) d_kj / Y_j²

    the plug-in variance of the influence function
    ∫ S/y dM_k - ∫ (F_k(t) - F_k(u))/y dM (the martingale argument of
    Andersen, Borgan, Gill & Keiding 1993, chapter IV). Checked against the
    spread of replicated estimates in test_estimator_helpers.py.
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=object)
    order = np.argsort(time, kind="stable")
    time, event = time[order], event[order]
    unique, first, counts = np.unique(time, return_index=True, return_counts=True)
    at_risk = (time.size - first).astype(float)
    group = np.repeat(np.arange(unique.size), counts)
    per_cause = {
        cause: np.bincount(group, weights=(event == cause).astype(float), minlength=unique.size)
        for cause in causes
    }
    deaths = np.bincount(group, weights=(event != censored).astype(float), minlength=unique.size)
    survival = np.cumprod(1.0 - deaths / at_risk)
    survival_before = np.concatenate([[1.0], survival[:-1]])
    cif, se = {}, {}
    for cause in causes:
        d_k = per_cause[cause]
        curve = np.cumsum(survival_before * d_k / at_risk)
        values, errors = [], []
        for t in times:
            upto = unique <= t
            f_t = curve[upto][-1] if upto.any() else 0.0
            gap = f_t - curve[upto]
            y2 = at_risk[upto] ** 2
            s = survival_before[upto]
            variance = (
                np.sum(s**2 * d_k[upto] / y2)
                + np.sum(gap**2 * deaths[upto] / y2)
                - 2.0 * np.sum(s * gap * d_k[upto] / y2)
            )
            values.append(f_t)
            errors.append(np.sqrt(max(variance, 0.0)))
        cif[cause], se[cause] = values, errors
    index = pd.Index(times, name="time")
    return pd.DataFrame(cif, index=index), pd.DataFrame(se, index=index)


def cox_fit(X: pd.DataFrame, stop, event, start=None, *, tol=1e-10, max_iter=60):
    """Cox partial-likelihood fit by Newton–Raphson for counting-process data
    (risk set at t: start < t <= stop), Breslow ties. Returns (coef, se) Series.
    Continuous times have no ties, where Breslow and Efron coincide."""
    names = list(X.columns)
    x = X.to_numpy(dtype=float)
    x = x - x.mean(axis=0)  # centring changes no coefficient, only round-off
    stop = np.asarray(stop, dtype=float)
    start = np.zeros_like(stop) if start is None else np.asarray(start, dtype=float)
    event = np.asarray(event, dtype=bool)
    p = x.shape[1]
    event_times = stop[event]
    outer = (x[:, :, None] * x[:, None, :]).reshape(len(x), p * p)  # 2-d: faster prefix sums
    # Risk-set sums at each event time t: rows with stop >= t minus rows with
    # start >= t, each a prefix sum over rows sorted by decreasing time.
    prefixes = []
    for bound, sign in ((stop, 1.0), (start, -1.0)):
        order = np.argsort(-bound, kind="stable")
        count = np.searchsorted(-bound[order], -event_times, side="right")
        if count.max(initial=0) > 0:
            prefixes.append((order, count, x[order], outer[order], sign))

    def risk_sums(w):
        s0, s1, s2 = 0.0, 0.0, 0.0
        for order, count, x_sorted, outer_sorted, sign in prefixes:
            ws = w[order]
            last = np.maximum(count - 1, 0)
            keep = (count > 0).astype(float)
            s0 = s0 + sign * keep * np.cumsum(ws)[last]
            s1 = s1 + sign * keep[:, None] * np.cumsum(ws[:, None] * x_sorted, axis=0)[last]
            s2 = s2 + sign * keep[:, None] * np.cumsum(ws[:, None] * outer_sorted, axis=0)[last]
        return s0, s1, s2

    beta = np.zeros(p)
    for _ in range(max_iter):
        eta = x @ beta
        s0, s1, s2 = risk_sums(np.exp(eta - eta.max()))
        mean = s1 / s0[:, None]
        score = (x[event] - mean).sum(axis=0)
        information = (
            s2.reshape(-1, p, p) / s0[:, None, None] - mean[:, :, None] * mean[:, None, :]
        ).sum(axis=0)
        step = np.linalg.solve(information, score)
        beta = beta + step
        if np.max(np.abs(step)) < tol:
            break
    else:
        raise AssertionError("test Cox fit did not converge")
    se = np.sqrt(np.diag(np.linalg.inv(information)))
    return pd.Series(beta, index=names), pd.Series(se, index=names)


def split_at_change_points(
    truth_rows: pd.DataFrame, design: pd.DataFrame, time, event, extra_cuts=()
):
    """Episode-split data for one cause's Cox fit with piecewise effects.

    Each patient contributes one episode per piece of the cause's change-point
    grid that they enter; a term whose truth has several pieces becomes one
    column per piece, named ``term@[start,end)``, that equals the covariate
    within the piece and 0 elsewhere. Returns (X, start, stop, event) and the
    map from column name to its truth row. ``extra_cuts`` adds split times that
    no effect changes at.
    """
    pieces = sorted(set(truth_rows["start"]) | set(truth_rows["end"]) | set(extra_cuts))
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=bool)
    blocks, starts, stops, events, which = [], [], [], [], []
    for lo, hi in itertools.pairwise(pieces):
        entered = time > lo
        blocks.append(design[entered])
        starts.append(np.full(entered.sum(), lo))
        stops.append(np.minimum(time[entered], hi))
        events.append(event[entered] & (time[entered] <= hi))
        which.append(np.full(entered.sum(), lo))
    X = pd.concat(blocks, ignore_index=True)
    piece_start = np.concatenate(which)
    columns, truth_of = {}, {}
    for term, rows in truth_rows.groupby("covariate", sort=False):
        if len(rows) == 1:
            columns[term] = X[term].to_numpy()
            truth_of[term] = rows.iloc[0]
            continue
        for _, row in rows.iterrows():
            name = f"{term}@[{row['start']:g},{row['end']:g})"
            inside = (piece_start >= row["start"]) & (piece_start < row["end"])
            columns[name] = np.where(inside, X[term].to_numpy(), 0.0)
            truth_of[name] = row
    return (
        pd.DataFrame(columns),
        np.concatenate(starts),
        np.concatenate(stops),
        np.concatenate(events),
        truth_of,
    )


@pytest.fixture(scope="session")
def aj():
    return aalen_johansen


@pytest.fixture(scope="session")
def cox():
    return cox_fit


@pytest.fixture(scope="session")
def split():
    return split_at_change_points
