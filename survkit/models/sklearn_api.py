"""scikit-learn's form for the survival estimators: ``fit(X, y)``, ``predict``, ``score``.

``fit(X, y)`` uses every column of ``X`` (a DataFrame or a 2-D array, no
formula) as a covariate and reads ``y`` with ``survkit.data.outcome``. It is
translated into the DataFrame form -- a copy of X with the outcome in two extra
columns -- so both forms run exactly the same fit. ``predict`` returns a risk
score (higher = earlier event) and ``score`` a concordance or AUC (higher =
better), so ``GridSearchCV`` and ``cross_val_score`` can rank models.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..data.outcome import is_outcome_like, read_outcome
from ..engine.concordance import concordance_counts
from ..engine.ipcw import ipcw_auc
from ..engine.risk_set import RiskSetProblem
from .fit_results import forget_fit

__all__ = [
    "EVENT",
    "TIME",
    "check_horizon",
    "covariate_frame",
    "fit_sklearn_form",
    "harrell_c",
    "horizon_auc",
    "is_outcome_like",
    "refuse_column_options",
    "sklearn_frame",
]

# names of the outcome columns in the frame built from (X, y); X may not use them
TIME = "y_time"
EVENT = "y_event"


def _feature_names(X) -> list[str]:
    """A DataFrame's column names when all are strings (scikit-learn's rule for
    ``feature_names_in_``), else positional names x0, x1, ..."""
    if isinstance(X, pd.DataFrame) and all(isinstance(c, str) for c in X.columns):
        return list(X.columns)
    return [f"x{j}" for j in range(np.shape(X)[1])]


def _as_frame(X, names: list[str]) -> pd.DataFrame:
    if isinstance(X, pd.DataFrame):
        frame = X.copy()
        frame.columns = names
        return frame.reset_index(drop=True)
    arr = np.asarray(X)
    if arr.ndim != 2:
        raise ValueError(
            f"X has {arr.ndim} dimension(s); pass a 2-D array or DataFrame (one row per "
            "subject), e.g. X.reshape(-1, 1) for a single covariate."
        )
    if arr.dtype.kind not in "biuf":
        raise ValueError(
            f"X has dtype {arr.dtype}; the scikit-learn form needs numeric covariates. "
            "Encode categories first (e.g. OneHotEncoder in a Pipeline)."
        )
    return pd.DataFrame(arr, columns=names)


def sklearn_frame(estimator, X, y) -> tuple[pd.DataFrame, list[str], str]:
    """(frame, covariate names, event column) for ``fit(X, y)``; sets the
    estimator's ``n_features_in_`` and (for DataFrames) ``feature_names_in_``.

    Boolean events become 0/1; other codes are kept for competing risks.
    """
    names = _feature_names(X)
    if len(names) == 0:
        raise ValueError("X has 0 columns; pass at least one covariate.")
    clash = [c for c in (TIME, EVENT) if c in names]
    if clash:
        raise ValueError(
            f"X has column(s) {clash}, names the scikit-learn form reserves for the "
            "outcome; rename them."
        )
    if len(set(names)) != len(names):
        raise ValueError("X has duplicated column names; give every column its own name.")
    frame = _as_frame(X, names)
    bad = [c for c in names if not pd.api.types.is_numeric_dtype(frame[c])]
    if bad:
        raise ValueError(
            f"X has {len(bad)} non-numeric column(s) {bad[:5]}; the scikit-learn form uses "
            "every column as a numeric covariate. Encode them first (OneHotEncoder), or "
            "use fit(df, duration_col, event_col, formula='C(col)')."
        )
    out = read_outcome(y)
    if out.time.shape[0] != frame.shape[0]:
        raise ValueError(
            f"X has {frame.shape[0]} rows but y has {out.time.shape[0]}; pass one outcome "
            "per row of X."
        )
    frame[TIME] = out.time
    frame[EVENT] = out.event.astype(np.int64) if out.boolean else out.event
    estimator.n_features_in_ = len(names)
    if isinstance(X, pd.DataFrame) and all(isinstance(c, str) for c in X.columns):
        estimator.feature_names_in_ = np.asarray(names, dtype=object)
    return frame, names, EVENT


def refuse_column_options(**given) -> None:
    """The DataFrame form's column options have no meaning with (X, y): refuse them
    instead of ignoring them."""
    used = sorted(k for k, v in given.items() if v not in (None, False))
    if used:
        raise ValueError(
            f"{', '.join(used)} given with fit(X, y); in scikit-learn's form every column "
            "of X is a covariate. Use fit(df, duration_col, event_col, ...) for formulas, "
            "strata, weights, entry times, offsets or clusters."
        )


def fit_sklearn_form(estimator, X, y, **fit_kwargs):
    """Fit ``estimator`` on (X, y) through its DataFrame form; returns the estimator."""
    forget_fit(estimator)
    frame, names, event = sklearn_frame(estimator, X, y)
    keep = {
        k: getattr(estimator, k)
        for k in ("n_features_in_", "feature_names_in_")
        if hasattr(estimator, k)
    }
    # names go in as a list of columns, never as formula text
    estimator.fit(frame, TIME, event, formula=names, **fit_kwargs)
    estimator.__dict__.update(keep)  # the DataFrame fit forgot them
    return estimator


def covariate_frame(estimator, X) -> pd.DataFrame:
    """X as the DataFrame the fitted model predicts from.

    A model fitted with ``fit(X, y)`` takes the same columns (a DataFrame is
    matched by name when it was fitted on one, else by position); a model
    fitted on a DataFrame takes a DataFrame with the formula's columns.
    """
    if not hasattr(estimator, "n_features_in_"):
        if not isinstance(X, pd.DataFrame):
            raise ValueError(
                "this model was fitted on a DataFrame with a formula; pass a DataFrame "
                "with the same columns to predict."
            )
        return X
    names = _feature_names(X)
    fitted = getattr(estimator, "feature_names_in_", None)
    if len(names) != estimator.n_features_in_:
        raise ValueError(
            f"X has {len(names)} columns but the model was fitted on "
            f"{estimator.n_features_in_}; pass the same covariates."
        )
    if fitted is not None and isinstance(X, pd.DataFrame):
        missing = [c for c in fitted if c not in names]
        if missing:
            raise ValueError(f"X lacks the fitted column(s) {missing[:5]}; pass the same columns.")
        return _as_frame(X[list(fitted)], list(fitted))
    names = list(fitted) if fitted is not None else [f"x{j}" for j in range(len(names))]
    return _as_frame(X, names)


def harrell_c(y, risk: np.ndarray, cause: object = None, censor_value: object = 0) -> float:
    """Harrell's C of ``risk`` against ``y`` (other causes censored), via the engine's scan."""
    out = read_outcome(y)
    if out.boolean:
        status = out.event.astype(np.int8)
    else:
        status = out.coding(cause, censor_value).status
    problem = RiskSetProblem.build(np.zeros((out.time.shape[0], 0)), out.time, status)
    return concordance_counts(problem, np.asarray(risk, dtype=float)[problem.order]).concordance


def horizon_auc(y, risk: np.ndarray, horizon: float, cause: object, censor_value: object) -> float:
    """Time-dependent AUC of ``risk`` for ``cause`` at ``horizon`` (Kaplan-Meier weights)."""
    out = read_outcome(y)
    if out.boolean:
        cause_index, k = out.event.astype(np.int64), 1
    else:
        coding = out.coding(True, censor_value)
        cause_index, k = coding.cause_index, coding.index_of(cause, "event")
    return ipcw_auc(out.time, cause_index, np.asarray(risk, dtype=float), horizon, k)


def check_horizon(estimator) -> float:
    horizon = getattr(estimator, "horizon", None)
    if horizon is None or not np.isfinite(horizon) or horizon <= 0:
        raise ValueError(
            f"horizon={horizon!r}: predict and score of {type(estimator).__name__} give the "
            "absolute risk by a time; set horizon= (a positive time) on the estimator."
        )
    return float(horizon)
