"""The plots biostatisticians read: incidence per organ, forest of HRs, Schoenfeld residuals.

Each function returns the matplotlib ``Figure`` (its panels are ``fig.axes``)
so it can be restyled or saved (``fig.savefig(...)``). Figures are built with
``matplotlib.figure.Figure`` directly, not through pyplot, so nothing is
registered globally; pass ``ax=`` to draw into an existing Axes instead.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .data.validation import check_columns, check_covariate_names, check_dataframe

__all__ = ["plot_cumulative_incidence", "plot_forest", "plot_schoenfeld"]


def _figure(n_panels: int = 1, width: float = 4.5, height: float = 3.6):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width * n_panels, height), layout="constrained")
    axes = fig.subplots(1, n_panels, squeeze=False, sharey=True)[0]
    return fig, list(axes)


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
        fig, axes = _figure(len(causes))
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


def plot_forest(table, covariates=None, sites=None, models=None, ax=None):
    """Forest plot of hazard ratios with CIs by organ and covariate.

    ``table`` is ``fit_sites(...).table`` (or the ``SiteFits`` itself): columns
    site, covariate, HR, lower, upper and optionally model. Rows are grouped
    by covariate, one line per site (and model, each model its own marker
    series); the x axis is logarithmic with a reference line at HR = 1.
    """
    if hasattr(table, "table") and not isinstance(table, pd.DataFrame):
        table = table.table
    check_dataframe(table, "table")
    check_columns(table, {"table": ["site", "covariate", "HR", "lower", "upper"]})
    rows = table.copy()
    if "model" not in rows.columns:
        rows["model"] = "model"
    for name, wanted in (("covariate", covariates), ("site", sites), ("model", models)):
        if wanted is not None:
            wanted = [wanted] if isinstance(wanted, str) else list(wanted)
            check_covariate_names(wanted, list(pd.unique(rows[name])), f"plot_forest {name}s")
            rows = rows[rows[name].isin(wanted)]
    cov_order = list(pd.unique(rows["covariate"]))
    site_order = list(pd.unique(rows["site"]))
    model_order = list(pd.unique(rows["model"]))
    rows = rows.assign(
        _c=rows["covariate"].map({c: i for i, c in enumerate(cov_order)}),
        _s=rows["site"].map({s: i for i, s in enumerate(site_order)}),
        _m=rows["model"].map({m: i for i, m in enumerate(model_order)}),
    ).sort_values(["_c", "_s", "_m"], kind="stable")
    # one row per (covariate, site), top to bottom, covariate blocks separated by
    # a blank row; the models of a row sit side by side, slightly offset
    pairs = rows[["_c", "_s"]].drop_duplicates()
    slot = {(c, s): -(k + c) for k, (c, s) in enumerate(pairs.itertuples(index=False))}
    base = np.array([slot[(c, s)] for c, s in zip(rows["_c"], rows["_s"], strict=True)], float)
    width = 0.5 / max(len(model_order), 1)
    y = base + (rows["_m"].to_numpy() - (len(model_order) - 1) / 2) * width
    labels = [f"{cov_order[c]} | {site_order[s]}" for c, s in pairs.itertuples(index=False)]
    if ax is None:
        fig, (ax,) = _figure(1, width=6.5, height=0.8 + 0.3 * len(pairs))
    else:
        fig = ax.figure
    for k, model in enumerate(model_order):
        sel = (rows["model"] == model).to_numpy()
        ax.hlines(
            y[sel],
            rows["lower"].to_numpy()[sel],
            rows["upper"].to_numpy()[sel],
            color=f"C{k}",
        )
        ax.plot(
            rows["HR"].to_numpy()[sel],
            y[sel],
            "os^Dv"[k % 5],
            color=f"C{k}",
            label=str(model),
            linestyle="none",
        )
    ax.axvline(1.0, color="0.5", linestyle="--", linewidth=1)
    ax.set_xscale("log")
    _plain_log_ticks(ax)
    ax.set_yticks([slot[key] for key in slot], labels)
    ax.set_xlabel("hazard ratio")
    if len(model_order) > 1:
        ax.legend(frameon=False)
    return fig


def _plain_log_ticks(ax) -> None:
    """Log axis labelled 0.25, 0.5, 1, 2, 4 rather than powers of ten."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    ax.xaxis.set_major_locator(LogLocator(base=2.0))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())


def plot_schoenfeld(
    model,
    covariate: str,
    transform="km",
    step=None,
    smooth_frac: float = 2 / 3,
    ax=None,
):
    """Scaled Schoenfeld residuals of ``covariate`` against transformed time (R's
    ``plot(cox.zph(fit))``) with a lowess smooth (statsmodels), the
    proportional-hazards estimate as a dashed line and, when ``step`` (a
    ``TimeVaryingEffect`` of the same covariate) is given, its fitted step
    function. ``model`` is a fitted CoxPH or a ``CoxZPH`` from
    ``cox_zph_details``. Under proportional hazards the smooth stays flat.
    """
    from statsmodels.nonparametric.smoothers_lowess import lowess

    from .diagnostics.cox_zph import CoxZPH, cox_zph_details

    zph = model if isinstance(model, CoxZPH) else cox_zph_details(model, transform)
    check_covariate_names([covariate], list(zph.y.columns), "plot_schoenfeld")
    yv = zph.y[covariate].to_numpy()
    ok = np.isfinite(yv)
    x, yv = zph.x[ok], yv[ok]
    if ax is None:
        fig, (ax,) = _figure(1, width=5.5, height=4.0)
    else:
        fig = ax.figure
    ax.plot(x, yv, "o", markersize=3, alpha=0.4, color="0.4", label="scaled residual")
    if x.size > 2 and not np.all(x == x[0]):
        smooth = lowess(yv, x, frac=smooth_frac, return_sorted=True)
        ax.plot(smooth[:, 0], smooth[:, 1], color="C0", label="lowess")
    ax.axhline(zph.coef[covariate], color="C2", linestyle="--", label="PH estimate")
    if step is not None:
        if step.covariate != covariate:
            raise ValueError(
                f"step is the time-varying fit of {step.covariate!r}, not of {covariate!r}."
            )
        lo, hi = float(np.min(x)), float(np.max(x))
        first = True
        for start, end, coef in step.periods[["start", "end", "coef"]].itertuples(index=False):
            ends = zph.transform_times(np.array([start, end], dtype=float))
            xs = np.clip(np.nan_to_num(ends, nan=lo, neginf=lo, posinf=hi), lo, hi)
            ax.plot(xs, [coef, coef], color="C3", linewidth=2, label="step fit" if first else None)
            first = False
    ax.set_xlabel(f"time ({zph.transform} scale)")
    ax.set_ylabel(f"beta(t) for {covariate}")
    ax.legend(frameon=False, fontsize="small")
    return fig
