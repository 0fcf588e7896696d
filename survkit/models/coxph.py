"""Cox proportional-hazards regression: ``survkit.CoxPH``."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from ..data.design import Design
from ..data.survival_data import SurvivalData, read_survival_data
from ..engine.concordance import concordance_counts
from ..engine.newton import chol_inverse, newton
from ..engine.risk_set import RiskSetProblem
from ..engine.score_residuals import score_residuals
from .baseline import BaselineHazard
from .fit_results import check_iteration_params, forget_fit, store_estimates
from .residuals import residuals_of
from .sklearn_api import (
    covariate_frame,
    fit_sklearn_form,
    harrell_c,
    is_outcome_like,
    refuse_column_options,
)
from .summary_table import TestResult, coefficient_table, format_summary

__all__ = ["CoxPH"]

_TIES = ("efron", "breslow")


class CoxPH(BaseEstimator):
    """Cox proportional-hazards model on counting-process data.

    Parameters
    ----------
    ties : {"efron", "breslow"}
        Approximation for tied event times (R's default is Efron).
    conf_level : float
        Level of the confidence intervals in ``summary``.
    tol : float
        Convergence: stop when the relative change of the log partial likelihood
        is at most ``tol`` (R's ``coxph.control(eps=)``, default 1e-9).
    max_iter : int
        Maximum Newton-Raphson iterations (R's ``iter.max``, default 20).

    Fitted attributes (after ``fit``) end in an underscore: ``params_``,
    ``standard_errors_`` (robust when ``robust=True`` or ``cluster_col`` is given),
    ``naive_standard_errors_``, ``variance_``, ``naive_variance_``,
    ``log_likelihood_``, ``log_likelihood_null_``, ``converged_``, ``n_iter_``,
    ``likelihood_ratio_test_``, ``wald_test_``, ``score_test_``,
    ``robust_score_test_`` (robust fits only, else None; R's ``rscore``), ``concordance_``,
    ``baseline_cumulative_hazard_`` (R's ``basehaz(fit, centered=FALSE)``),
    ``n_observations_``, ``n_events_``, ``strata_labels_``.
    """

    def __init__(
        self,
        ties: str = "efron",
        conf_level: float = 0.95,
        tol: float = 1e-9,
        max_iter: int = 20,
    ):
        self.ties = ties
        self.conf_level = conf_level
        self.tol = tol
        self.max_iter = max_iter

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        df: pd.DataFrame,
        duration_col: str = "time",
        event_col: str = "status",
        formula: str | list[str] | None = None,
        entry_col: str | None = None,
        strata: str | list[str] | None = None,
        weights_col: str | None = None,
        cluster_col: str | None = None,
        offset_col: str | None = None,
        robust: bool = False,
        cause: object = None,
        censor_value: object = 0,
    ) -> CoxPH:
        """Fit the model; returns ``self``.

        ``formula`` is a formulaic right-hand side (``"age + C(subtype)"``) or a
        list of numeric columns. ``entry_col`` gives (entry, stop] rows: delayed
        entry and time-varying covariates. With ``cause`` given, rows whose
        event equals ``cause`` are events, ``censor_value`` marks censoring and
        every other code is a competing event, censored for this cause-specific
        model. ``robust=True`` gives the sandwich variance of R's
        ``coxph(robust=TRUE)``; ``cluster_col`` sums dfbeta residuals within
        clusters first (R's ``cluster()``). Rows with missing values are
        refused, never dropped.

        scikit-learn's form ``fit(X, y)``: every column of X is a covariate and
        ``y`` comes from ``survkit.outcome`` (see ``sklearn_api``).
        """
        if is_outcome_like(duration_col):
            refuse_column_options(
                event_col=None if event_col == "status" else event_col,
                formula=formula,
                entry_col=entry_col,
                strata=strata,
                weights_col=weights_col,
                cluster_col=cluster_col,
                offset_col=offset_col,
                robust=robust,
            )
            return fit_sklearn_form(self, df, duration_col, cause=cause, censor_value=censor_value)
        self._check_params()
        forget_fit(self)
        data = read_survival_data(
            df,
            duration_col=duration_col,
            event_col=event_col,
            formula=formula,
            entry_col=entry_col,
            strata=strata,
            weights_col=weights_col,
            cluster_col=cluster_col,
            offset_col=offset_col,
            cause=cause,
            censor_value=censor_value,
            sort_rows=True,
        )
        self._fit_data(data, robust=robust or cluster_col is not None)
        self.censor_value_ = censor_value
        return self

    def _fit_data(self, data: SurvivalData, robust: bool) -> None:
        efron = self.ties == "efron"
        problem = RiskSetProblem.build(
            data.X,
            data.stop,
            data.status,
            start=data.start,
            strata=data.strata_codes,
            weights=data.weights,
            offset=data.offset,
            order=data.order,
        )
        data.X = None  # the problem owns the (centred, in-place) design matrix now
        names = data.design.names
        result = newton(problem, efron, tol=self.tol, max_iter=self.max_iter, names=names)
        beta = result.beta
        naive_var = result.variance
        var = naive_var
        robust_score = None
        if robust:

            def collapsed(rows):
                rows = rows * problem.weights[:, None]
                return rows if data.cluster is None else _sum_by_code(rows, data.cluster)

            dfbeta = collapsed(score_residuals(problem, beta, efron) @ naive_var)
            var = dfbeta.T @ dfbeta
            # robust score test (R's rscore): score residuals at the initial beta
            s0 = collapsed(score_residuals(problem, np.zeros_like(beta), efron))
            u = s0.sum(axis=0)
            inv, _ = chol_inverse(s0.T @ s0)
            robust_score = float(u @ inv @ u)

        self.design_: Design = data.design
        self.duration_col_ = data.duration_col
        self.event_col_ = data.event_col
        self.entry_col_ = data.entry_col
        self.strata_cols_ = data.strata_cols
        self.offset_col_ = data.offset_col
        self.cause_ = data.events.cause
        self.robust_ = robust
        df_model = store_estimates(self, names, result, var)
        self.n_observations_ = int(data.stop.shape[0])
        self.n_events_ = int(data.status.sum())
        self.means_ = pd.Series(problem.center, index=self.params_.index, name="mean")
        self.strata_labels_ = data.strata_labels
        self._row_index = data.index  # residuals are labelled like the caller's rows
        self.score_test_ = TestResult.chi2(result.score_test, df_model)
        self.robust_score_test_ = (
            None if robust_score is None else TestResult.chi2(robust_score, df_model)
        )

        self.baseline_ = BaselineHazard.from_fit(problem, result.evaluation, data.strata_labels)
        self.baseline_cumulative_hazard_ = self.baseline_.table()
        self._problem = problem
        self._concordance = None

    @property
    def concordance_(self) -> float:
        """Harrell's C of the linear predictor, as R's ``concordance(fit)``.

        Computed on first access (an O(n log n) pass) and then kept.
        """
        self._check_fitted()
        if self._concordance is None:
            # the fit's linear predictor, offset included (as R); centring
            # does not change the ranks
            lp = self._problem.X @ self.params_.to_numpy() + self._problem.offset
            self._concordance = concordance_counts(self._problem, lp)
        return self._concordance.concordance

    def _check_params(self) -> None:
        if self.ties not in _TIES:
            raise ValueError(f"ties={self.ties!r} is not supported; use 'efron' or 'breslow'.")
        if not 0 < self.conf_level < 1:
            raise ValueError(f"conf_level={self.conf_level!r} must be between 0 and 1.")
        check_iteration_params(self.tol, self.max_iter)

    def _check_fitted(self) -> None:
        if not hasattr(self, "params_"):
            raise ValueError("this CoxPH is not fitted yet; call fit(df, ...) first.")

    # ------------------------------------------------------------ results
    @property
    def summary(self) -> pd.DataFrame:
        """coef, exp(coef), se(coef), z, p, lower/upper limits of exp(coef)."""
        self._check_fitted()
        table = coefficient_table(self.params_, self.standard_errors_, self.conf_level)
        if self.robust_:
            table.insert(2, "naive se", self.naive_standard_errors_.to_numpy())
        return table

    def summary_text(self) -> str:
        """A readable summary like R's ``summary.coxph``."""
        self._check_fitted()
        what = "cause-specific " if self.cause_ != 1 or self.event_col_ is None else ""
        header = [
            f"  n = {self.n_observations_}, number of events = {self.n_events_}"
            + (f" (cause = {self.cause_!r})" if what else ""),
            f"  ties = {self.ties}"
            + (f", strata = {', '.join(self.strata_cols_)}" if self.strata_cols_ else "")
            + (", robust variance" if self.robust_ else ""),
        ]
        lr, wd, sc = self.likelihood_ratio_test_, self.wald_test_, self.score_test_
        footer = [
            f"Concordance = {self.concordance_:.4f}",
            f"Log-likelihood = {self.log_likelihood_:.4f} (null {self.log_likelihood_null_:.4f})",
            f"Likelihood ratio test = {lr.statistic:.4g} on {lr.df} df, p = {lr.p_value:.3g}",
            f"Wald test             = {wd.statistic:.4g} on {wd.df} df, p = {wd.p_value:.3g}",
            f"Score (logrank) test  = {sc.statistic:.4g} on {sc.df} df, p = {sc.p_value:.3g}",
        ]
        if not self.converged_:
            footer.append("WARNING: the fit did not converge.")
        return format_summary(
            f"Cox proportional hazards model ({what}n_iter = {self.n_iter_})",
            header,
            self.summary,
            footer,
        )

    def print_summary(self) -> None:
        print(self.summary_text())

    def __str__(self) -> str:
        return self.summary_text() if hasattr(self, "params_") else repr(self)

    # --------------------------------------------------------- prediction
    def predict_log_partial_hazard(self, df: pd.DataFrame) -> pd.Series:
        """x'b (+ offset when the model has one), relative to x = 0.

        As R's ``predict(fit, type="lp", reference="zero")``.
        """
        self._check_fitted()
        X = self.design_.matrix(df)
        lp = X @ self.params_.to_numpy()
        if self.offset_col_ is not None:
            from ..data.validation import check_columns, check_finite_numeric

            check_columns(df, {"offset_col": [self.offset_col_]})
            lp = lp + check_finite_numeric(df[self.offset_col_], self.offset_col_)
        return pd.Series(lp, index=df.index, name="log_partial_hazard")

    def predict_partial_hazard(self, df: pd.DataFrame) -> pd.Series:
        """exp(x'b) relative to x = 0, the multiplier of ``baseline_cumulative_hazard_``."""
        return np.exp(self.predict_log_partial_hazard(df)).rename("partial_hazard")

    def predict_cumulative_hazard(self, df: pd.DataFrame, times) -> pd.DataFrame:
        """Cumulative hazard H0_s(t) exp(x'b) per row (columns) at ``times`` (index).

        Times must lie within [0, last follow-up time of the row's stratum];
        anything beyond would be extrapolation and raises ``ValueError``.
        """
        self._check_fitted()
        times = np.asarray(times, dtype=float).ravel()
        codes = self.baseline_.strata_codes_for(df, self.strata_cols_)
        H0 = self.baseline_.at(times, codes)  # (len(times), n rows)
        risk = self.predict_partial_hazard(df).to_numpy()
        return pd.DataFrame(
            H0 * risk[None, :], index=pd.Index(times, name="time"), columns=df.index
        )

    def predict_survival(self, df: pd.DataFrame, times) -> pd.DataFrame:
        """S(t | x) = exp(-H0_s(t) exp(x'b)) per row (columns) at ``times`` (index).

        As R's ``survfit(fit, newdata)`` (its default ``stype = 2``); ties are
        handled as in the fit (Efron increments for an Efron fit).
        """
        return np.exp(-self.predict_cumulative_hazard(df, times))

    def predict(self, X) -> np.ndarray:
        """scikit-learn's risk score: the linear predictor x'b (higher = earlier event)."""
        self._check_fitted()
        return self.predict_log_partial_hazard(covariate_frame(self, X)).to_numpy()

    def score(self, X, y) -> float:
        """Harrell's C of ``predict(X)`` against ``y`` (other causes censored for a
        cause-specific model), as R's ``concordance``."""
        return harrell_c(y, self.predict(X), cause=self.cause_, censor_value=self.censor_value_)

    # --------------------------------------------------------- residuals
    def residuals(self, kind: str = "martingale", weighted: bool | None = None):
        """R's ``residuals(fit, type=kind)``: martingale, deviance, score, schoenfeld,
        scaledsch, dfbeta or dfbetas. See ``survkit.models.residuals``."""
        if not hasattr(self, "_problem"):
            raise ValueError(
                "this CoxPH is not fitted yet; call fit(df, ...) before asking for residuals."
            )
        return residuals_of(self, kind, weighted)


def _sum_by_code(values: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Row sums of ``values`` within each integer code (R's ``rowsum``)."""
    n_codes = int(codes.max()) + 1
    return np.column_stack(
        [
            np.bincount(codes, weights=values[:, j], minlength=n_codes)
            for j in range(values.shape[1])
        ]
    )
