"""Influence-function standard errors of cause-specific Cox absolute risks (riskRegression's).

riskRegression's ``predict(CSC(...), se = TRUE)`` estimates var F_k(t | x)
by sum_i IF_i^2, the influence of each training row i on the estimate:

    IF_i = sum_j sum_u dF/dh_j(u) IF_i(h_j(u)),   h_j(u) = r_j dL_j(u),  r_j = exp(x'b_j)
    IF_i(h_j(u)) = r_j [ (dN_ij(u) - Y_i(u) r_ij dL_j(u)) / S0_j(u)
                         + dL_j(u) (x - xbar_j(u))' IF_i(b_j) ]

with IF_i(b_j) = U_ij V_j (the dfbeta residual of row i in cause j's model;
riskRegression's ``iidCox`` uses a compensator with 1/S0 per distinct event
time instead of d/S0, which differs only with tied event times: that is
``tie_convention="riskRegression"``)
and the derivative dF/dh_j(u) = a_j(u) - F_k(t) b(u) of
``risk_profile_variance``. The b_j part is g_j(t)' IF_i(b_j) with g_j the
vector of the delta method; the rest needs, per row, sums over the event
times up to min(T_i, t), read from cumulative sums. Cost O(n_train x rows x
times). Breslow increments, right-censored data without case weights (what
riskRegression's ``iidCox`` covers for these fits).
"""

from __future__ import annotations

import numpy as np

from ..engine.score_residuals import score_residuals

__all__ = ["influence_variance"]


def training_influence(model, basis, tie_convention: str = "exact") -> dict:
    """Per training row (in the fit's sorted order): time, stratum, risk, dfbeta.

    ``tie_convention="exact"``: the dfbeta residuals (score residuals times
    the variance), the derivative of the coefficients. ``"riskRegression"``:
    riskRegression's ``iidCox``, whose compensator adds 1/S0 per distinct
    event time instead of d/S0 (the same without tied events).
    """
    pb = model._problem
    beta = model.params_.to_numpy()
    lp = pb.X @ beta + pb.offset
    risk = np.exp(lp - basis.shift)
    # the influence of the coefficients is the score times the inverse
    # information (the naive variance), also when the fit reports a robust one
    V = model.naive_variance_.to_numpy()
    if tie_convention == "exact":
        score = score_residuals(pb, beta, model.ties == "efron")
    else:
        score = _risk_regression_score(pb, basis, risk)
    return {
        "time": pb.stop,
        "dead": pb.dead.astype(bool),
        "stratum": pb.row_stratum,
        "risk": risk,
        "dfbeta": score @ V,
        "order": pb.order,
    }


def _risk_regression_score(pb, basis, risk) -> np.ndarray:
    """delta_i (x_i - E(T_i)) - r_i sum_{u <= T_i} (x_i - E(u)) / S0(u), u distinct event times."""
    X = pb.X
    score = np.zeros_like(X)
    for s, st in enumerate(basis.strata):
        lo, hi = pb.strat_rptr[s], pb.strat_rptr[s + 1]
        if st.time.size == 0:
            continue
        dH = np.diff(st.cumhaz, prepend=0.0)
        E = np.diff(st.xbar, axis=0, prepend=np.zeros((1, X.shape[1]))) / dH[:, None]
        A = np.cumsum(1.0 / st.s0)
        B = np.cumsum(E / st.s0[:, None], axis=0)
        t, x, r = pb.stop[lo:hi], X[lo:hi], risk[lo:hi]
        k = np.searchsorted(st.time, t, side="right") - 1
        seen = k >= 0
        kk = np.maximum(k, 0)
        comp = np.where(seen[:, None], x * A[kk][:, None] - B[kk], 0.0)
        dead = pb.dead[lo:hi].astype(bool)
        score[lo:hi] = np.where(dead[:, None], x - E[kk], 0.0) - r[:, None] * comp
    return score


def influence_variance(
    infl: dict, grid_parts: dict, rows_ctx: dict, Ft: np.ndarray, idx: np.ndarray
) -> np.ndarray:
    """sum_i IF_i(t)^2 for the rows of one stratum: (times, rows).

    ``grid_parts[j]`` = (dH, S0, r, a_fn, g) per cause j on the stratum's grid:
    dH (G,), S0 (G,), r (rows,) new-row risks, a (G, rows) for the cause k
    derivative, g (T, rows, p) the coefficient gradient. ``rows_ctx`` holds
    ``inv_D`` (G, rows), the stratum code and the grid.
    """
    grid = rows_ctx["grid"]
    s = rows_ctx["stratum"]
    inv_D = rows_ctx["inv_D"]
    T, n_rows = Ft.shape
    first = next(iter(infl))
    n_train = infl[first]["time"].shape[0]
    prepared = []
    for j, (dH, S0, r, a, g) in grid_parts.items():
        info = infl[j]
        # training rows are matched across the causes' fits through their original index
        back = np.empty(n_train, dtype=np.int64)
        back[info["order"]] = np.arange(n_train)  # original row -> sorted row of cause j
        sel = back[infl[first]["order"]]  # cause j's rows in the first cause's order
        t_i = info["time"][sel]
        in_s = info["stratum"][sel] == s
        pos = np.searchsorted(grid, t_i, side="right") - 1  # last grid time <= T_i
        # an event counts only at its own time (the grid stops at the last requested time)
        on_grid = (pos >= 0) & (grid[np.maximum(pos, 0)] == t_i)
        with np.errstate(divide="ignore", invalid="ignore"):
            unit = np.where(S0 > 0, dH / S0, 0.0)  # dL / S0 on the shifted scale
            inv_S0 = np.where(S0 > 0, 1.0 / S0, 0.0)
        prepared.append(
            {
                "pos": pos,
                "in_s": in_s,
                "event": info["dead"][sel] & in_s & on_grid,
                "risk": info["risk"][sel],
                "dfbeta": info["dfbeta"][sel],
                "KA": np.cumsum(a * unit[:, None], axis=0),  # (G, rows)
                "KB": np.cumsum(inv_D * unit[:, None], axis=0),
                "a": a,
                "inv_S0": inv_S0,
                "r": r,
                "g": g,
            }
        )
    var = np.zeros((T, n_rows))
    # new rows in chunks so that the (training rows x chunk) block stays small
    chunk = max(1, int(4_000_000 // max(n_train, 1)))
    for c0 in range(0, n_rows, chunk):
        cols = slice(c0, min(c0 + chunk, n_rows))
        for ti in range(T):
            it = idx[ti]
            f_t = Ft[ti, cols][None, :]
            IF = np.zeros((n_train, cols.stop - cols.start))
            for q in prepared:
                IF += q["dfbeta"] @ q["g"][ti, cols].T
                if it < 0:
                    continue
                m = np.minimum(q["pos"], it)
                mm = np.maximum(m, 0)
                ok = q["in_s"] & (m >= 0)
                y_term = np.where(
                    ok[:, None],
                    q["risk"][:, None] * (q["KA"][mm, cols] - f_t * q["KB"][mm, cols]),
                    0.0,
                )
                ev = q["event"] & (q["pos"] <= it)
                pe = np.maximum(q["pos"], 0)
                e_term = np.where(
                    ev[:, None],
                    (q["a"][pe, cols] - f_t * inv_D[pe, cols]) * q["inv_S0"][pe][:, None],
                    0.0,
                )
                IF += q["r"][None, cols] * (e_term - y_term)
            var[ti, cols] = np.einsum("ir,ir->r", IF, IF)
    return var
