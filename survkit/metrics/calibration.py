"""Calibration of predicted absolute risks at a horizon: observed against predicted.

Risk groups (``riskRegression::plotCalibration(method = "quantile",
cens.method = "local")``): subjects are cut at the quantiles of the predicted
risk (R's ``quantile`` type 7 and ``cut(include.lowest = TRUE)``); per group the
mean prediction is set against the Kaplan-Meier / Aalen-Johansen risk observed
in that group.

Smoothed curve: ``method="nne"`` is ``plotCalibration``'s default (nearest
neighbours in rank with a local Aalen-Johansen estimate; ``calibration_nne``),
equal to R. ``method="kernel"`` (the default, survkit's own): subjects whose
status at the horizon is known -- an event of interest or a competing event by
t, or event-free at t -- are weighted by their inverse probability of
censoring (1/G(T_i-) or 1/G(t); censored before t: 0), so weighted averages of
the case indicator are unbiased for the risk, and the curve is a
Gaussian-kernel (Nadaraya-Watson) average of the weighted case indicator over
the predicted risk (or its logit). The calibration intercept and slope come
from the weighted logistic regression logit P(case) = a + b logit(risk), so a
well calibrated model has a = 0 and b = 1 (no R counterpart).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..engine.ipcw import CensoringKM
from .calibration_nne import nne_curve
from .inputs import EventData, read_inputs, read_risk, read_times
from .null_model import marginal_risk

__all__ = ["CalibrationResult", "calibration", "calibration_coefficients"]


@dataclass(frozen=True)
class CalibrationResult:
    """``groups``: group, n, predicted (mean), observed (KM/AJ); ``curve``: predicted,
    observed (smoothed); ``intercept``, ``slope`` (weighted logistic recalibration),
    ``observed_expected`` (marginal observed risk / mean prediction); ``time``, ``cause``;
    ``method`` and ``bandwidth`` of the curve (for "nne" a fraction of n)."""

    groups: pd.DataFrame
    curve: pd.DataFrame
    intercept: float
    slope: float
    observed_expected: float
    time: float
    cause: object
    method: str = "kernel"
    bandwidth: float | None = None


def calibration(
    y,
    risk,
    time: float,
    cause: object = None,
    censor_value: object = 0,
    n_groups: int = 10,
    bandwidth: float | None = None,
    n_points: int = 50,
    scale: str = "risk",
    method: str = "kernel",
) -> CalibrationResult:
    """Calibration of ``risk`` (predicted absolute risk of ``cause`` by ``time``).

    ``method="nne"``: the curve of ``riskRegression::plotCalibration``'s defaults
    (``method = "nne"``, ``cens.method = "local"``, ``round = TRUE``), one point
    per distinct prediction rounded to 2 decimals; ``bandwidth`` is then R's
    (the neighbourhood half-width as a fraction of n; default KernSmooth's
    ``dpik`` rule) and ``n_points`` and ``scale`` do not apply.

    ``bandwidth`` of the smoothed curve on the risk scale (default: Silverman's
    rule, 0.9 min(sd, IQR/1.34) n^(-1/5), computed on the predictions).
    ``scale="logit"`` smooths on the logit of the predictions instead (bandwidth
    on that scale): with a rare event the predictions are skewed and sparse at
    high risk, where a kernel of constant width on the risk scale averages a
    handful of patients and the curve zigzags; on the logit scale it widens there.
    Its default bandwidth is Silverman's rule on the logits with n the number of
    events of ``cause`` by ``time`` (the curve's information is in the events,
    not in the n subjects).
    """
    if scale not in ("risk", "logit"):
        raise ValueError(f"scale={scale!r} must be 'risk' or 'logit'.")
    if method not in ("kernel", "nne"):
        raise ValueError(f"method={method!r} must be 'kernel' or 'nne' (plotCalibration's).")
    out = read_inputs(y, cause, censor_value)
    t = read_times([time], out, "time")
    p = read_risk(risk, out.n, t)[:, 0]
    if np.any((p < 0) | (p > 1)):
        raise ValueError(
            f"risk has {int(((p < 0) | (p > 1)).sum())} value(s) outside [0, 1]; calibration "
            "compares predicted absolute risks (probabilities)."
        )
    if int(n_groups) != n_groups or n_groups < 1:
        raise ValueError(f"n_groups={n_groups!r} must be a positive integer.")
    h = float(t[0])
    groups = _risk_groups(out, p, h, int(n_groups))
    case, weight = _known_status_weights(out, h)
    if method == "nne":
        curve, used = nne_curve(out, p, h, bandwidth)
    else:
        curve, used = _smoothed_curve(p, case, weight, bandwidth, n_points, scale)
    intercept, slope = _logistic_recalibration(p, case, weight)
    observed = float(marginal_risk(out, t)[0])
    ratio = observed / float(p.mean())
    return CalibrationResult(
        groups, curve, intercept, slope, ratio, h, out.cause_label, method, float(used)
    )


def calibration_coefficients(
    y, risk, time: float, cause: object = None, censor_value: object = 0
) -> tuple[float, float]:
    """(intercept, slope) of ``calibration``'s weighted logistic recalibration alone,
    without the risk groups and the curve (for simulation studies, which need only these)."""
    out = read_inputs(y, cause, censor_value)
    t = read_times([time], out, "time")
    p = read_risk(risk, out.n, t)[:, 0]
    n_bad = int(((p < 0) | (p > 1)).sum())
    if n_bad:
        raise ValueError(
            f"risk has {n_bad} value(s) outside [0, 1]; calibration compares predicted "
            "absolute risks (probabilities)."
        )
    case, weight = _known_status_weights(out, float(t[0]))
    return _logistic_recalibration(p, case, weight)


def _risk_groups(out: EventData, p: np.ndarray, h: float, q: int) -> pd.DataFrame:
    breaks = np.unique(np.quantile(p, np.linspace(0, 1, q + 1)))
    group = np.clip(np.searchsorted(breaks, p, side="left"), 1, max(breaks.size - 1, 1)) - 1
    rows = []
    for g in range(int(group.max()) + 1):
        sel = group == g
        if not sel.any():
            continue
        sub = EventData(out.time[sel], out.cause_index[sel], out.cause, out.labels, out.cause_label)
        lo, hi = breaks[g], breaks[min(g + 1, breaks.size - 1)]
        rows.append(
            (
                g + 1,
                lo,
                hi,
                int(sel.sum()),
                float(p[sel].mean()),
                float(marginal_risk(sub, np.array([h]))[0]),
            )
        )
    cols = ["group", "lower", "upper", "n", "predicted", "observed"]
    return pd.DataFrame(rows, columns=cols)


def _known_status_weights(out: EventData, h: float) -> tuple[np.ndarray, np.ndarray]:
    km = CensoringKM.fit(out.time, out.censored)
    early = out.time <= h
    observed = early & ~out.censored
    weight = np.zeros(out.n)
    weight[observed] = 1.0 / km.own_at(strict=True)[observed]
    weight[~early] = 1.0 / float(km.at(np.array([h]))[0])
    case = (early & (out.cause_index == out.cause)).astype(float)
    return case, weight


def _smoothed_curve(p, case, weight, bandwidth, n_points, scale="risk"):
    """(curve, bandwidth used): the IPCW Nadaraya-Watson curve on the risk or logit scale."""
    risk = p
    size = p.size
    if scale == "logit":
        q = np.clip(p, 1e-12, 1 - 1e-12)
        p = np.log(q / (1 - q))
        size = max(int(case.sum()), 2)
    if bandwidth is None:
        sd = p.std(ddof=1) if p.size > 1 else 0.0
        iqr = np.subtract(*np.quantile(p, [0.75, 0.25])) / 1.34
        spread = min(sd, iqr) if iqr > 0 else sd
        bandwidth = 0.9 * spread * size ** (-0.2) if spread > 0 else 0.01
    if not bandwidth > 0:
        raise ValueError(f"bandwidth={bandwidth!r} must be > 0.")
    grid = np.linspace(*np.quantile(p, [0.01, 0.99]), n_points)
    observed = np.empty(n_points)
    # chunks of the grid keep the kernel matrix small: O(n) memory per chunk
    for lo in range(0, n_points, 8):
        g = grid[lo : lo + 8]
        k = np.exp(-0.5 * ((g[:, None] - p[None, :]) / bandwidth) ** 2) * weight[None, :]
        observed[lo : lo + 8] = (k @ case) / k.sum(axis=1)
    if scale == "logit":
        grid = np.clip(1.0 / (1.0 + np.exp(-grid)), risk.min(), risk.max())
    return pd.DataFrame({"predicted": grid, "observed": observed}), bandwidth


def _logistic_recalibration(p, case, weight, max_iter: int = 50) -> tuple[float, float]:
    """Weighted logistic regression of the case indicator on logit(risk), by Newton."""
    keep = weight > 0
    pc = np.clip(p[keep], 1e-12, 1 - 1e-12)
    X = np.column_stack([np.ones(pc.size), np.log(pc / (1 - pc))])
    yv, w = case[keep], weight[keep]
    beta = np.zeros(2)
    for _ in range(max_iter):
        mu = 1.0 / (1.0 + np.exp(-(X @ beta)))
        grad = X.T @ (w * (yv - mu))
        info = (X * (w * mu * (1 - mu))[:, None]).T @ X
        step = np.linalg.solve(info, grad)
        beta += step
        if np.max(np.abs(step)) < 1e-10:
            break
    return float(beta[0]), float(beta[1])
