"""Apparent and cross-validated prediction performance, refitting with scikit-learn splitters.

Each fold refits a clone of the estimator on the training rows and predicts
the absolute risk of the cause by each time for the held-out rows. The result
holds the metrics per fold and, "pooled", the metrics of all out-of-fold
predictions together (each subject predicted by the model that did not see
it). ``cv`` is a scikit-learn splitter or a number of folds (then
``KFold(shuffle=True, random_state=seed)``): the same seed gives the same
folds and the same numbers.

Works with both forms of the estimators: scikit-learn's (``X``, ``y``) and
the DataFrame form (``X`` a DataFrame, ``y=None``, ``fit_kwargs`` naming the
duration and event columns and the formula).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import KFold

from ..data.outcome import outcome
from ..models.sklearn_api import covariate_frame
from .auc import time_dependent_auc
from .brier import brier_score

__all__ = ["CrossValidationResult", "cross_validate", "predict_risk"]


@dataclass(frozen=True)
class CrossValidationResult:
    """``folds``: fold, time, auc, brier, ipa per fold; ``pooled``: auc, se, brier, se,
    ipa of the out-of-fold predictions; ``risk``: those predictions (n x times)."""

    folds: pd.DataFrame
    pooled: pd.DataFrame
    risk: np.ndarray


def predict_risk(model, X, times, cause: object = None) -> np.ndarray:
    """Predicted absolute risk of ``cause`` by each time: an (n rows, len(times)) array.

    CoxPH: 1 - S(t | x); FineGray and CauseSpecificCox: the cumulative incidence.
    """
    frame = covariate_frame(model, X)
    times = np.asarray(times, dtype=float)
    if hasattr(model, "predict_survival"):
        return 1.0 - model.predict_survival(frame, times).to_numpy().T
    if hasattr(model, "causes_"):  # CauseSpecificCox
        chosen = cause if cause is not None else getattr(model, "cause", None)
        return model.predict_cumulative_incidence(frame, times, cause=chosen).to_numpy().T
    if hasattr(model, "predict_cumulative_incidence"):
        return model.predict_cumulative_incidence(frame, times).to_numpy().T
    raise ValueError(
        f"{type(model).__name__} cannot predict absolute risks; use CoxPH, FineGray or "
        "CauseSpecificCox."
    )


def _outcome_of(X, y, fit_kwargs):
    if y is not None:
        return y
    if not isinstance(X, pd.DataFrame):
        raise ValueError("without y, X must be the DataFrame with the outcome columns.")
    duration = fit_kwargs.get("duration_col", "time")
    event = fit_kwargs.get("event_col", "status")
    return outcome(X, duration, event)


def _take(X, rows):
    return X.iloc[rows] if isinstance(X, pd.DataFrame) else np.asarray(X)[rows]


def cross_validate(
    estimator,
    X,
    y=None,
    times=None,
    cause: object = None,
    censor_value: object = 0,
    cv=5,
    seed: int | None = 0,
    fit_kwargs: dict | None = None,
) -> CrossValidationResult:
    """Cross-validated AUC, Brier score and IPA of ``estimator`` at ``times``.

    ``cause``: the event of interest (competing risks); ``fit_kwargs`` go to
    every ``fit`` (e.g. ``cause=`` for FineGray, or ``duration_col``,
    ``event_col``, ``formula`` in the DataFrame form).
    """
    fit_kwargs = dict(fit_kwargs or {})
    y_all = _outcome_of(X, y, fit_kwargs)
    if times is None:
        raise ValueError("times is required: the horizons at which to assess the predictions.")
    times = np.atleast_1d(np.asarray(times, dtype=float))
    if isinstance(cv, (int, np.integer)):
        if seed is None:
            raise ValueError("seed=None with a number of folds: pass a seed (shuffled folds).")
        cv = KFold(int(cv), shuffle=True, random_state=seed)
    n = len(y_all)
    risk = np.full((n, times.size), np.nan)
    rows = []
    for k, (train, test) in enumerate(cv.split(np.zeros((n, 1)))):
        model = clone(estimator)
        if y is None:
            model.fit(_take(X, train), **fit_kwargs)
        else:
            model.fit(_take(X, train), y_all[train], **fit_kwargs)
        risk[test] = predict_risk(model, _take(X, test), times, cause)
        auc = time_dependent_auc(
            y_all[test], risk[test], times, cause, censor_value, conservative=True
        )
        brier = brier_score(y_all[test], risk[test], times, cause, censor_value, conservative=True)
        for j, t in enumerate(times):
            rows.append(
                (k + 1, t, auc["auc"].iloc[j], brier["brier"].iloc[j], brier["ipa"].iloc[j])
            )
    if np.isnan(risk).any():
        raise ValueError(
            "the splitter left some rows out of every test fold; use a partition "
            "(KFold, StratifiedKFold, ...)."
        )
    folds = pd.DataFrame(rows, columns=["fold", "time", "auc", "brier", "ipa"])
    auc = time_dependent_auc(y_all, risk, times, cause, censor_value)
    brier = brier_score(y_all, risk, times, cause, censor_value)
    pooled = pd.DataFrame(
        {
            "auc": auc["auc"],
            "auc_se": auc["se"],
            "brier": brier["brier"],
            "brier_se": brier["se"],
            "ipa": brier["ipa"],
        }
    )
    return CrossValidationResult(folds, pooled, risk)
