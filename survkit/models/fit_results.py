"""Fitted attributes every Cox-type estimator exposes, set in one place.

CoxPH and FineGray both end with coefficients, a variance (robust or
sandwich) beside the model-based one, log-likelihoods and the LR and Wald
tests; this module stores them under the same names for both.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..engine.newton import NewtonResult, chol_inverse
from .summary_table import TestResult

__all__ = ["check_iteration_params", "forget_fit", "store_estimates"]


def check_iteration_params(tol: object, max_iter: object) -> None:
    """Newton's settings, the same rule for every estimator: tol > 0, max_iter >= 0."""
    if isinstance(tol, bool) or not isinstance(tol, (int, float, np.number)) or not tol > 0:
        raise ValueError(f"tol={tol!r} must be a number > 0, e.g. 1e-9.")
    if (
        isinstance(max_iter, bool)
        or not isinstance(max_iter, (int, float, np.number))
        or int(max_iter) != max_iter
        or max_iter < 0
    ):
        raise ValueError(f"max_iter={max_iter!r} must be a non-negative integer, e.g. 20.")


def forget_fit(model) -> None:
    """Drop every fitted attribute (scikit-learn: refitting forgets the old fit)."""
    for attr in [a for a in vars(model) if a.endswith("_") and not a.startswith("__")]:
        delattr(model, attr)


def store_estimates(model, names: list[str], result: NewtonResult, variance: np.ndarray) -> int:
    """Set params_, (naive_)variance_, (naive_)standard_errors_, log-likelihoods,
    convergence and the LR and Wald tests; returns the model's degrees of freedom."""
    idx = pd.Index(names, name="covariate")
    beta, naive = result.beta, result.variance
    model.params_ = pd.Series(beta, index=idx, name="coef")
    model.variance_ = pd.DataFrame(variance, index=idx, columns=idx)
    model.naive_variance_ = pd.DataFrame(naive, index=idx, columns=idx)
    model.standard_errors_ = pd.Series(np.sqrt(np.diag(variance)), index=idx, name="se(coef)")
    model.naive_standard_errors_ = pd.Series(np.sqrt(np.diag(naive)), index=idx, name="se(coef)")
    model.log_likelihood_ = result.evaluation.loglik
    model.log_likelihood_null_ = result.loglik_init
    model.converged_ = result.converged
    model.n_iter_ = result.n_iter
    ok = ~result.singular
    df_model = int(ok.sum())
    model.likelihood_ratio_test_ = TestResult.chi2(
        2 * (model.log_likelihood_ - model.log_likelihood_null_), df_model
    )
    v_inv, _ = chol_inverse(variance[np.ix_(ok, ok)])
    model.wald_test_ = TestResult.chi2(float(beta[ok] @ v_inv @ beta[ok]), df_model)
    return df_model
