"""Standard errors of predicted state occupation for new patients (``MultiStateCox``).

R's ``survfit(<multi-state coxph>, newdata)`` gives none: survival 3.5-3's
``survfit.coxphms`` sets ``se.fit <- FALSE`` ("still to do", unchanged in
later versions). survkit gives the infinitesimal-jackknife (IJ) standard
error, the one R's multi-state ``survfit`` reports for the Aalen-Johansen
estimate and riskRegression reports for cause-specific Cox absolute risks:
var p_s(t | x) = Σ_g IF_g(t)², with IF_g the derivative of the estimate with
respect to the case weight of patient g (all of g's rows, as the robust
coefficient variance clusters on the patient).

Per transition k (origin a, target b), the predicted increment at an event
time u is h_k(u) = dΛ_k(u) ρ_k, ρ_k = exp((x - c)'β_k), with Breslow's
dΛ_k(u) = d_k(u) / S0_k(u) (risk scores centred at c). Its influence is

    IF_g(h_k(u)) = ρ_k [ (dN_gk(u) - Y_gk(u) r_g dΛ_k(u)) / S0_k(u)
                         + dΛ_k(u) (x - x̄_k(u))' IF_g(β_k) ]

with IF_g(β_k) the patient's summed dfbeta residuals (score times inverse
information); a transition without covariates has ρ = r = 1 and no β term
(its Nelson-Aalen increments). The occupation p(u) = p(u-) M(u), with
M = I + H (``stype=1``) or expm(H) (``stype=2``) and H the matrix of
increments, gives the forward recursion

    IF_g(p(u)) = IF_g(p(u-)) M(u) + Σ_k IF_g(h_k(u)) p(u-) ∂M/∂h_k,

where ∂M/∂h_k is the unit generator of transition k (stype 1) or the
Fréchet derivative of expm at H in that direction (stype 2, read from the
upper-right block of expm([[H, G_k], [0, H]])). With no covariates at all
this is exactly R's Aalen-Johansen IJ; for one origin and absorbing
targets it is riskRegression's ``predict(CSC, se = TRUE)`` (product limit).
Breslow fits only: Efron's increments have a different derivative.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..data.validation import check_columns, check_finite_numeric

__all__ = ["occupation_influence"]


def _tail_sums(key: np.ndarray, values: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Σ values over rows with key >= at, for each value of ``at``."""
    order = np.argsort(key, kind="stable")
    cum = np.concatenate([np.zeros((1, values.shape[1])), np.cumsum(values[order], axis=0)])
    first = np.searchsorted(key[order], at, side="left")
    return cum[-1] - cum[first]


def _stacked_new_design(model, k: int, df: pd.DataFrame) -> np.ndarray:
    """Rows of ``df`` as transition k in the stacked fit's columns (R's expanded design)."""
    columns = list(model.stacked_design_.columns[:-1])
    out = np.zeros((len(df), len(columns)))
    used = list(model.terms_[k]) + [c for c, ks in model.shared_.items() if k in ks]
    check_columns(df, {"df": used})
    for c in model.terms_[k]:
        out[:, columns.index(f"{c}.{k}")] = check_finite_numeric(df[c], c, covariate=True)
    for c, ks in model.shared_.items():
        if k in ks:
            out[:, columns.index(f"{c}.shared")] = check_finite_numeric(df[c], c, covariate=True)
    if k in model.ph_terms_:
        out[:, columns.index(f"ph.{k}")] = 1.0
    return out


def _stacked_parts(model, k: int, df: pd.DataFrame):
    """Rows, design and coefficients of transition k's stratum in the stacked fit."""
    design = model.stacked_design_
    first = next((ks[0] for ks in model.shared_baseline_ if k in ks), k)
    inside = design["baseline.stratum"].to_numpy() == first
    X = design.iloc[:, :-1].to_numpy(dtype=float)[inside]
    beta = model.transition_models_["stacked"].params_.to_numpy()
    return inside, X, beta, _stacked_new_design(model, k, df)


def _patient_dfbeta(fitted, pid: np.ndarray, n_pat: int) -> np.ndarray:
    """A Cox fit's dfbeta residuals summed by patient: (n_pat, p)."""
    rows = fitted.residuals("dfbeta").to_numpy()
    return np.column_stack(
        [np.bincount(pid, weights=rows[:, j], minlength=n_pat) for j in range(rows.shape[1])]
    )


