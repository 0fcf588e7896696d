"""Cross-validation of lambda for ``CoxNet``, as R's ``cv.glmnet(family = "cox")``.

Folds come from any scikit-learn splitter (``KFold``, ``StratifiedKFold`` on
the event indicator, ``PredefinedSplit`` for R's ``foldid``); each fold's path
is fitted on the full fit's lambdas. Two measures:

- ``"deviance"``: Verweij & van Houwelingen's cross-validated partial
  likelihood, glmnet's grouped form: for fold k, the deviance of all rows at
  the fold's coefficients minus that of the training rows, divided by the
  fold's weighted number of events.
- ``"C"``: Harrell's concordance of the held-out linear predictor (computed
  within strata when the model has strata); for ``FineGrayNet``, Wolbers'
  competing-risks concordance of the held-out rows (every event of interest
  a case, the censoring Kaplan-Meier of those rows), which does not count a
  competing event as censored.

Both are averaged over folds with glmnet's weights (events per fold for the
deviance, total weight per fold for C), with the standard error
sqrt(weighted variance / (K - 1)); ``lambda_min`` optimises the mean and
``lambda_1se`` is the largest lambda within one standard error of it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import KFold

from ..engine.concordance import concordance_index
from ..engine.elastic_net import StandardisedDesign
from ..engine.risk_set import RiskSetProblem
from .coxnet_path import fold_path, path_deviance, subproblem

__all__ = ["CVResult", "cross_validate_lambda", "make_folds", "summarise_folds"]

MEASURES = ("deviance", "C")


@dataclass
class CVResult:
    table: pd.DataFrame  # lambda, mean, se, upper, lower, n_nonzero
    fold_values: np.ndarray  # (n_folds, n_lambdas), the per-fold measure
    fold_weights: np.ndarray
    lambda_min: float
    lambda_1se: float


def make_folds(cv, n: int, status: np.ndarray, seed: int | None) -> list:
    """(train, test) position arrays in the caller's row order from ``cv``: an
    int (``KFold(cv, shuffle=True, random_state=seed)``) or any splitter with
    ``split(X, y)`` (``y`` is the event indicator, for ``StratifiedKFold``)."""
    if isinstance(cv, (int, np.integer)) and not isinstance(cv, bool):
        if cv < 2:
            raise ValueError(f"cv={cv} folds; cross-validation needs at least 2.")
        if cv > n:
            raise ValueError(f"cv={cv} folds but only {n} rows; use at most {n} folds.")
        cv = KFold(int(cv), shuffle=True, random_state=seed)
    if not hasattr(cv, "split"):
        raise ValueError(
            f"cv={cv!r} is neither a number of folds nor a scikit-learn splitter "
            "(an object with a split(X, y) method)."
        )
    folds = [(np.asarray(tr), np.asarray(te)) for tr, te in cv.split(np.zeros((n, 1)), status)]
    if len(folds) < 2:
        raise ValueError(f"the splitter gave {len(folds)} fold(s); at least 2 are needed.")
    return folds


def cross_validate_lambda(
    problem: RiskSetProblem,
    design: StandardisedDesign,
    lambdas: np.ndarray,
    n_nonzero: np.ndarray,
    folds: list,
    measure: str,
    options: dict,
) -> CVResult:
    """``folds`` hold positions in the problem's sorted order. With
    ``options["extension_for"]`` (Fine-Gray) each row subset gets its own
    risk-set extension (its censoring weights re-estimated on those rows)."""
    efron = options["efron"]
    make = options.get("extension_for")
    concordance_for = options.get("concordance_for")

    def extension(sub, rows):
        return None if make is None else make(sub, rows)

    K, L = len(folds), lambdas.shape[0]
    values = np.empty((K, L))
    weights = np.empty(K)
    for i, (train, test) in enumerate(folds):
        b = fold_path(problem, design, train, lambdas, options)  # (L, p)
        if measure == "deviance":
            lp_all = design.Xt.T @ b.T  # (n, L)
            train_rows = np.sort(train)
            everyone = np.arange(problem.stop.shape[0])
            full = path_deviance(problem, lp_all, efron, extension=extension(problem, everyone))
            sub = subproblem(problem, train_rows)
            minus = path_deviance(
                sub, lp_all[train_rows], efron, extension=extension(sub, train_rows)
            )
            test_rows = np.sort(test)
            weights[i] = float(np.sum(problem.weights[test_rows] * problem.dead[test_rows]))
            if weights[i] == 0:
                raise ValueError(
                    f"cross-validation fold {i + 1} has no events; use fewer folds or "
                    "StratifiedKFold on the event indicator."
                )
            values[i] = (full - minus) / weights[i]
        else:
            test_rows = np.sort(test)
            lp = design.Xt[:, test_rows].T @ b.T
            weights[i] = float(problem.weights[test_rows].sum())
            if concordance_for is None:
                held = subproblem(problem, test_rows)
                values[i] = [
                    concordance_index(held, np.ascontiguousarray(lp[:, k])) for k in range(L)
                ]
            else:
                score = concordance_for(test_rows)  # the fold's setup, once for all lambdas
                values[i] = [score(lp[:, k]) for k in range(L)]
            if not np.all(np.isfinite(values[i])):
                raise ValueError(
                    f"cross-validation fold {i + 1} has no comparable pairs among its held-out "
                    "rows (no events of interest); use fewer folds or StratifiedKFold on the "
                    "event indicator."
                )
    return summarise_folds(values, weights, lambdas, n_nonzero, measure)


def summarise_folds(values, weights, lambdas, n_nonzero, measure: str) -> CVResult:
    """cv.glmnet's ``cvstats`` and ``getOptcv.glmnet`` on per-fold values (folds x lambdas)."""
    K = values.shape[0]
    mean = weights @ values / weights.sum()
    se = np.sqrt((weights @ (values - mean) ** 2) / weights.sum() / (K - 1))
    table = pd.DataFrame(
        {
            "lambda": lambdas,
            "mean": mean,
            "se": se,
            "upper": mean + se,
            "lower": mean - se,
            "n_nonzero": n_nonzero,
        }
    )
    lam_min, lam_1se = _select(lambdas, mean, se, higher_is_better=measure == "C")
    return CVResult(table, values, weights, lam_min, lam_1se)


def _select(lambdas, mean, se, higher_is_better):
    """glmnet's ``getOptcv.glmnet``: the largest lambda at the optimum, and the
    largest lambda whose mean is within one standard error of it."""
    m = -mean if higher_is_better else mean
    ok = np.isfinite(m)
    best = np.nanmin(m[ok])
    i_min = int(np.argmax(np.where(ok, m <= best, False)))
    bound = m[i_min] + se[i_min]
    i_1se = int(np.argmax(np.where(ok, m <= bound, False)))
    return float(lambdas[i_min]), float(lambdas[i_1se])
