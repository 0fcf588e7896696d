"""Pointwise confidence limits of a probability (cumulative incidence, absolute risk).

One rule for every estimator of an incidence F with standard error se, as
cmprsk's ``cuminc``/riskRegression do: "plain" F ± z se, "log" on log F, and
"log-log" on log(-log F); limits kept inside [0, 1], and equal to F where F is
0 or 1 (no uncertainty there on these scales).
"""

from __future__ import annotations

import numpy as np
from scipy import stats

__all__ = ["incidence_limits"]


def incidence_limits(
    F: np.ndarray, se: np.ndarray, conf_level: float, conf_type: str
) -> tuple[np.ndarray, np.ndarray]:
    z = stats.norm.ppf((1 + conf_level) / 2)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if conf_type == "plain":
            lower, upper = F - z * se, F + z * se
        elif conf_type == "log":
            lower, upper = F * np.exp(-z * se / F), F * np.exp(z * se / F)
        else:
            theta = z * se / (F * np.log(F))
            lower, upper = F ** np.exp(-theta), F ** np.exp(theta)
    inside = (F > 0) & (F < 1)
    lower = np.where(inside, lower, F)
    upper = np.where(inside, upper, F)
    return np.clip(lower, 0.0, 1.0), np.clip(upper, 0.0, 1.0)
