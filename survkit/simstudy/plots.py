"""Plots of a study's coverage: a dot plot with Monte Carlo error bars, and a zip plot.

Both return a ``matplotlib.figure.Figure`` built without pyplot (nothing is
registered globally), as ``survkit.plots`` does.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

_MARKERS = ("o", "s", "D", "^", "v", "P")


def coverage_plot(performance: pd.DataFrame, level: float = 0.95, z: float = 1.96):
    """Coverage of every estimand (rows) by method (colours), ± z MCSE.

    One panel per data-generating mechanism. The grey band is where an
    unbiased method with correct SEs lands with probability about 95 %:
    level ± z sqrt(level (1 - level) / n) for the median number of successful
    replicates n. Open markers: the method's model cannot represent that
    estimand (a proportional-hazards fit of a piecewise effect).
    """
    from matplotlib.figure import Figure

    table = performance[np.isfinite(performance["cover"].astype(float))]
    if table.empty:
        raise ValueError(
            "performance has no coverage values (no method with standard errors, or no "
            "successful replicate); nothing to plot"
        )
    mechanisms = list(dict.fromkeys(table["dgm"]))
    methods = list(dict.fromkeys(table["method"]))
    order = table.drop_duplicates("estimand").sort_values(
        ["kind", "site", "covariate", "start", "time"], na_position="first"
    )["estimand"]
    position = {ident: i for i, ident in enumerate(order)}
    height = max(3.0, 0.24 * len(position) + 1.2)
    fig = Figure(figsize=(5.0 * len(mechanisms) + 2.5, height), layout="constrained")
    axes = fig.subplots(1, len(mechanisms), squeeze=False, sharey=True)[0]
    offsets = np.linspace(-0.25, 0.25, len(methods)) if len(methods) > 1 else [0.0]
    for ax, dgm in zip(axes, mechanisms, strict=True):
        rows = table[table["dgm"] == dgm]
        n = float(np.median(rows["n_ok"]))
        half = z * np.sqrt(level * (1 - level) / n)
        ax.axvspan(level - half, level + half, color="0.88", zorder=0)
        ax.axvline(level, color="0.4", lw=0.8, zorder=1)
        for k, method in enumerate(methods):
            mine = rows[rows["method"] == method]
            if mine.empty:
                continue
            y = np.array([position[e] for e in mine["estimand"]]) + offsets[k]
            x = mine["cover"].to_numpy(float)
            err = z * mine["cover_mcse"].to_numpy(float)
            colour = f"C{k}"
            marker = _MARKERS[k % len(_MARKERS)]
            wrong = mine["misspecified"].to_numpy(bool)
            ax.errorbar(x, y, xerr=err, fmt="none", ecolor=colour, lw=0.9, zorder=2)
            ax.scatter(
                x[~wrong], y[~wrong], color=colour, marker=marker, s=18, zorder=3, label=method
            )
            if wrong.any():
                ax.scatter(
                    x[wrong],
                    y[wrong],
                    facecolors="white",
                    edgecolors=colour,
                    marker=marker,
                    s=18,
                    zorder=3,
                    label=f"{method} (misspecified)",
                )
        ax.set_title(f"{dgm} (median {n:.0f} replicates)", fontsize=9)
        ax.set_xlabel(f"coverage of {level:.0%} intervals ± {z:g} MCSE")
        ax.set_xlim(max(0.0, ax.get_xlim()[0]), 1.0)
        ax.grid(axis="x", color="0.9", lw=0.6)
    axes[0].set_yticks(range(len(position)), list(position), fontsize=7)
    axes[0].set_ylim(len(position) - 0.5, -0.5)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=min(4, len(labels)), fontsize=8)
    return fig


def zip_plot(
    estimates: pd.DataFrame,
    true_value: float,
    level: float = 0.95,
    title: str | None = None,
):
    """Morris, White & Crowther's zip plot for one method and estimand.

    ``estimates`` holds the successful replicates (columns ``estimate``,
    ``se``). Each replicate's interval is drawn at the centile of its |z|,
    z = (estimate - truth) / se; intervals that miss the truth (red) sit at
    the top. Coverage is fine when the level's horizontal line falls within
    the Monte Carlo band of the switch from blue to red.
    """
    from matplotlib.figure import Figure

    est = estimates["estimate"].to_numpy(float)
    se = estimates["se"].to_numpy(float)
    keep = np.isfinite(est) & np.isfinite(se)
    est, se = est[keep], se[keep]
    if est.size == 0:
        raise ValueError("estimates has no replicate with an estimate and a standard error")
    crit = stats.norm.ppf(1 - (1 - level) / 2)
    order = np.argsort(np.abs((est - true_value) / se), kind="stable")
    est, se = est[order], se[order]
    centile = 100 * (np.arange(est.size) + 1) / est.size
    lower, upper = est - crit * se, est + crit * se
    covers = (lower <= true_value) & (true_value <= upper)
    fig = Figure(figsize=(5.0, 5.0), layout="constrained")
    ax = fig.subplots()
    for mask, colour in ((covers, "C0"), (~covers, "C3")):
        ax.hlines(centile[mask], lower[mask], upper[mask], color=colour, lw=0.7)
    ax.axvline(true_value, color="0.2", lw=0.8)
    mcse = 100 * np.sqrt(level * (1 - level) / est.size)
    ax.axhspan(100 * level - 1.96 * mcse, 100 * level + 1.96 * mcse, color="0.85", zorder=0)
    ax.axhline(100 * level, color="0.4", lw=0.8, ls="--")
    ax.set_xlabel(f"{level:.0%} confidence interval")
    ax.set_ylabel("centile of |z|")
    ax.set_ylim(0, 100.5)
    if title:
        ax.set_title(title, fontsize=9)
    return fig
