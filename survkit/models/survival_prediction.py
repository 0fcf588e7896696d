"""Predicted survival of a Cox fit with standard errors, as R's ``survfit(coxph, newdata)``.

For a new row x (centred as in the fit) in stratum s, with risk r = exp(x'b):

    H(t | x)  = r * sum_{u <= t} dH0(u)
    var H     = r^2 * [ sum_{u <= t} v(u) + q(t)' V q(t) ],  q(t) = x H0(t) - Xbar(t)

where, at each event time u of the stratum (S0 = sum w e^{x'b}, S1 = sum w
e^{x'b} x over the risk set, d the weighted events, m the event rows,
D0/D1 the same sums over the m tied event rows):

- Breslow: dH0 = d/S0, v = d/S0^2, dXbar = (S1/S0) dH0;
- Efron: dH0 = d/m sum_k 1/(S0 - k/m D0), v = d/m sum_k 1/(S0 - k/m D0)^2,
  dXbar = d/m sum_k (S1 - k/m D1)/(S0 - k/m D0)^2, k = 0..m-1

(R's ``agsurv`` with ``survtype = vartype = ctype + 1``) and V the model's
variance (robust when the fit is). The risk sets of (start, stop] fits are the
rows with start < u <= stop. S(t | x) = exp(-H); ``std_err`` is the standard
error of S (``summary.survfit``'s), ``std_err_cumhaz`` that of H (R's
``fit$std.err``); limits as ``survfit_confint`` with ``logse = TRUE``.

The sums are recomputed here from the fit's sorted, centred arrays (the
``RiskSetProblem``) in O(n p) per stratum; new rows then cost O(p^2) each
plus O(times) for the evaluation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["SurvivalBasis", "predict_survival_table"]

_CONF_TYPES = ("log", "log-log", "plain")


@dataclass
class _StratumSums:
    time: np.ndarray  # distinct event times, ascending
    cumhaz: np.ndarray  # H0 on the shifted risk scale
    cumvar: np.ndarray
    xbar: np.ndarray  # (len(time), p), cumulative
    s0: np.ndarray  # risk-set sum of w e^{x'b} at each time (shifted scale)


@dataclass
class SurvivalBasis:
    """Per-stratum cumulative sums of one Cox fit (risk scale shifted by ``shift``)."""

    strata: list[_StratumSums]
    shift: float
    center: np.ndarray
    beta: np.ndarray

    @classmethod
    def from_problem(cls, problem, beta: np.ndarray, efron: bool) -> SurvivalBasis:
        lp = problem.X @ beta + problem.offset
        shift = float(lp.max()) if lp.size else 0.0
        risk = np.exp(lp - shift)
        sums = []
        for s in range(problem.n_strata):
            lo, hi = problem.strat_rptr[s], problem.strat_rptr[s + 1]
            start = None if problem.start is None else problem.start[lo:hi]
            sums.append(
                _stratum_sums(
                    problem.stop[lo:hi],
                    start,
                    problem.dead[lo:hi].astype(bool),
                    problem.weights[lo:hi],
                    risk[lo:hi],
                    problem.X[lo:hi],
                    efron,
                )
            )
        return cls(sums, shift, problem.center.copy(), np.asarray(beta, dtype=float))


def _risk_set_sums(stop, start, values, at):
    """Sum of ``values`` rows over {start < u <= stop} for each u in ``at``."""
    o = np.argsort(stop, kind="stable")
    cum = np.vstack([np.zeros((1, values.shape[1])), np.cumsum(values[o], axis=0)])
    out = cum[-1] - cum[np.searchsorted(stop[o], at, side="left")]
    if start is not None:
        e = np.argsort(start, kind="stable")
        cum_e = np.vstack([np.zeros((1, values.shape[1])), np.cumsum(values[e], axis=0)])
        out -= cum_e[-1] - cum_e[np.searchsorted(start[e], at, side="left")]
    return out


def _stratum_sums(stop, start, dead, w, risk, X, efron) -> _StratumSums:
    p = X.shape[1]
    u = np.unique(stop[dead])
    if u.size == 0:
        return _StratumSums(np.zeros(0), np.zeros(0), np.zeros(0), np.zeros((0, p)), np.zeros(0))
    wr = w * risk
    both = _risk_set_sums(stop, start, np.column_stack([wr, wr[:, None] * X]), u)
    S0, S1 = both[:, 0], both[:, 1:]
    ev = np.flatnonzero(dead)
    k_time = np.searchsorted(u, stop[ev])
    d = np.bincount(k_time, weights=w[ev], minlength=u.size)
    if not efron:
        haz = d / S0
        var = d / S0**2
        xbar = S1 * (haz / S0)[:, None]
    else:
        m = np.bincount(k_time, minlength=u.size)
        D0 = np.bincount(k_time, weights=wr[ev], minlength=u.size)
        D1 = np.column_stack(
            [np.bincount(k_time, weights=wr[ev] * X[ev, j], minlength=u.size) for j in range(p)]
        ).reshape(u.size, p)
        # k = 0..m-1 within each tied time: one term per event row
        order = np.argsort(k_time, kind="stable")
        kt = k_time[order]
        first = np.searchsorted(kt, np.arange(u.size))
        k_idx = np.arange(kt.size) - first[kt]
        frac = k_idx / m[kt]
        den = S0[kt] - frac * D0[kt]
        scale = d[kt] / m[kt]
        haz = np.bincount(kt, weights=scale / den, minlength=u.size)
        var = np.bincount(kt, weights=scale / den**2, minlength=u.size)
        num = S1[kt] - frac[:, None] * D1[kt]
        wx = num * (scale / den**2)[:, None]
        xbar = np.column_stack(
            [np.bincount(kt, weights=wx[:, j], minlength=u.size) for j in range(p)]
        ).reshape(u.size, p)
    return _StratumSums(u, np.cumsum(haz), np.cumsum(var), np.cumsum(xbar, axis=0), S0)


def _confint(surv, se_log, conf_level, conf_type):
    z = stats.norm.ppf(1 - (1 - conf_level) / 2)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if conf_type == "plain":
            se = se_log * surv
            return np.maximum(surv - z * se, 0.0), np.minimum(surv + z * se, 1.0)
        if conf_type == "log":
            xx = np.where(surv == 0, np.nan, surv)
            return np.exp(np.log(xx) - z * se_log), np.minimum(np.exp(np.log(xx) + z * se_log), 1)
        xx = np.where((surv == 0) | (surv == 1), np.nan, surv)
        se2 = z * se_log / np.log(xx)
        return (
            np.exp(-np.exp(np.log(-np.log(xx)) - se2)),
            np.exp(-np.exp(np.log(-np.log(xx)) + se2)),
        )


def predict_survival_table(
    basis: SurvivalBasis,
    X_new: np.ndarray,
    offset_new: np.ndarray,
    codes: np.ndarray,
    times: np.ndarray,
    variance: np.ndarray,
    conf_level: float,
    conf_type: str,
    row_labels,
) -> pd.DataFrame:
    """Long table: row, time, survival, std_err, std_err_cumhaz, lower, upper."""
    if not 0 < conf_level < 1:
        raise ValueError(f"conf_level={conf_level!r} must be between 0 and 1 (e.g. 0.95).")
    if conf_type not in _CONF_TYPES:
        raise ValueError(f"conf_type={conf_type!r}; use one of {', '.join(_CONF_TYPES)}.")
    xc = X_new - basis.center
    log_risk = xc @ basis.beta + offset_new - basis.shift
    n, T = xc.shape[0], times.shape[0]
    H = np.empty((n, T))
    varH = np.empty((n, T))
    for s in np.unique(codes):
        rows = np.flatnonzero(codes == s)
        st = basis.strata[s]
        idx = np.searchsorted(st.time, times, side="right") - 1
        ok = idx >= 0
        safe = np.clip(idx, 0, None)
        H0 = np.where(ok, st.cumhaz[safe] if st.time.size else 0.0, 0.0)
        V0 = np.where(ok, st.cumvar[safe] if st.time.size else 0.0, 0.0)
        XB = np.where(ok[:, None], st.xbar[safe] if st.time.size else 0.0, 0.0)  # (T, p)
        x = xc[rows]
        # q' V q with q = x H0 - Xbar, expanded so no (rows, T, p) array is formed
        xv = x @ variance
        quad = (
            np.einsum("ij,ij->i", xv, x)[:, None] * H0[None, :] ** 2
            - 2.0 * (xv @ XB.T) * H0[None, :]
            + np.einsum("tj,tj->t", XB @ variance, XB)[None, :]
        )
        r = np.exp(log_risk[rows])[:, None]
        H[rows] = r * H0[None, :]
        varH[rows] = r**2 * (V0[None, :] + quad)
    surv = np.exp(-H)
    se_log = np.sqrt(np.maximum(varH, 0.0))
    lower, upper = _confint(surv, se_log, conf_level, conf_type)
    return pd.DataFrame(
        {
            "row": np.repeat(np.asarray(row_labels), T),
            "time": np.tile(times, n),
            "survival": surv.ravel(),
            "std_err": (se_log * surv).ravel(),
            "std_err_cumhaz": se_log.ravel(),
            "lower": lower.ravel(),
            "upper": upper.ravel(),
        }
    )


def predict_survival_with_se(model, df: pd.DataFrame, times, conf_level, conf_type) -> pd.DataFrame:
    """``CoxPH.predict_survival(df, times, conf_level=...)``: the long table above."""
    model._check_fitted()
    times = np.asarray(times, dtype=float).ravel()
    codes = model.baseline_.strata_codes_for(df, model.strata_cols_)
    times = model.baseline_.check_times(times, codes)
    X = model.design_.matrix(df)
    offset = np.zeros(len(df))
    if model.offset_col_ is not None:
        from ..data.validation import check_columns, check_finite_numeric

        check_columns(df, {"offset_col": [model.offset_col_]})
        offset = check_finite_numeric(df[model.offset_col_], model.offset_col_)
    basis = getattr(model, "_survival_basis", None)
    if basis is None:  # built on first use, then kept with the fit
        basis = SurvivalBasis.from_problem(
            model._problem, model.params_.to_numpy(), model.ties == "efron"
        )
        model._survival_basis = basis
    return predict_survival_table(
        basis,
        X,
        offset,
        codes,
        times,
        model.variance_.to_numpy(),
        conf_level,
        conf_type,
        df.index,
    )
