"""Checks shared by the diagnostics: they read a fitted model's risk sets."""

from __future__ import annotations

from ..models.coxph import CoxPH

__all__ = ["check_fitted_cox"]


def check_fitted_cox(model: object, what: str) -> None:
    """``model`` must be a fitted survkit CoxPH (diagnostics read its risk sets)."""

    if not isinstance(model, CoxPH):
        raise ValueError(
            f"{what} needs a fitted survkit CoxPH, got {type(model).__name__}; "
            "fit one with CoxPH().fit(df, ...)."
        )
    if not hasattr(model, "params_") or not hasattr(model, "_problem"):
        raise ValueError(
            f"{what}: this CoxPH is not fitted yet; call fit(df, ...) before asking for "
            "diagnostics or plots."
        )
