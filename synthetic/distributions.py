"""Baseline hazards of the generator, each with a closed-form inverse.

A *site* (organ) has a dormancy baseline: a fraction ``seeding_fraction`` (π)
of reference patients carry cells there that can leave dormancy, and their
dormancy durations follow F (log-normal, Weibull or gamma). The improper
"wake-up" distribution πF(t) has cumulative hazard

    H0(t) = -log(1 - π F(t)),        sup H0 = -log(1 - π)  (finite when π < 1)

so the hazard π f(t) / (1 - π F(t)) rises to a peak near the typical dormancy
and fades as the pool of dormant cells empties. Death from other causes has a
Gompertz baseline, H0(t) = (a / b)(exp(b t) - 1).

Every baseline offers ``cumulative``, ``hazard`` and ``inverse_cumulative``;
the inverse is closed form (quantile functions of F; for the gamma family the
regularised incomplete-gamma inverse, a vectorised special function), which is
what lets the simulator invert piecewise cumulative hazards without root
finding. Dormancy distributions are specified by their median and
interquartile range in years; the shape is solved once, when a scenario is
loaded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

DORMANCY_FAMILIES = ("lognormal", "weibull", "gamma")

# Standard-normal upper quartile: the log-normal IQR is 2·median·sinh(Z75·σ).
_Z75 = float(special.ndtri(0.75))
# Weibull and gamma IQR/median ratios only reachable for shapes in these ranges;
# outside them the distribution is numerically degenerate anyway.
_SHAPE_BRACKET = {"weibull": (0.05, 200.0), "gamma": (0.02, 1.0e5)}


def _weibull_iqr_ratio(k: float) -> float:
    return (math.log(4.0) ** (1 / k) - math.log(4.0 / 3.0) ** (1 / k)) / math.log(2.0) ** (1 / k)


def _gamma_iqr_ratio(a: float) -> float:
    q25, q50, q75 = special.gammaincinv(a, [0.25, 0.5, 0.75])
    return float((q75 - q25) / q50)


_IQR_RATIO = {"weibull": _weibull_iqr_ratio, "gamma": _gamma_iqr_ratio}


def iqr_ratio_range(family: str) -> tuple[float, float]:
    """Interquartile range / median ratios that ``family`` can represent."""
    if family == "lognormal":
        return 0.0, math.inf
    low, high = _SHAPE_BRACKET[family]
    # Both ratios decrease in the shape parameter.
    return _IQR_RATIO[family](high), _IQR_RATIO[family](low)


@dataclass(frozen=True)
class DormancyDistribution:
    """Dormancy duration F (years), from its median and interquartile range.

    ``shape`` is σ (sd of log duration) for the log-normal, k for the Weibull
    and the shape a for the gamma; ``scale`` is exp(μ) (= the median), λ, and θ.
    """

    family: str
    median: float
    iqr: float
    shape: float
    scale: float

    @classmethod
    def from_median_iqr(cls, family: str, median: float, iqr: float) -> DormancyDistribution:
        ratio = iqr / median
        if family == "lognormal":
            shape = math.asinh(ratio / 2.0) / _Z75
            scale = median
        else:
            low, high = _SHAPE_BRACKET[family]
            # Root-find in log-shape: the ratio spans decades of shape.
            log_shape = optimize.brentq(
                lambda s: _IQR_RATIO[family](math.exp(s)) - ratio,
                math.log(low),
                math.log(high),
                xtol=1e-14,
                rtol=1e-14,
            )
            shape = math.exp(log_shape)
            if family == "weibull":
                scale = median / math.log(2.0) ** (1.0 / shape)
            else:
                scale = median / float(special.gammaincinv(shape, 0.5))
        return cls(family, float(median), float(iqr), float(shape), float(scale))

    def scaled(self, factor: float) -> DormancyDistribution:
        """The same family with every duration multiplied by ``factor``."""
        return DormancyDistribution.from_median_iqr(
            self.family, self.median * factor, self.iqr * factor
        )

    # Distribution functions, all vectorised over t (years, t >= 0).
    def cdf(self, t):
        t = np.asarray(t, dtype=float)
        with np.errstate(divide="ignore"):
            if self.family == "lognormal":
                return special.ndtr(np.log(t / self.scale) / self.shape)
            if self.family == "weibull":
                return -np.expm1(-((t / self.scale) ** self.shape))
        return special.gammainc(self.shape, t / self.scale)

    def sf(self, t):
        t = np.asarray(t, dtype=float)
        with np.errstate(divide="ignore"):
            if self.family == "lognormal":
                return special.ndtr(-np.log(t / self.scale) / self.shape)
            if self.family == "weibull":
                return np.exp(-((t / self.scale) ** self.shape))
        return special.gammaincc(self.shape, t / self.scale)

    def logpdf(self, t):
        t = np.asarray(t, dtype=float)
        x = t / self.scale
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.family == "lognormal":
                z = np.log(x) / self.shape
                return -0.5 * z * z - np.log(t * self.shape * math.sqrt(2.0 * math.pi))
            if self.family == "weibull":
                k = self.shape
                return math.log(k / self.scale) + (k - 1.0) * np.log(x) - x**k
            a = self.shape
            return (a - 1.0) * np.log(x) - x - special.gammaln(a) - math.log(self.scale)

    def ppf(self, p):
        """Quantile for lower-tail probability p (accurate for small p)."""
        p = np.asarray(p, dtype=float)
        if self.family == "lognormal":
            return self.scale * np.exp(self.shape * special.ndtri(p))
        if self.family == "weibull":
            return self.scale * (-np.log1p(-p)) ** (1.0 / self.shape)
        return self.scale * special.gammaincinv(self.shape, p)

    def isf(self, q):
        """Quantile for upper-tail probability q (accurate for small q)."""
        q = np.asarray(q, dtype=float)
        if self.family == "lognormal":
            return self.scale * np.exp(-self.shape * special.ndtri(q))
        if self.family == "weibull":
            with np.errstate(divide="ignore"):
                return self.scale * (-np.log(q)) ** (1.0 / self.shape)
        return self.scale * special.gammainccinv(self.shape, q)


@dataclass(frozen=True)
class DormancyBaseline:
    """H0(t) = -log(1 - π F(t)) for one organ."""

    seeding_fraction: float
    dormancy: DormancyDistribution

    @property
    def supremum(self) -> float:
        """H0(∞): hazard mass beyond which a patient's cells never wake."""
        return -math.log1p(-self.seeding_fraction) if self.seeding_fraction < 1 else math.inf

    def cumulative(self, t):
        pi = self.seeding_fraction
        cdf = self.dormancy.cdf(t)
        # 1 - πF loses digits once πF is near 1; (1 - π) + π·sf does not.
        with np.errstate(divide="ignore"):
            far = -np.log((1.0 - pi) + pi * self.dormancy.sf(t))
        return np.where(pi * cdf <= 0.5, -np.log1p(-pi * cdf), far)

    def hazard(self, t):
        if self.seeding_fraction == 0:
            return np.zeros_like(np.asarray(t, dtype=float))
        # π f / (1 - πF) = exp(log π + log f + H0), stable in both tails.
        return np.exp(
            math.log(self.seeding_fraction) + self.dormancy.logpdf(t) + self.cumulative(t)
        )

    def inverse_cumulative(self, h):
        """Smallest t with H0(t) = h; inf where h >= sup H0 (cells never wake)."""
        h = np.asarray(h, dtype=float)
        flat = h.reshape(-1)
        times = np.full(flat.shape, np.inf)
        # Most patients never wake in a given organ: evaluate quantiles only
        # for those who do.
        wakes = np.flatnonzero(flat < self.supremum)
        if wakes.size == 0:
            return times.reshape(h.shape)
        pi = self.seeding_fraction
        target = flat[wakes]
        lower = -np.expm1(-target) / pi  # F(t)
        lower_tail = lower <= 0.5
        woken = np.empty_like(target)
        woken[lower_tail] = self.dormancy.ppf(lower[lower_tail])
        # 1 - F(t) from exp(-h) directly, without the cancellation in 1 - lower.
        upper = (np.exp(-target[~lower_tail]) - (1.0 - pi)) / pi
        woken[~lower_tail] = self.dormancy.isf(np.clip(upper, 0.0, 0.5))
        times[wakes] = woken
        return times.reshape(h.shape)