def _transition_parts(
    model, k: int, df: pd.DataFrame, pid: np.ndarray, n_pat: int, stacked_dfbeta=None
) -> dict:
    long = model.long_
    stacked = model.method == "stacked"
    if stacked:  # the rows of k's stratum: all transitions sharing its baseline
        inside, X, beta, new = _stacked_parts(model, k, df)
        dfbeta = stacked_dfbeta
    else:
        inside = long["trans"].to_numpy() == k
    start = long["Tstart"].to_numpy(dtype=float)[inside]
    stop = long["Tstop"].to_numpy(dtype=float)[inside]
    event = long["status"].to_numpy()[inside] == 1
    who = pid[inside]
    fitted = model.transition_models_.get(k)
    n_new = len(df)
    if stacked:
        centre = X.mean(axis=0)
        X = X - centre
        new = new - centre
        risk = np.exp(X @ beta)
        rho = np.exp(new @ beta)
    elif fitted is not None:
        cols = list(model.terms_[k])
        check_columns(df, {"df": cols})
        X = long.loc[inside, cols].to_numpy(dtype=float)
        beta = fitted.params_.to_numpy()
        centre = X.mean(axis=0)  # centred risk scores: exp() cannot overflow on raw ages
        X = X - centre
        new = (
            np.column_stack([check_finite_numeric(df[c], c, covariate=True) for c in cols]).reshape(
                n_new, len(cols)
            )
            - centre
        )
        risk = np.exp(X @ beta)
        rho = np.exp(new @ beta)
        dfbeta = _patient_dfbeta(fitted, who, n_pat)
    else:
        X = np.zeros((start.size, 0))
        new = np.zeros((n_new, 0))
        risk = np.ones(start.size)
        rho = np.ones(n_new)
        dfbeta = np.zeros((n_pat, 0))
    times, d = np.unique(stop[event], return_counts=True)
    w = np.column_stack([risk, risk[:, None] * X])
    sums = _tail_sums(stop, w, times) - _tail_sums(start, w, times)  # start < u <= stop
    s0 = sums[:, 0]
    d_lambda = d / s0
    return {
        "times": times,
        "d_lambda": d_lambda,
        "s0": s0,
        "xbar": sums[:, 1:] / s0[:, None],
        "rho": rho,
        "new": new,
        "dfbeta": dfbeta,
        "start": start,
        "stop": stop,
        "event": event,
        "who": who,
        "risk": risk,
    }


def _increment_influence(part: dict, m: int, n_pat: int) -> np.ndarray:
    """IF_g(h_k(u_m)) for every patient g and new row: (n_pat, n_new)."""
    u = part["times"][m]
    dl, s0 = part["d_lambda"][m], part["s0"][m]
    at_risk = (part["start"] < u) & (part["stop"] >= u)
    hit = part["event"] & (part["stop"] == u)
    base = np.bincount(part["who"][hit], minlength=n_pat) - dl * np.bincount(
        part["who"][at_risk], weights=part["risk"][at_risk], minlength=n_pat
    )
    out = np.repeat((base / s0)[:, None], part["rho"].size, axis=1)
    if part["dfbeta"].shape[1]:
        out += dl * part["dfbeta"] @ (part["new"] - part["xbar"][m]).T
    return out * part["rho"][None, :]


def _step_matrices(H: np.ndarray, units: list, stype: int, expm):
    """M(u) and p-independent ∂M/∂h_k for each new row: (n, S, S) and [(n, S, S)]."""
    n, S, _ = H.shape
    if stype == 1:
        out = H.sum(axis=2)
        diag = 1.0 - out
        M = H.copy()
        M[:, np.arange(S), np.arange(S)] = np.maximum(0.0, diag)
        derivs = []
        for a, b in units:
            D = np.zeros((n, S, S))
            D[:, a, b] = 1.0
            D[:, a, a] = np.where(diag[:, a] > 0, -1.0, 0.0)  # R clips 1 - Σ at 0
            derivs.append(D)
        return M, derivs
    G = H.copy()
    G[:, np.arange(S), np.arange(S)] = -H.sum(axis=2)
    blocks = np.zeros((n * len(units), 2 * S, 2 * S))
    for q, (a, b) in enumerate(units):
        rows = slice(q * n, (q + 1) * n)
        blocks[rows, :S, :S] = G
        blocks[rows, S:, S:] = G
        blocks[rows, a, S + b] = 1.0
        blocks[rows, a, S + a] = -1.0
    E = expm(blocks)
    M = E[:n, :S, :S]
    return M, [E[q * n : (q + 1) * n, :S, S:] for q in range(len(units))]


