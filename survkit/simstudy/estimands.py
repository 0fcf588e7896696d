"""Estimands and their true values, from the scenario's known truth.

Three kinds, each with a readable id:

``log_hr[bone, bone_tgfb2_score, 0-inf]``
    cause-specific log hazard ratio of a design term on one piece of its
    piecewise-constant effect (``Cohort.truth``; exact).
``cif[bone, t=5]``
    cumulative incidence of a cause by time t in the population. Truth: the
    average of each patient's exact cumulative incidence (``Cohort.true_cif``,
    quadrature) over a reference cohort of ``reference_n`` patients drawn from
    its own seed stream; ``true_value_mcse`` is the Monte Carlo error of that
    average (sd over a 10,000-patient subsample / sqrt(reference_n)).
``sd_log_hr[bone, age]``
    Fine-Gray subdistribution log hazard ratio. The cohort generator has
    proportional *cause-specific* hazards, so a Fine-Gray model is
    misspecified and has no closed-form truth; the estimand is its least-false
    value, the Fine-Gray fit on the reference cohort (``true_value_mcse`` is
    that fit's standard error). Only computed when the study has
    ``fine_gray``.

The ``Plan`` (which estimands each cause has, and where effects change) is
built from the scenario alone, identically in the driver and in every worker.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from synthetic import Scenario, simulate_cohort
from synthetic.truth import truth_table

from .definition import StudyDefinition
from .estimand_ids import cif_id, log_hr_id, sd_log_hr_id
from .methods import analysis_frame, fit_fine_gray

REFERENCE_KEY = 2**32  # spawn key of the reference cohort; replicate indices stay below it
_CIF_SD_SUBSAMPLE = 10_000
COLUMNS = [
    "dgm",
    "estimand",
    "kind",
    "site",
    "covariate",
    "start",
    "end",
    "time",
    "true_value",
    "true_value_mcse",
]


@dataclass(frozen=True)
class Plan:
    """What to estimate for one mechanism.

    ``log_hr``: site -> ((covariate, ((start, end, id), ...)), ...) for the
    targeted sites and covariates; ``change_points``: site -> every change
    point of that site's effects (all terms, targeted or not, so a split model
    is correctly specified); ``piecewise``: site -> terms with several pieces.
    """

    terms: tuple[str, ...]
    log_hr: dict
    change_points: dict
    piecewise: dict
    pieces: dict  # (site, term) -> ((start, end), ...) for every term of every cause
    cif_causes: tuple[str, ...]
    cif_times: tuple[float, ...]

    @classmethod
    def build(cls, scenario: Scenario, study: StudyDefinition, where: str = "") -> Plan:
        spec = study.estimands
        source = f"{study.source}{where}"
        truth = truth_table(scenario)
        causes = scenario.cause_names
        sites = spec.log_hr_sites if spec.log_hr_sites is not None else scenario.site_names
        covariates = (
            spec.log_hr_covariates if spec.log_hr_covariates is not None else scenario.design_terms
        )
        cif_causes = spec.cif_causes if spec.cif_causes is not None else scenario.site_names
        _check_names(source, "log_hr_sites", sites, causes, scenario)
        _check_names(source, "cif_causes", cif_causes, causes, scenario)
        _check_names(source, "log_hr_covariates", covariates, scenario.design_terms, scenario)
        check_before_study_end(source, "estimands.cif_times", spec.cif_times, scenario)
        pieces = {
            (site, term): tuple(zip(rows["start"], rows["end"], strict=True))
            for (site, term), rows in truth.groupby(["site", "covariate"], sort=False)
        }
        log_hr = {
            site: tuple(
                (
                    term,
                    tuple((s, e, log_hr_id(site, term, s, e)) for s, e in pieces[(site, term)]),
                )
                for term in covariates
            )
            for site in sites
        }
        change_points = {
            cause: tuple(
                sorted(
                    {s for term in scenario.design_terms for s, _ in pieces[(cause, term)] if s > 0}
                )
            )
            for cause in causes
        }
        piecewise = {
            cause: tuple(t for t in scenario.design_terms if len(pieces[(cause, t)]) > 1)
            for cause in causes
        }
        return cls(
            terms=tuple(scenario.design_terms),
            log_hr=log_hr,
            change_points=change_points,
            piecewise=piecewise,
            pieces=pieces,
            cif_causes=tuple(cif_causes),
            cif_times=tuple(spec.cif_times),
        )


def check_before_study_end(source: str, what: str, times, scenario: Scenario) -> None:
    """Times at which a study evaluates the truth must fall before the scenario's
    administrative end of follow-up (nothing is observed after it)."""
    end = scenario.censoring.study_end_years
    late = [t for t in times if t >= end]
    if late:
        raise ValueError(
            f"{source}: {what} {late} are not before the end of follow-up ({end:g} years) "
            f"of scenario {scenario.name!r}; choose earlier times"
        )


def _check_names(source, key, names, allowed, scenario):
    unknown = [name for name in names if name not in allowed]
    if unknown:
        raise ValueError(
            f"{source}: estimands.{key} has {unknown}, not in scenario {scenario.name!r}; "
            f"use some of {list(allowed)}"
        )


def reference_seed(seed: int, mechanism: int) -> np.random.SeedSequence:
    return np.random.SeedSequence(seed, spawn_key=(mechanism, REFERENCE_KEY))


def estimand_table(
    scenario: Scenario,
    plan: Plan,
    study: StudyDefinition,
    mechanism: int,
    fine_gray_sites=(),
) -> pd.DataFrame:
    """Every estimand of one mechanism with its true value (see the module docstring)."""
    label = study.scenarios[mechanism].name
    truth = truth_table(scenario).set_index(["site", "covariate", "start"])["log_hr"]
    rows = []
    for site, entries in plan.log_hr.items():
        for term, pieces in entries:
            for start, end, ident in pieces:
                value = float(truth.loc[(site, term, start)])
                rows.append((label, ident, "log_hr", site, term, start, end, np.nan, value, 0.0))
    reference = simulate_cohort(
        scenario, study.estimands.reference_n, reference_seed(study.seed, mechanism)
    )
    times = list(plan.cif_times)
    if times and plan.cif_causes:
        mean = reference.true_cif(times)
        sub = reference.data.iloc[:_CIF_SD_SUBSAMPLE]
        spread = reference.true_cif(times, sub, individual=True).groupby(level="time").std()
        root_n = np.sqrt(len(reference.data))
        for cause in plan.cif_causes:
            for t in times:
                mcse = float(spread.loc[t, cause]) / root_n
                rows.append(
                    (
                        label,
                        cif_id(cause, t),
                        "cif",
                        cause,
                        None,
                        np.nan,
                        np.nan,
                        t,
                        float(mean.loc[t, cause]),
                        mcse,
                    )
                )
    if fine_gray_sites:
        frame = analysis_frame(reference)
        for site in fine_gray_sites:
            model = fit_fine_gray(frame, plan, site)
            for term, _ in plan.log_hr.get(site, ()):
                rows.append(
                    (
                        label,
                        sd_log_hr_id(site, term),
                        "sd_log_hr",
                        site,
                        term,
                        np.nan,
                        np.nan,
                        np.nan,
                        float(model.params_[term]),
                        float(model.standard_errors_[term]),
                    )
                )
    return pd.DataFrame(rows, columns=COLUMNS)
