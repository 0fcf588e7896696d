"""Standard errors of cause-specific Cox absolute risks (delta method).

For a row x, cause k and time t, with h_j(u) = r_j dH0_j(u) (r_j = exp(x'b_j))
the hazard increments of every cause j at the event times u of any cause:

    F_k(t) = sum_{u <= t} S(u-) h_k(u),
    dF_k(t)/dh_j(u) = 1{u <= t} [ 1{j = k} S(u-) - (F_k(t) - F_k(u)) / D(u) ]

with D(u) = 1 - sum_j h_j(u) for the product-limit S and D = 1 for the
exponential form. Each cause's model contributes, as in ``survfit.coxph``
(``survival_prediction``), the variance of its baseline increments
r_j^2 v_j(u) (independent over u) and that of its coefficients through
dh_j(u)/db_j = r_j (x dH0_j(u) - dXbar_j(u)), with v and dXbar the Breslow or
Efron forms of the fit; the causes' estimates are asymptotically independent:

    var F_k(t) = sum_j [ sum_u (dF/dh_j(u))^2 r_j^2 v_j(u) + g_j' V_j g_j ],
    g_j = sum_u dF/dh_j(u) r_j (x dH0_j(u) - dXbar_j(u)).

Writing dF/dh_j(u) = a_j(u) - F_k(t) b(u) (a_j = 1{j=k} S(u-) + F_k(u)/D(u),
b = 1/D(u)) turns every sum into cumulative sums over u, so all times cost one
pass. This is the model-based (Tsiatis-type) variance (``method="delta"``).
``method="influence"`` is the sum of squared influence functions
(``risk_profile_influence``), the exact derivative of the estimate with
respect to each row's weight. ``method="riskRegression"`` is
``predict(CSC, se = TRUE)``: the same sum with riskRegression's conventions,
the derivative of the exponential form (D = 1) also for product-limit
estimates and its tie convention for the coefficients' influence.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..engine.confidence import incidence_limits
from .risk_profile_influence import influence_variance, training_influence
from .survival_prediction import SurvivalBasis

__all__ = ["risk_profile_with_se"]


def _increments(basis: SurvivalBasis, stratum: int, grid: np.ndarray):
    """dH0, v and dXbar of one stratum on ``grid`` (zeros where the cause has no event)."""
    st = basis.strata[stratum]
    p = basis.center.shape[0]
    dH = np.zeros(grid.size)
    dV = np.zeros(grid.size)
    dX = np.zeros((grid.size, p))
    S0 = np.zeros(grid.size)
    if st.time.size:
        pos = np.searchsorted(grid, st.time)
        ok = (pos < grid.size) & (grid[np.minimum(pos, grid.size - 1)] == st.time)
        dH[pos[ok]] = np.diff(st.cumhaz, prepend=0.0)[ok]
        dV[pos[ok]] = np.diff(st.cumvar, prepend=0.0)[ok]
        dX[pos[ok]] = np.diff(st.xbar, axis=0, prepend=np.zeros((1, p)))[ok]
        S0[pos[ok]] = st.s0[ok]
    return dH, dV, dX, S0


def risk_profile_with_se(
    models: dict,
    X_by_cause: dict,
    codes: np.ndarray,
    times: np.ndarray,
    product_limit: bool,
    conf_level: float,
    conf_type: str,
    row_labels,
    method: str = "delta",
) -> dict:
    """cause -> long DataFrame (row, time, risk, std_err, lower, upper).

    ``method="delta"``: the model-based variance above; ``"influence"``: the
    sum of squared influence functions (``risk_profile_influence``);
    ``"riskRegression"``: the same with riskRegression's tie convention.
    """
    if not 0 < conf_level < 1:
        raise ValueError(f"conf_level={conf_level!r} must be between 0 and 1 (e.g. 0.95).")
    if conf_type not in ("log-log", "log", "plain"):
        raise ValueError(f"conf_type={conf_type!r}; use 'log-log', 'log' or 'plain'.")
    if method not in ("delta", "influence", "riskRegression"):
        raise ValueError(f"se_method={method!r}; use 'riskRegression', 'influence' or 'delta'.")
    if method != "delta":
        unsupported = [
            c
            for c, m in models.items()
            if m.ties != "breslow"
            or m._problem.start is not None
            or (m._problem.weights != 1).any()
        ]
        if unsupported:
            raise ValueError(
                f"se_method={method!r} needs Breslow ties, no entry times and no case "
                f"weights (causes {unsupported} differ); refit with ties='breslow' or use "
                "se_method='delta'."
            )
    causes = list(models)
    bases = {}
    for c, m in models.items():
        bases[c] = getattr(m, "_survival_basis", None) or SurvivalBasis.from_problem(
            m._problem, m.params_.to_numpy(), m.ties == "efron"
        )
        m._survival_basis = bases[c]
    infl = None
    if method != "delta":
        convention = "riskRegression" if method == "riskRegression" else "exact"
        infl = {c: training_influence(m, bases[c], convention) for c, m in models.items()}
    n, T = codes.shape[0], times.shape[0]
    results = {c: (np.empty((n, T)), np.empty((n, T))) for c in causes}
    for s in np.unique(codes):
        rows = np.flatnonzero(codes == s)
        grid = np.unique(np.concatenate([bases[c].strata[s].time for c in causes]))
        grid = grid[grid <= times.max()]
        idx = np.searchsorted(grid, times, side="right") - 1  # grid index per time
        parts = {}
        for c in causes:
            b = bases[c]
            dH, dV, dX, S0 = _increments(b, s, grid)
            xc = X_by_cause[c][rows] - b.center
            r = np.exp(xc @ b.beta - b.shift)  # on the basis' shifted scale
            parts[c] = (dH, dV, dX, xc, r, S0)
        h = {c: parts[c][0][:, None] * parts[c][4][None, :] for c in causes}  # (G, rows)
        total = sum(h.values())
        D = 1.0 - total if product_limit else np.ones_like(total)
        if product_limit:
            surv_before = np.cumprod(D, axis=0)
        else:
            surv_before = np.exp(-np.cumsum(total, axis=0))
        surv_before = np.vstack([np.ones((1, len(rows))), surv_before[:-1]])
        with np.errstate(divide="ignore", invalid="ignore"):
            inv_D = np.where(D > 0, 1.0 / D, 0.0)
        if method == "riskRegression":
            # riskRegression differentiates the exponential form even for
            # product-limit estimates (D = 1 in the derivative); so do we
            inv_D = np.ones_like(inv_D)
        for k in causes:
            F = np.cumsum(surv_before * h[k], axis=0)  # (G, rows)
            Ft = np.where(idx[:, None] >= 0, F[np.maximum(idx, 0)], 0.0)  # (T, rows)
            var = np.zeros_like(Ft)
            grid_parts = {}
            for j in causes:
                dH, dV, dX, xc, r, S0 = parts[j]
                a = (surv_before if j == k else 0.0) + F * inv_D
                w = dV[:, None] * r[None, :] ** 2
                c_aa = np.cumsum(w * a * a, axis=0)
                c_ab = np.cumsum(w * a * inv_D, axis=0)
                c_bb = np.cumsum(w * inv_D * inv_D, axis=0)

                def at(cum, idx=idx):
                    # the cumulative sums at each requested time (0 before the grid)
                    mask = (idx >= 0).reshape((-1,) + (1,) * (cum.ndim - 1))
                    return np.where(mask, cum[np.maximum(idx, 0)], 0.0)

                var += at(c_aa) - 2.0 * Ft * at(c_ab) + Ft**2 * at(c_bb)
                # coefficient part: q(u) = r (x dH0(u) - dXbar(u)), (G, rows, p)
                q = r[None, :, None] * (dH[:, None, None] * xc[None, :, :] - dX[:, None, :])
                g1 = at(np.cumsum(a[:, :, None] * q, axis=0))
                g2 = at(np.cumsum(inv_D[:, :, None] * q, axis=0))
                g = g1 - Ft[:, :, None] * g2  # (T, rows, p)
                V = models[j].variance_.to_numpy()
                var += np.einsum("trp,pq,trq->tr", g, V, g)
                grid_parts[j] = (dH, S0, r, a, g)
            if method != "delta":
                ctx = {"grid": grid, "stratum": s, "inv_D": inv_D}
                var = influence_variance(infl, grid_parts, ctx, Ft, idx)
            results[k][0][rows] = Ft.T
            results[k][1][rows] = var.T
    out = {}
    for k in causes:
        F, var = results[k]
        se = np.sqrt(np.maximum(var, 0.0))
        lower, upper = incidence_limits(F, se, conf_level, conf_type)
        out[k] = pd.DataFrame(
            {
                "row": np.repeat(np.asarray(row_labels), T),
                "time": np.tile(times, n),
                "risk": F.ravel(),
                "std_err": se.ravel(),
                "lower": lower.ravel(),
                "upper": upper.ravel(),
            }
        )
    return out
