"""How well do predictions predict? Discrimination, accuracy and calibration.

Concordance (Harrell, Uno, Wolbers), time-dependent AUC, Brier score and IPA,
calibration, and their cross-validated versions; for a single event and for
competing risks, with Kaplan-Meier (or Cox model) censoring weights, as
``riskRegression::Score``; and their population values when the true risks
are known (``population_performance``, for simulations). Layer 3: imports
data, engine, models and nonparametric.
"""

from .auc import time_dependent_auc
from .brier import brier_score, integrated_brier_score
from .calibration import CalibrationResult, calibration, calibration_coefficients
from .concordance import concordance_index, concordance_index_ipcw
from .cross_validation import CrossValidationResult, cross_validate, predict_risk
from .population import population_performance
from .summary import PredictionPerformance, prediction_performance
from .wolbers import competing_risks_concordance

__all__ = [
    "CalibrationResult",
    "CrossValidationResult",
    "PredictionPerformance",
    "brier_score",
    "calibration",
    "calibration_coefficients",
    "competing_risks_concordance",
    "concordance_index",
    "concordance_index_ipcw",
    "cross_validate",
    "integrated_brier_score",
    "population_performance",
    "predict_risk",
    "prediction_performance",
    "time_dependent_auc",
]
