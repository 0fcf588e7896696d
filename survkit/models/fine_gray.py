"""Fine-Gray subdistribution-hazard regression: ``survkit.FineGray``.

The model is a Cox model on the subdistribution risk set: everyone still
event-free, plus those who failed from a competing cause, kept in with the
censoring weight G(t-)/G(T_j-). That is the shared Cox engine with a risk-set
extension (``fine_gray_weights``), Breslow ties, no case weights -- exactly
``cmprsk::crr``'s estimating equation, computed in O(n p^2) per iteration
instead of crr's O(n^2).

The variance is Fine & Gray's (1999) sandwich I^-1 (sum_i (eta_i + psi_i)^2) I^-1
as crr computes it: eta_i is the score residual on the extended risk sets
and psi_i accounts for estimating G. Both are written as prefix and suffix sums
over the distinct times (see ``fine_gray_variance``), so no step is quadratic.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from ..engine.newton import newton
from ..engine.risk_set import RiskSetProblem, evaluate
from ..engine.score_residuals import score_residuals
from .baseline import BaselineHazard
from .fine_gray_variance import censoring_term, competing_score_term
from .fine_gray_weights import FineGrayExtension, censoring_weights, read_fine_gray_data
from .fit_results import check_iteration_params, forget_fit, store_estimates
from .sklearn_api import (
    check_horizon,
    covariate_frame,
    fit_sklearn_form,
    horizon_auc,
    is_outcome_like,
    refuse_column_options,
)
from .summary_table import coefficient_table, format_summary

__all__ = ["FineGray"]


class FineGray(BaseEstimator):
    """Fine-Gray regression for the cumulative incidence of one cause.

    Parameters
    ----------
    conf_level : float
        Level of the confidence intervals in ``summary``.
    tol : float
        Newton-Raphson stops when the relative change of the log
        pseudo-likelihood is at most ``tol``.
    max_iter : int
        Maximum Newton-Raphson iterations.
    horizon : float or None
        The time by which ``predict`` gives the absolute risk and ``score`` the
        time-dependent AUC (scikit-learn's form); unused by the fit itself.

    Fitted attributes: ``params_``, ``standard_errors_`` (the Fine-Gray sandwich,
    as crr's), ``variance_``, ``naive_variance_`` (inverse information, crr's
    ``invinf``), ``naive_standard_errors_``, ``log_likelihood_`` and
    ``log_likelihood_null_`` (log pseudo-likelihood at the estimate and at 0,
    crr's ``loglik`` and ``loglik.null``), ``likelihood_ratio_test_`` (pseudo),
    ``wald_test_``, ``converged_``, ``n_iter_``, ``baseline_cumulative_hazard_``
    (cumulative subdistribution hazard at x = 0; its jumps are crr's ``bfitj``),
    ``n_observations_``, ``n_events_``, ``n_competing_``.
    """

    def __init__(
        self,
        conf_level: float = 0.95,
        tol: float = 1e-10,
        max_iter: int = 30,
        horizon: float | None = None,
    ):
        self.conf_level = conf_level
        self.tol = tol
        self.max_iter = max_iter
        self.horizon = horizon

    def fit(
        self,
        df: pd.DataFrame,
        duration_col: str = "time",
        event_col: str = "status",
        cause: object = 1,
        formula: str | list[str] | None = None,
        censor_value: object = 0,
        cengroup_col: str | None = None,
    ) -> FineGray:
        """Fit the subdistribution hazard of ``cause``; returns ``self``.

        Rows whose event equals ``censor_value`` are censored, every other code
        but ``cause`` is a competing event. ``cengroup_col`` estimates the
        censoring distribution separately within its groups (crr's
        ``cengroup``). Ties are handled as crr does (Breslow).

        scikit-learn's form ``fit(X, y, cause=...)``: every column of X is a
        covariate and ``y`` comes from ``survkit.outcome``.
        """
        if is_outcome_like(duration_col):
            refuse_column_options(
                event_col=None if event_col == "status" else event_col,
                formula=formula,
                cengroup_col=cengroup_col,
            )
            return fit_sklearn_form(self, df, duration_col, cause=cause, censor_value=censor_value)
        if not 0 < self.conf_level < 1:
            raise ValueError(f"conf_level={self.conf_level!r} must be between 0 and 1.")
        check_iteration_params(self.tol, self.max_iter)
        forget_fit(self)
        inputs = read_fine_gray_data(
            df, duration_col, event_col, formula, cause, censor_value, cengroup_col
        )
        data, cengroup, cengroup_labels = inputs.data, inputs.cengroup, inputs.cengroup_labels
        censored, competing = inputs.censored, inputs.competing
        problem = RiskSetProblem.build(data.X, data.stop, data.status, order=data.order)
        data.X = None
        weights = censoring_weights(problem, censored, cengroup, len(cengroup_labels))
        extension = FineGrayExtension(weights, competing)
        names = data.design.names
        result = newton(
            problem,
            efron=False,
            tol=self.tol,
            max_iter=self.max_iter,
            names=names,
            extension=extension,
        )
        beta = result.beta
        ev = evaluate(problem, beta, efron=False, want_terms=True, extension=extension)
        eta = score_residuals(problem, beta, efron=False, evaluation=ev)
        eta += competing_score_term(problem, ev, extension)
        psi = censoring_term(problem, ev, extension, censored)
        influence = eta + psi
        naive_var = result.variance
        var = naive_var @ (influence.T @ influence) @ naive_var

        self.design_ = data.design
        self.cause_ = data.events.cause
        self.censor_value_ = censor_value
        store_estimates(self, names, result, var)
        self.n_observations_ = int(problem.stop.shape[0])
        self.n_events_ = int(data.status.sum())
        self.n_competing_ = int(competing.sum())
        baseline = BaselineHazard.from_fit(problem, result.evaluation, [])
        self.baseline_ = baseline
        self.baseline_cumulative_hazard_ = baseline.table()
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "params_"):
            raise ValueError("this FineGray is not fitted yet; call fit(df, ...) first.")

    @property
    def summary(self) -> pd.DataFrame:
        """coef, exp(coef) (subdistribution HR), se(coef), z, p, limits of exp(coef)."""
        self._check_fitted()
        return coefficient_table(self.params_, self.standard_errors_, self.conf_level)

    def summary_text(self) -> str:
        self._check_fitted()
        lr, wd = self.likelihood_ratio_test_, self.wald_test_
        return format_summary(
            f"Fine-Gray subdistribution hazards model (cause = {self.cause_!r}, "
            f"n_iter = {self.n_iter_})",
            [
                f"  n = {self.n_observations_}, events of this cause = {self.n_events_}, "
                f"competing events = {self.n_competing_}",
                "  ties = breslow (as cmprsk::crr); variance = Fine-Gray sandwich",
            ],
            self.summary,
            [
                f"Log pseudo-likelihood = {self.log_likelihood_:.4f} "
                f"(null {self.log_likelihood_null_:.4f})",
                f"Pseudo likelihood ratio test = {lr.statistic:.4g} on {lr.df} df, "
                f"p = {lr.p_value:.3g}",
                f"Wald test = {wd.statistic:.4g} on {wd.df} df, p = {wd.p_value:.3g}",
            ],
        )

    def print_summary(self) -> None:
        print(self.summary_text())

    def __str__(self) -> str:
        return self.summary_text() if hasattr(self, "params_") else repr(self)

    def predict_cumulative_incidence(self, df: pd.DataFrame, times) -> pd.DataFrame:
        """1 - exp(-exp(x'b) Lambda0(t)) per row (columns) at ``times`` (index).

        As ``predict.crr``, evaluated as a right-continuous step function.
        Times beyond the last follow-up time raise ``ValueError`` (no
        extrapolation).
        """
        self._check_fitted()
        times = np.asarray(times, dtype=float).ravel()
        X = self.design_.matrix(df)
        lp = X @ self.params_.to_numpy()
        H0 = self.baseline_.at(times, np.zeros(len(df), dtype=np.int64))
        cif = -np.expm1(-H0 * np.exp(lp)[None, :])
        return pd.DataFrame(cif, index=pd.Index(times, name="time"), columns=df.index)

    def predict(self, X) -> np.ndarray:
        """scikit-learn's prediction: the absolute risk of the cause by ``horizon``."""
        horizon = check_horizon(self)
        frame = covariate_frame(self, X)
        return self.predict_cumulative_incidence(frame, [horizon]).to_numpy()[0]

    def score(self, X, y) -> float:
        """Time-dependent AUC of ``predict(X)`` for the cause at ``horizon`` (IPCW,
        competing events as controls; ``survkit.metrics.time_dependent_auc``)."""
        risk = self.predict(X)
        return horizon_auc(y, risk, self.horizon, self.cause_, self.censor_value_)
