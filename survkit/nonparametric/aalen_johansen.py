"""Aalen-Johansen cumulative incidence with cmprsk's variance: ``aalen_johansen``.

For each group and cause, at each distinct time u (ties exact, no jitter):
S(u) = S(u-) (Y - d)/Y and F_c(u) = F_c(u-) + S(u-) d_c/Y, where Y counts rows
with time >= u (a censoring at u is still at risk at u) and d sums every
cause. The variance is the delta-method ("Aalen 1978") estimate that
``cmprsk::cuminc`` reports, with its correction for tied events,
kappa(d, Y) = (Y - d)/(Y - 1) for d > 1; it is updated where F_c jumps. One
pass over the sorted rows keeps three running sums per cause, so the whole
estimate is O(n K) after the sort.

Confidence limits are pointwise, on the log(-log) scale (Choudhury 2002), so
they stay inside [0, 1]: F^exp(+-z se / (F log F)). ``conf_type="log"`` and
``"plain"`` are available too.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numba import njit

from ..data.competing_data import read_competing_data
from ..engine.confidence import incidence_limits

__all__ = ["aalen_johansen"]

_CONF_TYPES = ("log-log", "log", "plain")


@njit(cache=True)
def _aj_scan(time, cause_index, group, n_causes):
    """Per distinct (group, time): time, group, Y, d per cause, F per cause, var per cause."""
    n = time.shape[0]
    out_t = np.empty(n)
    out_g = np.empty(n, dtype=np.int64)
    out_y = np.empty(n)
    out_d = np.zeros((n, n_causes))
    out_f = np.empty((n, n_causes))
    out_v = np.empty((n, n_causes))
    d = np.zeros(n_causes)
    F = np.zeros(n_causes)
    V = np.zeros(n_causes)
    v1 = np.zeros(n_causes)
    v2 = np.zeros(n_causes)
    v3 = np.zeros(n_causes)
    m = 0
    i = 0
    while i < n:
        g = group[i]
        # start of a group: everyone at risk
        j = i
        while j < n and group[j] == g:
            j += 1
        Y = float(j - i)
        S = 1.0
        for k in range(n_causes):
            F[k] = 0.0
            V[k] = 0.0
            v1[k] = 0.0
            v2[k] = 0.0
            v3[k] = 0.0
        while i < j:
            t = time[i]
            for k in range(n_causes):
                d[k] = 0.0
            n_cens = 0.0
            while i < j and time[i] == t:
                c = cause_index[i]
                if c == 0:
                    n_cens += 1.0
                else:
                    d[c - 1] += 1.0
                i += 1
            d_all = 0.0
            for k in range(n_causes):
                d_all += d[k]
            S_minus = S
            S = S_minus * (Y - d_all) / Y
            inv_s = 1.0 / S if S > 0 else 0.0
            for k in range(n_causes):
                F[k] += S_minus * d[k] / Y
            for k in range(n_causes):
                dk = d[k]
                if dk > 0:
                    kappa = (Y - dk) / (Y - 1.0) if dk > 1 else 1.0
                    a = S_minus * S_minus * dk * kappa / (Y * Y)
                    r = 1.0 + F[k] * inv_s
                    v1[k] += a * r * r
                    v2[k] += a * inv_s * r
                    v3[k] += a * inv_s * inv_s
                do = d_all - dk
                if do > 0 and S > 0:
                    kappa = (Y - do) / (Y - 1.0) if do > 1 else 1.0
                    b = S_minus * S_minus * do * kappa / (Y * Y)
                    r = F[k] * inv_s
                    v1[k] += b * r * r
                    v2[k] += b * inv_s * r
                    v3[k] += b * inv_s * inv_s
                if dk > 0:  # cmprsk records the variance where F jumps
                    V[k] = v1[k] + F[k] * F[k] * v3[k] - 2.0 * F[k] * v2[k]
            out_t[m] = t
            out_g[m] = g
            out_y[m] = Y
            for k in range(n_causes):
                out_d[m, k] = d[k]
                out_f[m, k] = F[k]
                out_v[m, k] = V[k]
            m += 1
            Y -= d_all + n_cens
    return out_t[:m], out_g[:m], out_y[:m], out_d[:m], out_f[:m], out_v[:m]


def confidence_limits(
    cif: np.ndarray, variance: np.ndarray, conf_level: float, conf_type: str
) -> tuple[np.ndarray, np.ndarray]:
    return incidence_limits(cif, np.sqrt(np.maximum(variance, 0.0)), conf_level, conf_type)


def aalen_johansen(
    df: pd.DataFrame,
    duration_col: str,
    event_col: str,
    group_col: str | None = None,
    censor_value: object = 0,
    conf_level: float = 0.95,
    cause: object = None,
    times=None,
    conf_type: str = "log-log",
) -> pd.DataFrame:
    """Cumulative incidence of every cause (or ``cause``), per group.

    Returns a tidy DataFrame with columns ``group`` (only when ``group_col`` is
    given), ``cause``, ``time``, ``cif``, ``variance``, ``lower``, ``upper``.
    Without ``times`` the rows are the knots of each step function: time 0,
    every time the cause's incidence jumps (value after the jump), and the
    group's last follow-up time. With ``times`` the rows are those times in
    the given order, per group and cause: right-continuous values, NaN after
    the group's last follow-up time (no extrapolation; as ``cmprsk::timepoints``).

    ``variance`` is cmprsk's; ``lower``/``upper`` are pointwise limits at
    ``conf_level`` on the ``conf_type`` scale ("log-log" keeps them in [0, 1]).
    """
    if not 0 < conf_level < 1:
        raise ValueError(f"conf_level={conf_level!r} must be between 0 and 1.")
    if conf_type not in _CONF_TYPES:
        raise ValueError(f"conf_type={conf_type!r}; use one of {', '.join(_CONF_TYPES)}.")
    data = read_competing_data(df, duration_col, event_col, censor_value, group_col)
    labels = list(data.labels)
    causes = range(len(labels))
    if cause is not None:
        from ..data.validation import _normalise_code

        code = _normalise_code(cause, event_col, "cause")
        if code not in labels:
            raise ValueError(
                f"cause={code!r} never occurs in column {event_col!r} (event codes present: "
                f"{', '.join(repr(v) for v in labels)}); pass one of them."
            )
        causes = [labels.index(code)]
    t, g, _, d, F, V = _aj_scan(data.time, data.cause_index, data.group, len(labels))
    bounds = np.searchsorted(g, np.arange(len(data.group_labels) + 1))
    if times is not None:
        times = np.asarray(times, dtype=float).ravel()
        if np.isnan(times).any() or (times < 0).any():
            raise ValueError("times must be >= 0 and not missing.")
    pieces = []
    for gi, label in enumerate(data.group_labels):
        lo, hi = bounds[gi], bounds[gi + 1]
        tg = t[lo:hi]
        for k in causes:
            if times is None:
                jumps = np.flatnonzero(d[lo:hi, k] > 0)
                rows_t = np.concatenate([[0.0], tg[jumps], [tg[-1]]])
                rows_f = np.concatenate([[0.0], F[lo:hi, k][jumps], [F[hi - 1, k]]])
                rows_v = np.concatenate([[0.0], V[lo:hi, k][jumps], [V[hi - 1, k]]])
                if jumps.size and tg[jumps[-1]] == tg[-1]:  # last knot already there
                    rows_t, rows_f, rows_v = rows_t[:-1], rows_f[:-1], rows_v[:-1]
            else:
                idx = np.searchsorted(tg, times, side="right") - 1
                safe = np.clip(idx, 0, None)
                rows_f = np.where(idx >= 0, F[lo:hi, k][safe], 0.0)
                rows_v = np.where(idx >= 0, V[lo:hi, k][safe], 0.0)
                beyond = times > tg[-1]
                rows_f = np.where(beyond, np.nan, rows_f)
                rows_v = np.where(beyond, np.nan, rows_v)
                rows_t = times
            piece = {
                "cause": [labels[k]] * len(rows_t),
                "time": rows_t,
                "cif": rows_f,
                "variance": rows_v,
            }
            if group_col is not None:
                piece = {"group": [label] * len(rows_t), **piece}
            pieces.append(pd.DataFrame(piece))
    out = pd.concat(pieces, ignore_index=True)
    lower, upper = confidence_limits(
        out["cif"].to_numpy(), out["variance"].to_numpy(), conf_level, conf_type
    )
    out["lower"] = lower
    out["upper"] = upper
    return out
