"""The plots biostatisticians read: incidence per organ, forest of HRs, Schoenfeld residuals,
calibration.

Each function returns the matplotlib ``Figure`` (its panels are ``fig.axes``)
so it can be restyled or saved (``fig.savefig(...)``). Figures are built with
``matplotlib.figure.Figure`` directly, not through pyplot, so nothing is
registered globally; pass ``ax=`` to draw into an existing Axes instead.
"""

from .at_risk import add_at_risk_counts, at_risk_counts
from .calibration import plot_calibration
from .coef_path import plot_coefficient_path
from .forest import plot_forest
from .incidence import plot_cumulative_incidence
from .multistate import plot_state_occupation, plot_transition_diagram
from .schoenfeld import plot_schoenfeld
from .survival import plot_survival

__all__ = [
    "add_at_risk_counts",
    "at_risk_counts",
    "plot_calibration",
    "plot_coefficient_path",
    "plot_cumulative_incidence",
    "plot_forest",
    "plot_schoenfeld",
    "plot_state_occupation",
    "plot_survival",
    "plot_transition_diagram",
]
