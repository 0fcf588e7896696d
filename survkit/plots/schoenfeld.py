"""Scaled Schoenfeld residuals with a smoother: the picture behind cox.zph."""

from __future__ import annotations

import numpy as np

from ..data.validation import check_covariate_names
from .figures import new_figure


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

    from ..diagnostics.cox_zph import CoxZPH, cox_zph_details

    zph = model if isinstance(model, CoxZPH) else cox_zph_details(model, transform)
    check_covariate_names([covariate], list(zph.y.columns), "plot_schoenfeld")
    yv = zph.y[covariate].to_numpy()
    ok = np.isfinite(yv)
    x, yv = zph.x[ok], yv[ok]
    if ax is None:
        fig, (ax,) = new_figure(1, width=5.5, height=4.0)
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
