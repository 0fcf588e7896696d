"""Pieces of the penalised Cox path shared by ``CoxNet`` and its cross-validation.

Row subsets of a risk-set problem (cross-validation folds), glmnet's
deviance along a path, fold fits on the full path's lambdas, and reading
coefficients at any lambda by linear interpolation (glmnet's
``predict(s = )``).
"""

from __future__ import annotations

import numpy as np

from ..engine.elastic_net import (
    PathResult,
    StandardisedDesign,
    eta_derivatives,
    fit_path,
    saturated_loglik,
)
from ..engine.risk_set import RiskSetProblem

__all__ = ["coef_at", "fold_path", "path_deviance", "path_options", "subproblem"]


def subproblem(problem: RiskSetProblem, rows: np.ndarray) -> RiskSetProblem:
    """The risk-set problem of some rows (positions in sorted order, ascending,
    so the engine's order is kept); strata are recoded so none is empty."""
    rows = np.sort(np.asarray(rows, dtype=np.int64))
    _, strata = np.unique(problem.row_stratum[rows], return_inverse=True)
    return RiskSetProblem.build(
        np.zeros((rows.shape[0], 0)),
        problem.stop[rows],
        problem.dead[rows],
        start=None if problem.start is None else problem.start[rows],
        strata=strata.astype(np.int64),
        weights=problem.weights[rows],
        offset=problem.offset[rows],
        order=np.arange(rows.shape[0]),
    )


def path_deviance(
    problem: RiskSetProblem, lp: np.ndarray, efron: bool, rescale: bool = True, extension=None
) -> np.ndarray:
    """The Cox deviance 2 (saturated - loglik) for each column of ``lp`` (linear
    predictors without offset, rows in the problem's order), saturated = -sum
    over tied-death groups of wd log wd. With ``rescale`` the weights are first
    rescaled to sum to the number of rows (``coxnet.deviance``'s ``std.weights``,
    used by cross-validation); without, the weights as given (glmnet's
    ``deviance(fit)`` and ``nulldev``). ``extension``: the problem's risk-set
    extension (Fine-Gray), or None."""
    w = problem.weights
    if rescale:
        w = w * (w.shape[0] / w.sum())
    sat = saturated_loglik(problem, w)
    out = np.empty(lp.shape[1])
    for k in range(lp.shape[1]):
        eta = np.ascontiguousarray(lp[:, k] + problem.offset)
        out[k] = 2 * (sat - eta_derivatives(problem, eta, efron, w, extension=extension)[0])
    return out


def fold_path(
    problem: RiskSetProblem,
    design: StandardisedDesign,
    train: np.ndarray,
    lambdas: np.ndarray,
    options: dict,
) -> np.ndarray:
    """Fit the path on ``train`` rows at the given lambdas; return the
    coefficients (n_lambdas, p) on the scale of ``design``'s standardised columns.

    As glmnet, the fold standardises on its own rows; standardising the
    already-standardised columns again is the same affine map, so the fold's
    coefficients convert back to ``design``'s scale by its own scale factors.
    """
    sub = subproblem(problem, train)
    rows = np.sort(train)
    fold_x = np.take(design.Xt, rows, axis=1)  # a new C-ordered (p, n_fold) array
    fold_design = StandardisedDesign.build(fold_x, sub.weights, options["standardize"])
    make = options.get("extension_for")
    extension = None if make is None else make(sub, rows)
    result: PathResult = fit_path(
        sub, fold_design, lambdas=lambdas, extension=extension, **path_options(options)
    )
    return result.coefs / fold_design.scale


def path_options(options: dict) -> dict:
    """The estimator's options that ``fit_path`` takes."""
    keep = ("efron", "alpha", "penalty_factor", "n_lambdas", "lambda_min_ratio", "tol", "max_outer")
    return {k: options[k] for k in keep}


def coef_at(lambdas: np.ndarray, coefs: np.ndarray, value: float) -> np.ndarray:
    """Coefficients at ``value`` by linear interpolation in lambda between the
    two neighbouring path points (glmnet's ``lambda.interp``); beyond the ends,
    the end point (lambdas are decreasing)."""
    if value >= lambdas[0]:
        return coefs[0].copy()
    if value <= lambdas[-1]:
        return coefs[-1].copy()
    k = int(np.searchsorted(-lambdas, -value))  # lambdas[k-1] > value >= lambdas[k]
    if lambdas[k] == value:
        return coefs[k].copy()
    lo, hi = lambdas[k], lambdas[k - 1]
    frac = (value - lo) / (hi - lo)
    return frac * coefs[k - 1] + (1 - frac) * coefs[k]
