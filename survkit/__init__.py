"""survkit: Cox and competing-risks models for site-specific metastatic relapse."""

from importlib.metadata import PackageNotFoundError, version

from .aalen_johansen import aalen_johansen
from .cause_specific import CauseSpecificCox
from .change_point import estimate_change_point
from .cox_zph import cox_zph, cox_zph_details
from .coxph import CoxPH
from .coxph_residuals import cox_residuals
from .episodes import split_episodes
from .fine_gray import FineGray
from .gray_test import gray_test
from .plots import plot_cumulative_incidence, plot_forest, plot_schoenfeld
from .site_models import fit_sites
from .stacked import fit_stacked, stack_causes
from .time_varying import detect_double_agents, fit_smooth_effect, time_varying_effect

try:
    __version__ = version("survkit")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

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
    "plot_cumulative_incidence",
    "plot_forest",
    "plot_schoenfeld",
    "split_episodes",
    "stack_causes",
    "time_varying_effect",
]
