"""The cohort and cumulative-incidence sections."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..nonparametric.aalen_johansen import aalen_johansen
from ..nonparametric.gray_test import gray_test
from ..plots import plot_cumulative_incidence
from .content import Figure, Section, Table
from .spec import ReportSpec


def cohort_section(spec: ReportSpec) -> Section:
    df = spec.df
    counts = df[spec.event_col].astype(object).value_counts()
    n = len(df)
    rows = [
        {"outcome": str(k), "patients": int(v), "percent": 100 * v / n} for k, v in counts.items()
    ]
    table = pd.DataFrame(rows).set_index("outcome")
    # median follow-up by the reverse Kaplan-Meier (censoring as the event)
    censored = (df[spec.event_col].astype(object) == spec.censor_value).to_numpy()
    t = df[spec.duration_col].to_numpy(float)
    order = np.argsort(t)
    ts, cs = t[order], censored[order]
    at_risk = n - np.arange(n)
    surv = np.cumprod(1 - cs / at_risk)
    below = np.flatnonzero(surv <= 0.5)
    median_fu = ts[below[0]] if below.size else np.nan
    organ_events = int(sum(counts.get(o, 0) for o in spec.organs))
    para = (
        f"{n} patients from {spec.source}. Median follow-up {median_fu:.1f} {spec.time_unit} "
        f"(reverse Kaplan-Meier). {organ_events} first distant relapses "
        f"({', '.join(f'{o}: {int(counts.get(o, 0))}' for o in spec.organs)}); "
        + ", ".join(f"{c}: {int(counts.get(c, 0))}" for c in spec.competing)
        + (" (competing events)" if spec.competing else "")
        + f"; {int(censored.sum())} censored."
    )
    spec.checks["median_follow_up"] = float(median_fu)
    return Section(
        "Cohort",
        [para],
        tables=[Table("cohort_outcomes", table, "First event per patient", digits=1)],
    )


def incidence_section(spec: ReportSpec) -> Section:
    df = spec.df
    cif = aalen_johansen(df, spec.duration_col, spec.event_col, censor_value=spec.censor_value)
    at = aalen_johansen(
        df,
        spec.duration_col,
        spec.event_col,
        censor_value=spec.censor_value,
        times=list(spec.horizons),
    )
    at = at[at["cause"].isin(spec.organs + spec.competing)]
    table = at.assign(cause=at["cause"].astype(str)).set_index(["cause", "time"])
    from matplotlib.figure import Figure as MplFigure

    fig = MplFigure(figsize=(10, 4), layout="constrained")
    panels = fig.subplots(1, 2 if spec.competing else 1, squeeze=False)[0]
    plot_cumulative_incidence(cif, causes=spec.organs, ax=panels[0])
    panels[0].set_title("relapse, by organ")
    if spec.competing:
        plot_cumulative_incidence(cif, causes=spec.competing, ax=panels[1])
        panels[1].set_title("competing events")
    for ax in panels:
        ax.set_xlabel(f"time ({spec.time_unit})")
    paras = []
    last = max(spec.horizons)
    at_last = at[at["time"] == last]
    if at_last["cif"].notna().any():
        parts = [
            f"{r.cause} {100 * r.cif:.1f}% ({100 * r.lower:.1f}-{100 * r.upper:.1f})"
            for r in at_last.itertuples()
            if r.cause in spec.organs
        ]
        paras.append(
            f"Estimated cumulative incidence of first relapse by {last:g} {spec.time_unit}: "
            + "; ".join(parts)
            + ". Aalen-Johansen estimates, treating other first events as competing; "
            "95% pointwise limits on the log(-log) scale."
        )
    section = Section(
        "Cumulative incidence of relapse per organ",
        paras,
        tables=[Table("cumulative_incidence", table, "Cumulative incidence at chosen times")],
        figures=[Figure("cumulative_incidence", fig, "Cumulative incidence per organ (95% bands)")],
    )
    if spec.group_col is not None:
        tests = gray_test(
            df, spec.duration_col, spec.event_col, spec.group_col, censor_value=spec.censor_value
        )
        tests.index = tests.index.astype(str)
        section.tables.append(
            Table("gray_test", tests, f"Gray's test: equal incidence across {spec.group_col}")
        )
        by_group = aalen_johansen(
            df,
            spec.duration_col,
            spec.event_col,
            group_col=spec.group_col,
            censor_value=spec.censor_value,
        )
        section.figures.append(
            Figure(
                "cumulative_incidence_by_group",
                plot_cumulative_incidence(by_group, causes=spec.organs),
                f"Cumulative incidence per organ by {spec.group_col}",
            )
        )
    return section
