"""Multi-state models: sequential relapse from organ to organ, then death.

Data in event-history form (``MultiStateData``: built by ``read_histories``,
``from_events``, ``from_wide``), the long form with one row per transition at
risk (``long_form``, ``expand_covariates``: mstate's ``msprep`` and
``expand.covs``), Aalen-Johansen state occupation with infinitesimal-jackknife
standard errors (``state_occupation``: R's multi-state ``survfit``) and
transition-specific Cox models on the one Cox engine (``MultiStateCox``: R's
multi-state ``coxph``).
"""

from .builders import from_events, from_wide, transitions_from_histories
from .cox import MultiStateCox
from .histories import MultiStateData, read_histories
from .long_form import expand_covariates, long_form
from .occupation import state_occupation
from .origin import origin_effect
from .overview import overview_tables
from .transitions import TransitionMatrix, transition_matrix

__all__ = [
    "MultiStateCox",
    "MultiStateData",
    "TransitionMatrix",
    "expand_covariates",
    "from_events",
    "from_wide",
    "long_form",
    "origin_effect",
    "overview_tables",
    "read_histories",
    "state_occupation",
    "transition_matrix",
    "transitions_from_histories",
]