@dataclass(frozen=True)
class GompertzBaseline:
    """Death from other causes: h0(t) = rate · exp(growth · t).

    With hazard ∝ exp(growth · attained age), an age-at-diagnosis log hazard
    ratio equal to ``growth`` per year keeps the model exactly Gompertz in
    attained age, the usual law of adult mortality.
    """

    rate: float
    growth: float

    @property
    def supremum(self) -> float:
        # a falling hazard (growth < 0) integrates to rate / |growth|: some never die of it
        return math.inf if self.growth >= 0 else self.rate / -self.growth

    def cumulative(self, t):
        # rate · t · (e^x - 1)/x with x = growth · t: exact for tiny growth too.
        t = np.asarray(t, dtype=float)
        with np.errstate(over="ignore", invalid="ignore"):  # inf is right far out
            return np.where(t == 0, 0.0, self.rate * t * special.exprel(self.growth * t))

    def hazard(self, t):
        with np.errstate(over="ignore"):
            return self.rate * np.exp(self.growth * np.asarray(t, dtype=float))

    def inverse_cumulative(self, h):
        # t = log1p(y)/growth with y = growth · h / rate, written as
        # (h / rate) · log1p(y)/y so that growth -> 0 gives the exponential.
        # With growth < 0, y <= -1 means h >= the supremum: never reached (inf).
        h = np.asarray(h, dtype=float)
        y = self.growth * h / self.rate
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.where(np.abs(y) < 1e-8, 1.0 - y / 2.0, np.log1p(y) / y)
        return np.where(np.isinf(h) | (y <= -1.0), np.inf, h / self.rate * ratio)


Baseline = DormancyBaseline | GompertzBaseline
