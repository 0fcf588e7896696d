"""A Cox model for the censoring distribution: G(t | x), as ``Score(cens.model = "cox")``.

The censoring times are the events of a Cox model on the given covariates
(Efron ties; subjects with an event at a censoring time stay in its risk set,
the ordinary Cox convention, as R's ``cph`` fit inside Score); each subject's
weight uses its own G(t | x_i) = exp(-H0(t) exp(x_i'b)).

Standard errors (``conservative=False``, Score's default) add the influence of
estimating that model, as Score does with ``predictCox(iid = TRUE)``: a metric
(1/n) sum_i v_i, with v_i already divided by G(s_i | x_i), gains for subject k
the term (1/n) sum_i v_i IF_k[Lambda(s_i | x_i)], where Lambda = -log G and

    IF_k[Lambda(s | x)] = exp(x'b) (IF_k Lambda0(s) + Lambda0(s) x' IF_k b),
    IF_k Lambda0(s) = n sum_{u <= s} (dN_k(u) - Y_k(u) exp(x_k'b) dLambda0(u)) / S0(u)
                      - IF_k b' sum_{u <= s} E(u) dLambda0(u),

IF_k b = n dfbeta_k (score residuals times the inverse information), S0 and
E = S1/S0 the risk-set sums at the censoring times u. Summed over i through
suffix sums on the censoring times: O(n log n + n p). As in riskRegression the
baseline part has the Breslow form with the fit's (Efron) increments dLambda0.

One deliberate difference from riskRegression 2022.11.28: its IF_k b adds
1/S0(u) once per distinct censoring time u where d(u)/S0(u) belongs, so with
tied censoring times its influence function of the coefficients does not sum
to zero; survkit uses the fit's dfbeta (R's ``residuals(fit, "dfbeta")``).
Without tied censoring times the two agree (tests/test_metrics_score_cox.py);
with them the standard errors differ slightly (at most 0.5 % on mgus2, whose
times are whole months).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..data.outcome import outcome
from ..engine.ipcw import CensoringKM, censoring_influence
from ..models.coxph import CoxPH
from ..models.sklearn_api import covariate_frame

__all__ = ["CoxCensoring", "censoring_model", "censoring_term"]


def censoring_model(out, covariates, conservative: bool = False):
    """Kaplan-Meier of the censoring times, or a Cox model on ``covariates``
    (``conservative`` is accepted for the callers' symmetry; both models give
    full and conservative standard errors)."""
    if covariates is None:
        return CensoringKM.fit(out.time, out.censored)
    return CoxCensoring(out.time, out.censored, covariates)


def censoring_term(model, censored: np.ndarray, values: np.ndarray, positions: np.ndarray):
    """For each subject k: (1/n) sum_i values_i IF_k[Lambda_C(s_i)], the part of a
    metric's influence function that comes from estimating the censoring model
    (``positions``: grid positions of the s_i, -1 for none)."""
    if isinstance(model, CoxCensoring):
        return model.influence(values, positions)
    return censoring_influence(model, censored, values, positions)


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
        self.censored = censored
        self.model_ = model
        self._X = X
        self._sums = None

    def influence(self, values: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """(1/n) sum_i values_i IF_k[Lambda(s_i | x_i)] for every subject k (module docstring)."""
        if self._sums is None:  # the same for every metric and horizon: computed once
            self._sums = self._risk_set_sums()
        z, u, s0, d_l0, H_e, dfbeta = self._sums
        r = self.risk
        # a_i = v_i exp(x_i'b), at s_i (the grid time of its position)
        valid = positions >= 0
        s = self.grid[positions[valid]]
        a = values[valid] * r[valid]
        last = np.searchsorted(u, s, side="right") - 1  # last censoring time <= s_i
        has = last >= 0
        by_u = np.bincount(last[has], weights=a[has], minlength=u.size)
        A = np.cumsum(by_u[::-1])[::-1]  # A(u) = sum of a_i with s_i >= u
        B = (a[has, None] * H_e[last[has]]).sum(axis=0)
        C = (a[:, None] * self._H(s, strict=False)[:, None] * z[valid]).sum(axis=0)
        # subject k's own terms: a censoring at T_k, and its time at risk
        k_pos = np.searchsorted(u, self.time, side="right") - 1
        own = np.zeros(self.time.shape[0])
        at = (k_pos >= 0) & self.censored
        own[at] = A[k_pos[at]] / s0[k_pos[at]]
        exposure = np.concatenate(([0.0], np.cumsum(A * d_l0 / s0)))
        own -= r * exposure[k_pos + 1]
        return own + dfbeta @ (C - B)

    def _risk_set_sums(self):
        """Design, censoring times u, S0(u), dLambda0(u), cumulative E dLambda0, dfbeta."""
        model = self.model_
        z = model.design_.matrix(covariate_frame(model, self._X))
        r = self.risk
        u, inverse = np.unique(self.time, return_inverse=True)

        def from_the_end(w):
            return np.cumsum(np.bincount(inverse, weights=w, minlength=u.size)[::-1])[::-1]

        d_n = np.bincount(inverse, weights=self.censored.astype(float), minlength=u.size)
        s0 = from_the_end(r)
        s1 = np.column_stack([from_the_end(r * z[:, j]) for j in range(z.shape[1])])
        d_l0 = np.diff(self._H(u, strict=False), prepend=0.0)
        keep = (d_n > 0) | (d_l0 > 0)
        u, s0, s1, d_l0 = u[keep], s0[keep], s1[keep], d_l0[keep]
        H_e = np.cumsum(s1 / s0[:, None] * d_l0[:, None], axis=0)  # sum_{u<=s} E dLambda0
        return z, u, s0, d_l0, H_e, self._dfbeta()

    def _dfbeta(self) -> np.ndarray:
        """IF_k b / n: Efron score residuals times the inverse information (R's
        ``residuals(fit, type = "dfbeta")``)."""
        return self.model_.residuals("dfbeta").to_numpy()

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
