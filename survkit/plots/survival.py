"""Survival curves: Kaplan-Meier tables and predicted curves, with bands and numbers at risk."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..data.validation import check_columns, check_covariate_names, check_dataframe
from .at_risk import add_at_risk_counts
from .figures import new_figure

__all__ = ["plot_survival"]


def _curves(curves: pd.DataFrame):
    """(label, time, survival, lower or None, upper or None) for each curve."""
    if "survival" not in curves.columns:  # wide predict_survival(): index time, one column a row
        t = curves.index.to_numpy(dtype=float)
        for col in curves.columns:
            yield str(col), t, curves[col].to_numpy(dtype=float), None, None
        return
    check_columns(curves, {"curves": ["time", "survival"]})
    key = "row" if "row" in curves.columns else ("group" if "group" in curves.columns else None)
    parts = [(None, curves)] if key is None else curves.groupby(key, sort=False)
    for label, part in parts:
        part = part.sort_values("time", kind="stable")
        has_band = {"lower", "upper"} <= set(part.columns)
        yield (
            "all" if label is None else str(label),
            part["time"].to_numpy(dtype=float),
            part["survival"].to_numpy(dtype=float),
            part["lower"].to_numpy(dtype=float) if has_band else None,
            part["upper"].to_numpy(dtype=float) if has_band else None,
        )


def plot_survival(
    curves: pd.DataFrame,
    groups=None,
    band: bool = True,
    ax=None,
    at_risk: dict | None = None,
    alpha: float = 0.2,
    ylabel: str = "survival probability",
):
    """Survival curves as right-continuous steps starting at (0, 1), with pointwise bands.

    ``curves`` is ``kaplan_meier(...)`` (one curve per ``group``),
    ``CoxPH.predict_survival(df, times, conf_level=...)`` (one curve per
    ``row``) or the wide ``predict_survival(df, times)`` (one column per row,
    no band). ``groups`` selects curves by label. ``at_risk`` adds the numbers
    at risk under the axis: the keyword arguments of
    ``survkit.plots.at_risk.add_at_risk_counts`` (``df``, ``duration_col``,
    ``group_col``, ``entry_col``, ``times``...). Returns the Figure.
    """
    check_dataframe(curves, "curves")
    items = list(_curves(curves))
    if groups is not None:
        wanted = [str(g) for g in groups]
        check_covariate_names(wanted, [c[0] for c in items], "plot_survival groups")
        items = [c for c in items if c[0] in wanted]
    if ax is None:
        fig, axes = new_figure(1, height=4.2 if at_risk else 3.6)
        ax = axes[0]
    else:
        fig = ax.figure
    for k, (label, t, s, lo, hi) in enumerate(items):
        if t.size == 0 or t[0] > 0:  # the curve starts at 1 at time 0
            t = np.concatenate(([0.0], t))
            s = np.concatenate(([1.0], s))
            if lo is not None:
                lo, hi = np.concatenate(([1.0], lo)), np.concatenate(([1.0], hi))
        (line,) = ax.step(t, s, where="post", label=label, color=f"C{k % 10}")
        if band and lo is not None:
            ax.fill_between(
                t, lo, hi, step="post", alpha=alpha, color=line.get_color(), linewidth=0
            )
    ax.set_xlabel("time")
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, 1.02)
    ax.set_xlim(left=0)
    if len(items) > 1:
        ax.legend(frameon=False)
    if at_risk is not None:
        add_at_risk_counts(ax, **at_risk)
    return fig
