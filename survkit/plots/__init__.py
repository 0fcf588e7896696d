"""The plots biostatisticians read: incidence per organ, forest of HRs, Schoenfeld residuals,
calibration.

Each function returns the matplotlib ``Figure`` (its panels are ``fig.axes``)
so it can be restyled or saved (``fig.savefig(...)``). Figures are built with
``matplotlib.figure.Figure`` directly, not through pyplot, so nothing is
registered globally; pass ``ax=`` to draw into an existing Axes instead.
"""

from .calibration import plot_calibration
from .forest import plot_forest
from .incidence import plot_cumulative_incidence
from .multistate import plot_state_occupation, plot_transition_diagram
from .schoenfeld import plot_schoenfeld

__all__ = [
    "plot_calibration",
    "plot_cumulative_incidence",
    "plot_forest",
    "plot_schoenfeld",
    "plot_state_occupation",
    "plot_transition_diagram",
]
