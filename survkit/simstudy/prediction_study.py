"""Simulation studies of prediction performance: discrimination, accuracy and calibration.

    from survkit.simstudy import PredictionStudy, run_prediction_study
    study = PredictionStudy(cause="bone", horizons=(3.0, 8.0), n=2000, reps=200, seed=1)
    result = run_prediction_study(study, "out/prediction", workers=2)
    result.performance   # optimism, bias and coverage per method, metric and horizon

Replicate r simulates a training cohort of ``n`` patients (spawn key (0, r),
as the first-relapse harness's mechanism 0) and an independent validation
cohort of ``n_validation`` (spawn key (1, r)); a reference cohort of
``reference_n`` patients (key (0, 2**32), as ``estimands.reference_seed``)
stands for the population. Each method (``prediction_methods``) is fitted on
the training cohort and scored at every horizon three ways:

``apparent``
    AUC, Brier score, IPA, calibration intercept and slope on the training
    cohort itself (the usual optimistic estimate);
``validation``
    the same on the validation cohort, with the influence-function standard
    errors of AUC and Brier score;
``population``
    the fitted model's true performance: ``metrics.population_performance``
    of its predictions on the reference cohort, given every reference
    patient's true risk (outcomes integrated out).

Estimands, and what ``performance`` reports for each (one row per method,
metric, horizon and comparison):

* apparent vs population, validation vs population: the estimand is the
  population value of *this replicate's fitted model* (it changes from
  replicate to replicate). ``bias`` is the mean of estimate - population value
  (for the apparent estimate: the optimism), ``empse`` the SD of that
  difference, and ``cover`` the share of replicates whose Wald interval
  (estimate +- z se, clipped as Score's) contains that replicate's population
  value: the coverage of the AUC and Brier intervals for the fitted model's
  performance in the population, conditional on the training data. The IPA and
  the calibration coefficients have no standard error: bias only.
* population vs oracle: the mean population value of the fitted model against
  the true risk's population value (``estimands``: the oracle AUC, Brier, IPA,
  intercept 0 and slope 1 with their Monte Carlo errors from the reference
  cohort); the price of estimating the model (and of misspecifying it).

The reference cohort's finite size adds Monte Carlo error to every population
value (reported as the oracle's ``true_value_mcse``); with ``reference_n`` at
least 25 times ``n_validation`` it is under a fifth of the validation SE and
lowers a 95 % coverage by at most about 0.002.

Seeds, chunks, the resumable store and bit-identical serial/joblib results are
the first-relapse harness's (``runner``, ``store``, ``executors``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from synthetic import DEFAULT_SCENARIO, simulate_cohort
from synthetic.truth import truth_table

from ..metrics import population_performance
from .definition import HARNESS_VERSION, DataGeneratingMechanism
from .estimands import COLUMNS as ESTIMAND_COLUMNS
from .estimands import check_before_study_end, reference_seed
from .performance import performance_measures
from .prediction_methods import (
    PREDICTION_METHODS,
    SAMPLE_METRICS,
    analysis_sample,
    method_rows,
    prediction_id,
)
from .runner import _ONE_CHUNK_AT_A_TIME, ChunkTask, StudyResult, replicate_seed
from .single_mechanism import run_single_mechanism
from .store import COLUMNS as ESTIMATE_COLUMNS

COMPARISONS = (("apparent", "population"), ("validation", "population"), ("population", "oracle"))
_SAMPLES = ("apparent", "validation", "population", "oracle")
# measures that mean something for a difference estimate - target (not becover, rejection)
_MEASURES = ("bias", "empse", "mse", "modelse", "relerror", "cover")


def validation_seed(seed: int, rep: int) -> np.random.SeedSequence:
    return np.random.SeedSequence(seed, spawn_key=(1, rep))


@dataclass(frozen=True)
class PredictionStudy:
    """A prediction-performance study of one scenario (see the module docstring).

    ``cause``: the event of interest (a site or "death"); ``horizons`` in
    years, before the end of follow-up; ``misspecified_terms``: the design
    terms of ``misspecified_cox``; ``min_events``: the fewest training events
    of the cause for a fit to count.
    """

    scenario: str = DEFAULT_SCENARIO
    cause: str = "bone"
    horizons: tuple[float, ...] = (3.0, 8.0)
    n: int = 2000
    n_validation: int = 2000
    reps: int = 100
    seed: int = 1
    methods: tuple[str, ...] = PREDICTION_METHODS
    misspecified_terms: tuple[str, ...] = ("age",)
    min_events: int = 10
    reference_n: int = 50_000
    level: float = 0.95
    chunk_size: int | None = None

    def __post_init__(self):
        def fail(key, fix):
            raise ValueError(f"PredictionStudy: {key} = {getattr(self, key)!r} is not valid; {fix}")

        for key in ("n", "n_validation", "reps", "reference_n"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                fail(key, "give a positive integer")
        for key in ("seed", "min_events"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                fail(key, "give a non-negative integer")
        size = self.chunk_size
        if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 1):
            fail("chunk_size", "give a positive integer or None")
        if not isinstance(self.level, float | int) or not 0 < self.level < 1:
            fail("level", "give e.g. 0.95")
        methods = (self.methods,) if isinstance(self.methods, str) else tuple(self.methods)
        unknown = [m for m in methods if m not in PREDICTION_METHODS]
        if not methods or unknown or len(set(methods)) != len(methods):
            fail("methods", f"name each of {list(PREDICTION_METHODS)} at most once")
        times = (self.horizons,) if isinstance(self.horizons, int | float) else self.horizons
        times = tuple(times)
        bad = [t for t in times if isinstance(t, bool) or not math.isfinite(t) or t <= 0]
        if not times or bad or len(set(times)) != len(times):
            fail("horizons", "give distinct positive times in years")
        terms = self.misspecified_terms
        terms = (terms,) if isinstance(terms, str) else tuple(terms)
        if not terms or not all(isinstance(t, str) and t for t in terms):
            fail("misspecified_terms", 'give design term names, e.g. ("age",)')
        object.__setattr__(self, "methods", methods)
        object.__setattr__(self, "horizons", tuple(sorted(float(t) for t in times)))
        object.__setattr__(self, "misspecified_terms", terms)

    @property
    def label(self) -> str:
        return f"{Path(str(self.scenario)).stem}-n{self.n}-v{self.n_validation}"

    def mechanism(self) -> DataGeneratingMechanism:
        return DataGeneratingMechanism(self.scenario, self.n)

    def identity(self) -> dict:
        """What the estimates and the truth depend on (``reps``, ``level`` and
        ``chunk_size`` are left out, as in ``StudyDefinition``)."""
        fields = dataclasses.asdict(self)
        for key in ("reps", "level", "chunk_size"):
            fields.pop(key)
        contents = self.mechanism().scenario_table("PredictionStudy")
        fields["contents"] = json.dumps(contents, allow_nan=False)
        return {"harness_version": HARNESS_VERSION, "kind": "prediction", **fields}

    def fingerprint(self) -> str:
        text = json.dumps(self.identity(), sort_keys=True, allow_nan=False)
        return hashlib.sha256(text.encode()).hexdigest()

    def load(self):
        """The scenario, after checking cause, horizons and terms against it."""
        scenario = self.mechanism().load("PredictionStudy")
        if self.cause not in scenario.cause_names:
            raise ValueError(
                f"PredictionStudy: cause = {self.cause!r} is not a cause of scenario "
                f"{scenario.name!r}; use one of {list(scenario.cause_names)}"
            )
        check_before_study_end("PredictionStudy", "horizons", self.horizons, scenario)
        unknown = [t for t in self.misspecified_terms if t not in scenario.design_terms]
        if unknown:
            raise ValueError(
                f"PredictionStudy: misspecified_terms {unknown} are not design terms of "
                f"scenario {scenario.name!r}; use some of {list(scenario.design_terms)}"
            )
        return scenario


def misspecified_flags(scenario) -> dict[str, bool]:
    """Whether each method's form can equal the true risk (the ``misspecified`` column):
    the cause-specific Cox form is right unless some effect changes over time."""
    truth = truth_table(scenario)
    piecewise = bool((truth.groupby(["site", "covariate"]).size() > 1).any())
    return {
        "true_risk": False,
        "cause_specific_cox": piecewise,
        "fine_gray": True,
        "misspecified_cox": True,
    }


# Reference cohort (with true risks) per fingerprint, kept by each worker process.
_REFERENCE: dict = {}


def _reference(study: PredictionStudy, scenario, fingerprint: str):
    if fingerprint not in _REFERENCE:
        cohort = simulate_cohort(scenario, study.reference_n, reference_seed(study.seed, 0))
        if len(_REFERENCE) >= 2:
            _REFERENCE.clear()
        _REFERENCE[fingerprint] = analysis_sample(
            cohort, study.horizons, study.cause, with_outcome=False
        )
    return _REFERENCE[fingerprint]


def run_prediction_chunk(context, task: ChunkTask):
    """Simulate and score the task's replicates; returns (estimates, timing)."""
    from threadpoolctl import threadpool_limits

    study, scenario, fingerprint = context
    started = time.perf_counter()
    records = []
    with _ONE_CHUNK_AT_A_TIME, threadpool_limits(limits=1):
        reference = _reference(study, scenario, fingerprint)
        flags = misspecified_flags(scenario)
        terms = list(scenario.design_terms)
        for rep in task.reps:
            train_cohort = simulate_cohort(scenario, study.n, replicate_seed(study.seed, 0, rep))
            valid_cohort = simulate_cohort(
                scenario, study.n_validation, validation_seed(study.seed, rep)
            )
            train = analysis_sample(train_cohort, study.horizons, study.cause)
            validation = analysis_sample(valid_cohort, study.horizons, study.cause)
            for method in study.methods:
                rows = method_rows(
                    method, train, validation, reference, study, terms, flags[method]
                )
                records += [(study.label, rep, method, *row) for row in rows]
    estimates = pd.DataFrame.from_records(records, columns=ESTIMATE_COLUMNS)
    estimates["rep"] = estimates["rep"].astype(np.int64)
    return estimates, {"reps": len(task.reps), "total": time.perf_counter() - started}


