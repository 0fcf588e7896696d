"""The survkit report: a self-contained HTML (and Markdown) analysis of a cohort.

``report_for_scenario`` simulates a built-in or TOML scenario and compares every
estimate with the truth; ``report_for_data`` analyses a data file.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from .analysis import ReportSpec, build_report
from .content import Report
from .render import write_atomically

__all__ = [
    "Report",
    "ReportSpec",
    "build_report",
    "report_for_data",
    "report_for_scenario",
    "write_atomically",
]

DEFAULT_SCENARIO = "breast_site_dormancy"
DEFAULT_N = 4000
DEFAULT_SEED = 1


def report_for_scenario(
    scenario: str = DEFAULT_SCENARIO,
    n: int = DEFAULT_N,
    seed: int = DEFAULT_SEED,
    command: str = "",
    group_col: str | None = "er_positive",
    progress: Callable[[str], None] | None = None,
) -> Report:
    from synthetic import load_scenario, simulate_cohort

    spec_scenario = load_scenario(scenario)
    cohort = simulate_cohort(spec_scenario, n=n, seed=seed)
    df = cohort.data
    skip = {"patient_id", "time", "event"}
    terms = [c for c in df.columns if c not in skip]
    organs = [s for s in spec_scenario.site_names]
    if group_col is not None and group_col not in df.columns:
        group_col = None
    spec = ReportSpec(
        df=df,
        duration_col="time",
        event_col="event",
        terms=terms,
        organs=organs,
        competing=["death"],
        censor_value="censored",
        source=f"synthetic scenario '{scenario}' (n = {n}, seed = {seed})",
        command=command,
        group_col=group_col,
        cohort=cohort,
    )
    return build_report(spec, progress)


def report_for_data(
    df: pd.DataFrame,
    duration_col: str,
    event_col: str,
    terms: list[str],
    censor_value: object = 0,
    competing: list | None = None,
    group_col: str | None = None,
    source: str = "a data file",
    command: str = "",
    horizons: tuple = (2.0, 5.0, 10.0),
    time_unit: str = "years",
    progress: Callable[[str], None] | None = None,
) -> Report:
    from ..data.validation import encode_events

    dup = df.index.duplicated()
    if dup.any():
        raise ValueError(
            f"df has {int(dup.sum())} duplicated index label(s) (e.g. {df.index[dup][0]!s}); "
            "the report refers to patients by index label. Give each row its own label, "
            "e.g. df.reset_index(drop=True)."
        )
    coding = encode_events(df[event_col], event_col, cause=True, censor_value=censor_value)
    competing = list(competing or [])
    unknown = [c for c in competing if c not in coding.labels]
    if unknown:
        raise ValueError(
            f"competing event code(s) {unknown} do not occur in column {event_col!r} "
            f"(codes present: {list(coding.labels)})."
        )
    organs = [c for c in coding.labels if c not in competing]
    spec = ReportSpec(
        df=df,
        duration_col=duration_col,
        event_col=event_col,
        terms=terms,
        organs=organs,
        competing=competing,
        censor_value=censor_value,
        source=source,
        command=command,
        group_col=group_col,
        horizons=horizons,
        time_unit=time_unit,
    )
    return build_report(spec, progress)
