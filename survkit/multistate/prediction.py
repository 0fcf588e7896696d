"""Predicted state occupation for new patients from a ``MultiStateCox``, as R's
``survfit(multi-state coxph, newdata)`` (and ``mstate::probtrans`` from 0).

For a patient with covariates x, transition k = (j -> l) has hazard
increments dA_k(t | x) = dΛ0_k(t) exp(x'β_k) at the transition's event
times (Breslow or Efron increments of the fitted baseline, at x = 0), and
p(t | x) = p(t- | x) (I + dA(t | x)): the Aalen-Johansen product with
model-based hazards. A transition fitted without covariates uses its
Nelson-Aalen increments (the Breslow estimate at β = 0). With ``se=True``
the infinitesimal-jackknife standard errors of ``prediction_se`` are added
(R's ``survfit.coxphms`` computes none: ``se.fit <- FALSE``, "still to do").
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..data.validation import check_columns, check_finite_numeric
from .prediction_se import occupation_influence

__all__ = ["predict_occupation"]


def _expm(A: np.ndarray) -> np.ndarray:
    """Matrix exponentials of a batch of small matrices (n, S, S).

    Scaling and squaring with an 18-term Taylor series: after scaling the
    1-norm is at most 1/2, where the truncation error is below 1e-21; scipy's
    Pade routine costs milliseconds per call on these tiny matrices.
    """
    norm = np.abs(A).sum(axis=1).max() if A.size else 0.0
    squarings = max(0, int(np.ceil(np.log2(norm / 0.5)))) if norm > 0.5 else 0
    X = A / 2.0**squarings
    result = np.broadcast_to(np.eye(A.shape[-1]), A.shape).copy()
    term = result.copy()
    for k in range(1, 19):
        term = term @ X / k
        result += term
    for _ in range(squarings):
        result = result @ result
    return result


def _nelson_aalen(rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Event times and increments d/Y of one transition's (Tstart, Tstop] rows."""
    stop = rows["Tstop"].to_numpy()
    start = rows["Tstart"].to_numpy()
    times = np.unique(stop[rows["status"].to_numpy() == 1])
    d = np.bincount(
        np.searchsorted(times, stop[rows["status"].to_numpy() == 1]), minlength=times.size
    )
    at_risk = np.searchsorted(np.sort(stop), times, side="left")  # stop < t leave
    at_risk = (stop.size - at_risk) - (start.size - np.searchsorted(np.sort(start), times))
    return times, d / at_risk


def _stacked_hazard(model, k: int, df: pd.DataFrame):
    """Baseline increments of transition k's stratum (its shared-baseline group's) and
    exp(x'b) of transition k: its own terms, shared coefficients and ph(k/first)."""
    fitted = model.transition_models_["stacked"]
    first = next((ks[0] for ks in model.shared_baseline_ if k in ks), k)
    H0 = fitted.baseline_cumulative_hazard_[f"baseline.stratum={first}"]
    dH = np.diff(np.concatenate([[0.0], H0.to_numpy()]))
    cols = [c for c in model.terms_[k]] + [c for c, ks in model.shared_.items() if k in ks]
    check_columns(df, {"df": cols})
    tm = model.transitions_
    position = {s: i + 1 for i, s in enumerate(tm.states)}
    a, b = tm.pairs[k - 1]
    names = [f"{c}_{position[a]}:{position[b]}" for c in model.terms_[k]]
    names += [c for c, ks in model.shared_.items() if k in ks]
    X = np.zeros((len(df), len(cols)))
    for j, c in enumerate(cols):
        X[:, j] = check_finite_numeric(df[c], c, covariate=True)
    lp = X @ model.params_[names].to_numpy()
    if k in model.ph_terms_:
        lp = lp + model.params_[model.ph_terms_[k]]
    return H0.index.to_numpy(), dH, np.exp(lp)


