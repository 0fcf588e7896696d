"""Patient and microenvironment covariates, correlated through a Gaussian copula.

Each covariate j gets its own standard-normal stream ε_j. The latent normals
are z = L ε with L the lower Cholesky factor of the copula correlation matrix,
and each marginal is the quantile transform of z_j (for the normal and
log-normal families the transform is affine/exponential, so no Φ round trip).
The correlations are those of the latent normals, not Pearson correlations of
the marginals (they coincide only for normal marginals).

Because L is lower triangular, covariate j only mixes ε_1..ε_j: appending a
covariate, or one that is uncorrelated with the others, leaves the earlier
covariates' draws unchanged.

Categorical covariates cut their latent normal at Φ⁻¹ of the cumulative level
probabilities, in the listed level order; a correlation with a categorical
covariate therefore acts along that order (list levels so that the order means
something). A bernoulli covariate may instead be ``given`` a categorical one, with one
probability per level (ER status defined by the intrinsic subtype); it is then
drawn from its own latent normal against that level's threshold and takes no
part in the copula. The first level is the reference: the design has one 0/1 column per
other level, named ``name[T.level]`` — the name formulaic gives the term
``name`` for a pandas Categorical column with the same category order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import special, stats

COVARIATE_FAMILIES = ("normal", "lognormal", "bernoulli", "poisson", "categorical")


@dataclass(frozen=True)
class CovariateSpec:
    """One covariate: its marginal family and parameters.

    ``center`` is subtracted before effects apply, so baselines (seeding
    fractions, the Gompertz rate) describe a patient at the centre values;
    hazard ratios are unaffected.
    """

    name: str
    family: str
    params: dict = field(default_factory=dict)
    center: float = 0.0
    organ: str | None = None
    description: str = ""

    @property
    def levels(self) -> tuple[str, ...]:
        return tuple(self.params.get("levels", ()))

    @property
    def design_terms(self) -> tuple[str, ...]:
        """Design-column names this covariate contributes (truth uses the same names)."""
        if self.family == "categorical":
            return tuple(f"{self.name}[T.{level}]" for level in self.levels[1:])
        return (self.name,)

    def from_latent_normal(self, z: np.ndarray) -> np.ndarray:
        """Marginal values (category codes for categoricals) from standard normals."""
        p = self.params
        if self.family == "normal":
            return p["mean"] + p["sd"] * z
        if self.family == "lognormal":
            return p["median"] * np.exp(p["sdlog"] * z)
        if self.family == "bernoulli":
            # X = 1 exactly when Φ(z) > 1 - p.
            return (z > special.ndtri(1.0 - p["p"])).astype(np.int64)
        if self.family == "poisson":
            return np.searchsorted(_poisson_cutpoints(p["mean"]), z, side="left").astype(np.int64)
        cumulative = np.cumsum(p["probabilities"])[:-1]
        return np.searchsorted(special.ndtri(cumulative), z, side="left").astype(np.int8)

    def to_column(self, values: np.ndarray):
        """Data-frame column for sampled values (a Categorical for categoricals)."""
        if self.family == "categorical":
            return pd.Categorical.from_codes(values, categories=list(self.levels))
        return values

    def design_columns(self, column, *, centered: bool) -> dict[str, np.ndarray]:
        """Numeric design columns from a data column (values or level labels)."""
        if self.family != "categorical":
            values = np.asarray(column, dtype=float)
            return {self.name: values - self.center if centered else values}
        codes = _category_codes(column, self)
        return {
            term: (codes == index).astype(float)
            for index, term in enumerate(self.design_terms, start=1)
        }


def _poisson_cutpoints(mean: float) -> np.ndarray:
    # Latent-normal thresholds Φ⁻¹(P(X <= k)); values above the last finite one
    # have probability below 1e-16 and map to the final count.
    top = int(mean + 40.0 * np.sqrt(mean) + 40.0)
    cdf = stats.poisson.cdf(np.arange(top + 1), mean)
    cuts = special.ndtri(cdf)
    return cuts[np.isfinite(cuts)]


def _category_codes(column, spec: CovariateSpec) -> np.ndarray:
    levels = list(spec.levels)
    if isinstance(column, pd.Series):
        column = column.array
    if isinstance(column, pd.Categorical) and list(column.categories) == levels:
        codes = column.codes  # fast path: already in the scenario's level order
    else:
        codes = pd.Categorical(np.asarray(column, dtype=object), categories=levels).codes
    unknown = int(np.sum(codes < 0))
    if unknown:
        raise ValueError(
            f"{spec.name} has {unknown} values outside its levels {levels}; "
            "use the scenario's level labels"
        )
    return codes


def _conditional_bernoulli(spec: CovariateSpec, z: np.ndarray, parent, codes) -> np.ndarray:
    """X = 1 when Φ(z) > 1 - p(level of the given categorical), patient by patient."""
    p = np.array([spec.params["p"][level] for level in parent.levels])
    return (z > special.ndtri(1.0 - p[codes])).astype(np.int64)


def sample_covariates(
    specs: tuple[CovariateSpec, ...],
    cholesky: np.ndarray,
    streams: dict[str, np.random.Generator],
    n: int,
) -> dict[str, np.ndarray]:
    """Draw n values of every covariate; ``streams`` maps name -> its generator."""
    noise = [streams[spec.name].standard_normal(n) for spec in specs]
    values, latent = {}, {}
    for j, spec in enumerate(specs):
        # Explicit left-to-right sums, not a BLAS product: the result must be
        # bit-identical whatever the thread count.
        z = noise[j] * cholesky[j, j]
        for i in range(j):
            if cholesky[j, i] != 0.0:
                z = z + cholesky[j, i] * noise[i]
        latent[spec.name] = z
        if "given" not in spec.params:
            values[spec.name] = spec.from_latent_normal(z)
    # A bernoulli given a categorical is drawn once its categorical exists; it
    # still reads only its own latent normal, so the streams are unchanged.
    by_name = {spec.name: spec for spec in specs}
    for spec in specs:
        if "given" in spec.params:
            parent = by_name[spec.params["given"]]
            values[spec.name] = _conditional_bernoulli(
                spec, latent[spec.name], parent, values[parent.name]
            )
    return {spec.name: values[spec.name] for spec in specs}
