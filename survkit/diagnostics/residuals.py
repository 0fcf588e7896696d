"""``cox_residuals``: residuals of any fitted CoxPH, checked, as R's ``residuals.coxph``."""

from __future__ import annotations

from ..models.residuals import RESIDUAL_KINDS, residuals_of
from .checks import check_fitted_cox

__all__ = ["RESIDUAL_KINDS", "cox_residuals"]


def cox_residuals(model, kind: str = "martingale", weighted: bool | None = None):
    """Residuals of a fitted CoxPH as R's ``residuals(fit, type=kind)``.

    Returns a Series (martingale, deviance) or a DataFrame with one column per
    coefficient (the other kinds). ``weighted=None`` uses R's default for the
    kind (True only for dfbeta/dfbetas). See ``survkit.models.residuals`` for
    row order and weighting.
    """
    check_fitted_cox(model, "cox_residuals")
    return residuals_of(model, kind, weighted)
