"""A Cox model for the censoring distribution: G(t | x), as ``Score(cens.model = "cox")``.

The censoring times are the events of a Cox model on the given covariates
(Efron ties; subjects with an event at a censoring time stay in its risk set,
the ordinary Cox convention, as R's ``cph`` fit inside Score); each subject's
weight uses its own G(t | x_i) = exp(-H0(t) exp(x_i'b)). Only conservative
standard errors are available with it: the influence function of the Cox
censoring model is not implemented.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..data.outcome import outcome
from ..engine.ipcw import CensoringKM
from ..models.coxph import CoxPH

__all__ = ["CoxCensoring", "censoring_model"]


def censoring_model(out, covariates, conservative: bool):
    """Kaplan-Meier of the censoring times, or a Cox model on ``covariates``."""
    if covariates is None:
        return CensoringKM.fit(out.time, out.censored)
    if not conservative:
        raise ValueError(
            "censoring_covariates (a Cox censoring model) needs conservative=True: the "
            "standard errors then ignore the estimation of the censoring model (Score's "
            "conservative = TRUE); the full influence function is implemented for "
            "Kaplan-Meier weights only."
        )
    return CoxCensoring(out.time, out.censored, covariates)


class CoxCensoring:
    """The interface of ``engine.ipcw.CensoringKM`` that the metrics use, with
    subject-specific survival of the censoring times."""

    def __init__(self, time: np.ndarray, censored: np.ndarray, covariates) -> None:
        X = covariates if isinstance(covariates, pd.DataFrame) else np.asarray(covariates)
        if np.ndim(X) == 1:
            X = np.asarray(X)[:, None]
        if len(X) != time.shape[0]:
            raise ValueError(
                f"censoring_covariates has {len(X)} rows but the outcome has {time.shape[0]}; "
                "pass one row per subject."
            )
        if not censored.any():
            raise ValueError("no subject is censored: a censoring model cannot be fitted.")
        model = CoxPH(tol=1e-12, max_iter=100).fit(X, outcome(time=time, event=censored))
        table = model.baseline_cumulative_hazard_
        self.grid = table.index.to_numpy(dtype=float)
        self.hazard = table.iloc[:, 0].to_numpy(dtype=float)
        self.risk = np.exp(model.predict(X))
        self.time = time
        self.model_ = model

    def _H(self, t: np.ndarray, strict: bool) -> np.ndarray:
        pos = np.searchsorted(self.grid, t, side="left" if strict else "right") - 1
        return np.where(pos >= 0, self.hazard[np.maximum(pos, 0)], 0.0)

    def own_at(self, strict: bool = False) -> np.ndarray:
        """G(T_i | x_i), or G(T_i- | x_i) with ``strict=True``."""
        return np.exp(-self._H(self.time, strict) * self.risk)

    def at_horizon(self, horizon: float) -> np.ndarray:
        """G(horizon | x_i) for every subject."""
        return np.exp(-self._H(np.array([horizon]), False)[0] * self.risk)

    def position(self, t, strict: bool = False) -> np.ndarray:
        side = "left" if strict else "right"
        return np.searchsorted(self.grid, np.asarray(t, dtype=float), side=side) - 1

    def own_position(self, strict: bool = False) -> np.ndarray:
        return self.position(self.time, strict)
