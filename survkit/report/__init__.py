"""The survkit report: a self-contained HTML (and Markdown) analysis of a cohort.

``report_for_scenario`` simulates a built-in or TOML scenario and compares every
estimate with the truth; ``report_for_data`` analyses a data file.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from .analysis import ReportSpec, build_report
from .content import Report
from .horizons import unit_word
from .multistate import DEFAULT_MULTISTATE_SCENARIO, report_for_multistate
from .render import write_atomically

__all__ = [
    "DEFAULT_MULTISTATE_SCENARIO",
    "Report",
    "ReportSpec",
    "build_report",
    "report_for_data",
    "report_for_multistate",
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
    horizons: tuple | None = None,
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
        horizons=horizons,
        seed=seed,
    )
    return build_report(spec, progress)


def _check_labels(labels: dict, codes: list, event_col: str) -> dict:
    unknown = [k for k in labels if k not in codes]
    if unknown:
        raise ValueError(
            f"labels name code(s) {unknown} that do not occur in column {event_col!r} "
            f"(codes present: {codes}); use --label CODE=NAME with a code from the data."
        )
    names = [str(v) for v in labels.values()]
    if len(set(names)) != len(names) or any(not n.strip() for n in names):
        raise ValueError(f"labels {labels} must be distinct, non-empty names.")
    return dict(labels)


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
    horizons: tuple | None = None,
    time_unit: str = "years",
    progress: Callable[[str], None] | None = None,
    labels: dict | None = None,
    reference: dict | None = None,
    organ_data: bool = False,
    seed: int = DEFAULT_SEED,
) -> Report:
    """The report on a data file.

    ``terms``: column names or ``C(column)``. ``competing``: the codes that are
    not events of interest (None: none named, which the report points out).
    ``horizons``: None chooses them from the follow-up. ``labels``: code ->
    name. ``reference``: column -> reference level. ``organ_data``: the events
    of interest are relapse sites (organ wording).
    """
    from ..data.validation import check_columns, encode_events

    check_columns(df, {"duration_col": [duration_col], "event_col": [event_col]})
    dup = df.index.duplicated()
    if dup.any():
        raise ValueError(
            f"df has {int(dup.sum())} duplicated index label(s) (e.g. {df.index[dup][0]!s}); "
            "the report refers to patients by index label. Give each row its own label, "
            "e.g. df.reset_index(drop=True)."
        )
    if censor_value not in set(df[event_col]):
        codes = sorted(map(str, pd.unique(df[event_col])))
        raise ValueError(
            f"censoring code {censor_value!r} does not occur in column {event_col!r} "
            f"(codes present: {codes}); give the code of censored rows (--censor-value)."
        )
    coding = encode_events(df[event_col], event_col, cause=True, censor_value=censor_value)
    codes = list(coding.labels)
    roles_stated = competing is not None
    competing = list(competing or [])
    unknown = [c for c in competing if c not in codes]
    if unknown:
        raise ValueError(
            f"competing event code(s) {unknown} do not occur in column {event_col!r} "
            f"(codes present: {codes})."
        )
    organs = [c for c in codes if c not in competing]
    if not organs:
        raise ValueError(
            f"every event code {codes} was named competing; at least one must be an event "
            "of interest."
        )
    spec = ReportSpec(
        df=df,
        duration_col=duration_col,
        event_col=event_col,
        terms=list(terms),
        organs=organs,
        competing=competing,
        censor_value=censor_value,
        source=source,
        command=command,
        group_col=group_col,
        horizons=None if horizons is None else tuple(horizons),
        time_unit=unit_word(time_unit),
        labels=_check_labels(dict(labels or {}), [*codes, censor_value], event_col),
        roles_stated=roles_stated,
        reference=dict(reference or {}),
        organ_data=organ_data,
        seed=seed,
    )
    return build_report(spec, progress)