def oracle_table(study: PredictionStudy, scenario, fingerprint: str) -> pd.DataFrame:
    """The true risk's population value of every metric at every horizon, with its
    Monte Carlo error over the reference cohort (ids ``auc[bone, t=3, oracle]``)."""
    reference = _reference(study, scenario, fingerprint)
    rows = []
    for j, t in enumerate(study.horizons):
        truth = reference.true_risk[:, j]
        values = population_performance(truth, truth)
        for metric, _ in SAMPLE_METRICS:
            value, mcse = values[metric]
            ident = prediction_id(metric, study.cause, t, "oracle")
            rows.append(
                (study.label, ident, metric, study.cause, None, np.nan, np.nan, t, value, mcse)
            )
    return pd.DataFrame(rows, columns=ESTIMAND_COLUMNS)


def prediction_performance_table(
    study: PredictionStudy, estimates: pd.DataFrame, oracle: pd.DataFrame
) -> pd.DataFrame:
    """One row per method, metric, horizon and comparison (``COMPARISONS``): rsimsum's
    measures (``performance_measures``) of estimate - target, with Monte Carlo SEs,
    over the replicates where the method succeeded (see the module docstring for
    each target). ``mean_estimate`` and ``mean_target`` are the two means."""
    truth = oracle.set_index("estimand")["true_value"]
    rows = []
    for method in study.methods:
        mine = estimates[estimates["method"] == method]
        n_reps = int(mine["rep"].nunique())
        ok = mine[mine["status"] == "ok"].set_index("estimand")
        n_failed = n_reps - int(ok["rep"].nunique())
        for t in study.horizons:
            for metric, _ in SAMPLE_METRICS:
                ids = {s: prediction_id(metric, study.cause, t, s) for s in _SAMPLES}
                for sample, target in COMPARISONS:
                    # rows of one method and replicate succeed or fail together
                    est = ok[ok.index == ids[sample]].sort_values("rep")
                    theta = est["estimate"].to_numpy()
                    if target == "oracle":
                        goal = np.full(theta.size, float(truth[ids["oracle"]]))
                    else:
                        goal = ok[ok.index == ids[target]].sort_values("rep")
                        goal = goal["estimate"].to_numpy()
                    found = performance_measures(
                        theta - goal, est["se"].to_numpy(), 0.0, study.level
                    )
                    row = {
                        "dgm": study.label,
                        "method": method,
                        "metric": metric,
                        "cause": study.cause,
                        "time": t,
                        "estimate": sample,
                        "target": target,
                        "n_reps": n_reps,
                        "n_failed": n_failed,
                        "mean_estimate": theta.mean() if theta.size else np.nan,
                        "mean_target": goal.mean() if goal.size else np.nan,
                    }
                    for m in _MEASURES:
                        row[m], row[f"{m}_mcse"] = found[m], found[f"{m}_mcse"]
                    rows.append(row)
    return pd.DataFrame(rows)


def run_prediction_study(
    study: PredictionStudy, out: str | Path, *, workers: int = 1, summarise: bool = True
) -> StudyResult:
    """Run (or resume) ``study`` into ``out`` (serially or on ``workers`` joblib
    processes); with ``summarise`` writes estimands.csv (the oracle values),
    performance.csv and failures.csv."""
    if not isinstance(study, PredictionStudy):
        raise TypeError("study must be a PredictionStudy")
    out = Path(out)
    scenario = study.load()
    fingerprint = study.fingerprint()
    return run_single_mechanism(
        out,
        study,
        "prediction",
        run_prediction_chunk,
        (study, scenario, fingerprint),
        workers,
        (lambda: oracle_table(study, scenario, fingerprint)) if summarise else None,
        lambda estimates, oracle: prediction_performance_table(study, estimates, oracle),
    )
