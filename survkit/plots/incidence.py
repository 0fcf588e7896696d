"""Cumulative incidence curves per cause (and group), with pointwise bands."""

from __future__ import annotations

import pandas as pd

from ..data.validation import check_columns, check_covariate_names, check_dataframe
from .figures import new_figure


def plot_cumulative_incidence(
    cif: pd.DataFrame,
    causes=None,
    groups=None,
    band: bool = True,
    ax=None,
    alpha: float = 0.2,
):
    """Cumulative incidence per organ with pointwise confidence bands, optionally by group.

    ``cif`` is the tidy DataFrame of ``survkit.aalen_johansen``: columns
    ``cause``, ``time``, ``cif``, ``lower``, ``upper`` and, when groups were
    compared, ``group``. One panel per cause (or every curve in ``ax``); each
    curve is a right-continuous step line, its band a shaded step region.
    """
    check_dataframe(cif, "cif")
    check_columns(cif, {"cif": ["cause", "time", "cif", "lower", "upper"]})
    has_group = "group" in cif.columns
    all_causes = list(pd.unique(cif["cause"]))
    causes = all_causes if causes is None else list(causes)
    check_covariate_names(causes, all_causes, "plot_cumulative_incidence causes")
    group_values = list(pd.unique(cif["group"])) if has_group else [None]
    if groups is not None:
        if not has_group:
            raise ValueError("groups= was given but the cif table has no 'group' column.")
        check_covariate_names(list(groups), group_values, "plot_cumulative_incidence groups")
        group_values = list(groups)
    if ax is None:
        fig, axes = new_figure(len(causes))
    else:
        fig, axes = ax.figure, [ax] * len(causes)
    for panel, cause in zip(axes, causes, strict=True):
        for k, group in enumerate(group_values):
            sel = cif["cause"] == cause
            if group is not None:
                sel &= cif["group"] == group
            curve = cif[sel].sort_values("time", kind="stable")
            if ax is None:
                label = "all" if group is None else str(group)
            else:
                label = str(cause) if group is None else f"{cause}, {group}"
            color = f"C{k}" if ax is None else None
            (line,) = panel.step(
                curve["time"].to_numpy(),
                curve["cif"].to_numpy(),
                where="post",
                label=label,
                color=color,
            )
            if band:
                panel.fill_between(
                    curve["time"].to_numpy(),
                    curve["lower"].to_numpy(),
                    curve["upper"].to_numpy(),
                    step="post",
                    alpha=alpha,
                    color=line.get_color(),
                    linewidth=0,
                )
        if ax is None:
            panel.set_title(str(cause))
        panel.set_xlabel("time")
    axes[0].set_ylabel("cumulative incidence")
    axes[0].set_ylim(bottom=0)
    if has_group or ax is not None:
        axes[0].legend(frameon=False)
    return fig
