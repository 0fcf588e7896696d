"""Finite mixtures of dormancy distributions: F(t) = Σ_j w_j F_j(t).

A mixture lets one organ's dormancy have an early and a late mode (the bimodal
recurrence hazard of Demicheli et al. 2008) or a long, nearly flat tail (the
steady late relapse of ER-positive disease in Pan et al. 2017), which a single
log-normal, Weibull or gamma cannot.

The distribution functions are weighted sums of the components'. The quantile
has no closed form, but it is bracketed: at t = min_j Q_j(p) every F_j(t) <= p,
so F(t) <= p, and at t = max_j Q_j(p) every F_j(t) >= p. Bisection in log t
inside that bracket, vectorised over all requested probabilities, reaches the
quantile to double precision in at most ``_BISECTIONS`` steps. The upper tail
(``isf``) bisects on the survival function, so far-tail quantiles keep their
digits. The generator still draws exactly one exponential per cause and
patient: only the map from that draw to a time is numerical.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from synthetic.distributions import DormancyDistribution

_BISECTIONS = 200  # each halves log(hi/lo); a bracket of e^40 converges in about 55
_LOG_TOLERANCE = 2e-15  # bracket width in log t: quantiles to about 1e-15 relative


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
        return special.logsumexp(np.stack(np.broadcast_arrays(*logs)), axis=0)

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
            p = prob[inside]
            quantile = (lambda c: c.isf(p)) if upper else (lambda c: c.ppf(p))
            bounds = np.stack([quantile(c) for c in self.components])
            lo, hi = np.log(bounds.min(axis=0)), np.log(bounds.max(axis=0))
            tail = self.sf if upper else self.cdf
            for _ in range(_BISECTIONS):
                mid = 0.5 * (lo + hi)
                value = tail(np.exp(mid))
                # F increases in t, S decreases: move the side that keeps the root inside.
                below = value > p if upper else value < p
                lo = np.where(below, mid, lo)
                hi = np.where(below, hi, mid)
                if np.max(hi - lo) <= _LOG_TOLERANCE:
                    break
            result[inside] = np.exp(0.5 * (lo + hi))
        return result.reshape(shape)
