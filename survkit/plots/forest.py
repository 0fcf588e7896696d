"""Forest plot of hazard ratios per organ and model."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..data.validation import check_columns, check_covariate_names, check_dataframe
from .figures import new_figure


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
        fig, (ax,) = new_figure(1, width=6.5, height=0.8 + 0.3 * len(pairs))
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
