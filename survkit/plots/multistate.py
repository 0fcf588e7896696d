"""Multi-state plots: stacked state occupation, and the transition diagram with counts."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..data.validation import check_columns, check_covariate_names, check_dataframe
from ..multistate.histories import MultiStateData
from .figures import new_figure


def plot_state_occupation(occupation: pd.DataFrame, states=None, ax=None, alpha: float = 0.85):
    """Stacked P(state at t): one panel per group (or one panel), states bottom to top.

    ``occupation`` is the tidy table of ``survkit.multistate.state_occupation``
    (columns ``time``, ``state``, ``pstate`` and, by group, ``group``). The
    bands are right-continuous steps and add up to 1 at every time.
    """
    check_dataframe(occupation, "occupation")
    check_columns(occupation, {"occupation": ["time", "state", "pstate"]})
    all_states = list(pd.unique(occupation["state"]))
    states = all_states if states is None else list(states)
    check_covariate_names(states, all_states, "plot_state_occupation states")
    groups = list(pd.unique(occupation["group"])) if "group" in occupation.columns else [None]
    if ax is None:
        fig, axes = new_figure(len(groups))
    else:
        if len(groups) > 1:
            raise ValueError(
                f"occupation has {len(groups)} groups but one ax was given; pass ax=None "
                "for one panel per group, or select one group first."
            )
        fig, axes = ax.figure, [ax]
    for panel, group in zip(axes, groups, strict=True):
        rows = occupation if group is None else occupation[occupation["group"] == group]
        wide = rows.pivot(index="time", columns="state", values="pstate")[states]
        time = np.concatenate([[0.0], wide.index.to_numpy()])
        values = np.vstack([_start(rows, states), wide.to_numpy()])
        lower = np.zeros(len(time))
        for k, state in enumerate(states):
            upper = lower + values[:, k]
            panel.fill_between(
                time,
                lower,
                upper,
                step="post",
                alpha=alpha,
                color=f"C{k}",
                linewidth=0,
                label=str(state),
            )
            lower = upper
        panel.set_xlabel("time")
        panel.set_ylim(0, 1)
        panel.set_xlim(left=0)
        if group is not None:
            panel.set_title(str(group))
    axes[0].set_ylabel("probability in state")
    axes[-1].legend(frameon=False, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return fig


def _start(rows: pd.DataFrame, states: list) -> np.ndarray:
    """Occupation at time 0: where the patients at risk at the first time were
    (from ``n_risk``), else the first row's probabilities."""
    first = rows[rows["time"] == rows["time"].min()].set_index("state")
    if "n_risk" in first.columns and first["n_risk"].sum() > 0:
        at_risk = first["n_risk"].reindex(states).to_numpy(dtype=float)
        return at_risk / at_risk.sum()
    return first["pstate"].reindex(states).to_numpy(dtype=float)


def plot_transition_diagram(data: MultiStateData, ax=None):
    """Boxes for the states, arrows for the allowed transitions, each labelled
    with the number of transitions observed (R's ``survcheck`` table).

    The first state sits on the left, absorbing states on the right and the
    others in a column between them.
    """
    if not isinstance(data, MultiStateData):
        raise TypeError("data must be MultiStateData (see survkit.multistate).")
    tm = data.transitions
    counts = data.counts()
    states = list(tm.states)
    first, final = states[0], [s for s in states if tm.is_absorbing(s)]
    middle = [s for s in states if s != first and s not in final]
    position = {first: (0.0, 0.5)}
    for k, s in enumerate(middle):
        position[s] = (0.5, 1.0 - (k + 0.5) / max(len(middle), 1))
    for k, s in enumerate(final):
        position[s] = (1.0, 1.0 - (k + 0.5) / len(final))
    if ax is None:
        fig, axes = new_figure(1, width=6.5, height=max(3.0, 0.8 * len(states)))
        ax = axes[0]
    else:
        fig = ax.figure
    ax.set_xlim(-0.15, 1.15)
    ax.set_ylim(-0.05, 1.05)
    # arc3 bends in display units: display units per data unit along y / along x
    box = ax.get_position()
    width, height = fig.get_size_inches()
    squash = (box.height * height / 1.1) / (box.width * width / 1.3)
    for row in counts.itertuples(index=False):
        (x0, y0), (x1, y1) = position[row[1]], position[row[2]]
        # arrows within the middle column bow out to the side, further for longer jumps
        rad = 0.08 if x0 != x1 else 0.35 + 0.1 * abs(y1 - y0)
        ax.annotate(
            "",
            xy=(x1, y1),
            xytext=(x0, y0),
            arrowprops={
                "arrowstyle": "->",
                "color": "0.4",
                "shrinkA": 12,
                "shrinkB": 12,
                "connectionstyle": f"arc3,rad={rad}",
            },
        )
        # the curve passes half way to arc3's control point (offset taken in display units)
        lx = (x0 + x1) / 2 + rad * (y1 - y0) * squash / 2
        ly = (y0 + y1) / 2 - rad * (x1 - x0) / squash / 2
        ax.text(
            lx,
            ly,
            str(row.n),
            fontsize=8,
            ha="center",
            va="center",
            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none"},
        )
    for s, (x, y) in position.items():
        ax.text(
            x,
            y,
            str(s),
            ha="center",
            va="center",
            fontsize=9,
            bbox={"boxstyle": "round,pad=0.4", "fc": "#e8eef7", "ec": "#4a6fa5"},
        )
    ax.set_axis_off()
    return fig