def predict_occupation(
    model,
    df: pd.DataFrame,
    times=None,
    initial_state=None,
    stype: int = 2,
    se: bool = False,
    start_time: float = 0.0,
) -> pd.DataFrame:
    """P(state at t | x) for each row of ``df``: tidy DataFrame row, time, state, pstate
    (and ``std_err`` with ``se=True``; Breslow fits only).

    ``times`` defaults to every distinct follow-up time of the fit from
    ``start_time`` on; values are right-continuous step functions. Every
    patient is in ``initial_state`` (default: the first state) at
    ``start_time`` (default 0): with a later start these are the transition
    probabilities P_h.(s, t | x) (R's ``survfit(fit, newdata, start.time = s,
    p0 = <unit vector of h>)``, ``mstate::probtrans`` from ``predt = s``).
    """
    if not hasattr(model, "params_"):
        raise ValueError("this MultiStateCox is not fitted yet; call fit first.")
    if stype not in (1, 2):
        raise ValueError(f"stype={stype!r}; use 2 (matrix exponential, R's default) or 1.")
    if model.clock != "forward":
        raise ValueError(
            "predict_occupation needs a clock-forward (Markov) model; a clock-reset model's "
            "occupation probabilities are not a product of its hazards."
        )
    stacked = model.method == "stacked"
    tm = model.transitions_
    states = list(tm.states)
    start = states[0] if initial_state is None else initial_state
    if start not in states:
        raise ValueError(f"initial_state={start!r} is not a state ({states}).")
    index = {s: i for i, s in enumerate(states)}
    pieces = []  # (times, increments (len(times), n_rows), from, to)
    n = len(df)
    for k in range(1, tm.n_transitions + 1):
        a, b = tm.pairs[k - 1]
        fitted = model.transition_models_.get(k)
        if stacked:
            t, dH, risk = _stacked_hazard(model, k, df)
            pieces.append((t, dH[:, None] * risk[None, :], index[a], index[b]))
        elif fitted is not None:
            H0 = fitted.baseline_cumulative_hazard_.iloc[:, 0]
            t = H0.index.to_numpy()
            dH = np.diff(np.concatenate([[0.0], H0.to_numpy()]))
            risk = fitted.predict_partial_hazard(df).to_numpy()
            pieces.append((t, dH[:, None] * risk[None, :], index[a], index[b]))
        else:
            t, dH = _nelson_aalen(model.long_[model.long_["trans"] == k])
            pieces.append((t, np.repeat(dH[:, None], n, axis=1), index[a], index[b]))
    all_times = np.unique(np.concatenate([p[0] for p in pieces]))
    start_time = float(start_time)
    if not np.isfinite(start_time) or start_time < 0:
        raise ValueError(f"start_time={start_time!r}; give a finite time >= 0.")
    if times is None:
        grid = model.follow_up_times_[model.follow_up_times_ >= start_time]
    else:
        grid = np.asarray(times, dtype=float).ravel()
    if np.isnan(grid).any() or (grid < 0).any():
        raise ValueError("times must be >= 0 and not missing.")
    if (grid < start_time).any():
        raise ValueError(
            f"times has {int((grid < start_time).sum())} value(s) before start_time="
            f"{start_time:g}; the prediction starts there. Ask for times >= start_time."
        )
    P = np.zeros((n, len(states)))
    P[:, index[start]] = 1.0
    at_time = np.empty((all_times.size, n, len(states)))
    lookup = [np.searchsorted(all_times, p[0]) for p in pieces]
    increments = np.zeros((all_times.size, len(pieces), n))
    for q, (piece, where) in enumerate(zip(pieces, lookup, strict=True)):
        increments[where, q, :] = piece[1]
    n_states = len(states)
    for m in range(all_times.size):
        if all_times[m] <= start_time:  # the patient is known to be in `start` until then
            at_time[m] = P
            continue
        A = np.zeros((n, n_states, n_states))
        for q, (_, _, a, b) in enumerate(pieces):
            A[:, a, b] += increments[m, q]
        if not A.any():
            at_time[m] = P
            continue
        out = A.sum(axis=2)
        if stype == 1:
            A[:, np.arange(n_states), np.arange(n_states)] = np.maximum(0.0, 1.0 - out)
        else:
            A[:, np.arange(n_states), np.arange(n_states)] = -out
            A = _expm(A)
        P = np.einsum("ij,ijk->ik", P, A)
        at_time[m] = P
    idx = np.searchsorted(all_times, grid, side="right") - 1
    values = np.where(
        (idx >= 0)[:, None, None], at_time[np.clip(idx, 0, None)], np.eye(len(states))[index[start]]
    )
    rows = np.repeat(np.asarray(df.index), grid.size * len(states))
    out = pd.DataFrame(
        {
            "row": rows,
            "time": np.tile(np.repeat(grid, len(states)), n),
            "state": np.tile(states, n * grid.size),
            "pstate": values.transpose(1, 0, 2).ravel(),
        }
    )
    if se:
        _, variance = occupation_influence(
            model, df, grid, index[start], stype, _expm, start_time=start_time
        )
        out["std_err"] = np.sqrt(variance.ravel())
    return out
