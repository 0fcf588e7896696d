"""The validated, in-memory form of a scenario, and each cause's hazard model.

A cause (an organ, or death from other causes) has cause-specific hazard

    α(t | x) = α0(t) · exp(β(t)' x),

with β(t) piecewise constant between the union of its effects' change points.
On piece p = [s_p, e_p) the cumulative hazard grows as exp(η_p) · (H0(t) - H0(s_p))
with η_p = β_p' x, so

    H(t | x) = Σ_p exp(η_p) · (H0(min(t, e_p)) - H0(min(t, s_p)))

is, piece by piece, an increasing affine function of H0(t). Solving H(T | x) = E
for a unit-exponential E therefore needs only H0⁻¹ (closed form, see
``distributions``): find the piece whose cumulative range contains E, map E back
to a baseline cumulative hazard, invert. When E exceeds H(∞ | x) — possible
because a dormancy baseline has finite supremum -log(1 - π) — the cells never
wake in that organ and the latent time is +inf.
"""

from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass, field

import numpy as np

from synthetic.covariates import CovariateSpec
from synthetic.distributions import Baseline, DormancyBaseline


@dataclass(frozen=True)
class Effect:
    """Log hazard ratio of one design term; piecewise when change points are given."""

    term: str
    log_hrs: tuple[float, ...]
    change_points: tuple[float, ...] = ()

    def log_hr_from(self, start: float) -> float:
        """Log hazard ratio on the piece that begins at ``start``."""
        return self.log_hrs[bisect.bisect_right(self.change_points, start)]


@dataclass(frozen=True)
class CauseModel:
    """Baseline and effects of one cause (an organ or death)."""

    name: str
    baseline: Baseline
    effects: tuple[Effect, ...] = ()

    @property
    def is_site(self) -> bool:
        return isinstance(self.baseline, DormancyBaseline)

    @property
    def change_points(self) -> tuple[float, ...]:
        return tuple(sorted({c for effect in self.effects for c in effect.change_points}))

    @property
    def pieces(self) -> list[tuple[float, float]]:
        """[start, end) intervals on which every effect of this cause is constant."""
        bounds = [0.0, *self.change_points, np.inf]
        return list(itertools.pairwise(bounds))

    def linear_predictors(self, design: dict[str, np.ndarray], n: int) -> list[np.ndarray]:
        """η_p = β_p' x for every piece p, from centred design columns."""
        etas = []
        for start, _ in self.pieces:
            # Plain element-wise sums in a fixed order (no BLAS) keep the
            # generator bit-reproducible across thread counts.
            eta = np.zeros(n)
            for effect in self.effects:
                beta = effect.log_hr_from(start)
                if beta != 0.0:
                    eta += beta * design[effect.term]
            etas.append(eta)
        return etas

    def cumulative_hazard(self, times: np.ndarray, etas: list[np.ndarray]) -> np.ndarray:
        """H(t | x) for every row (axis 0) and time (axis 1)."""
        times = np.asarray(times, dtype=float)
        total = np.zeros((len(etas[0]), len(times)))
        for (start, end), eta in zip(self.pieces, etas, strict=True):
            if start >= times.max(initial=0.0):
                break
            increment = self.baseline.cumulative(np.clip(times, start, end))
            increment = increment - self.baseline.cumulative(start)
            total += np.exp(eta)[:, None] * increment[None, :]
        return total

    def sample_latent_times(self, exponential: np.ndarray, etas: list[np.ndarray]) -> np.ndarray:
        """Latent times T with H(T | x) = E (inf when E >= H(∞ | x)), by exact inversion."""
        remaining = exponential.copy()
        target = np.full_like(remaining, np.inf)  # H0(T); inf maps to T = inf
        undecided = np.ones(remaining.shape, dtype=bool)
        with np.errstate(over="ignore", invalid="ignore"):
            for (start, end), eta in zip(self.pieces, etas, strict=True):
                h_start = float(self.baseline.cumulative(start))
                if np.isfinite(end):
                    h_end = float(self.baseline.cumulative(end))
                else:
                    h_end = self.baseline.supremum
                multiplier = np.exp(eta)
                capacity = multiplier * (h_end - h_start)
                hit = undecided & (remaining < capacity)
                target = np.where(hit, h_start + remaining / multiplier, target)
                remaining -= capacity
                undecided &= ~hit
        return self.baseline.inverse_cumulative(target)


@dataclass(frozen=True)
class Censoring:
    """Uniform accrual over [0, accrual_years], analysis at study_end_years after
    the first accrual, and exponential drop-out."""

    accrual_years: float
    study_end_years: float
    dropout_rate: float


@dataclass(frozen=True, eq=False)
class Scenario:
    """A validated scenario; build one with ``load_scenario``."""

    name: str
    description: str
    source: str
    covariates: tuple[CovariateSpec, ...]
    correlation: np.ndarray
    sites: tuple[CauseModel, ...]
    death: CauseModel
    censoring: Censoring
    # The validated TOML mapping it was built from (for writing derived files).
    raw: dict | None = field(default=None, repr=False)

    @property
    def causes(self) -> tuple[CauseModel, ...]:
        return (*self.sites, self.death)

    @property
    def site_names(self) -> tuple[str, ...]:
        return tuple(site.name for site in self.sites)

    @property
    def cause_names(self) -> tuple[str, ...]:
        return tuple(cause.name for cause in self.causes)

    @property
    def design_terms(self) -> tuple[str, ...]:
        return tuple(term for spec in self.covariates for term in spec.design_terms)

    def cause(self, name: str) -> CauseModel:
        for cause in self.causes:
            if cause.name == name:
                return cause
        raise ValueError(
            f"site {name!r} is not in scenario {self.name!r}; use one of {list(self.cause_names)}"
        )

    def __repr__(self) -> str:
        return (
            f"Scenario({self.name!r}, sites={list(self.site_names)}, "
            f"covariates={[c.name for c in self.covariates]})"
        )
