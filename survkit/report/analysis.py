"""The analysis behind ``survkit report``: from a cohort to the report's sections.

Every number in the report comes from survkit's public estimators; on a
synthetic cohort the truth is consulted only in the section that compares
estimates with it (the estimation never peeks). A section that cannot be
estimated (too few events, say) says why and the rest is still written.
"""

from __future__ import annotations

import platform
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from .cohort import cohort_section
from .content import Report, Section, Table
from .covariates import code_covariates
from .hazard_ratios import hazard_ratio_section, heterogeneity_section
from .horizons import check_horizons, choose_horizons
from .incidence import incidence_section
from .performance import TITLE as PERFORMANCE_TITLE
from .performance import performance_section
from .proportional_hazards import time_varying_section
from .risk_profiles import risk_profile_section
from .spec import ReportSpec
from .truth import truth_sections

__all__ = ["ReportSpec", "build_report", "prepare"]

_PACKAGES = [
    "numpy",
    "scipy",
    "pandas",
    "statsmodels",
    "formulaic",
    "scikit-learn",
    "numba",
    "matplotlib",
]


def _git_commit() -> str:
    """The survkit source's git commit (with '+changes' when the tree is dirty), if known."""
    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return "not available (not a git checkout)"
    if commit.returncode != 0:
        return "not available (not a git checkout)"
    return commit.stdout.strip() + (" + uncommitted changes" if dirty.stdout.strip() else "")


def software_table() -> Table:
    """The software versions table of a report's methods section."""
    from .._version import __version__

    versions = {"survkit": __version__, "survkit git commit": _git_commit()}
    versions["python"] = platform.python_version()
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    table = pd.DataFrame({"version": versions}).rename_axis("software")
    return Table("software", table, "Software versions")


def methods_section(spec: ReportSpec) -> Section:
    covariates = ", ".join(c.contrast for c in spec.design.covariates)
    return Section(
        "Methods and reproducibility",
        [
            "Cause-specific Cox models: partial likelihood with Efron's ties, Newton-Raphson as "
            "R's coxph (numbers checked against R survival 3.x). Fine-Gray: cmprsk::crr's "
            "estimating equation (Breslow ties, Kaplan-Meier censoring weights G(t-)) and its "
            "sandwich variance including the censoring term. Aalen-Johansen incidence with "
            "cmprsk::cuminc's variance. Proportional hazards: R survival 3.x's cox.zph score "
            "test. Multiple testing: Benjamini-Hochberg (statsmodels). Risk-profile intervals: "
            "standard errors of the cause-specific absolute risks (delta method; "
            "riskRegression's influence function for Breslow fits), log(-log) limits. "
            f"Change-point intervals: seeded bootstrap (seed {spec.seed}).",
            f"Covariates (model columns; categorical covariates against their reference level): "
            f"{covariates}. Reference levels: the first category of a categorical column, the "
            "smallest value of a numeric column given as C(column), otherwise the most frequent "
            "level, unless named by the user.",
            f"Events of interest: {', '.join(spec.label(o) for o in spec.organs)}; competing "
            f"events: {', '.join(spec.label(c) for c in spec.competing) or 'none'}; censoring "
            f"code {spec.censor_value!r}. Time unit: {spec.time_unit}; horizons "
            f"{', '.join(f'{h:g}' for h in spec.horizons)} ({spec.checks['horizons_source']}). "
            f"Data: {spec.source}.",
            f"Command: {spec.command}",
            f"Generated {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}.",
        ],
        tables=[software_table()],
    )


