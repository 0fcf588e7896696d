"""How well do predictions predict? Discrimination, accuracy and calibration.

Concordance (Harrell, Uno, Wolbers), time-dependent AUC, Brier score and IPA,
calibration, and their cross-validated versions; for a single event and for
competing risks, with Kaplan-Meier censoring weights, as
``riskRegression::Score``. Layer 3: imports data, engine, models and
nonparametric.
"""

from .auc import time_dependent_auc
from .brier import brier_score, integrated_brier_score

__all__ = ["brier_score", "integrated_brier_score", "time_dependent_auc"]
