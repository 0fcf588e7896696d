"""Calibration plot: observed against predicted absolute risk at a horizon."""

from __future__ import annotations

from ..metrics.calibration import CalibrationResult
from .figures import new_figure


def plot_calibration(results, labels=None, ax=None):
    """Risk groups (points) and the smoothed curve (line) of one or more
    ``survkit.metrics.calibration`` results, with the diagonal of perfect
    calibration, as ``riskRegression::plotCalibration``.

    ``results``: a ``CalibrationResult`` or a list of them (one per model);
    ``labels``: their legend names.
    """
    if isinstance(results, CalibrationResult):
        results = [results]
    results = list(results)
    if not results or not all(isinstance(r, CalibrationResult) for r in results):
        raise ValueError(
            "results must be CalibrationResult objects from survkit.metrics.calibration."
        )
    if labels is None:
        labels = [f"model {k + 1}" for k in range(len(results))] if len(results) > 1 else [""]
    labels = list(labels)
    if len(labels) != len(results):
        raise ValueError(f"labels has {len(labels)} names for {len(results)} results.")
    if ax is None:
        fig, (ax,) = new_figure(1, width=4.6, height=4.4)
    else:
        fig = ax.figure
    top = 0.0
    for k, (res, label) in enumerate(zip(results, labels, strict=True)):
        g, c = res.groups, res.curve
        name = f"{label} " if label else ""
        ax.plot(
            c["predicted"],
            c["observed"],
            color=f"C{k}",
            label=f"{name}smoothed (slope {res.slope:.2f})",
        )
        ax.plot(
            g["predicted"],
            g["observed"],
            "o",
            color=f"C{k}",
            mfc="none",
            label=f"{name}risk groups",
        )
        top = max(top, g["predicted"].max(), g["observed"].max(), c["observed"].max())
    top = min(1.0, 1.05 * top)
    ax.plot([0, top], [0, top], color="0.6", lw=0.8, ls="--", label="perfect calibration")
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_xlabel(f"Predicted risk by t = {results[0].time:g}")
    ax.set_ylabel("Observed risk")
    ax.set_title(f"Calibration, cause {results[0].cause}")
    ax.legend(fontsize="small", frameon=False)
    return fig