def occupation_influence(
    model, df: pd.DataFrame, grid: np.ndarray, start: int, stype: int, expm, start_time=0.0
) -> tuple[np.ndarray, np.ndarray]:
    """(pstate, variance) at ``grid`` for each row of ``df``: both (rows, grid, states).

    The patient is in state ``start`` at ``start_time`` (given, so no influence
    there); steps at or before it are skipped."""
    if model.ties != "breslow" and model.transition_models_:
        raise ValueError(
            f"se=True needs ties='breslow' (the model has ties={model.ties!r}): the standard "
            "errors differentiate Breslow's baseline increments. Refit with ties='breslow'."
        )
    tm = model.transitions_
    index = {s: i for i, s in enumerate(tm.states)}
    n_states = len(tm.states)
    pid, _ = pd.factorize(model.long_["id"])
    n_pat = int(pid.max()) + 1
    stacked_dfbeta = (
        _patient_dfbeta(model.transition_models_["stacked"], pid, n_pat)
        if model.method == "stacked"
        else None
    )
    parts = []
    for k in range(1, tm.n_transitions + 1):
        a, b = tm.pairs[k - 1]
        part = _transition_parts(model, k, df, pid, n_pat, stacked_dfbeta)
        part["pair"] = (index[a], index[b])
        parts.append(part)
    all_times = np.unique(np.concatenate([p["times"] for p in parts]))
    all_times = all_times[all_times <= grid.max(initial=0.0)]  # later steps change nothing
    lookup = [np.searchsorted(all_times, p["times"]) for p in parts]
    active = [[] for _ in all_times]
    for q, where in enumerate(lookup):
        for m, step in enumerate(where):
            if step < all_times.size:  # times past the last one asked are left out
                active[step].append((q, m))
    n_new = len(df)
    P = np.zeros((n_new, n_states))
    P[:, start] = 1.0
    IF = np.zeros((n_new, n_pat, n_states))
    idx = np.searchsorted(all_times, grid, side="right") - 1
    wanted = np.zeros(all_times.size, dtype=bool)
    wanted[idx[idx >= 0]] = True  # Σ IF² only where a grid time reads it
    p_at = np.empty((all_times.size, n_new, n_states))
    var_at = np.zeros((all_times.size, n_new, n_states))
    for step, terms in enumerate(active):
        if all_times[step] <= start_time:
            p_at[step] = P
            continue
        H = np.zeros((n_new, n_states, n_states))
        units = []
        for q, m in terms:
            a, b = parts[q]["pair"]
            H[:, a, b] += parts[q]["d_lambda"][m] * parts[q]["rho"]
            units.append((a, b))
        M, derivs = _step_matrices(H, units, stype, expm)
        new_IF = np.matmul(IF, M)
        for (q, m), D in zip(terms, derivs, strict=True):
            v = np.einsum("ns,nst->nt", P, D)  # p(u-) ∂M/∂h_k
            infl = _increment_influence(parts[q], m, n_pat)  # (n_pat, n_new)
            new_IF += infl.T[:, :, None] * v[:, None, :]
        IF = new_IF
        P = np.einsum("ns,nst->nt", P, M)
        p_at[step] = P
        if wanted[step]:
            var_at[step] = np.einsum("ngs,ngs->ns", IF, IF)
    before = idx < 0
    pstate = p_at[np.maximum(idx, 0)].transpose(1, 0, 2).copy()
    variance = var_at[np.maximum(idx, 0)].transpose(1, 0, 2).copy()
    pstate[:, before] = np.eye(n_states)[start]
    variance[:, before] = 0.0
    return pstate, variance
