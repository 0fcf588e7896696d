"""The analysis behind ``survkit report``: from a cohort to the report's sections.

Every number in the report comes from survkit's public estimators; on a
synthetic cohort the truth is consulted only in the section that compares
estimates with it (the estimation never peeks).
"""

from __future__ import annotations

import platform
from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from .content import Report, Section, Table
from .descriptive import cohort_section, incidence_section
from .hazard_ratios import hazard_ratio_section, heterogeneity_section
from .proportional_hazards import time_varying_section
from .risk_profiles import risk_profile_section
from .spec import ReportSpec
from .truth import truth_sections

__all__ = ["ReportSpec", "build_report"]


def methods_section(spec: ReportSpec) -> Section:
    import matplotlib
    import numba
    import scipy

    from .._version import __version__

    versions = {
        "survkit": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "pandas": pd.__version__,
        "numba": numba.__version__,
        "matplotlib": matplotlib.__version__,
    }
    table = pd.DataFrame({"version": versions}).rename_axis("software")
    return Section(
        "Methods and reproducibility",
        [
            "Cause-specific Cox models: partial likelihood with Efron's ties, Newton-Raphson as "
            "R's coxph (numbers checked against R survival 3.5). Fine-Gray: cmprsk::crr's "
            "estimating equation (Breslow ties, Kaplan-Meier censoring weights G(t-)) and its "
            "sandwich variance including the censoring term. Aalen-Johansen incidence with "
            "cmprsk::cuminc's variance. Proportional hazards: R survival 3.x's cox.zph score "
            "test. Multiple testing: Benjamini-Hochberg (statsmodels).",
            f"Formula: {' + '.join(spec.terms)}. "
            f"Organs: {', '.join(map(str, spec.organs))}; competing "
            f"events: {', '.join(map(str, spec.competing)) or 'none'}. Data: {spec.source}.",
            f"Command: {spec.command}",
            f"Generated {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}.",
        ],
        tables=[Table("software", table, "Software versions")],
    )


def build_report(spec: ReportSpec, progress: Callable[[str], None] | None = None) -> Report:
    """Run every analysis step; ``progress(step_name)`` is called before each."""
    steps = [
        ("cohort", lambda: [cohort_section(spec)]),
        ("incidence", lambda: [incidence_section(spec)]),
    ]
    sections: list[Section] = []
    note = progress or (lambda _name: None)
    for name, step in steps:
        note(name)
        sections += step()
    note("hazard ratios")
    hr_section, fits = hazard_ratio_section(spec)
    sections.append(hr_section)
    note("organ heterogeneity")
    sections.append(heterogeneity_section(spec))
    note("time-varying effects")
    sections.append(time_varying_section(spec, fits))
    note("risk profiles")
    sections.append(risk_profile_section(spec))
    if spec.cohort is not None:
        note("truth")
        sections += truth_sections(spec, fits)
    note("methods")
    sections.append(methods_section(spec))
    return Report(
        title="Site-specific metastatic relapse",
        subtitle=f"{spec.source} - survkit report",
        sections=sections,
        checks=spec.checks,
    )
