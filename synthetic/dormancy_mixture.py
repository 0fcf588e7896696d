"""Finite mixtures of dormancy distributions: F(t) = Σ_j w_j F_j(t).

A mixture lets one organ's dormancy have an early and a late mode (the bimodal
recurrence hazard of Demicheli et al. 2008) or a long, nearly flat tail (the
steady late relapse of ER-positive disease in Pan et al. 2017), which a single
log-normal, Weibull or gamma cannot.

The distribution functions are weighted sums of the components'. The quantile
has no closed form, but it is bracketed: at t = min_j Q_j(p) every F_j(t) <= p,
so F(t) <= p, and at t = max_j Q_j(p) every F_j(t) >= p. Newton steps in
log t inside that bracket (a bisection step whenever Newton would leave it),
vectorised over all requested probabilities, reach the quantile to double
precision in a few steps. The upper tail
(``isf``) bisects on the survival function, so far-tail quantiles keep their
digits. The generator still draws exactly one exponential per cause and
patient: only the map from that draw to a time is numerical.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthetic.distributions import DormancyDistribution

# Safeguarded Newton converges in a handful of steps; bisection alone, the
# fallback, would need about 55 for a bracket of e^40.
_MAX_STEPS = 200
_LOG_TOLERANCE = 2e-15  # relative, in log t: quantiles to about 1e-15 relative
_MATCH = 4 * np.finfo(float).eps  # |log F(t) - log p| at which F(t) = p to rounding


@dataclass(frozen=True)
class MixtureDormancy:
    """Dormancy duration drawn from component j with probability ``weights[j]``."""

    components: tuple[DormancyDistribution, ...]
    weights: tuple[float, ...]

    family = "mixture"

    @property
    def median(self) -> float:
        return float(self.ppf(0.5))

    @property
    def iqr(self) -> float:
        q25, q75 = self.ppf(np.array([0.25, 0.75]))
        return float(q75 - q25)

    def scaled(self, factor: float) -> MixtureDormancy:
        """The same mixture with every duration multiplied by ``factor``."""
        return MixtureDormancy(tuple(c.scaled(factor) for c in self.components), self.weights)

    def cdf(self, t):
        return sum(w * c.cdf(t) for w, c in zip(self.weights, self.components, strict=True))

    def sf(self, t):
        return sum(w * c.sf(t) for w, c in zip(self.weights, self.components, strict=True))

    def logpdf(self, t):
        logs = [np.log(w) + c.logpdf(t) for w, c in zip(self.weights, self.components, strict=True)]
        # log Σ exp, by hand: scipy's logsumexp costs more than the densities here.
        top = np.maximum.reduce(logs)
        safe = np.where(np.isfinite(top), top, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):  # -inf where every density is 0
            return safe + np.log(sum(np.exp(log - safe) for log in logs))

    def ppf(self, p):
        """Quantile for lower-tail probability p."""
        return self._invert(np.asarray(p, dtype=float), upper=False)

    def isf(self, q):
        """Quantile for upper-tail probability q (accurate for small q)."""
        return self._invert(np.asarray(q, dtype=float), upper=True)

    def _invert(self, prob: np.ndarray, *, upper: bool) -> np.ndarray:
        shape = prob.shape
        prob = prob.reshape(-1)
        result = np.full(prob.shape, np.nan)
        # Boundary probabilities: t = 0 and t = inf.
        result[prob <= 0] = np.inf if upper else 0.0
        result[prob >= 1] = 0.0 if upper else np.inf
        inside = np.flatnonzero((prob > 0) & (prob < 1))
        if inside.size:
            result[inside] = np.exp(self._solve_log_time(prob[inside], upper))
        return result.reshape(shape)

    def _solve_log_time(self, p: np.ndarray, upper: bool) -> np.ndarray:
        """log t with F(t) = p (or S(t) = p): Newton on log F (log S) against
        log t, which is nearly linear in the power-law tails, kept inside the
        bracket [min_j, max_j] of the components' quantiles and falling back
        to bisection whenever a step would leave it."""
        quantile = (lambda c: c.isf(p)) if upper else (lambda c: c.ppf(p))
        bounds = np.log(np.stack([quantile(c) for c in self.components]))
        lo, hi = bounds.min(axis=0), bounds.max(axis=0)
        x = 0.5 * (lo + hi)
        log_p = np.log(p)
        sign = -1.0 if upper else 1.0  # log S decreases in t, log F increases
        active = np.arange(p.size)  # entries not yet converged
        for _ in range(_MAX_STEPS):
            xa = x[active]
            t = np.exp(xa)
            with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
                log_tail = np.log(self.sf(t) if upper else self.cdf(t))
                gap = sign * (log_tail - log_p[active])  # increasing in x
                slope = np.exp(self.logpdf(t) + xa - log_tail)  # |d log tail / d log t|
                newton = xa - gap / slope
            la = np.where(gap < 0, xa, lo[active])
            ha = np.where(gap > 0, xa, hi[active])
            # Inclusive bounds: at the root Newton returns x itself.
            accept = np.isfinite(newton) & (newton >= la) & (newton <= ha)
            step = np.where(accept, newton, 0.5 * (la + ha))
            # Converged: the tail probability equals p to a few ulps (the best
            # its rounding allows), or a step or the bracket is a few ulps of log t.
            hit = np.abs(gap) <= _MATCH
            step = np.where(hit, xa, step)
            x[active], lo[active], hi[active] = step, la, ha
            tolerance = _LOG_TOLERANCE * np.maximum(1.0, np.abs(step))
            moving = ~hit & (np.abs(step - xa) > tolerance) & (ha - la > tolerance)
            active = active[moving]
            if active.size == 0:
                break
        return x
