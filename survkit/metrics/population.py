"""Population values of the prediction metrics when every patient's true risk is known.

In a simulation the generator knows each patient's true absolute risk
F_i = P(event of interest by t | x_i). Over a large sample of patients (their
covariates; the outcomes are not needed, they are integrated out) the value
that the IPCW estimators of ``time_dependent_auc``, ``brier_score`` and
``calibration`` estimate on data from that population is, for predictions r_i:

* AUC(t) = sum_{i != j} F_i (1 - F_j) [1{r_i > r_j} + 1{r_i = r_j}/2] /
  sum_{i != j} F_i (1 - F_j): a case had the event of interest by t, a control
  did not (event-free or a competing event first: Blanche et al.'s definition
  2, as the estimator);
* Brier(t) = mean F_i (1 - r_i)^2 + (1 - F_i) r_i^2, the expected squared
  residual; IPA = 1 - Brier / (Fbar (1 - Fbar)), the null model predicting the
  marginal risk Fbar = mean F_i to everyone;
* calibration intercept a and slope b: the logistic regression of the case
  indicator on logit(r) in the population, i.e. the root of the expected
  score sum (F_i - expit(a + b logit r_i)) (1, logit r_i) = 0. For r = F it
  is exactly (0, 1).

Each value comes with its Monte Carlo standard error over the sampled
covariates (influence functions; the sandwich for the calibration
regression), which says how large the sample must be for the value to serve
as the truth. O(n log n).
"""

from __future__ import annotations

import numpy as np

from ..engine.ipcw import auc_row_sums
from .calibration import _logistic_recalibration

__all__ = ["population_performance"]

METRICS = ("auc", "brier", "ipa", "calibration_intercept", "calibration_slope")


def population_performance(true_risk, risk) -> dict[str, tuple[float, float]]:
    """metric -> (population value, Monte Carlo SE) of ``risk`` given ``true_risk``.

    Both are 1-D arrays of absolute risks of the event of interest by one
    horizon, one per patient of a sample from the population; metrics as in
    the module docstring (keys ``METRICS``).
    """
    F = _probabilities(true_risk, "true_risk")
    r = _probabilities(risk, "risk")
    if F.size != r.size:
        raise ValueError(
            f"true_risk has {F.size} values but risk has {r.size}; pass one of each per patient."
        )
    if F.size < 2:
        raise ValueError(f"population_performance needs at least 2 patients, got {F.size}.")
    n = F.size
    out = {"auc": _auc(F, r)}
    residual = F * (1 - r) ** 2 + (1 - F) * r**2
    brier = float(residual.mean())
    out["brier"] = (brier, float(residual.std(ddof=1) / np.sqrt(n)))
    mean_risk = float(F.mean())
    null = mean_risk * (1 - mean_risk)
    if null > 0:
        # IPA = 1 - B / B0 with B0 = Fbar (1 - Fbar): delta method on both means
        if_null = (1 - 2 * mean_risk) * (F - mean_risk)
        if_ipa = -((residual - brier) / null - brier * if_null / null**2)
        out["ipa"] = (1 - brier / null, float(if_ipa.std(ddof=1) / np.sqrt(n)))
    else:
        out["ipa"] = (float("nan"), float("nan"))
    out.update(_calibration(F, r))
    return out


def _probabilities(values, argument: str) -> np.ndarray:
    p = np.asarray(values, dtype=float)
    if p.ndim != 1:
        raise ValueError(f"{argument} has shape {p.shape}; pass one risk per patient (1-D).")
    bad = int((~np.isfinite(p) | (p < 0) | (p > 1)).sum())
    if bad:
        raise ValueError(
            f"{argument} has {bad} value(s) that are missing or outside [0, 1]; "
            "pass absolute risks (probabilities)."
        )
    return p


def _auc(F: np.ndarray, r: np.ndarray) -> tuple[float, float]:
    n = F.size
    control = 1 - F
    below, above = auc_row_sums(r, F, control)
    self_pairs = F * control  # a patient is never paired with itself
    total_case, total_control = F.sum(), control.sum()
    num = (F * below).sum() - self_pairs.sum() / 2
    den = total_case * total_control - self_pairs.sum()
    if den <= 0:
        return float("nan"), float("nan")
    auc = num / den
    # Hajek projection of the two U-statistics (as metrics.auc's influence function)
    nu, mu = num / n**2, den / n**2
    if_nu = (F * below + control * above - self_pairs) / n - 2 * nu
    if_mu = (F * total_control + control * total_case - 2 * self_pairs) / n - 2 * mu
    influence = (if_nu - auc * if_mu) / mu
    return float(auc), float(influence.std(ddof=1) / np.sqrt(n))


def _calibration(F: np.ndarray, r: np.ndarray) -> dict[str, tuple[float, float]]:
    # the weighted logistic fit accepts a fractional outcome: F is the expected case indicator
    a, b = _logistic_recalibration(r, F, np.ones(F.size))
    q = np.clip(r, 1e-12, 1 - 1e-12)
    X = np.column_stack([np.ones(q.size), np.log(q / (1 - q))])
    mu = 1.0 / (1.0 + np.exp(-(X @ np.array([a, b]))))
    info = (X * (mu * (1 - mu))[:, None]).T @ X
    score = X * (F - mu)[:, None]
    bread = np.linalg.inv(info)
    cov = bread @ (score.T @ score) @ bread
    se = np.sqrt(np.diag(cov))
    return {
        "calibration_intercept": (a, float(se[0])),
        "calibration_slope": (b, float(se[1])),
    }
