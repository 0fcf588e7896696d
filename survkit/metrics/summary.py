"""Per-organ prediction performance for the report ("How well do the models predict?").

One cause-specific Cox model per event type (``CauseSpecificCox``) predicts every
patient's absolute risk of relapse in each organ; this module scores those
predictions at each horizon -- AUC, Brier score and IPA, apparent (fitted and
scored on the same data) and cross-validated (out-of-fold predictions, refit
per fold) -- and the calibration of the cross-validated predictions, ready for
a table and ``survkit.plots.plot_calibration``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import KFold

from ..data.outcome import outcome
from ..models.cause_specific import CauseSpecificCox
from .auc import time_dependent_auc
from .brier import brier_score
from .calibration import CalibrationResult, calibration

__all__ = ["PredictionPerformance", "prediction_performance"]


@dataclass(frozen=True)
class PredictionPerformance:
    """``table``: cause, time, estimate ("apparent" / "cross-validated"), auc, auc_se,
    brier, brier_se, ipa. ``calibration``: cause -> CalibrationResult of the
    cross-validated predictions at ``calibration_time``."""

    table: pd.DataFrame
    calibration: dict
    calibration_time: float


def _profile(model: CauseSpecificCox, df: pd.DataFrame, times, causes) -> dict:
    profile = model.predict_risk_profile(df, times)
    return {c: profile[c].to_numpy().T for c in causes}


def _score(y, risk, times, cause, censor_value, label) -> pd.DataFrame:
    auc = time_dependent_auc(y, risk, times, cause, censor_value)
    brier = brier_score(y, risk, times, cause, censor_value)
    return pd.DataFrame(
        {
            "cause": cause,
            "time": auc.index.to_numpy(),
            "estimate": label,
            "auc": auc["auc"].to_numpy(),
            "auc_se": auc["se"].to_numpy(),
            "brier": brier["brier"].to_numpy(),
            "brier_se": brier["se"].to_numpy(),
            "ipa": brier["ipa"].to_numpy(),
        }
    )


def prediction_performance(
    df: pd.DataFrame,
    duration_col: str,
    event_col: str,
    formula,
    horizons,
    causes: list | None = None,
    censor_value: object = 0,
    n_folds: int = 5,
    seed: int = 0,
    calibration_time: float | None = None,
    n_groups: int = 10,
) -> PredictionPerformance:
    """Score ``CauseSpecificCox(formula)`` per cause at each horizon, apparent and
    cross-validated (``n_folds`` shuffled folds from ``seed``; ``n_folds=0`` skips
    cross-validation and calibrates the apparent predictions).

    ``causes``: the event codes to report (default every non-censoring code);
    ``calibration_time``: the horizon of the calibration results (default the
    middle horizon).
    """
    horizons = np.sort(np.atleast_1d(np.asarray(horizons, dtype=float)))
    y = outcome(df, duration_col, event_col)
    model = CauseSpecificCox().fit(
        df, duration_col, event_col, formula=formula, censor_value=censor_value
    )
    causes = list(model.causes_) if causes is None else list(causes)
    missing = [c for c in causes if c not in model.causes_]
    if missing:
        raise ValueError(
            f"causes {missing} do not occur in {event_col!r}; present: {list(model.causes_)}."
        )
    apparent = _profile(model, df, horizons, causes)
    tables = [_score(y, apparent[c], horizons, c, censor_value, "apparent") for c in causes]
    chosen = predictions = apparent
    if n_folds:
        rows = df.reset_index(drop=True)
        predictions = {c: np.full((len(df), horizons.size), np.nan) for c in causes}
        folds = KFold(int(n_folds), shuffle=True, random_state=seed)
        for train, test in folds.split(rows):
            fold_model = CauseSpecificCox().fit(
                rows.iloc[train],
                duration_col,
                event_col,
                formula=formula,
                censor_value=censor_value,
            )
            for c, risk in _profile(fold_model, rows.iloc[test], horizons, causes).items():
                predictions[c][test] = risk
        tables += [
            _score(y, predictions[c], horizons, c, censor_value, "cross-validated") for c in causes
        ]
        chosen = predictions
    t_cal = float(horizons[horizons.size // 2]) if calibration_time is None else calibration_time
    j = int(np.argmin(np.abs(horizons - t_cal)))
    if not np.isclose(horizons[j], t_cal):
        raise ValueError(f"calibration_time={t_cal!r} is not one of the horizons {horizons}.")
    cal: dict[object, CalibrationResult] = {
        c: calibration(
            y, chosen[c][:, j], t_cal, cause=c, censor_value=censor_value, n_groups=n_groups
        )
        for c in causes
    }
    table = pd.concat(tables, ignore_index=True)
    return PredictionPerformance(table, cal, t_cal)
