"""Elastic-net penalised Cox regression along a lambda path: ``survkit.CoxNet``.

The same model as R's ``glmnet(family = "cox")``: it minimises

    -loglik(b) / sum(w) + lambda * sum_j pf_j (l1_ratio |b_j s_j| + (1 - l1_ratio) (b_j s_j)^2 / 2)

(s_j the weighted standard deviation of covariate j when ``standardize``),
for a decreasing sequence of lambdas with warm starts, on the engine and data
path every Cox model in survkit uses (ties, strata, weights, offsets,
(start, stop] rows, cause-specific coding). A separate estimator rather than
options on ``CoxPH``: a path fit has different fitted attributes (the path,
deviances, cross-validation) and no Wald inference (standard errors after a
lasso selection are not valid), so ``CoxPH``'s summary would be wrong for it.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning

from ..data.survival_data import read_survival_data
from ..engine.concordance import concordance_index
from ..engine.elastic_net import StandardisedDesign, fit_path, saturated_loglik
from ..engine.risk_set import RiskSetProblem
from .coxnet_cv import MEASURES, cross_validate_lambda, make_folds
from .coxnet_inputs import outcome_frame, penalty_factors
from .coxnet_path import coef_at, path_options
from .fit_results import forget_fit

__all__ = ["CoxNet"]

_TIES = ("breslow", "efron")
_SELECT = ("1se", "min", "last")


class CoxNet(BaseEstimator):
    """Lasso, ridge and elastic-net Cox models along a lambda path (R's glmnet).

    Parameters
    ----------
    l1_ratio : float in [0, 1]
        glmnet's ``alpha``: 1 is the lasso, 0 is ridge.
    lambdas : sequence of float or None
        The path; by default ``n_lambdas`` values log-spaced from lambda_max (the
        smallest lambda at which every penalised coefficient is zero, from the
        score at the null model) down to ``lambda_min_ratio * lambda_max``,
        stopped early as glmnet once the deviance ratio no longer improves.
    lambda_min_ratio : float or None
        Default 0.01 when there are fewer rows than covariates, else 1e-4 (glmnet).
    penalty_factor : dict or sequence or None
        Per-covariate multiplier of lambda (0 leaves a covariate unpenalised);
        rescaled to sum to the number of covariates, as glmnet.
    standardize : bool
        Penalise standardised coefficients (glmnet's default); coefficients are
        always reported on the original scale.
    ties : {"breslow", "efron"}
        glmnet uses Breslow (the default here too, to match it).
    tol : float
        Coordinate-descent threshold (glmnet's ``thresh``): stop when no update
        moves the quadratic objective by more than ``tol``.
    max_iter : int
        Maximum outer (quadratic-approximation) steps per lambda.
    cv : None, int or scikit-learn splitter
        Cross-validate lambda (``cv_results_``, ``lambda_min_``, ``lambda_1se_``).
    cv_measure : {"deviance", "C"}
        Partial-likelihood deviance (glmnet's ``type.measure = "deviance"``) or
        Harrell's C.
    select : {"1se", "min", "last"}
        Which lambda ``params_`` and the predictions use: ``lambda_1se_`` or
        ``lambda_min_`` when ``cv`` is set, else (and with "last") the last lambda
        of the path.
    seed : int or None
        Seed of the fold split when ``cv`` is an int.

    Fitted attributes: ``lambdas_``, ``coef_path_`` (DataFrame, one row per
    lambda), ``deviance_`` (glmnet's deviance per lambda), ``null_deviance_``,
    ``deviance_ratio_``, ``log_likelihood_path_``, ``penalized_log_likelihood_path_``
    (loglik - sum(w) * lambda * penalty, on the log-likelihood scale),
    ``n_nonzero_``, ``n_iter_`` (outer steps per lambda), ``converged_``,
    ``lambda_``, ``params_``, ``log_likelihood_``, ``penalized_log_likelihood_``
    at ``lambda_``; with ``cv`` also ``cv_results_``, ``cv_fold_values_``,
    ``lambda_min_``, ``lambda_1se_``.
    """

    def __init__(
        self,
        l1_ratio: float = 1.0,
        lambdas=None,
        n_lambdas: int = 100,
        lambda_min_ratio: float | None = None,
        penalty_factor=None,
        standardize: bool = True,
        ties: str = "breslow",
        tol: float = 1e-7,
        max_iter: int = 100,
        cv=None,
        cv_measure: str = "deviance",
        select: str = "1se",
        seed: int | None = 0,
    ):
        self.l1_ratio = l1_ratio
        self.lambdas = lambdas
        self.n_lambdas = n_lambdas
        self.lambda_min_ratio = lambda_min_ratio
        self.penalty_factor = penalty_factor
        self.standardize = standardize
        self.ties = ties
        self.tol = tol
        self.max_iter = max_iter
        self.cv = cv
        self.cv_measure = cv_measure
        self.select = select
        self.seed = seed

    def fit(
        self,
        df,
        duration_col="time",
        event_col: str = "status",
        formula=None,
        entry_col: str | None = None,
        strata=None,
        weights_col: str | None = None,
        offset_col: str | None = None,
        cause: object = None,
        censor_value: object = 0,
    ) -> CoxNet:
        """Fit the path (and cross-validate when ``cv`` is set); returns ``self``.

        The DataFrame form is ``CoxPH``'s: ``formula`` a formulaic right-hand side
        or a list of numeric columns, ``cause`` for a cause-specific model (every
        other non-censoring code is a competing event). The scikit-learn form
        ``fit(X, y)`` takes a 2-d array or DataFrame of covariates and an outcome
        ``y`` (a structured array with an event and a time field, or a
        DataFrame/2-column array of time and event).
        """
        values = None
        if not isinstance(duration_col, str):
            df, cols = outcome_frame(df, duration_col)
            duration_col, event_col, formula = cols["time"], cols["event"], cols["covariates"]
            values = cols["values"]
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
            offset_col=offset_col,
            cause=cause,
            censor_value=censor_value,
            sort_rows=True,
            columns_first=True,
            covariate_values=values,
        )
        problem = RiskSetProblem.build(
            np.zeros((data.X.shape[1], 0)),
            data.stop,
            data.status,
            start=data.start,
            strata=data.strata_codes,
            weights=data.weights,
            offset=data.offset,
            order=data.order,
        )
        return self._fit_path(data, problem, efron=self.ties == "efron", extension_for=None)

    def _fit_path(self, data, problem, efron: bool, extension_for, concordance_for=None) -> CoxNet:
        """The path, its deviances and (with ``cv``) cross-validation on a built
        problem; ``extension_for(subproblem, rows)`` gives the risk-set extension
        of any row subset (Fine-Gray) or is None; ``concordance_for(rows)``
        a function of the held-out rows' linear predictor giving their
        concordance for ``cv_measure="C"`` (Fine-Gray: Wolbers'), None for Harrell's."""
        p, n = data.X.shape  # read columns first
        names = data.design.names
        design = StandardisedDesign.build(data.X, problem.weights, self.standardize)
        data.X = None  # standardised in place: the design now owns it
        zero_sd = np.flatnonzero(design.scale == 0)
        if zero_sd.size:  # read_survival_data refuses constant columns; weights can still zero them
            raise ValueError(
                f"covariate {names[int(zero_sd[0])]!r} has zero weighted variance; remove it."
            )
        pf = penalty_factors(self.penalty_factor, names)
        ratio = self.lambda_min_ratio
        if ratio is None:
            ratio = 0.01 if n < p else 1e-4
        options = {
            "efron": efron,
            "alpha": float(self.l1_ratio),
            "penalty_factor": pf,
            "n_lambdas": int(self.n_lambdas),
            "lambda_min_ratio": float(ratio),
            "tol": float(self.tol),
            "max_outer": int(self.max_iter),
            "standardize": bool(self.standardize),
            "extension_for": extension_for,
            "concordance_for": concordance_for,
        }
        extension = None if extension_for is None else extension_for(problem, np.arange(n))
        user = None if self.lambdas is None else _check_lambdas(self.lambdas)
        result = fit_path(
            problem, design, lambdas=user, extension=extension, **path_options(options)
        )
        coefs = result.coefs / design.scale  # original scale
        lam = result.lambdas
        idx = pd.Index(lam, name="lambda")
        total = float(problem.weights.sum())
        a = options["alpha"]
        penalty = np.array(
            [
                lam_k * np.sum(pf * (a * np.abs(b) + 0.5 * (1 - a) * b * b))
                for lam_k, b in zip(lam, result.coefs, strict=True)
            ]
        )
        self.design_ = data.design
        self.duration_col_, self.event_col_ = data.duration_col, data.event_col
        self.entry_col_, self.strata_cols_ = data.entry_col, data.strata_cols
        self.offset_col_, self.cause_ = data.offset_col, data.events.cause
        self.n_observations_, self.n_events_ = n, int(data.status.sum())
        self.penalty_factor_ = pd.Series(pf, index=pd.Index(names, name="covariate"))
        self.lambdas_ = lam
        self.coef_path_ = pd.DataFrame(coefs, index=idx, columns=pd.Index(names, name="covariate"))
        self.n_nonzero_ = (coefs != 0).sum(axis=1)
        self.log_likelihood_path_ = result.loglik
        self.log_likelihood_null_ = result.loglik_null
        self.penalized_log_likelihood_path_ = result.loglik - total * penalty
        # glmnet's deviance(fit) and nulldev: the case weights as given, so the
        # path's own log-likelihoods serve (no second scan per lambda)
        saturated = saturated_loglik(problem)
        self.deviance_ = 2 * (saturated - result.loglik)
        self.null_deviance_ = float(2 * (saturated - result.loglik_null))
        self.deviance_ratio_ = 1 - self.deviance_ / self.null_deviance_
        self.n_iter_ = result.n_outer
        self.converged_ = bool(result.converged.all())
        if not self.converged_:
            bad = lam[~result.converged]
            warnings.warn(
                f"{type(self).__name__} did not converge at {bad.size} lambda(s) (first "
                f"{bad[0]:.4g}) within max_iter={self.max_iter} outer steps; raise max_iter "
                "or tol.",
                ConvergenceWarning,
                stacklevel=2,
            )
        if self.cv is not None:
            inverse = np.empty(n, dtype=np.int64)
            inverse[problem.order] = np.arange(n)
            status_caller = np.empty(n, dtype=np.uint8)
            status_caller[problem.order] = problem.dead
            folds = [
                (inverse[tr], inverse[te])
                for tr, te in make_folds(self.cv, n, status_caller, self.seed)
            ]
            cvr = cross_validate_lambda(
                problem, design, lam, self.n_nonzero_, folds, self.cv_measure, options
            )
            self.cv_results_ = cvr.table
            self.cv_fold_values_ = cvr.fold_values
            self.lambda_min_, self.lambda_1se_ = cvr.lambda_min, cvr.lambda_1se
        self.lambda_ = self._selected_lambda()
        self.params_ = pd.Series(
            coef_at(lam, coefs, self.lambda_), index=self.coef_path_.columns, name="coef"
        )
        k = int(np.argmin(np.abs(lam - self.lambda_)))
        self.log_likelihood_ = float(result.loglik[k])
        self.penalized_log_likelihood_ = float(self.penalized_log_likelihood_path_[k])
        self._problem = problem
        if k == lam.shape[0] - 1:
            self._lp = result.eta_last  # the path's own: no product with the whole design
        else:
            self._lp = design.Xt.T @ result.coefs[k] + problem.offset  # as CoxPH: with offset
        self._center = design.center  # _lp is relative to x = center
        return self

    def _selected_lambda(self) -> float:
        if self.select == "last" or (self.cv is None and self.select != "last"):
            return float(self.lambdas_[-1])
        return self.lambda_1se_ if self.select == "1se" else self.lambda_min_

    def _check_params(self) -> None:
        if not 0 <= self.l1_ratio <= 1:
            raise ValueError(f"l1_ratio={self.l1_ratio!r} must be in [0, 1] (1 = lasso).")
        if self.ties not in _TIES:
            raise ValueError(f"ties={self.ties!r} is not supported; use 'breslow' or 'efron'.")
        if self.cv_measure not in MEASURES:
            raise ValueError(f"cv_measure={self.cv_measure!r}; use one of {MEASURES}.")
        if self.select not in _SELECT:
            raise ValueError(f"select={self.select!r}; use one of {_SELECT}.")
        if not self.tol > 0:
            raise ValueError(f"tol={self.tol!r} must be > 0.")
        if int(self.n_lambdas) != self.n_lambdas or self.n_lambdas < 1:
            raise ValueError(f"n_lambdas={self.n_lambdas!r} must be a positive integer.")
        if self.lambda_min_ratio is not None and not 0 < self.lambda_min_ratio < 1:
            raise ValueError(f"lambda_min_ratio={self.lambda_min_ratio!r} must be in (0, 1).")
        if int(self.max_iter) != self.max_iter or self.max_iter < 1:
            raise ValueError(f"max_iter={self.max_iter!r} must be a positive integer.")

    def _check_fitted(self) -> None:
        if not hasattr(self, "params_"):
            raise ValueError("this CoxNet is not fitted yet; call fit(df, ...) first.")

    # ------------------------------------------------------------ results
    def coef_at(self, lambda_value: float) -> pd.Series:
        """Coefficients at any lambda, interpolated linearly along the path (glmnet's
        ``coef(fit, s = )``)."""
        self._check_fitted()
        b = coef_at(self.lambdas_, self.coef_path_.to_numpy(), float(lambda_value))
        return pd.Series(b, index=self.coef_path_.columns, name="coef")

    @property
    def concordance_(self) -> float:
        """Harrell's C of the fitted linear predictor at ``lambda_`` (training data)."""
        self._check_fitted()
        return concordance_index(self._problem, self._lp)

    def predict_log_partial_hazard(self, df, lambda_value: float | None = None) -> pd.Series:
        """x'b (+ offset) at ``lambda_`` (or ``lambda_value``), relative to x = 0."""
        self._check_fitted()
        b = self.params_ if lambda_value is None else self.coef_at(lambda_value)
        df = self._covariate_frame(df)
        X = self.design_.matrix(df)
        lp = X @ b.to_numpy()
        if self.offset_col_ is not None:
            from ..data.validation import check_columns, check_finite_numeric

            check_columns(df, {"offset_col": [self.offset_col_]})
            lp = lp + check_finite_numeric(df[self.offset_col_], self.offset_col_)
        return pd.Series(lp, index=df.index, name="log_partial_hazard")

    def _covariate_frame(self, X) -> pd.DataFrame:
        """X as a DataFrame of the design's columns (an array, as fitted by fit(X, y))."""
        if isinstance(X, pd.DataFrame):
            return X
        frame, _ = outcome_frame(X, None, names=list(self.design_.columns))
        return frame

    def predict(self, X) -> np.ndarray:
        """scikit-learn form: the log partial hazard (higher = higher risk)."""
        return self.predict_log_partial_hazard(X).to_numpy()

    def score(self, X, y) -> float:
        """scikit-learn form: Harrell's C of ``predict(X)`` against the outcome ``y``."""
        self._check_fitted()
        frame, cols = outcome_frame(X, y, names=list(self.design_.columns))
        lp = self.predict_log_partial_hazard(frame).to_numpy()
        data = read_survival_data(
            frame,
            duration_col=cols["time"],
            event_col=cols["event"],
            formula=None,
            require_covariates=False,
            sort_rows=True,
        )
        problem = RiskSetProblem.build(
            np.zeros((len(frame), 0)), data.stop, data.status, order=data.order
        )
        return concordance_index(problem, np.ascontiguousarray(lp[data.order]))


def _check_lambdas(lambdas) -> np.ndarray:
    lam = np.asarray(lambdas, dtype=float).ravel()
    if lam.size == 0 or not np.all(np.isfinite(lam)) or np.any(lam < 0):
        raise ValueError("lambdas must be a non-empty sequence of finite values >= 0.")
    if np.any(np.diff(lam) > 0):
        raise ValueError(
            "lambdas must be decreasing (warm starts run from the largest); sort them "
            "in decreasing order."
        )
    return lam