def prepare(spec: ReportSpec) -> pd.DataFrame:
    """Complete cases, coded covariates and horizons; returns the data as given (for Table 1)."""
    raw = spec.df
    names = [t for t in spec.terms if t in raw.columns]
    names += [t[2:-1].strip() for t in spec.terms if t.startswith("C(") and t.endswith(")")]
    names = [n for n in dict.fromkeys(names) if n in raw.columns]
    missing = {n: int(raw[n].isna().sum()) for n in names if raw[n].isna().any()}
    if missing:
        keep = raw[names].notna().all(axis=1)
        spec.df = raw[keep]
        spec.notes.append(
            f"{int((~keep).sum())} patient(s) with missing covariate values are excluded "
            "(complete-case analysis; per covariate: "
            + ", ".join(f"{k}: {v}" for k, v in missing.items())
            + ")."
        )
        spec.checks["excluded_missing"] = int((~keep).sum())
    counts = spec.df[spec.event_col].value_counts()
    absent = [c for c in [*spec.organs, *spec.competing] if counts.get(c, 0) == 0]
    if absent:
        spec.organs = [o for o in spec.organs if o not in absent]
        spec.competing = [c for c in spec.competing if c not in absent]
        spec.notes.append(
            f"No patient has {', '.join(spec.label(c) for c in absent)} as first event in this "
            "cohort, so it is not analysed."
        )
        spec.checks["absent_events"] = [str(c) for c in absent]
    if not spec.organs:
        raise ValueError(
            f"no event of interest occurs in column {spec.event_col!r} (after excluding rows "
            "with missing covariates); there is nothing to analyse."
        )
    spec.design = code_covariates(spec.df, spec.terms, spec.reference)
    times = spec.df[spec.duration_col]
    if spec.horizons is None:
        spec.horizons = choose_horizons(times, spec.time_unit)
        spec.checks["horizons_source"] = "quartiles of follow-up, rounded"
    else:
        spec.horizons = check_horizons(spec.horizons, times, spec.time_unit)
        spec.checks["horizons_source"] = "given"
    spec.checks["horizons"] = list(spec.horizons)
    return raw


def _guarded(title: str, step: Callable[[], list[Section]], spec: ReportSpec) -> list[Section]:
    """Run a section; if it cannot be estimated, a section saying why instead."""
    try:
        return step()
    except (ValueError, np.linalg.LinAlgError) as exc:
        spec.checks.setdefault("skipped_sections", []).append(title)
        return [Section(title, [f"This section could not be estimated and is skipped: {exc}"])]


def build_report(spec: ReportSpec, progress: Callable[[str], None] | None = None) -> Report:
    """Run every analysis step; ``progress(step_name)`` is called before each."""
    note = progress or (lambda _name: None)
    raw = prepare(spec)
    sections: list[Section] = []
    note("cohort")
    sections.append(cohort_section(spec, raw))
    note("incidence")
    sections += _guarded(
        spec.incidence_title,
        lambda: [incidence_section(spec)],
        spec,
    )
    note("hazard ratios")
    fitted: dict = {}

    def hazard_ratios() -> list[Section]:
        section, fitted["fits"] = hazard_ratio_section(spec)
        return [section]

    sections += _guarded(f"Hazard ratios{spec.per_kind}", hazard_ratios, spec)
    fits = fitted.get("fits")
    if fits is not None and len(spec.organs) > 1:
        note("organ heterogeneity")
        sections += _guarded(
            f"Does an effect differ between {spec.kind}s?",
            lambda: [heterogeneity_section(spec, fits)],
            spec,
        )
    if fits is not None:
        note("time-varying effects")
        sections += _guarded(
            "Effects that change over time", lambda: [time_varying_section(spec, fits)], spec
        )
    note("risk profiles")
    sections += _guarded("Individual risk profiles", lambda: [risk_profile_section(spec)], spec)
    note("prediction performance")
    sections += _guarded(PERFORMANCE_TITLE, lambda: [performance_section(spec)], spec)
    if spec.cohort is not None and fits is not None:
        note("truth")
        sections += _guarded(
            "Estimates against the truth", lambda: truth_sections(spec, fits), spec
        )
    note("methods")
    sections.append(methods_section(spec))
    title = "Site-specific metastatic relapse" if spec.organ_data else "Competing-risks analysis"
    return Report(
        title=title,
        subtitle=f"{spec.source} - survkit report",
        sections=sections,
        checks=spec.checks,
    )
