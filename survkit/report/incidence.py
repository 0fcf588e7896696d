"""The cumulative-incidence section: Aalen-Johansen curves, numbers at risk, Gray's test."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..nonparametric.aalen_johansen import aalen_johansen
from ..nonparametric.gray_test import gray_test
from ..plots import plot_cumulative_incidence
from .content import Figure, Section, Table
from .spec import ReportSpec


def numbers_at_risk(ax, time: np.ndarray, ticks) -> None:
    """The report's numbers-at-risk row, drawn in ``ax`` (an axes under the curves).

    Kept in this one function so that survkit.plots' at-risk helper can replace it.
    Patients at risk at t: still under follow-up and free of any first event (time >= t).
    """
    ticks = [t for t in ticks if t <= time.max()]
    for t in ticks:
        ax.text(t, 0.5, str(int((time >= t).sum())), ha="center", va="center", fontsize=8)
    ax.set_ylim(0, 1)
    ax.set_yticks([])
    ax.set_xticks([])
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(False)
    ax.set_title("number at risk", fontsize=8, loc="left")


def _incidence_figure(spec: ReportSpec, cif: pd.DataFrame):
    from matplotlib.figure import Figure as MplFigure

    n_panels = 2 if spec.competing else 1
    fig = MplFigure(figsize=(5 * n_panels, 4.3), layout="constrained")
    grid = fig.add_gridspec(2, n_panels, height_ratios=[6, 1])
    time = spec.df[spec.duration_col].to_numpy(float)
    groups = [(spec.organs, f"{spec.outcome}{', by ' + spec.kind if spec.per_kind else ''}")]
    if spec.competing:
        groups.append((spec.competing, "competing events"))
    for k, (codes, title) in enumerate(groups):
        ax = fig.add_subplot(grid[0, k])
        plot_cumulative_incidence(cif, causes=[spec.label(c) for c in codes], ax=ax)
        ax.set_title(title)
        ax.set_xlabel(f"time ({spec.time_unit})")
        ax.set_xlim(left=0)
        ticks = [t for t in ax.get_xticks() if 0 <= t <= ax.get_xlim()[1]]
        ax.set_xticks(ticks)
        risk = fig.add_subplot(grid[1, k])
        risk.set_xlim(ax.get_xlim())
        numbers_at_risk(risk, time, ticks)
    return fig


def incidence_section(spec: ReportSpec) -> Section:
    df = spec.df
    shown = [*spec.organs, *spec.competing]
    names = {c: spec.label(c) for c in shown}
    cif = aalen_johansen(df, spec.duration_col, spec.event_col, censor_value=spec.censor_value)
    cif = cif[cif["cause"].isin(shown)].assign(cause=lambda d: d["cause"].map(names))
    at = aalen_johansen(
        df,
        spec.duration_col,
        spec.event_col,
        censor_value=spec.censor_value,
        times=list(spec.horizons),
    )
    at = at[at["cause"].isin(shown)]
    # rows in the figure's order (events of interest, then competing), SEs not variances
    order = {c: i for i, c in enumerate(shown)}
    at = at.assign(_o=at["cause"].map(order)).sort_values(["_o", "time"], kind="stable")
    table = pd.DataFrame(
        {
            "event": at["cause"].map(names).to_numpy(),
            f"time ({spec.time_unit})": [f"{t:g}" for t in at["time"]],
            "cumulative incidence": at["cif"].to_numpy(),
            "SE": np.sqrt(at["variance"].to_numpy()),
            "lower 95%": at["lower"].to_numpy(),
            "upper 95%": at["upper"].to_numpy(),
        }
    ).set_index(["event", f"time ({spec.time_unit})"])
    spec.checks["incidence"] = [
        {
            "event": names[r.cause],
            "time": float(r.time),
            "cif": float(r.cif),
            "se": float(np.sqrt(r.variance)),
        }
        for r in at.itertuples()
    ]
    paras = []
    last = max(spec.horizons)
    at_last = at[(at["time"] == last) & at["cause"].isin(spec.organs)]
    if at_last["cif"].notna().any():
        parts = [
            f"{names[r.cause]} {100 * r.cif:.1f}% ({100 * r.lower:.1f}-{100 * r.upper:.1f})"
            for r in at_last.itertuples()
        ]
        first = (
            "first relapse"
            if spec.organ_data
            else (spec.outcome if len(spec.organs) == 1 else "each event of interest")
        )
        paras.append(
            f"Estimated cumulative incidence of {first} by {spec.at(last)}: "
            + "; ".join(parts)
            + ". Aalen-Johansen estimates, treating other first events as competing; "
            "95% pointwise limits on the log(-log) scale, standard errors as cmprsk::cuminc. "
            f"Horizons: {', '.join(spec.at(h) for h in spec.horizons)}."
        )
    caption = (
        f"Cumulative incidence{spec.per_kind} (95% bands), with the number of patients "
        "still at risk (event-free and under follow-up) below"
    )
    section = Section(
        spec.incidence_title,
        paras,
        tables=[
            Table("cumulative_incidence", table, "Cumulative incidence at the horizons", digits=3)
        ],
        figures=[Figure("cumulative_incidence", _incidence_figure(spec, cif), caption)],
    )
    if spec.group_col is not None:
        section.tables.append(_gray_table(spec, names))
        section.figures.append(_by_group_figure(spec, names))
    return section


def _gray_table(spec: ReportSpec, names: dict) -> Table:
    tests = gray_test(
        spec.df, spec.duration_col, spec.event_col, spec.group_col, censor_value=spec.censor_value
    )
    tests = tests.loc[[c for c in names if c in tests.index]]  # the figure's order
    tests.index = pd.Index([names[c] for c in tests.index], name="event")
    return Table("gray_test", tests, f"Gray's test: equal incidence across {spec.group_col}")


def _by_group_figure(spec: ReportSpec, names: dict) -> Figure:
    by_group = aalen_johansen(
        spec.df,
        spec.duration_col,
        spec.event_col,
        group_col=spec.group_col,
        censor_value=spec.censor_value,
    )
    by_group = by_group[by_group["cause"].isin(spec.organs)].assign(
        cause=lambda d: d["cause"].map(names),
        group=lambda d: [f"{spec.group_col} = {g}" for g in d["group"]],
    )
    from matplotlib.figure import Figure as MplFigure

    # one panel per event of interest, two panels a row so the text stays readable
    causes = [names[o] for o in spec.organs]
    ncols = min(2, len(causes))
    nrows = -(-len(causes) // ncols)
    fig = MplFigure(figsize=(5 * ncols, 3.6 * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, sharey=True).ravel()
    for ax, cause in zip(axes, causes, strict=False):
        one = by_group[by_group["cause"] == cause].assign(cause=cause)
        plot_cumulative_incidence(one, causes=[cause], ax=ax)
        ax.set_title(cause)
        ax.set_xlabel(f"time ({spec.time_unit})")
        ax.set_ylabel("cumulative incidence")
        ax.set_xlim(left=0)
        # legend entries read "cause, group": keep the group only
        handles, labels = ax.get_legend_handles_labels()
        ax.legend(handles, [lab.split(", ", 1)[-1] for lab in labels], frameon=False, fontsize=8)
    for ax in axes[len(causes) :]:
        ax.set_visible(False)
    return Figure(
        "cumulative_incidence_by_group",
        fig,
        f"Cumulative incidence{spec.per_kind} by {spec.group_col} (95% bands)",
    )
