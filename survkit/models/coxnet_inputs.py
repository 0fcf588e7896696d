"""Inputs of ``CoxNet`` that are not a DataFrame: scikit-learn's (X, y) and penalty factors.

``outcome_frame`` reads a scikit-learn outcome ``y`` with the project's shared
parser (``survkit.data.outcome``), as every other estimator does.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..data.outcome import read_outcome

__all__ = ["outcome_frame", "penalty_factors"]

_TIME, _EVENT = "__time__", "__event__"


def outcome_frame(X, y, names: list[str] | None = None) -> tuple[pd.DataFrame, dict]:
    """A DataFrame of covariates (plus time and event columns when ``y`` is given).

    ``X``: DataFrame or 2-d array (columns ``x0, x1, ...`` or ``names``).
    ``y``: a structured (event, time) array (``survkit.outcome``, scikit-survival's
    ``Surv.from_arrays``) or a two-column DataFrame (event, time). Returns the
    frame and the names of its ``"covariates"`` (and ``"time"``/``"event"``
    columns), with ``"values"`` the covariates as one float array when ``X`` is
    an array (``read_survival_data``'s ``covariate_values``), else None.
    """
    if isinstance(X, pd.DataFrame):
        frame = X.copy()
        frame.columns = [str(c) for c in frame.columns]
    else:
        arr = np.asarray(X, dtype=float)
        if arr.ndim != 2:
            raise ValueError(f"X must be 2-dimensional (rows x covariates), got {arr.ndim} dim(s).")
        cols = names if names is not None else [f"x{j}" for j in range(arr.shape[1])]
        if len(cols) != arr.shape[1]:
            raise ValueError(f"X has {arr.shape[1]} columns; the model was fitted on {len(cols)}.")
        frame = pd.DataFrame(arr, columns=cols)
    covariates = list(frame.columns)
    # an array's values go to the reader as they are: pandas would copy them
    # again to select the covariate columns back out of the frame
    values = None if isinstance(X, pd.DataFrame) else arr
    if y is None:
        return frame, {"covariates": covariates, "values": values}
    for c in (_TIME, _EVENT):
        if c in frame.columns:
            raise ValueError(f"X has a column named {c!r}, reserved for the outcome; rename it.")
    time, event = _read_outcome(y)
    if time.shape[0] != len(frame):
        raise ValueError(f"y has {time.shape[0]} rows but X has {len(frame)}; they must match.")
    frame[_TIME] = time
    frame[_EVENT] = event
    return frame, {"time": _TIME, "event": _EVENT, "covariates": covariates, "values": values}


def _read_outcome(y) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's ``y`` through the shared parser (``survkit.outcome``'s forms)."""
    read = read_outcome(y)
    event = read.event.astype(np.int64) if read.boolean else read.event
    return read.time.astype(float), event


def penalty_factors(penalty_factor, names: list[str]) -> np.ndarray:
    """glmnet's ``penalty.factor``: one value >= 0 per covariate (a dict by name,
    missing names 1, or a sequence), rescaled to sum to the number of covariates."""
    p = len(names)
    if penalty_factor is None:
        return np.ones(p)
    if isinstance(penalty_factor, dict):
        unknown = [k for k in penalty_factor if k not in names]
        if unknown:
            raise ValueError(
                f"penalty_factor names {unknown} that are not covariates; covariates: {names}."
            )
        pf = np.array([float(penalty_factor.get(nm, 1.0)) for nm in names])
    else:
        pf = np.asarray(penalty_factor, dtype=float).ravel()
        if pf.shape[0] != p:
            raise ValueError(f"penalty_factor has {pf.shape[0]} values for {p} covariates.")
    if not np.all(np.isfinite(pf)) or np.any(pf < 0):
        raise ValueError("penalty_factor values must be finite and >= 0.")
    if not np.any(pf > 0):
        raise ValueError(
            "penalty_factor is 0 for every covariate: nothing is penalised; use CoxPH instead."
        )
    return pf * p / pf.sum()
