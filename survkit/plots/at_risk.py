"""Numbers at risk under a plot's time axis (lifelines' ``add_at_risk_counts`` style).

``at_risk_counts`` computes the table (rows with entry < t <= stop at each
time t, per group); ``add_at_risk_counts`` writes it under an Axes, one line
per group, each count centred under its time tick. Both take the data a
report already has: a table of follow-up times (and groups, entry times).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..data.survival_data import group_codes
from ..data.validation import check_columns, check_dataframe, check_finite_numeric

__all__ = ["add_at_risk_counts", "at_risk_counts"]


def at_risk_counts(
    df: pd.DataFrame,
    duration_col: str,
    times,
    group_col: str | None = None,
    entry_col: str | None = None,
) -> pd.DataFrame:
    """Number of rows at risk at each of ``times``: one row per group, one column per time.

    At risk at t means entry < t <= stop (entry = 0 without ``entry_col``),
    the risk set of ``kaplan_meier`` and R's ``survfit``.
    """
    check_dataframe(df)
    check_columns(
        df,
        {
            "duration_col": [duration_col],
            "group_col": [group_col] if group_col is not None else [],
            "entry_col": [entry_col] if entry_col is not None else [],
        },
    )
    times = np.asarray(times, dtype=float).ravel()
    if times.size == 0 or np.isnan(times).any():
        raise ValueError("times must be one or more numbers (the tick positions).")
    stop = check_finite_numeric(df[duration_col], duration_col)
    entry = None if entry_col is None else check_finite_numeric(df[entry_col], entry_col)
    codes, labels = group_codes(df, group_col, "group")
    rows = []
    for k in range(len(labels)):
        sel = codes == k
        s = np.sort(stop[sel])
        n = s.size - np.searchsorted(s, times, side="left")  # stop >= t
        if entry is not None:
            e = np.sort(entry[sel])
            n = n - (e.size - np.searchsorted(e, times, side="left"))  # entry >= t
        rows.append(n)
    index = pd.Index(["all"] if group_col is None else labels, name="group")
    return pd.DataFrame(np.array(rows), index=index, columns=pd.Index(times, name="time"))


def add_at_risk_counts(
    ax,
    df: pd.DataFrame,
    duration_col: str,
    group_col: str | None = None,
    entry_col: str | None = None,
    times=None,
    labels=None,
    fontsize: float = 8.0,
) -> pd.DataFrame:
    """Write the numbers at risk under ``ax``; returns the table it wrote.

    ``times`` default to the Axes' x ticks inside its limits (the ticks are
    then fixed so the counts stay aligned). ``labels`` rename the groups
    (a mapping from group value to text). Each group's line is coloured like
    the Axes' line of the same label, when there is one.
    """
    if times is None:
        lo, hi = ax.get_xlim()
        times = [t for t in ax.get_xticks() if lo <= t <= hi]
    times = np.asarray(times, dtype=float)
    counts = at_risk_counts(df, duration_col, times, group_col, entry_col)
    ax.set_xticks(times)
    colors = {ln.get_label(): ln.get_color() for ln in ax.get_lines()}
    # points below the axis: clear of the tick labels and the x label
    top = 40.0
    step = fontsize * 1.5
    # group names end left of half the widest count (a count may sit on the y axis)
    widest = max(len(str(int(n))) for n in counts.to_numpy().ravel())
    name_x = -(6.0 + 0.35 * fontsize * widest)
    ax.annotate(
        "Number at risk",
        xy=(0, 0),
        xycoords="axes fraction",
        xytext=(0, -top),
        textcoords="offset points",
        ha="right",
        va="top",
        fontsize=fontsize,
        fontweight="bold",
    )
    for k, (group, row) in enumerate(counts.iterrows()):
        name = str(group) if labels is None else str(dict(labels).get(group, group))
        y = -top - step * (k + 1)
        color = colors.get(name, colors.get(str(group), "black"))
        ax.annotate(
            name,
            xy=(0, 0),
            xycoords="axes fraction",
            xytext=(name_x, y),
            textcoords="offset points",
            ha="right",
            va="top",
            fontsize=fontsize,
            color=color,
        )
        for t, n in row.items():
            ax.annotate(
                f"{int(n)}",
                xy=(t, 0),
                xycoords=("data", "axes fraction"),
                xytext=(0, y),
                textcoords="offset points",
                ha="center",
                va="top",
                fontsize=fontsize,
                color=color,
            )
    return counts
