"""survkit: Cox and competing-risks models for site-specific metastatic relapse."""

from . import metrics, multistate
from ._version import __version__
from .data.episodes import split_episodes
from .data.outcome import outcome
from .diagnostics.cox_zph import cox_zph, cox_zph_details
from .diagnostics.residuals import cox_residuals
from .models.cause_specific import CauseSpecificCox
from .models.coxph import CoxPH
from .models.fine_gray import FineGray
from .nonparametric.aalen_johansen import aalen_johansen
from .nonparametric.gray_test import gray_test
from .organs.change_point import estimate_change_point
from .organs.site_models import fit_sites
from .organs.stacked import fit_stacked, stack_causes
from .organs.time_varying import detect_double_agents, fit_smooth_effect, time_varying_effect
from .plots import plot_calibration, plot_cumulative_incidence, plot_forest, plot_schoenfeld

__all__ = [
    "CauseSpecificCox",
    "CoxPH",
    "FineGray",
    "__version__",
    "aalen_johansen",
    "cox_residuals",
    "cox_zph",
    "cox_zph_details",
    "detect_double_agents",
    "estimate_change_point",
    "fit_sites",
    "fit_smooth_effect",
    "fit_stacked",
    "gray_test",
    "metrics",
    "multistate",
    "outcome",
    "plot_calibration",
    "plot_cumulative_incidence",
    "plot_forest",
    "plot_schoenfeld",
    "split_episodes",
    "stack_causes",
    "time_varying_effect",
]
