"""A matplotlib Figure without pyplot (no global state; safe in scripts and CI)."""

from __future__ import annotations


def new_figure(n_panels: int = 1, width: float = 4.5, height: float = 3.6):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width * n_panels, height), layout="constrained")
    axes = fig.subplots(1, n_panels, squeeze=False, sharey=True)[0]
    return fig, list(axes)
