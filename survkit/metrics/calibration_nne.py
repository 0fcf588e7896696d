"""riskRegression::plotCalibration's default calibration curve: nearest neighbours in rank.

``plotCalibration(method = "nne", cens.method = "local")`` with its defaults
``round = TRUE`` and ``bandwidth = NULL``:

1. the predicted risks are rounded to 2 decimals;
2. the bandwidth b (a fraction of n) is KernSmooth's direct plug-in bandwidth
   (``dpik``, box kernel, 2 stages, 401-point linear binning) of the
   subjects' positions cumtabx / n, where cumtabx is the number of subjects
   with a rounded prediction at most their own (``prodlim::neighborhood``);
3. around every distinct rounded value u, ranked at cumtabu (the number of
   predictions <= u), the neighbours are the ranks cumtabu - r ... cumtabu + r
   with r = floor(b n), widened at the bottom to a whole block of tied
   predictions and narrowed at the top to exclude a partly covered block;
4. the observed risk at u is the Aalen-Johansen (Kaplan-Meier) risk of the
   cause at the horizon among those neighbours.

The curve is a point per distinct rounded prediction. ``b >= 1`` (or a single
distinct prediction) gives one point, the mean prediction against the overall
risk (R averages jackknife pseudo-values there; survkit's Aalen-Johansen is
the estimate they approximate).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm

from .inputs import EventData
from .null_model import marginal_risk

__all__ = ["dpik_box", "nne_curve"]

_GRID = 401


def _linbin(x: np.ndarray, a: float, b: float) -> np.ndarray:
    """KernSmooth's linear binning with truncate = TRUE (a point at b is dropped, as there)."""
    delta = (b - a) / (_GRID - 1)
    position = (x - a) / delta + 1
    bin_ = np.floor(position).astype(np.int64)
    rem = position - bin_
    inside = (bin_ >= 1) & (bin_ < _GRID)
    counts = np.zeros(_GRID)
    np.add.at(counts, bin_[inside] - 1, 1 - rem[inside])
    np.add.at(counts, bin_[inside], rem[inside])
    return counts


def _bkfe(counts: np.ndarray, drv: int, h: float, a: float, b: float) -> float:
    """KernSmooth's binned estimate of the density functional psi_drv (Gaussian kernel)."""
    delta = (b - a) / (_GRID - 1)
    lag = min(int(np.floor((4 + drv) * h / delta)), _GRID)
    arg = np.arange(lag + 1) * delta / h
    # Hermite recursion: the drv-th derivative of the normal density
    old0, old1, new = np.ones_like(arg), arg, np.ones_like(arg)
    for i in range(2, drv + 1):
        new = arg * old1 - (i - 1) * old0
        old0, old1 = old1, new
    kappa = new * norm.pdf(arg) / h ** (drv + 1)
    kernel = np.concatenate((kappa[:0:-1], kappa))  # lags -L..L
    smoothed = np.convolve(counts, kernel)[lag : lag + _GRID]
    return float((counts * smoothed).sum() / counts.sum() ** 2)


def dpik_box(x: np.ndarray) -> float:
    """``KernSmooth::dpik(x, kernel = "box")`` with its defaults (scalest = "minim",
    level = 2, gridsize = 401, truncate = TRUE)."""
    n = x.size
    q1, q3 = np.quantile(x, [0.25, 0.75])
    scale = min((q3 - q1) / 1.349, float(np.std(x, ddof=1)))
    if scale == 0:
        raise ValueError("the predictions have no spread; a smoothed curve needs at least two.")
    mean = x.mean()
    sx = (x - mean) / scale
    sa, sb = (x.min() - mean) / scale, (x.max() - mean) / scale
    counts = _linbin(sx, sa, sb)
    alpha = (2 * np.sqrt(2) ** 9 / (7 * n)) ** (1 / 9)
    psi6 = _bkfe(counts, 6, alpha, sa, sb)
    alpha = (-3 * np.sqrt(2 / np.pi) / (psi6 * n)) ** (1 / 7)
    psi4 = _bkfe(counts, 4, alpha, sa, sb)
    return float(scale * (9 / 2) ** (1 / 5) * (1 / (psi4 * n)) ** (1 / 5))


def nne_curve(out: EventData, p: np.ndarray, h: float, bandwidth: float | None):
    """(curve DataFrame predicted/observed, bandwidth) as the module docstring."""
    rounded = np.round(p, 2)
    values, counts = np.unique(rounded, return_counts=True)
    n = rounded.size
    cumtabu = np.cumsum(counts)
    if bandwidth is None:
        if values.size == 1:
            bandwidth = 1.0
        else:
            bandwidth = dpik_box(np.repeat(cumtabu, counts) / n)
    if not bandwidth > 0:
        raise ValueError(f"bandwidth={bandwidth!r} must be > 0.")
    if bandwidth >= 1:
        observed = float(marginal_risk(out, np.array([h]))[0])
        return pd.DataFrame({"predicted": [p.mean()], "observed": [observed]}), bandwidth
    order = np.argsort(rounded, kind="stable")
    block_end = np.repeat(cumtabu, counts)  # by rank (1-based rank k at index k - 1)
    block_size = np.repeat(counts, counts)
    radius = int(np.floor(bandwidth * n))
    observed = np.empty(values.size)
    for u, top in enumerate(cumtabu):
        first, last = top - radius, top + radius
        first = 1 if first <= 0 else block_end[first - 1] - block_size[first - 1] + 1
        if last > n:
            last = n
        elif block_end[last - 1] > last:
            last = block_end[last - 1] - block_size[last - 1]
        rows = order[first - 1 : last]
        sub = EventData(
            out.time[rows], out.cause_index[rows], out.cause, out.labels, out.cause_label
        )
        observed[u] = marginal_risk(sub, np.array([h]))[0]
    return pd.DataFrame({"predicted": values, "observed": observed}), bandwidth
