"""Simulation studies of survkit's methods on ``synthetic`` cohorts (ADEMP, Morris et al. 2019).

    from survkit.simstudy import DataGeneratingMechanism, StudyDefinition, run_study
    study = StudyDefinition(
        scenarios=(DataGeneratingMechanism("breast_site_dormancy", n=2000),),
        reps=200, seed=1,
    )
    result = run_study(study, "out/study", workers=2)      # or dask="local"
    result.performance     # bias, empse, mse, modelse, relerror, cover, becover,
                           # rejection, each with its Monte Carlo SE

Modules: ``definition`` (the study, TOML loader, fingerprint), ``estimands``
(truth), ``methods`` (the method registry and failure handling), ``runner``
(seeds, chunks, resumable execution), ``executors`` (serial, joblib, Dask),
``store`` (estimates.parquet), ``performance`` (rsimsum's formulas),
``plots`` (coverage dot plot, zip plot), ``multistate_methods`` (multi-state
studies: ``MultiStateStudy``, ``run_multistate_study``), ``prediction_study`` and
``prediction_methods`` (prediction performance: ``PredictionStudy``,
``run_prediction_study``).
"""

from .definition import DataGeneratingMechanism, EstimandSpec, StudyDefinition, load_study
from .methods import METHODS
from .multistate_methods import MultiStateStudy, run_multistate_study
from .performance import (
    failure_summary,
    nominal_coverage_interval,
    performance,
    performance_measures,
)
from .plots import coverage_plot, zip_plot
from .prediction_study import PredictionStudy, run_prediction_study
from .runner import StudyResult, replicate_seed, run_study, study_estimands
from .store import EstimateStore, StudyMismatchError

__all__ = [
    "METHODS",
    "DataGeneratingMechanism",
    "EstimandSpec",
    "EstimateStore",
    "MultiStateStudy",
    "PredictionStudy",
    "StudyDefinition",
    "StudyMismatchError",
    "StudyResult",
    "coverage_plot",
    "failure_summary",
    "load_study",
    "nominal_coverage_interval",
    "performance",
    "performance_measures",
    "replicate_seed",
    "run_multistate_study",
    "run_prediction_study",
    "run_study",
    "study_estimands",
    "zip_plot",
]
