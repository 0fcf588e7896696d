"""survkit: Cox and competing-risks models for site-specific metastatic relapse."""

from . import metrics, multistate
from ._version import __version__
from .data.episodes import split_episodes
from .data.outcome import outcome
from .diagnostics.cox_zph import cox_zph, cox_zph_details
from .diagnostics.residuals import cox_residuals
from .models.bootstrap_prediction import bootstrap_prediction, fine_gray_incidence_ci
from .models.cause_specific import CauseSpecificCox
from .models.coxnet import CoxNet
from .models.coxph import CoxPH
from .models.fine_gray import FineGray
from .models.fine_gray_net import FineGrayNet
from .nonparametric.aalen_johansen import aalen_johansen
from .nonparametric.gray_test import gray_test
from .nonparametric.kaplan_meier import kaplan_meier
from .nonparametric.logrank import logrank_test
from .nonparametric.nelson_aalen import nelson_aalen
from .nonparametric.survival_summary import restricted_mean_survival, survival_quantiles
from .organs.change_point import estimate_change_point
from .organs.site_models import fit_sites
from .organs.smooth_effect import fit_smooth_effect
from .organs.stacked import fit_stacked, stack_causes
from .organs.time_varying import detect_double_agents, time_varying_effect
from .plots import plot_calibration, plot_cumulative_incidence, plot_forest, plot_schoenfeld
from .plots.at_risk import add_at_risk_counts
from .plots.coef_path import plot_coefficient_path
from .plots.survival import plot_survival

__all__ = [
    "CauseSpecificCox",
    "CoxNet",
    "CoxPH",
    "FineGray",
    "FineGrayNet",
    "__version__",
    "aalen_johansen",
    "add_at_risk_counts",
    "bootstrap_prediction",
    "cox_residuals",
    "cox_zph",
    "cox_zph_details",
    "detect_double_agents",
    "estimate_change_point",
    "fine_gray_incidence_ci",
    "fit_sites",
    "fit_smooth_effect",
    "fit_stacked",
    "gray_test",
    "kaplan_meier",
    "logrank_test",
    "metrics",
    "multistate",
    "nelson_aalen",
    "outcome",
    "plot_calibration",
    "plot_coefficient_path",
    "plot_cumulative_incidence",
    "plot_forest",
    "plot_schoenfeld",
    "plot_survival",
    "restricted_mean_survival",
    "split_episodes",
    "stack_causes",
    "survival_quantiles",
    "time_varying_effect",
]
