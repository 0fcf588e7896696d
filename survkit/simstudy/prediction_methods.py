"""The prediction models a prediction-performance study compares, and how each is scored.

Every method is fitted on a replicate's training cohort (all design terms as
``Cohort.truth`` names them, or a chosen few) and predicts the absolute risk
of the study's cause by each horizon for any sample of patients:

``true_risk``
    the generator's exact risk ``Cohort.true_cif`` (no fit): the oracle. Its
    population AUC and Brier score are the best any model can reach.
``cause_specific_cox``
    ``CauseSpecificCox`` on every design term: the form of the generator
    (proportional cause-specific hazards) except where the scenario's effects
    change over time ("double agents"), where it is misspecified.
``fine_gray``
    ``FineGray(cause)`` on every design term: subdistribution hazards, not the
    generator's form.
``misspecified_cox``
    ``CauseSpecificCox`` on ``misspecified_terms`` only (default: age): a model
    that leaves out the prognostic factors.

Each sample is scored with ``survkit.metrics``: ``time_dependent_auc`` and
``brier_score`` (IPCW with Kaplan-Meier weights, influence-function SEs, as
``riskRegression::Score``), the IPA, and ``calibration``'s logistic
recalibration intercept and slope; the reference cohort is scored with
``metrics.population_performance`` (the truth is known, no outcomes needed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..data.outcome import outcome
from ..metrics import (
    brier_score,
    calibration_coefficients,
    population_performance,
    time_dependent_auc,
)
from ..models.cause_specific import CauseSpecificCox
from ..models.fine_gray import FineGray
from .methods import (
    CENSORED,
    FitFailure,
    _attempt,
    _require_converged,
    _require_events,
    _rows,
    analysis_frame,
)

PREDICTION_METHODS = ("true_risk", "cause_specific_cox", "fine_gray", "misspecified_cox")
# what each sample is scored for: (metric, has a standard error)
SAMPLE_METRICS = (
    ("auc", True),
    ("brier", True),
    ("ipa", False),
    ("calibration_intercept", False),
    ("calibration_slope", False),
)


def prediction_id(metric: str, cause: str, time: float, sample: str) -> str:
    """``auc[bone, t=5, validation]``; sample: apparent, validation or population."""
    return f"{metric}[{cause}, t={time:g}, {sample}]"


@dataclass(frozen=True)
class Sample:
    """One set of patients: the analysis frame, its outcome (``survkit.outcome``
    with codes 1 = the study's cause, 2 = any other cause, 0 = censored; None for
    the reference cohort, whose outcomes are not used) and each patient's true
    risk of the cause by every horizon (n x horizons)."""

    frame: pd.DataFrame
    y: np.ndarray | None
    true_risk: np.ndarray


def fit_method(name: str, train: Sample, study, terms) -> Callable[[Sample], np.ndarray]:
    """Fit ``name`` on the training sample; returns sample -> (n, horizons) risks.
    Raises ``FitFailure`` (or a recoverable error) when the fit fails."""
    if name == "true_risk":
        return lambda sample: sample.true_risk
    frame, cause, horizons = train.frame, study.cause, list(study.horizons)
    events = int((frame["event"] == cause).sum())
    _require_events(events, study.min_events, f"{cause} events")
    if name == "fine_gray":
        model = FineGray().fit(
            frame, "time", "event", cause=cause, formula=list(terms), censor_value=CENSORED
        )
        _require_converged(model, f"FineGray for {cause}")
        return lambda s: model.predict_cumulative_incidence(s.frame, horizons).to_numpy().T
    formula = list(study.misspecified_terms) if name == "misspecified_cox" else list(terms)
    model = CauseSpecificCox().fit(frame, "time", "event", formula=formula, censor_value=CENSORED)
    for k, m in model.models_.items():
        _require_converged(m, f"CoxPH for {k}")
    if cause not in model.models_:
        raise FitFailure(f"no {cause} events in the training cohort")
    # predict_risk_profile's chunked kernel: cheap enough for a large reference cohort
    return lambda s: model.predict_cumulative_incidence(s.frame, horizons, cause).to_numpy().T


def sample_rows(sample: Sample, risk: np.ndarray, study, label: str) -> dict:
    """estimand -> (estimate, se or None) on an observed sample (apparent or validation)."""
    horizons = list(study.horizons)
    auc = time_dependent_auc(sample.y, risk, horizons, 1, 0)
    brier = brier_score(sample.y, risk, horizons, 1, 0)
    values = {}
    for j, t in enumerate(horizons):
        intercept, slope = calibration_coefficients(sample.y, risk[:, j], t, 1, 0)
        found = {
            "auc": (auc["auc"].iloc[j], auc["se"].iloc[j]),
            "brier": (brier["brier"].iloc[j], brier["se"].iloc[j]),
            "ipa": (brier["ipa"].iloc[j], None),
            "calibration_intercept": (intercept, None),
            "calibration_slope": (slope, None),
        }
        for metric, value in found.items():
            values[prediction_id(metric, study.cause, t, label)] = value
    return values


def population_rows(reference: Sample, risk: np.ndarray, study) -> dict:
    """estimand -> (population value, None) of the predictions on the reference cohort."""
    values = {}
    for j, t in enumerate(study.horizons):
        found = population_performance(reference.true_risk[:, j], risk[:, j])
        for metric, _ in SAMPLE_METRICS:
            values[prediction_id(metric, study.cause, t, "population")] = (found[metric][0], None)
    return values


def method_rows(name, train, validation, reference, study, terms, misspecified) -> list[tuple]:
    """One method on one replicate: rows (estimand, estimate, se, status, reason,
    misspecified), every row failed with the reason when the fit or a metric fails."""
    targets = [
        (prediction_id(metric, study.cause, t, sample), misspecified)
        for sample in ("apparent", "validation", "population")
        for t in study.horizons
        for metric, _ in SAMPLE_METRICS
    ]

    def run():
        predict = fit_method(name, train, study, terms)
        values = sample_rows(train, predict(train), study, "apparent")
        values.update(sample_rows(validation, predict(validation), study, "validation"))
        values.update(population_rows(reference, predict(reference), study))
        return values

    return _rows(targets, *_attempt(run))


def analysis_sample(cohort, horizons, cause: str, with_outcome: bool = True) -> Sample:
    """The cohort's analysis frame, outcome and true risks of ``cause`` by ``horizons``."""
    frame = analysis_frame(cohort)
    truth = cohort.true_cif(list(horizons), individual=True)[cause]
    true_risk = truth.to_numpy().reshape(len(frame), len(horizons))
    y = None
    if with_outcome:
        event = frame["event"].to_numpy()
        code = np.where(event == cause, 1, np.where(event == CENSORED, 0, 2))
        y = outcome(time=frame["time"].to_numpy(), event=code)
    return Sample(frame, y, true_risk)
