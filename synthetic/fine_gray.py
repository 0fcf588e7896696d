"""The Fine & Gray (1999, JASA 94:496-509, section 5) simulation design.

Cause 1's *subdistribution* is specified directly and is exactly proportional
in the subdistribution hazard:

    F_1(t | Z) = P(T <= t, cause 1 | Z) = 1 - [1 - p (1 - exp(-t))]^exp(Z'β),

a unit-exponential mixture with P(cause 1 | Z) = 1 - (1 - p)^exp(Z'β). So
-log(1 - F_1(t | Z)) = exp(Z'β) · (-log(1 - p(1 - e^{-t}))): a Fine–Gray model
holds with coefficients β. Given cause 2 (probability (1 - p)^exp(Z'β)), the
time is exponential with rate exp(Z'β₂). Censoring is uniform on
[0, censoring_max] (none when censoring_max is None).

The mechanism is that of the paper; the default numbers (two independent
standard-normal covariates, β = (0.5, -0.5), β₂ = (-0.5, 0.5), p = 0.3,
censoring on [0, 3]) are this package's choices, not a transcription of the
paper's table.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from synthetic.simulate import component_generator


@dataclass(eq=False)
class FineGrayDesign:
    """Simulated data (``event``: 1, 2, or 0 = censored) and the true β of cause 1.

    Unpacks as ``data, beta = fine_gray_design(...)``.
    """

    data: pd.DataFrame
    beta: pd.Series
    beta_cause2: pd.Series
    p: float

    def __iter__(self):
        return iter((self.data, self.beta))

    def true_cif(self, times, data: pd.DataFrame | None = None) -> pd.DataFrame:
        """Exact cumulative incidence of causes 1 and 2, averaged over ``data``'s rows."""
        data = self.data if data is None else data
        times = np.atleast_1d(np.asarray(times, dtype=float))
        z = data[list(self.beta.index)].to_numpy(dtype=float)
        risk1 = np.exp(z @ self.beta.to_numpy())[:, None]
        rate2 = np.exp(z @ self.beta_cause2.to_numpy())[:, None]
        t = times[None, :]
        cif1 = 1.0 - (1.0 - self.p * -np.expm1(-t)) ** risk1
        cif2 = (1.0 - self.p) ** risk1 * -np.expm1(-t * rate2)
        return pd.DataFrame(
            {1: cif1.mean(axis=0), 2: cif2.mean(axis=0)}, index=pd.Index(times, name="time")
        )


def fine_gray_design(
    n: int,
    seed,
    *,
    beta=(0.5, -0.5),
    beta_cause2=(-0.5, 0.5),
    p: float = 0.3,
    censoring_max: float | None = 3.0,
) -> FineGrayDesign:
    """Simulate n patients from the Fine & Gray (1999) §5 design (see module doc)."""
    beta = np.asarray(beta, dtype=float)
    beta_cause2 = np.asarray(beta_cause2, dtype=float)
    if beta.ndim != 1 or beta.shape != beta_cause2.shape or not np.all(np.isfinite(beta)):
        raise ValueError(
            f"beta has shape {beta.shape} and beta_cause2 {beta_cause2.shape}; "
            "give two finite 1-d coefficient vectors of equal length"
        )
    if not 0.0 < p < 1.0:
        raise ValueError(f"p = {p!r} is outside (0, 1); p is cause 1's share at Z = 0")
    if censoring_max is not None and not censoring_max > 0:
        raise ValueError(
            f"censoring_max = {censoring_max!r} is not positive; "
            "pass a positive number of time units or None for no censoring"
        )
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"n = {n!r} is not a positive integer; pass the number of patients")
    names = [f"z{j + 1}" for j in range(beta.size)]
    z = np.column_stack(
        [
            component_generator(seed, f"fine_gray:covariate:{name}").standard_normal(n)
            for name in names
        ]
    )
    eta1 = _linear(z, beta)
    eta2 = _linear(z, beta_cause2)
    share1 = -np.expm1(np.exp(eta1) * np.log1p(-p))  # 1 - (1 - p)^exp(η1)
    cause1 = component_generator(seed, "fine_gray:cause").random(n) < share1
    # Cause-1 time: invert F_1(t | Z) / P(cause 1 | Z) = u.
    u = component_generator(seed, "fine_gray:time1").random(n)
    inner = -np.expm1(np.exp(-eta1) * np.log1p(-u * share1)) / p  # 1 - exp(-t)
    time1 = -np.log1p(-np.minimum(inner, 1.0))
    time2 = component_generator(seed, "fine_gray:time2").standard_exponential(n) / np.exp(eta2)
    time = np.where(cause1, time1, time2)
    event = np.where(cause1, 1, 2)
    if censoring_max is not None:
        censor = component_generator(seed, "fine_gray:censoring").random(n) * censoring_max
        event = np.where(censor < time, 0, event)
        time = np.minimum(time, censor)
    data = pd.DataFrame(
        {
            "patient_id": np.arange(n),
            **dict(zip(names, z.T, strict=True)),
            "time": time,
            "event": event,
        }
    )
    return FineGrayDesign(
        data,
        pd.Series(beta, index=names, name="log_shr"),
        pd.Series(beta_cause2, index=names, name="log_hr_given_cause2"),
        p,
    )


def _linear(z: np.ndarray, beta: np.ndarray) -> np.ndarray:
    # Element-wise sum in a fixed order (no BLAS) for bit-reproducibility.
    eta = np.zeros(z.shape[0])
    for j, b in enumerate(beta):
        eta += b * z[:, j]
    return eta
