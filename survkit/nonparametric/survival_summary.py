"""Quantiles (median) with confidence limits and restricted mean survival time.

Both read the table ``kaplan_meier`` returns (its full curve, not ``times=``).

``survival_quantiles`` follows R's ``quantile.survfit``: the p-quantile is
the first time the curve drops to 1 - p or below; where the curve sits
exactly at 1 - p (within sqrt(machine eps)) over an interval, the midpoint of
that interval. The limits are the same rule applied to the lower and upper
confidence curves (Brookmeyer-Crowley by inversion of the pointwise band).
NaN when the curve never gets that low.

``restricted_mean_survival`` follows R's ``print(fit, rmean = tau)``: the
area under the curve from 0 to tau, with the standard error
sqrt(sum_j A_j^2 d_j/(n_j(n_j - d_j))), A_j the area from t_j to tau.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..data.validation import check_columns, check_dataframe

__all__ = ["restricted_mean_survival", "survival_quantiles"]

_TOL = np.sqrt(np.finfo(float).eps)


def _curves(km: pd.DataFrame, needed: list[str]):
    check_dataframe(km, "km")
    check_columns(km, {"km": needed})
    if "group" in km.columns:
        yield from km.groupby("group", sort=False)
    else:
        yield None, km


def _findq(x: np.ndarray, y: np.ndarray, p: np.ndarray) -> np.ndarray:
    """First x at which the nondecreasing y reaches p (midpoint of a flat stretch at p)."""
    keep = ~np.isnan(y)
    xmax = x[-1]
    if not keep.any() or y[keep].max() < p.min():
        return np.full(p.shape, np.nan)
    # R drops repeated y values (keeping the first), then NA ones
    _, first = np.unique(y, return_index=True)
    dedup = np.zeros(y.shape, dtype=bool)
    dedup[first] = True
    dedup &= keep
    idx_all = np.flatnonzero(dedup)
    xs, ys = x[idx_all], y[idx_all]
    out = np.full(p.shape, np.nan)
    for j, pj in enumerate(p):
        if pj == 0:
            out[j] = xs[0]
            continue
        i1 = np.flatnonzero(ys + _TOL >= pj)
        i2 = np.flatnonzero(ys - _TOL >= pj)
        if i1.size == 0:
            continue
        a = xs[i1[0]]
        if abs(pj - ys[-1]) < _TOL:  # flat at p until the end of follow-up
            out[j] = (a + xmax) / 2
        elif i2.size:
            out[j] = (a + xs[i2[0]]) / 2
    return out


def survival_quantiles(km: pd.DataFrame, probs=(0.25, 0.5, 0.75)) -> pd.DataFrame:
    """Quantiles of the event time with their confidence limits, per group.

    ``km`` is ``kaplan_meier(...)``'s table. Returns columns ``group`` (when
    ``km`` has one), ``prob``, ``quantile``, ``lower``, ``upper``: R's
    ``quantile.survfit`` (prob 0.5 is the median of ``print.survfit``).
    """
    probs = np.asarray(probs, dtype=float).ravel()
    if probs.size == 0 or np.isnan(probs).any() or (probs < 0).any() or (probs > 1).any():
        raise ValueError("probs must be probabilities in [0, 1], e.g. (0.25, 0.5, 0.75).")
    rows = []
    for label, c in _curves(km, ["time", "survival", "lower", "upper"]):
        x = np.concatenate(([0.0], c["time"].to_numpy(dtype=float)))
        q = {}
        for name, col in (("quantile", "survival"), ("lower", "lower"), ("upper", "upper")):
            y = np.concatenate(([0.0], 1.0 - c[col].to_numpy(dtype=float)))
            q[name] = _findq(x, y, probs)
        piece = pd.DataFrame({"prob": probs, **q})
        # the lower survival curve reaches 1 - p first: it gives the lower limit
        piece = piece[["prob", "quantile", "lower", "upper"]]
        if label is not None:
            piece.insert(0, "group", label)
        rows.append(piece)
    return pd.concat(rows, ignore_index=True)


def restricted_mean_survival(km: pd.DataFrame, tau: float | None = None) -> pd.DataFrame:
    """Restricted mean survival time up to ``tau`` with its standard error, per group.

    ``km`` is ``kaplan_meier(...)``'s table. ``tau=None`` uses the largest
    time of any group (R's ``rmean = "common"``, also its single-curve
    default). Returns ``group`` (if any), ``tau``, ``rmst``, ``std_err``.
    """
    check_dataframe(km, "km")
    if tau is None:
        check_columns(km, {"km": ["time"]})
        tau = float(km["time"].max())
    tau = float(tau)
    if not np.isfinite(tau) or tau < 0:
        raise ValueError(f"tau={tau!r} must be a finite time >= 0.")
    rows = []
    for label, c in _curves(km, ["time", "survival", "n_risk", "n_event"]):
        t = c["time"].to_numpy(dtype=float)
        s = c["survival"].to_numpy(dtype=float)
        n = c["n_risk"].to_numpy(dtype=float)
        d = c["n_event"].to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            hh = np.where(n - d == 0, 0.0, d / (n * (n - d)))
        keep = t <= tau
        tt = np.concatenate((t[keep], [tau]))
        ss = np.concatenate((s[keep], s[keep][-1:] if keep.any() else [1.0]))
        hh = np.concatenate((hh[keep], [0.0]))
        rect = np.diff(np.concatenate(([0.0], tt))) * np.concatenate(([1.0], ss[:-1]))
        # area after each time: reverse cumulative sums of the later rectangles
        after = np.cumsum(rect[1:][::-1])
        var = float(np.sum(after**2 * hh[::-1][1:]))
        row = {"tau": tau, "rmst": float(rect.sum()), "std_err": np.sqrt(var)}
        if label is not None:
            row = {"group": label, **row}
        rows.append(row)
    return pd.DataFrame(rows)
